// Idempotent producers in a partition log (partition_log.h, partition_log_producers.cc): the
// leader's checks, followers rebuilding the same state, snapshots at roll and close, recovery
// with and without them, truncation and retention.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "broker/storage/partition_log.h"
#include "broker/storage/producer_snapshot.h"
#include "common/errors.h"
#include "common/file.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

using testing::OpenLog;
using testing::TempDir;

// A batch of `records` records of producer `pid` at `epoch` starting at sequence `seq`.
std::string ProducerBatch(int64_t pid, int16_t epoch, int32_t seq, int records = 4) {
  record::BatchBuilder builder;
  builder.set_producer(pid, epoch, seq);
  for (int i = 0; i < records; ++i) {
    builder.Add(absl::StrCat("k", seq + i), absl::StrCat("p", pid, "-s", seq + i), 1000 + seq + i);
  }
  return *builder.Build();
}

absl::StatusOr<LogAppendInfo> Append(PartitionLog& log, std::string batch, int32_t epoch = 0) {
  return log.AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(epoch));
}

// Every batch of `from` as a follower's fetch would carry it.
void CopyAsFollower(const PartitionLog& from, PartitionLog& to) {
  while (to.log_end_offset() < from.log_end_offset()) {  // a read ends at a segment's end
    auto slice = from.Read(to.log_end_offset(), 1 << 30, from.log_end_offset());
    ASSERT_TRUE(slice.ok()) << slice.status();
    auto bytes = ReadSlice(*slice);
    ASSERT_TRUE(bytes.ok());
    ASSERT_TRUE(to.AppendAsFollower(*bytes).ok());
  }
}

LogConfig SmallSegments() {
  LogConfig config;
  config.segment_bytes = 1024;  // a roll (and a snapshot) every few batches
  return config;
}

TEST(PartitionLogProducersTest, RetriesOfTheLastFiveBatchesGetTheirOriginalOffsets) {
  TempDir dir;
  ManualClock clock;
  auto log = OpenLog(dir.path(), LogConfig(), &clock);
  ASSERT_TRUE(Append(*log, testing::MakeBatch(3, 1)).ok());  // a plain producer first: 0..2
  for (int32_t seq = 0; seq < 28; seq += 4) ASSERT_TRUE(Append(*log, ProducerBatch(9, 0, seq)).ok());
  const int64_t leo = log->log_end_offset().value();
  EXPECT_EQ(leo, 3 + 28);
  for (int32_t seq = 8; seq < 28; seq += 4) {
    auto retry = Append(*log, ProducerBatch(9, 0, seq));
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->first_offset.value(), 3 + seq);
    EXPECT_EQ(retry->last_offset.value(), 3 + seq + 3);
  }
  EXPECT_EQ(log->log_end_offset().value(), leo);  // nothing appended twice
  // Older than the window, a gap, a fenced epoch, an epoch bump not at 0:
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, ProducerBatch(9, 0, 4)).status()),
            KafkaErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, ProducerBatch(9, 0, 32)).status()),
            KafkaErrorCode::kOutOfOrderSequenceNumber);
  ASSERT_TRUE(Append(*log, ProducerBatch(9, 1, 0)).ok());
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, ProducerBatch(9, 0, 28)).status()),
            KafkaErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, ProducerBatch(9, 2, 5)).status()),
            KafkaErrorCode::kOutOfOrderSequenceNumber);
  // A producer the log has never seen may start anywhere (KIP-360).
  EXPECT_TRUE(Append(*log, ProducerBatch(10, 0, 77)).ok());
}

TEST(PartitionLogProducersTest, TransactionalAndSequencelessBatchesAreRefused) {
  TempDir dir;
  ManualClock clock;
  auto log = OpenLog(dir.path(), LogConfig(), &clock);
  std::string txn = ProducerBatch(5, 0, 0);
  txn[record::kAttributesOffset + 1] |= 0x10;  // the transactional bit
  record::SetMaxTimestamp(txn.data(), txn.size(), 1003);  // recomputes the CRC
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, txn).status()), KafkaErrorCode::kInvalidRecord);
  EXPECT_EQ(ToKafkaErrorCode(Append(*log, ProducerBatch(5, 0, -1)).status()),
            KafkaErrorCode::kInvalidRecord);
  EXPECT_EQ(log->log_end_offset().value(), 0);
}

TEST(PartitionLogProducersTest, AFollowerRebuildsTheLeadersState) {
  TempDir dir;
  ManualClock clock;
  auto leader = OpenLog(dir.Sub("leader"), SmallSegments(), &clock);
  auto follower = OpenLog(dir.Sub("follower"), SmallSegments(), &clock);
  for (int round = 0; round < 12; ++round) {
    for (int64_t pid = 0; pid < 3; ++pid) {
      ASSERT_TRUE(Append(*leader, ProducerBatch(pid, 0, round * 4)).ok());
    }
    if (round % 5 == 4) CopyAsFollower(*leader, *follower);
  }
  CopyAsFollower(*leader, *follower);
  EXPECT_EQ(follower->ProducerStates(), leader->ProducerStates());
  EXPECT_EQ(follower->ProducerStates().entries().size(), 3u);
  // The follower, become leader, answers a retry as the old leader would have.
  auto retry = Append(*follower, ProducerBatch(1, 0, 40), 1);
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  EXPECT_EQ(ToKafkaErrorCode(Append(*follower, ProducerBatch(1, 0, 52), 1).status()),
            KafkaErrorCode::kOutOfOrderSequenceNumber);
}

