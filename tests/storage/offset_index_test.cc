#include "broker/storage/offset_index.h"

#include "broker/storage/time_index.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

using testing::FileBytes;
using testing::TempDir;
using testing::WriteBytes;

TEST(OffsetIndexTest, LookupFindsLargestEntryAtOrBelow) {
  TempDir dir;
  OffsetIndex index(dir.Sub("x.index"), 100);
  EXPECT_EQ(index.Lookup(150).offset, 100);  // empty: the segment start
  EXPECT_EQ(index.Lookup(150).position, 0);
  index.Append(110, 4000);
  index.Append(130, 9000);
  index.Append(170, 20000);
  EXPECT_EQ(index.Lookup(105).position, 0);
  EXPECT_EQ(index.Lookup(110).position, 4000);
  EXPECT_EQ(index.Lookup(129).position, 4000);
  EXPECT_EQ(index.Lookup(130).position, 9000);
  EXPECT_EQ(index.Lookup(1000).position, 20000);
  EXPECT_EQ(index.Lookup(1000).offset, 170);
}

TEST(OffsetIndexTest, FlushWritesBigEndianEntriesAndLoadReadsThem) {
  TempDir dir;
  std::string path = dir.Sub("x.index");
  {
    OffsetIndex index(path, 100);
    index.Append(101, 4097);
    ASSERT_TRUE(index.Flush(true).ok());
    index.Append(102, 9000);
    ASSERT_TRUE(index.Flush(false).ok());  // appends only the new entry
  }
  std::string bytes = FileBytes(path);
  ASSERT_EQ(bytes.size(), 16u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\0\0\0\x01\0\0\x10\x01", 8));
  OffsetIndex loaded(path, 100);
  ASSERT_TRUE(loaded.Load(100000).ok());
  ASSERT_EQ(loaded.entries(), 2u);
  EXPECT_EQ(loaded.EntryAt(1).offset, 102);
  EXPECT_EQ(loaded.EntryAt(1).position, 9000);
}

TEST(OffsetIndexTest, TruncateThenFlushShrinksTheFile) {
  TempDir dir;
  std::string path = dir.Sub("x.index");
  OffsetIndex index(path, 0);
  for (int i = 1; i <= 10; ++i) index.Append(i * 10, i * 1000);
  ASSERT_TRUE(index.Flush(false).ok());
  index.TruncateTo(50);
  EXPECT_EQ(index.entries(), 4u);
  index.Append(60, 7000);
  ASSERT_TRUE(index.Flush(false).ok());
  EXPECT_EQ(FileBytes(path).size(), 40u);
  OffsetIndex loaded(path, 0);
  ASSERT_TRUE(loaded.Load(100000).ok());
  EXPECT_EQ(loaded.Lookup(65).position, 7000);
}

TEST(OffsetIndexTest, LoadRejectsCorruptFiles) {
  TempDir dir;
  std::string path = dir.Sub("x.index");
  WriteBytes(path, "1234567");  // not a multiple of 8
  EXPECT_EQ(OffsetIndex(path, 0).Load(1000).code(), absl::StatusCode::kDataLoss);
  // Decreasing offsets.
  WriteBytes(path, std::string("\0\0\0\x05\0\0\0\x10\0\0\0\x04\0\0\0\x20", 16));
  EXPECT_EQ(OffsetIndex(path, 0).Load(1000).code(), absl::StatusCode::kDataLoss);
  // Position beyond the log.
  WriteBytes(path, std::string("\0\0\0\x05\0\0\x10\x00", 8));
  EXPECT_EQ(OffsetIndex(path, 0).Load(1000).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(OffsetIndex(path, 0).Load(5000).ok());
  EXPECT_EQ(OffsetIndex(dir.Sub("missing.index"), 0).Load(10).code(), absl::StatusCode::kNotFound);
}

TEST(TimeIndexTest, AppendsOnlyIncreasingTimestamps) {
  TempDir dir;
  TimeIndex index(dir.Sub("x.timeindex"), 0);
  index.MaybeAppend(1000, 5);
  index.MaybeAppend(900, 8);   // older: ignored
  index.MaybeAppend(1000, 9);  // equal: ignored
  index.MaybeAppend(2000, 12);
  EXPECT_EQ(index.entries(), 2u);
  EXPECT_EQ(index.Last()->timestamp, 2000);
  EXPECT_EQ(index.Last()->offset, 12);
}

TEST(TimeIndexTest, LookupBeforeIsStrictlyBelowTheTarget) {
  TempDir dir;
  TimeIndex index(dir.Sub("x.timeindex"), 100);
  index.MaybeAppend(1000, 105);
  index.MaybeAppend(2000, 120);
  index.MaybeAppend(3000, 140);
  EXPECT_FALSE(index.LookupBefore(1000).has_value());
  EXPECT_EQ(index.LookupBefore(1001)->offset, 105);
  EXPECT_EQ(index.LookupBefore(3000)->offset, 120);
  EXPECT_EQ(index.LookupBefore(99999)->offset, 140);
  index.TruncateTo(120);
  EXPECT_EQ(index.entries(), 1u);
}

TEST(TimeIndexTest, RoundTripsThroughTheFile) {
  TempDir dir;
  std::string path = dir.Sub("x.timeindex");
  {
    TimeIndex index(path, 100);
    index.MaybeAppend(1700000000000, 100);
    index.MaybeAppend(1700000000500, 150);
    ASSERT_TRUE(index.Flush(true).ok());
  }
  EXPECT_EQ(FileBytes(path).size(), 24u);
  TimeIndex loaded(path, 100);
  ASSERT_TRUE(loaded.Load(1000).ok());
  EXPECT_EQ(loaded.EntryAt(1).timestamp, 1700000000500);
  EXPECT_EQ(loaded.EntryAt(1).offset, 150);
  // An entry at or past the next segment's base is corrupt.
  EXPECT_EQ(TimeIndex(path, 100).Load(150).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace gregor::storage
