// `gregor log dump` on partition directories written by Gregor's own storage engine.
#include "tools/log_dump.h"

#include <sstream>

#include "broker/storage/log_cleaner.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::tools {
namespace {

using storage::testing::AppendOrDie;
using storage::testing::MakeBatch;
using storage::testing::TempDir;

TEST(LogDumpTest, DumpsAPartitionDirectoryWrittenByTheStorageEngine) {
  TempDir dir;
  ManualClock clock;
  storage::LogConfig config;
  config.segment_bytes = 3000;
  config.index_interval_bytes = 500;
  {
    auto log = storage::testing::OpenLog(dir.Sub("t-0"), config, &clock);
    for (int i = 0; i < 30; ++i) AppendOrDie(*log, MakeBatch(3, 1000 + i, 100), i / 10);
    ASSERT_TRUE(log->Close().ok());
  }
  std::ostringstream out, err;
  int code = RunLogDump({dir.Sub("t-0"), /*print_records=*/true, /*verify_indexes=*/true}, out, err);
  EXPECT_EQ(code, 0) << err.str();
  std::string text = out.str();
  EXPECT_NE(text.find("baseOffset: 0 lastOffset: 2 count: 3"), std::string::npos) << text;
  EXPECT_NE(text.find("baseOffset: 87 lastOffset: 89 count: 3"), std::string::npos);
  EXPECT_NE(text.find("partitionLeaderEpoch: 2"), std::string::npos);
  EXPECT_NE(text.find("| offset: 89 "), std::string::npos);
  EXPECT_NE(text.find("entries checked"), std::string::npos);
  EXPECT_NE(text.find("all valid"), std::string::npos);
}

TEST(LogDumpTest, ReportsACorruptIndex) {
  TempDir dir;
  ManualClock clock;
  storage::LogConfig config;
  config.index_interval_bytes = 100;
  {
    auto log = storage::testing::OpenLog(dir.Sub("t-0"), config, &clock);
    for (int i = 0; i < 20; ++i) AppendOrDie(*log, MakeBatch(2, 1000 + i, 100));
    ASSERT_TRUE(log->Close().ok());
  }
  // Point the first index entry one byte past a batch start.
  std::string index_path = dir.Sub("t-0/00000000000000000000.index");
  std::string bytes = storage::testing::FileBytes(index_path);
  ASSERT_GE(bytes.size(), 8u);
  bytes[7] = static_cast<char>(bytes[7] + 1);
  storage::testing::WriteBytes(index_path, bytes);
  std::ostringstream out, err;
  EXPECT_EQ(RunLogDump({dir.Sub("t-0"), false, true}, out, err), 1);
  EXPECT_NE(err.str().find("does not point at a batch"), std::string::npos) << err.str();
}

TEST(LogDumpTest, ShowsTheOffsetGapsOfACompactedLog) {
  TempDir dir;
  ManualClock clock;
  storage::LogConfig config;
  config.cleanup_policy = "compact";
  config.min_cleanable_dirty_ratio = 0;
  {
    auto log = storage::testing::OpenLog(dir.Sub("t-0"), config, &clock);
    // Offsets 0-2: a, b, a; then 3-4: c, c. Compaction leaves 1 (b), 2 (a), 4 (c).
    auto batch = [](std::vector<std::string> keys) {
      record::BatchBuilder b;
      for (const auto& k : keys) b.Add(k, "v", 1000);
      return *b.Build();
    };
    AppendOrDie(*log, batch({"a", "b", "a"}));
    AppendOrDie(*log, batch({"c"}));
    AppendOrDie(*log, batch({"c"}));
    ASSERT_TRUE(log->Roll().ok());
    log->UpdateHighWatermark(log->log_end_offset());
    AppendOrDie(*log, batch({"d"}));
    storage::CleanerConfig cc;
    cc.dedupe_buffer_size = 1 << 16;
    storage::PartitionLog* raw = log.get();
    storage::LogCleaner cleaner(cc, &clock, [&] {
      return std::vector<storage::LogCleaner::LogRef>{
          {std::shared_ptr<storage::PartitionLog>(raw, [](storage::PartitionLog*) {}), dir.path()}};
    });
    ASSERT_TRUE(cleaner.CleanFilthiestLog(0));
    ASSERT_TRUE(log->Close().ok());
  }
  std::ostringstream out, err;
  EXPECT_EQ(RunLogDump({dir.Sub("t-0"), /*print_records=*/true, true}, out, err), 0) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("| gap: offsets 0..0 are not in the log"), std::string::npos) << text;
  EXPECT_NE(text.find("\ngap: offsets 3..3 are not in the log"), std::string::npos) << text;
  EXPECT_NE(text.find("2 offset(s) in gaps"), std::string::npos) << text;
}

}  // namespace
}  // namespace gregor::tools