TEST(PartitionLogProducersTest, RestartFromASnapshotOrFromNoneGivesTheSameState) {
  TempDir dir;
  ManualClock clock;
  ProducerStateTable before;
  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock);
    for (int round = 0; round < 20; ++round) {
      for (int64_t pid = 100; pid < 110; ++pid) {
        ASSERT_TRUE(Append(*log, ProducerBatch(pid, static_cast<int16_t>(pid % 3), round * 4)).ok());
      }
    }
    before = log->ProducerStates();
    ASSERT_TRUE(log->Close().ok());
  }
  std::vector<int64_t> snapshots = ListProducerSnapshots(dir.path());
  ASSERT_GT(snapshots.size(), 2u);  // one per roll, and one at close
  const int64_t leo = 20 * 10 * 4;
  EXPECT_EQ(snapshots.back(), leo);

  auto from_snapshot = OpenLog(dir.path(), SmallSegments(), &clock);
  EXPECT_EQ(from_snapshot->loaded_producer_snapshot(), leo);
  EXPECT_EQ(from_snapshot->ProducerStates(), before);
  from_snapshot.reset();  // unclean: no new snapshot

  for (int64_t offset : ListProducerSnapshots(dir.path())) DeleteProducerSnapshot(dir.path(), offset);
  auto from_log = OpenLog(dir.path(), SmallSegments(), &clock);
  EXPECT_EQ(from_log->loaded_producer_snapshot(), std::nullopt);
  EXPECT_EQ(from_log->ProducerStates(), before);
}

TEST(PartitionLogProducersTest, AfterACrashTheLastRollsSnapshotAndTheBatchesAfterIt) {
  TempDir dir;
  ManualClock clock;
  ProducerStateTable before;
  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock);
    for (int32_t seq = 0; seq < 200; seq += 4) ASSERT_TRUE(Append(*log, ProducerBatch(1, 0, seq)).ok());
    before = log->ProducerStates();
    // No Close(): the process died.
  }
  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/false, /*recovery_point=*/0);
  ASSERT_TRUE(log->loaded_producer_snapshot().has_value());
  EXPECT_LT(*log->loaded_producer_snapshot(), 200);
  EXPECT_EQ(log->ProducerStates(), before);
  // A corrupt newest snapshot is skipped (and deleted) for the one before it.
  ASSERT_TRUE(log->Close().ok());
  std::vector<int64_t> snapshots = ListProducerSnapshots(dir.path());
  ASSERT_GE(snapshots.size(), 2u);
  testing::WriteBytes(ProducerSnapshotPath(dir.path(), snapshots.back()), "garbage");
  auto reopened = OpenLog(dir.path(), SmallSegments(), &clock);
  EXPECT_EQ(reopened->loaded_producer_snapshot(), snapshots[snapshots.size() - 2]);
  EXPECT_EQ(reopened->ProducerStates(), before);
}

TEST(PartitionLogProducersTest, TruncationRebuildsTheStateAsOfTheNewEnd) {
  TempDir dir;
  ManualClock clock;
  auto log = OpenLog(dir.path(), SmallSegments(), &clock);
  auto reference = OpenLog(dir.Sub("reference"), SmallSegments(), &clock);
  for (int32_t seq = 0; seq < 120; seq += 4) {
    ASSERT_TRUE(Append(*log, ProducerBatch(1, 0, seq)).ok());
    if (seq < 60) ASSERT_TRUE(Append(*reference, ProducerBatch(1, 0, seq)).ok());
  }
  ASSERT_TRUE(Append(*log, ProducerBatch(2, 0, 0)).ok());  // only after the cut
  ASSERT_TRUE(log->TruncateTo(Offset(60)).ok());
  EXPECT_EQ(log->ProducerStates(), reference->ProducerStates());
  for (int64_t offset : ListProducerSnapshots(dir.path())) EXPECT_LE(offset, 60);
  // The truncated batches may be written again (a new leader's log): no duplicate, no gap.
  auto again = Append(*log, ProducerBatch(1, 0, 60));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->duplicate);
  ASSERT_TRUE(log->TruncateFullyAndStartAt(Offset(500)).ok());
  EXPECT_TRUE(log->ProducerStates().entries().empty());
  EXPECT_TRUE(ListProducerSnapshots(dir.path()).empty());
}

TEST(PartitionLogProducersTest, RetentionAndExpiryForgetProducers) {
  TempDir dir;
  ManualClock clock;
  auto log = OpenLog(dir.path(), SmallSegments(), &clock);
  for (int32_t seq = 0; seq < 40; seq += 4) ASSERT_TRUE(Append(*log, ProducerBatch(1, 0, seq)).ok());
  for (int32_t seq = 0; seq < 40; seq += 4) ASSERT_TRUE(Append(*log, ProducerBatch(2, 0, seq)).ok());
  log->UpdateHighWatermark(log->log_end_offset());
  ASSERT_TRUE(log->MaybeIncrementLogStartOffset(Offset(40)).ok());  // all of producer 1
  EXPECT_EQ(log->ProducerStates().Find(1), nullptr);
  ASSERT_NE(log->ProducerStates().Find(2), nullptr);
  for (int64_t offset : ListProducerSnapshots(dir.path())) EXPECT_GE(offset, 40);
  // Batches carry timestamps around 1000 ms: long idle by the manual clock's wall time.
  log->ExpireProducers(86400000);
  EXPECT_TRUE(log->ProducerStates().entries().empty());
}

}  // namespace
}  // namespace gregor::storage
