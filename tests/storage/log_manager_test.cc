// LogManager: placement of partition logs over log dirs, the checkpoint files and clean-shutdown
// marker it keeps, restarts (clean and unclean), directory locking, deletion and periodic work.
#include "broker/storage/log_manager.h"

#include <filesystem>
#include <map>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "broker/storage/checkpoint_file.h"
#include "broker/storage/log_segment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::AppendOrDie;
using testing::FileBytes;
using testing::MakeBatch;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteBytes;

class LogManagerTest : public ::testing::Test {
 protected:
  LogManagerTest() : dir0_(root_.Sub("d0")), dir1_(root_.Sub("d1")) {
    config_.log_dirs = {dir0_, dir1_};
  }

  std::unique_ptr<LogManager> OpenManager() {
    auto manager = LogManager::Open(config_, &clock_);
    EXPECT_TRUE(manager.ok()) << manager.status();
    if (!manager.ok()) return nullptr;
    return std::move(*manager);
  }

  std::shared_ptr<PartitionLog> CreateLog(LogManager& manager, const TopicPartition& tp,
                                          const LogConfig& config = LogConfig()) {
    auto log = manager.GetOrCreateLog(tp, config);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *log : nullptr;
  }

  TempDir root_;
  const std::string dir0_;
  const std::string dir1_;
  LogManagerConfig config_;
  ManualClock clock_;
};

std::string Path(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// Logs go to the log dir holding the fewest partitions (the first one on a tie).
TEST_F(LogManagerTest, SpreadsNewLogsOverDirsByCount) {
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  for (int p = 0; p < 5; ++p) {
    auto log = CreateLog(*manager, {"orders", p});
    ASSERT_NE(log, nullptr);
    const std::string& expected_dir = p % 2 == 0 ? dir0_ : dir1_;
    EXPECT_EQ(log->dir(), Path(expected_dir, "orders-" + std::to_string(p)));
    EXPECT_TRUE(fs::is_directory(log->dir()));
  }
  EXPECT_EQ(manager->Partitions().size(), 5u);
  // Asking again returns the same log.
  auto again = manager->GetOrCreateLog({"orders", 3}, LogConfig());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, manager->GetLog({"orders", 3}));
  EXPECT_EQ(manager->GetLog({"orders", 99}), nullptr);
  ASSERT_TRUE(manager->Shutdown().ok());
}

// Shutdown writes the three checkpoints and the marker in every dir; a reopen restores logs,
// offsets and high watermarks, and removes the marker.
TEST_F(LogManagerTest, CleanShutdownAndReopen) {
  std::map<int, int64_t> leo, hw;
  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    for (int p = 0; p < 4; ++p) {
      auto log = CreateLog(*manager, {"orders", p});
      ASSERT_NE(log, nullptr);
      for (int i = 0; i <= p; ++i) AppendOrDie(*log, MakeBatch(2 + p, 1000 + i));
      leo[p] = log->log_end_offset().value();
      hw[p] = log->UpdateHighWatermark(Offset(leo[p] - 1)).value();
      EXPECT_EQ(hw[p], leo[p] - 1);
    }
    ASSERT_TRUE(manager->Shutdown().ok());
    ASSERT_TRUE(manager->Shutdown().ok());  // idempotent
  }
  // Partitions 0 and 2 live in d0, 1 and 3 in d1.
  for (const auto& [dir, parts] :
       std::vector<std::pair<std::string, std::vector<int>>>{{dir0_, {0, 2}}, {dir1_, {1, 3}}}) {
    SCOPED_TRACE(dir);
    EXPECT_TRUE(fs::exists(Path(dir, kCleanShutdownFile)));
    std::string recovery = "0\n2\n", hws = "0\n2\n", starts = "0\n2\n";
    for (int p : parts) {
      recovery += "orders " + std::to_string(p) + " " + std::to_string(leo[p]) + "\n";
      hws += "orders " + std::to_string(p) + " " + std::to_string(hw[p]) + "\n";
      starts += "orders " + std::to_string(p) + " 0\n";
    }
    EXPECT_EQ(FileBytes(Path(dir, kRecoveryPointCheckpoint)), recovery);
    EXPECT_EQ(FileBytes(Path(dir, kHighWatermarkCheckpoint)), hws);
    EXPECT_EQ(FileBytes(Path(dir, kLogStartOffsetCheckpoint)), starts);
    for (const auto& entry : fs::directory_iterator(dir)) {
      EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
    }
  }

  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  EXPECT_TRUE(manager->had_clean_shutdown());
  // A crash from now on must look unclean.
  EXPECT_FALSE(fs::exists(Path(dir0_, kCleanShutdownFile)));
  EXPECT_FALSE(fs::exists(Path(dir1_, kCleanShutdownFile)));
  ASSERT_EQ(manager->Partitions().size(), 4u);
  for (int p = 0; p < 4; ++p) {
    SCOPED_TRACE(p);
    auto log = manager->GetLog({"orders", p});
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->dir(), Path(p % 2 == 0 ? dir0_ : dir1_, "orders-" + std::to_string(p)));
    EXPECT_EQ(log->log_end_offset(), Offset(leo[p]));
    EXPECT_EQ(log->high_watermark(), Offset(hw[p]));
    EXPECT_EQ(log->recovery_point(), Offset(leo[p]));
    EXPECT_EQ(log->log_start_offset(), Offset(0));
    EXPECT_EQ(ReadAll(*log).size(), static_cast<size_t>(leo[p]));
  }
  ASSERT_TRUE(manager->Shutdown().ok());
}

