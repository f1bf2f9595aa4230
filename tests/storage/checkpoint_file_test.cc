// Offset checkpoint files (recovery points, high watermarks, log start offsets): text format,
// parsing of damaged files, and atomic writes.
#include "broker/storage/checkpoint_file.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "common/file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::FileBytes;
using testing::TempDir;
using testing::WriteBytes;

TEST(CheckpointFileTest, FormatIsKafkas) {
  OffsetMap offsets{{{"orders", 1}, 42}, {{"orders", 0}, 7}, {{"a-b-c", 12}, 0}};
  // Sorted by topic then partition.
  EXPECT_EQ(FormatOffsetCheckpoint(offsets), "0\n3\na-b-c 12 0\norders 0 7\norders 1 42\n");
  EXPECT_EQ(FormatOffsetCheckpoint({}), "0\n0\n");
}

TEST(CheckpointFileTest, FormatParseRoundTrip) {
  const std::vector<OffsetMap> maps = {
      {},
      {{{"t", 0}, 0}},
      {{{"orders", 0}, 7}, {{"orders", 1}, 42}, {{"my-topic-3", 12}, 1234567890123},
       {{"__consumer_offsets", 49}, INT64_MAX}, {{"x.y_z", 2147483647}, 5}},
  };
  for (const OffsetMap& offsets : maps) {
    std::string text = FormatOffsetCheckpoint(offsets);
    auto parsed = ParseOffsetCheckpoint(text, "mem");
    ASSERT_TRUE(parsed.ok()) << text << parsed.status();
    EXPECT_EQ(*parsed, offsets) << text;
  }
}

TEST(CheckpointFileTest, ParseAcceptsAMissingFinalNewline) {
  auto parsed = ParseOffsetCheckpoint("0\n1\nt 3 9", "mem");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (OffsetMap{{{"t", 3}, 9}}));
}

// Every malformed file is DataLoss naming the source and the line at fault.
TEST(CheckpointFileTest, MalformedInputIsDataLossNamingTheLine) {
  struct Case {
    const char* text;
    const char* where;  // "<source>:<line>:" expected in the message
  };
  const std::vector<Case> cases = {
      {"", "f:1:"},
      {"0\n", "f:1:"},
      {"1\n0\n", "f:1:"},
      {"x\n0\n", "f:1:"},
      {"0\nx\n", "f:2:"},
      {"0\n-1\n", "f:2:"},
      {"0\n2\nt 0 5\n", "f:2:"},              // fewer entries than counted
      {"0\n1\nt 0 5\nt 1 6\n", "f:2:"},       // more entries than counted
      {"0\n2\nt 0 5\nt x 7\n", "f:4:"},       // partition not a number
      {"0\n2\nt 0 5\nt 1\n", "f:4:"},         // missing offset
      {"0\n2\nt 0 5\nt 1 7 8\n", "f:4:"},     // extra field
      {"0\n1\nt 0 nine\n", "f:3:"},           // offset not a number
      {"0\n1\nt 0 99999999999999999999\n", "f:3:"},  // offset overflows int64
      {"0\n1\nt 9999999999 5\n", "f:3:"},     // partition overflows int32
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "text: \"" << absl::CEscape(c.text) << "\"");
    auto parsed = ParseOffsetCheckpoint(c.text, "f");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(c.where));
  }
}

// Line numbers are those of the file, blank lines included.
TEST(CheckpointFileTest, MalformedLineNumberCountsBlankLines) {
  auto parsed = ParseOffsetCheckpoint("0\n2\n\nt 0 5\nbad line\n", "f");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss);
  // Line numbers are physical: the blank line counts.
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("f:5:"));
}

TEST(CheckpointFileTest, MissingFileIsAnEmptyMap) {
  TempDir dir;
  auto read = ReadOffsetCheckpoint(dir.Sub("recovery-point-offset-checkpoint"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->empty());
}

TEST(CheckpointFileTest, WriteThenReadBack) {
  TempDir dir;
  const std::string path = dir.Sub(kHighWatermarkCheckpoint);
  OffsetMap offsets{{{"orders", 0}, 10}, {{"orders", 1}, 20}};
  ASSERT_TRUE(WriteOffsetCheckpoint(path, offsets).ok());
  EXPECT_EQ(FileBytes(path), "0\n2\norders 0 10\norders 1 20\n");
  auto read = ReadOffsetCheckpoint(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, offsets);

  // Overwriting replaces the whole content, also with something shorter.
  ASSERT_TRUE(WriteOffsetCheckpoint(path, {{{"t", 0}, 1}}).ok());
  EXPECT_EQ(FileBytes(path), "0\n1\nt 0 1\n");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(CheckpointFileTest, ReadingACorruptFileNamesIt) {
  TempDir dir;
  const std::string path = dir.Sub(kRecoveryPointCheckpoint);
  WriteBytes(path, "0\n1\ngarbage\n");
  auto read = ReadOffsetCheckpoint(path);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()), HasSubstr(path + ":3:"));
}

TEST(CheckpointFileTest, WriteFileAtomicallyOverwritesAndLeavesNoTemp) {
  TempDir dir;
  const std::string path = dir.Sub("file");
  ASSERT_TRUE(WriteFileAtomically(path, "a longer first version\n").ok());
  EXPECT_EQ(FileBytes(path), "a longer first version\n");
  ASSERT_TRUE(WriteFileAtomically(path, "v2\n").ok());
  EXPECT_EQ(FileBytes(path), "v2\n");
  ASSERT_TRUE(WriteFileAtomically(path, "").ok());
  EXPECT_EQ(FileBytes(path), "");
  // A temp file left by a crashed writer is replaced, not appended to.
  WriteBytes(path + ".tmp", "stale half-written content that is long");
  ASSERT_TRUE(WriteFileAtomically(path, "v4\n").ok());
  EXPECT_EQ(FileBytes(path), "v4\n");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"file"});
}

TEST(CheckpointFileTest, WriteIntoMissingDirectoryFails) {
  TempDir dir;
  EXPECT_FALSE(WriteFileAtomically(dir.Sub("no/such/dir/file"), "x").ok());
  EXPECT_FALSE(WriteOffsetCheckpoint(dir.Sub("no/such/dir/file"), {}).ok());
}

}  // namespace
}  // namespace gregor::storage
