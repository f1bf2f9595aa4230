// A log dir whose writes fail (a full disk): the log goes offline at the first failed write,
// refuses every later write with KAFKA_STORAGE_ERROR, tells its LogManager once, writes nothing
// when closed, and a restart recovers every record written before the failure. The failed write
// is simulated without privileges: RLIMIT_FSIZE makes a write past the limit fail with EFBIG as
// a full disk fails with ENOSPC (SIGXFSZ ignored, as the kernel then only returns the error).
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "broker/storage/log_manager.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::AppendOrDie;
using testing::MakeBatch;
using testing::ReadAll;
using testing::TempDir;

// While alive, files of this process cannot grow past `bytes`.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    struct rlimit limit = old_;
    limit.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  struct rlimit old_;
  void (*old_handler_)(int);
};

int64_t SegmentBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") total += static_cast<int64_t>(entry.file_size());
  }
  return total;
}

TEST(LogDirFailureTest, AFailedWriteTakesTheLogOfflineAndARestartRecoversWhatWasWritten) {
  TempDir root;
  ManualClock clock;
  std::vector<std::string> reported;
  PartitionLog::Options options;
  options.dir = root.Sub("t-0");
  options.topic_partition = {"t", 0};
  options.clock = &clock;
  options.on_write_error = [&](const absl::Status& cause) {
    reported.push_back(std::string(cause.message()));
  };
  {
    auto log = PartitionLog::Open(options);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < 5; ++i) AppendOrDie(**log, MakeBatch(2, i, 100), 1);
    const int64_t written = SegmentBytes(options.dir);
    {
      FileSizeLimit full(static_cast<rlim_t>(written + 50));
      std::string batch = MakeBatch(2, 9, 100);
      auto failed = (*log)->AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(1));
      ASSERT_FALSE(failed.ok());
      EXPECT_EQ(ToKafkaErrorCode(failed.status()), KafkaErrorCode::kKafkaStorageError);
      EXPECT_THAT(failed.status().message(), HasSubstr("offline after a failed write"));
      EXPECT_THAT(failed.status().message(), HasSubstr("File too large"));
    }
    // Room again, but the log stays offline until it is opened anew (Kafka: until a restart).
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_TRUE((*log)->offline());
    std::string small = MakeBatch(1, 0, 1);
    auto refused = (*log)->AppendAsLeader(absl::MakeSpan(small), LeaderEpoch(1));
    EXPECT_EQ(ToKafkaErrorCode(refused.status()), KafkaErrorCode::kKafkaStorageError);
    EXPECT_EQ(ToKafkaErrorCode((*log)->AppendAsFollower(MakeBatch(1, 0, 1)).status()),
              KafkaErrorCode::kKafkaStorageError);
    EXPECT_EQ(ToKafkaErrorCode((*log)->TruncateTo(Offset(2))), KafkaErrorCode::kKafkaStorageError);
    EXPECT_EQ(ToKafkaErrorCode((*log)->Flush()), KafkaErrorCode::kKafkaStorageError);
    EXPECT_EQ(reported.size(), 1u);  // told once
    // Reads still work: a follower may copy what is here before leadership moves.
    EXPECT_EQ(ReadAll(**log).size(), 10u);
    ASSERT_TRUE((*log)->Close().ok());
  }
  options.had_clean_shutdown = false;
  auto reopened = PartitionLog::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE((*reopened)->offline());
  EXPECT_EQ((*reopened)->log_end_offset(), Offset(10));
  EXPECT_EQ(ReadAll(**reopened).size(), 10u);
  EXPECT_EQ(AppendOrDie(**reopened, MakeBatch(1, 0, 1), 1), 10);
}

TEST(LogDirFailureTest, TheManagerMarksTheDirFailedTellsOnceAndLeavesItUnclean) {
  TempDir root;
  ManualClock clock;
  LogManagerConfig config;
  config.log_dirs = {root.Sub("d0"), root.Sub("d1")};
  std::vector<std::string> failed;
  {
    auto manager = LogManager::Open(config, &clock);
    ASSERT_TRUE(manager.ok()) << manager.status();
    (*manager)->SetLogDirFailureHandler(
        [&](const std::string& dir, const absl::Status&) { failed.push_back(dir); });
    auto a = (*manager)->GetOrCreateLog({"a", 0}, LogConfig());  // d0
    auto b = (*manager)->GetOrCreateLog({"b", 0}, LogConfig());  // d1
    ASSERT_TRUE(a.ok() && b.ok());
    AppendOrDie(**a, MakeBatch(3, 0, 100), 0);
    AppendOrDie(**b, MakeBatch(3, 0, 100), 0);
    {
      FileSizeLimit full(static_cast<rlim_t>(SegmentBytes((*a)->dir()) + 10));
      std::string batch = MakeBatch(3, 0, 100);
      EXPECT_FALSE((*a)->AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(0)).ok());
    }
    EXPECT_EQ(failed, std::vector<std::string>{config.log_dirs[0]});
    EXPECT_EQ((*manager)->FailedLogDirs(), std::vector<std::string>{config.log_dirs[0]});
    // New logs go to the healthy dir only; the other dir's logs keep working.
    for (int p = 1; p < 4; ++p) {
      auto log = (*manager)->GetOrCreateLog({"c", p}, LogConfig());
      ASSERT_TRUE(log.ok()) << log.status();
      EXPECT_EQ((*manager)->LogDirOf({"c", p}), config.log_dirs[1]);
    }
    EXPECT_EQ(AppendOrDie(**b, MakeBatch(1, 0, 1), 0), 3);
    ASSERT_TRUE((*manager)->Shutdown().ok());
    EXPECT_EQ(failed.size(), 1u);
  }
  // The failed dir got no clean-shutdown marker (its logs are recovered at the next start),
  // the healthy one did.
  EXPECT_FALSE(fs::exists(config.log_dirs[0] + "/" + kCleanShutdownFile));
  EXPECT_TRUE(fs::exists(config.log_dirs[1] + "/" + kCleanShutdownFile));
  auto manager = LogManager::Open(config, &clock);
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_FALSE((*manager)->had_clean_shutdown());
  EXPECT_EQ(ReadAll(*(*manager)->GetLog({"a", 0})).size(), 3u);
  EXPECT_EQ(ReadAll(*(*manager)->GetLog({"b", 0})).size(), 4u);
  EXPECT_TRUE((*manager)->FailedLogDirs().empty());
  ASSERT_TRUE((*manager)->Shutdown().ok());
}

}  // namespace
}  // namespace gregor::storage