// Dropping the manager without Shutdown() is a crash: the next open is unclean, recovers the
// logs, and takes high watermarks from the last checkpoint.
TEST_F(LogManagerTest, ReopenWithoutShutdownIsUncleanAndRecovers) {
  int64_t hw_checkpointed = 0, leo = 0;
  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    auto log = CreateLog(*manager, {"t", 0});
    ASSERT_NE(log, nullptr);
    AppendOrDie(*log, MakeBatch(5, 1000));
    hw_checkpointed = log->UpdateHighWatermark(Offset(4)).value();
    ASSERT_TRUE(manager->Shutdown().ok());
  }
  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    ASSERT_TRUE(manager->had_clean_shutdown());
    auto log = manager->GetLog({"t", 0});
    ASSERT_NE(log, nullptr);
    AppendOrDie(*log, MakeBatch(3, 2000));
    AppendOrDie(*log, MakeBatch(3, 3000));
    log->UpdateHighWatermark(Offset(8));  // never checkpointed
    leo = log->log_end_offset().value();
    ASSERT_EQ(leo, 11);
  }  // no Shutdown()
  // A torn write at the end of the active segment, as a crash mid-append leaves it.
  const std::string segment = SegmentFileName(Path(dir0_, "t-0"), 0, ".log");
  const std::string good = FileBytes(segment);
  WriteBytes(segment, good + std::string(30, '\x11'));

  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  EXPECT_FALSE(manager->had_clean_shutdown());
  auto log = manager->GetLog({"t", 0});
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_end_offset(), Offset(leo));
  EXPECT_EQ(FileBytes(segment), good);
  EXPECT_EQ(log->high_watermark(), Offset(hw_checkpointed));
  EXPECT_EQ(log->recovery_point(), Offset(leo));
  EXPECT_EQ(ReadAll(*log).size(), 11u);
  ASSERT_TRUE(manager->Shutdown().ok());
}

// The marker counts only if every log dir has it.
TEST_F(LogManagerTest, MissingMarkerInOneDirMeansUnclean) {
  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    ASSERT_NE(CreateLog(*manager, {"t", 0}), nullptr);
    ASSERT_NE(CreateLog(*manager, {"t", 1}), nullptr);
    ASSERT_TRUE(manager->Shutdown().ok());
  }
  ASSERT_TRUE(fs::remove(Path(dir1_, kCleanShutdownFile)));
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  EXPECT_FALSE(manager->had_clean_shutdown());
  EXPECT_EQ(manager->Partitions().size(), 2u);
}

TEST_F(LogManagerTest, SecondManagerOnTheSameDirsFails) {
  auto first = OpenManager();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(CreateLog(*first, {"t", 0}), nullptr);

  auto second = LogManager::Open(config_, &clock_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(dir0_));

  // Sharing only the second dir fails too, naming that dir.
  LogManagerConfig other;
  other.log_dirs = {root_.Sub("other"), dir1_};
  auto third = LogManager::Open(other, &clock_);
  ASSERT_FALSE(third.ok());
  EXPECT_THAT(std::string(third.status().message()), HasSubstr("in use"));
  EXPECT_THAT(std::string(third.status().message()), HasSubstr(dir1_));

  // The failed attempts changed nothing: the first manager still shuts down cleanly, and once
  // it is gone the dirs can be opened again.
  ASSERT_TRUE(first->Shutdown().ok());
  first.reset();
  auto reopened = OpenManager();
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->had_clean_shutdown());
  EXPECT_NE(reopened->GetLog({"t", 0}), nullptr);
}

TEST_F(LogManagerTest, DeleteLogRemovesItsDirectory) {
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  auto keep = CreateLog(*manager, {"t", 0});
  auto doomed = CreateLog(*manager, {"t", 1});
  ASSERT_NE(keep, nullptr);
  ASSERT_NE(doomed, nullptr);
  AppendOrDie(*doomed, MakeBatch(4, 1000));
  const std::string doomed_dir = doomed->dir();
  auto slice = doomed->Read(Offset(0), 1 << 20, Offset(4));
  ASSERT_TRUE(slice.ok()) << slice.status();

  ASSERT_TRUE(manager->DeleteLog({"t", 1}).ok());
  EXPECT_FALSE(fs::exists(doomed_dir));
  EXPECT_EQ(manager->GetLog({"t", 1}), nullptr);
  EXPECT_EQ(manager->Partitions(), (std::vector<TopicPartition>{{"t", 0}}));
  // A reader holding a slice of the deleted log can still finish sending it.
  auto bytes = ReadSlice(*slice);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_TRUE(record::ValidateBatch(*bytes).ok());
  // Deleting what does not exist is fine.
  EXPECT_TRUE(manager->DeleteLog({"t", 1}).ok());
  EXPECT_TRUE(manager->DeleteLog({"nope", 0}).ok());

  ASSERT_TRUE(manager->Shutdown().ok());
  EXPECT_EQ(FileBytes(Path(dir1_, kRecoveryPointCheckpoint)), "0\n0\n");
  manager.reset();
  auto reopened = OpenManager();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->Partitions(), (std::vector<TopicPartition>{{"t", 0}}));
}

// Tick() runs retention once log.retention.check.interval.ms has passed, and retention deletes
// only segments entirely below the high watermark.
TEST_F(LogManagerTest, TickRunsRetentionWhenTheIntervalHasPassed) {
  config_.retention_check_interval_ms = 60000;
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  LogConfig config;
  config.segment_bytes = 200;  // one 3-record batch (136 bytes) per segment
  config.retention_ms = 100;
  auto log = CreateLog(*manager, {"t", 0}, config);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 6; ++i) AppendOrDie(*log, MakeBatch(3, clock_.WallMs()));
  std::vector<SegmentInfo> segments = log->Segments();
  ASSERT_EQ(segments.size(), 6u);
  ASSERT_EQ(segments[3].base_offset, 9);
  log->UpdateHighWatermark(Offset(10));  // inside segment 3

  // retention.ms has passed, but the check is not due yet.
  clock_.Advance(1000);
  ASSERT_TRUE(manager->Tick().ok());
  EXPECT_EQ(log->Segments().size(), 6u);

  clock_.Advance(59000);
  ASSERT_TRUE(manager->Tick().ok());
  // Segments 0..2 end at or below the HW (10); segment 3 holds offsets 9..11, not all committed.
  segments = log->Segments();
  ASSERT_EQ(segments.size(), 3u);
  EXPECT_EQ(segments.front().base_offset, 9);
  EXPECT_EQ(log->log_start_offset(), Offset(9));
  for (int64_t base : {0, 3, 6}) {
    EXPECT_FALSE(fs::exists(SegmentFileName(log->dir(), base, ".log"))) << base;
  }
  EXPECT_TRUE(fs::exists(SegmentFileName(log->dir(), 9, ".log")));

  // Everything committed: all but the active segment go at the next due check.
  log->UpdateHighWatermark(log->log_end_offset());
  ASSERT_TRUE(manager->Tick().ok());
  EXPECT_EQ(log->Segments().size(), 3u);  // not due again yet
  clock_.Advance(60000);
  ASSERT_TRUE(manager->Tick().ok());
  segments = log->Segments();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments.front().base_offset, 15);
  EXPECT_EQ(log->log_start_offset(), Offset(15));
  EXPECT_EQ(log->log_end_offset(), Offset(18));
  ASSERT_TRUE(manager->Shutdown().ok());
  EXPECT_EQ(FileBytes(Path(dir0_, kLogStartOffsetCheckpoint)), "0\n1\nt 0 15\n");
}

// Only "<topic>-<partition>" directories are partitions; anything else is left alone.
TEST_F(LogManagerTest, IgnoresDirectoriesThatAreNotPartitions) {
  const std::vector<std::string> strays = {
      "lost+found", "notapartition", "orders-", "-7", "orders-x", "orders-1.0abc-delete",
      "orders-99999999999"};
  for (const std::string& name : strays) fs::create_directories(Path(dir0_, name));
  WriteBytes(Path(dir0_, "orders-5"), "a file, not a directory");
  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    EXPECT_TRUE(manager->Partitions().empty());
    ASSERT_NE(CreateLog(*manager, {"orders", 0}), nullptr);
    ASSERT_TRUE(manager->Shutdown().ok());
  }
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->Partitions(), (std::vector<TopicPartition>{{"orders", 0}}));
  for (const std::string& name : strays) EXPECT_TRUE(fs::is_directory(Path(dir0_, name))) << name;
  EXPECT_TRUE(fs::is_regular_file(Path(dir0_, "orders-5")));
}

// Topic names may contain '-': the partition is after the last one.
TEST_F(LogManagerTest, TopicNamesWithDashesRoundTrip) {
  const TopicPartition tp{"my-topic-3", 12};
  EXPECT_EQ(tp.DirName(), "my-topic-3-12");
  EXPECT_EQ(TopicPartition::ParseDirName("my-topic-3-12"), tp);
  EXPECT_EQ(TopicPartition::ParseDirName("my-topic-3"), (TopicPartition{"my-topic", 3}));
  for (const char* bad : {"my-topic-", "-12", "topic", "topic-1x", "topic-+1", "topic-99999999999"}) {
    EXPECT_FALSE(TopicPartition::ParseDirName(bad).has_value()) << bad;
  }

  {
    auto manager = OpenManager();
    ASSERT_NE(manager, nullptr);
    auto log = CreateLog(*manager, tp);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->dir(), Path(dir0_, "my-topic-3-12"));
    AppendOrDie(*log, MakeBatch(7, 1000));
    log->UpdateHighWatermark(Offset(7));
    ASSERT_TRUE(manager->Shutdown().ok());
  }
  EXPECT_EQ(FileBytes(Path(dir0_, kHighWatermarkCheckpoint)), "0\n1\nmy-topic-3 12 7\n");
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->Partitions(), (std::vector<TopicPartition>{tp}));
  auto log = manager->GetLog(tp);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->topic_partition(), tp);
  EXPECT_EQ(log->log_end_offset(), Offset(7));
  EXPECT_EQ(log->high_watermark(), Offset(7));
}

TEST_F(LogManagerTest, ShutdownRefusesNewLogs) {
  auto manager = OpenManager();
  ASSERT_NE(manager, nullptr);
  ASSERT_TRUE(manager->Shutdown().ok());
  auto log = manager->GetOrCreateLog({"t", 0}, LogConfig());
  EXPECT_FALSE(log.ok());
}

TEST_F(LogManagerTest, ConfigWithoutLogDirsIsRejected) {
  LogManagerConfig empty;
  auto manager = LogManager::Open(empty, &clock_);
  EXPECT_FALSE(manager.ok());
  EXPECT_THAT(std::string(manager.status().message()), HasSubstr("log.dirs"));
}

}  // namespace
}  // namespace gregor::storage
