// Partition replication (fixture: partition_replication_fixture.h): steady state, acks=all,
// ISR changes through fetches.
#include "tests/replication/partition_replication_fixture.h"

namespace gregor::broker {
namespace {

using namespace ::gregor::broker::replication_testing;  // NOLINT: the fixture and its helpers

// ---- steady state ------------------------------------------------------------------------------

// KIP-74's byte rule, shared by consumer and follower fetches.
TEST(FetchReadLimitTest, AtLeastOneBatchOnlyWhileTheBudgetLasts) {
  FetchReadLimit first = FetchReadLimitFor(1 << 20, 10 << 20, /*nothing_read_yet=*/true);
  EXPECT_EQ(first.max_bytes, 1 << 20);
  EXPECT_TRUE(first.min_one_batch);
  // Less budget than the partition's limit: the budget bounds it.
  FetchReadLimit tight = FetchReadLimitFor(1 << 20, 1000, false);
  EXPECT_EQ(tight.max_bytes, 1000);
  EXPECT_TRUE(tight.min_one_batch);
  // Budget spent: nothing more, unless nothing was read yet.
  FetchReadLimit spent = FetchReadLimitFor(1 << 20, -500, false);
  EXPECT_EQ(spent.max_bytes, 0);
  EXPECT_FALSE(spent.min_one_batch);
  EXPECT_TRUE(FetchReadLimitFor(1 << 20, 0, true).min_one_batch);
  // A negative partition limit reads nothing beyond the one-batch rule.
  EXPECT_EQ(FetchReadLimitFor(-1, 1000, true).max_bytes, 0);
}

TEST_F(PartitionReplicationTest, ThreeReplicasReplicateProduceTraffic) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  EXPECT_TRUE(P(1).is_leader());
  EXPECT_FALSE(P(2).is_leader());

  LogAppendInfo m0 = Produce(1, "m0", 3);
  EXPECT_EQ(m0.first_offset, Offset(0));
  EXPECT_EQ(Outcome(1, m0), std::nullopt);  // waiting for the ISR

  // Each follower's first fetch brings the batch; the leader learns they have it only from
  // their next fetch offset.
  FetchOutcome f2 = Fetch(2);
  EXPECT_EQ(f2.error, KafkaErrorCode::kNone);
  EXPECT_GT(f2.record_bytes, 0u);
  EXPECT_EQ(Leo(2), 3);
  FetchOutcome f3 = Fetch(3);
  EXPECT_GT(f3.record_bytes, 0u);
  EXPECT_EQ(Leo(3), 3);
  EXPECT_EQ(Hw(1), 0);
  Fetch(2);  // 2 is at 3, 3 still reported 0
  EXPECT_EQ(Hw(1), 0);
  EXPECT_EQ(Outcome(1, m0), std::nullopt);
  FetchOutcome again = Fetch(3);
  EXPECT_EQ(Hw(1), 3);
  ExpectAcked(1, m0, "m0");
  // The follower's HW trails the leader's by a fetch.
  EXPECT_EQ(again.offsets.high_watermark, Offset(3));
  EXPECT_EQ(Hw(3), 3);
  EXPECT_EQ(Hw(2), 0);
  ExpectConsistentBelowHw();
  Replicate();
  EXPECT_EQ(Hw(2), 3);

  // Traffic interleaved with fetches of varying reach.
  std::vector<std::pair<LogAppendInfo, std::string>> pending;
  for (int i = 1; i <= 30; ++i) {
    std::string prefix = absl::StrCat("m", i);
    pending.emplace_back(Produce(1, prefix, 1 + i % 4), prefix);
    if (i % 3 == 0) Fetch(2);
    if (i % 5 == 0) Fetch(3);
    if (i % 7 == 0) Replicate();
    ExpectConsistentBelowHw();
    for (auto it = pending.begin(); it != pending.end();) {
      if (Outcome(1, it->first) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
        ExpectAcked(1, it->first, it->second);
        it = pending.erase(it);
      } else {
        EXPECT_EQ(Outcome(1, it->first), std::nullopt);
        ++it;
      }
    }
  }
  Replicate();
  for (auto& [info, prefix] : pending) ExpectAcked(1, info, prefix);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2, 3}));
  EXPECT_TRUE(proposals_.empty());
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(2), written_);
  // Every follower recorded the leader's epoch from the batches it copied.
  EXPECT_EQ(Log(2).EpochEntries(), Log(1).EpochEntries());
  EXPECT_EQ(Log(3).EpochEntries(), Log(1).EpochEntries());
}

TEST_F(PartitionReplicationTest, SmallFetchesCopyWholeBatchesOneAtATime) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  for (int i = 0; i < 5; ++i) Produce(1, absl::StrCat("b", i), 2);
  max_bytes_ = 1;  // at least one whole batch per fetch
  FetchOutcome f = Fetch(2);
  EXPECT_EQ(Leo(2), 2);
  EXPECT_GT(f.record_bytes, 0u);
  EXPECT_EQ(Replicate(), 6);  // four more batches, then one round that brings nothing
  ExpectIdenticalLogs();
}

// ---- acks=all ------------------------------------------------------------------------------------

TEST_F(PartitionReplicationTest, AcksAllRejectedUpFrontWhenIsrBelowMinInsync) {
  Start({1, 2, 3}, 2);
  Elect(1, {1});
  auto rejected = TryProduce(1, "x", 1, -1);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(ToKafkaErrorCode(rejected.status()), KafkaErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(Leo(1), 0);  // nothing written

  // acks=1 and acks=0 are taken, but not committed: the ISR is below min.insync.replicas.
  ASSERT_TRUE(TryProduce(1, "a1", 1, 1).ok());
  ASSERT_TRUE(TryProduce(1, "a0", 1, 0).ok());
  EXPECT_EQ(Leo(1), 2);
  EXPECT_EQ(Hw(1), 0);

  // Follower 2 catches up and is added back; the HW moves and acks=all works again.
  ineligible_ = {3};
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 2);
  LogAppendInfo ok = Produce(1, "ok", 1, -1);
  Replicate();
  ExpectAcked(1, ok, "ok");
}

TEST_F(PartitionReplicationTest, AcksAllNotEnoughReplicasAfterAppendWhenIsrShrinks) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();  // both followers fetched once in this epoch
  LogAppendInfo info = Produce(1, "w", 2, -1);
  EXPECT_EQ(Outcome(1, info), std::nullopt);

  // The followers stop fetching. Past replica.lag.time.max.ms the leader asks to remove them.
  auto_commit_isr_ = false;
  now_ += kLagMs / 2;
  EXPECT_EQ(P(1).MaybeShrinkIsr(now_), std::nullopt);
  now_ += kLagMs;
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  EXPECT_EQ(shrink->new_isr, (Isr{1}));
  EXPECT_EQ(shrink->leader_epoch, state_.leader_epoch);
  EXPECT_EQ(shrink->partition_epoch, state_.partition_epoch);
  // Until the controller commits the shrink the write may still be committed by the old ISR.
  EXPECT_EQ(Outcome(1, info), std::nullopt);
  EXPECT_EQ(P(1).MaybeShrinkIsr(now_), std::nullopt);  // one change in flight
  CommitIsrChange(*shrink);
  EXPECT_EQ(P(1).state().isr, (Isr{1}));
  EXPECT_EQ(Outcome(1, info),
            std::optional<KafkaErrorCode>(KafkaErrorCode::kNotEnoughReplicasAfterAppend));
  EXPECT_EQ(Hw(1), 0);  // and nothing got committed under a too-small ISR
}

TEST_F(PartitionReplicationTest, AcksAllNotEnoughReplicasAfterAppendWhenIsrShrinksAfterCommit) {
  // Kafka's checkEnoughReplicasReachOffset: HW past the write, but the (maximal) ISR is now
  // below min.insync.replicas.
  Start({1, 2}, 2);
  Elect(1, {1, 2});
  LogAppendInfo info = Produce(1, "w", 1, -1);
  Replicate();
  EXPECT_EQ(Hw(1), 1);
  Crash(2);
  Produce(1, "more", 1, 1);  // 2 is no longer at the log end
  now_ += 2 * kLagMs;
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  // While the shrink is in flight the maximal ISR still has 2.
  EXPECT_EQ(Outcome(1, info), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
  CommitIsrChange(*shrink);
  EXPECT_EQ(P(1).state().isr, (Isr{1}));
  EXPECT_EQ(Outcome(1, info),
            std::optional<KafkaErrorCode>(KafkaErrorCode::kNotEnoughReplicasAfterAppend));
}

TEST_F(PartitionReplicationTest, AcksAllNotLeaderAfterLeaderChange) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  LogAppendInfo info = Produce(1, "w", 1, -1);
  EXPECT_EQ(Outcome(1, info), std::nullopt);
  EXPECT_EQ(P(1).ApplyState(state_, now_), Partition::Transition::kNone);
  Elect(2, {1, 2, 3});
  EXPECT_FALSE(P(1).is_leader());
  EXPECT_EQ(Outcome(1, info), std::optional<KafkaErrorCode>(KafkaErrorCode::kNotLeaderOrFollower));
  auto again = TryProduce(1, "again", 1, -1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(ToKafkaErrorCode(again.status()), KafkaErrorCode::kNotLeaderOrFollower);
}

// A parked acks=all produce carries the leader epoch of its append: after the leadership moved
// away and back, its record may have been truncated, so it is not reported as committed.
TEST_F(PartitionReplicationTest, AcksAllOutcomeAfterLeadershipMovedAwayAndBack) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  Replicate();
  LogAppendInfo x = Produce(1, "x", 1, -1);  // offset 0, epoch 1, only on broker 1
  EXPECT_EQ(Outcome(1, x), std::nullopt);
  // Broker 1 is slow: the controller moves the leadership to 2 (clean: 2 is in the ISR).
  Elect(2, {2});
  LogAppendInfo y = Produce(2, "y", 1, -1);  // offset 0, epoch 2
  ExpectAcked(2, y, "y");
  Replicate();  // 1 truncates x away and copies y
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "y-0"}}));
  // The leadership comes back to 1 before its parked produce of x is looked at again.
  Elect(1, {1, 2});
  Replicate();
  EXPECT_GE(Hw(1), 1);
  EXPECT_NE(Outcome(1, x), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone))
      << "x was truncated away, yet its acks=all produce would be answered as committed";
}

// ---- ISR changes through fetches -------------------------------------------------------------

TEST_F(PartitionReplicationTest, CaughtUpFollowerIsAddedBackOneChangeAtATime) {
  Start({1, 2, 3}, 1);
  Elect(1, {1});
  for (int i = 0; i < 3; ++i) Produce(1, absl::StrCat("p", i), 2, 1);
  EXPECT_EQ(Hw(1), 6);  // the leader alone is the ISR
  auto_commit_isr_ = false;

  FetchOutcome f = Fetch(2);  // copies everything (LEO 0 < HW 6: not yet)
  EXPECT_FALSE(f.isr_change);
  f = Fetch(2);  // now at 6 = HW: propose adding 2
  ASSERT_TRUE(f.isr_change);
  ASSERT_EQ(proposals_.size(), 1u);
  EXPECT_EQ(proposals_[0].new_isr, (Isr{1, 2}));
  EXPECT_EQ(proposals_[0].tp, kTp);
  EXPECT_EQ(proposals_[0].leader_epoch, state_.leader_epoch);
  EXPECT_EQ(proposals_[0].partition_epoch, state_.partition_epoch);

  // 3 catches up while the first change is in flight: no second proposal.
  Fetch(3);
  f = Fetch(3);
  EXPECT_FALSE(f.isr_change);
  // Meanwhile the maximal ISR includes 2: a write is committed only once 2 has it.
  Produce(1, "q", 1, 1);
  EXPECT_EQ(Hw(1), 6);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 7);

  CommitIsrChange(proposals_[0]);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  f = Fetch(3);  // at 6, below the HW (7): copies q, no proposal yet
  EXPECT_FALSE(f.isr_change);
  f = Fetch(3);
  ASSERT_TRUE(f.isr_change);
  EXPECT_EQ(proposals_.back().new_isr, (Isr{1, 2, 3}));
  CommitIsrChange(proposals_.back());
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2, 3}));
  auto_commit_isr_ = true;
  Replicate();
  ExpectIdenticalLogs();
}

TEST_F(PartitionReplicationTest, IneligibleFollowerIsNotAddedBack) {
  Start({1, 2}, 1);
  Elect(1, {1});
  Produce(1, "p", 2, 1);
  ineligible_ = {2};  // e.g. fenced, or fetching with a stale broker epoch
  Replicate();
  EXPECT_EQ(Leo(2), Leo(1));
  EXPECT_TRUE(proposals_.empty());
  EXPECT_EQ(state_.isr, (Isr{1}));
  ineligible_.clear();
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
}

TEST_F(PartitionReplicationTest, RejectedIsrChangeCanBeProposedAgain) {
  Start({1, 2}, 1);
  Elect(1, {1});
  Produce(1, "p", 1, 1);
  auto_commit_isr_ = false;
  Fetch(2);
  ASSERT_TRUE(Fetch(2).isr_change);
  EXPECT_FALSE(Fetch(2).isr_change);  // in flight
  P(1).OnIsrChangeResult(proposals_.back(), false, std::nullopt, now_);
  ASSERT_TRUE(Fetch(2).isr_change);
  // A stale proposal (the partition epoch moved meanwhile) is refused by the controller.
  IsrChange stale = proposals_.back();
  stale.partition_epoch -= 1;
  CommitIsrChange(stale);
  EXPECT_EQ(state_.isr, (Isr{1}));
  ASSERT_TRUE(Fetch(2).isr_change);
  CommitIsrChange(proposals_.back());
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
}

TEST_F(PartitionReplicationTest, LaggingFollowerIsShrunkAndHighWatermarkMovesOn) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 0);  // 3 holds it back
  now_ += kLagMs + 1;
  // 2 keeps fetching (it is at the leader's log end); 3 is gone.
  Fetch(2);
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 1);  // moved as soon as the controller's answer came back
  ExpectAcked(1, w, "w");
}

TEST_F(PartitionReplicationTest, ControllerRemovingADeadReplicaLetsTheHighWatermarkMove) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  Crash(3);
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 0);
  EXPECT_EQ(Outcome(1, w), std::nullopt);
  // The controller fences 3 and drops it from the ISR (a new partition epoch, same leader epoch).
  state_.isr = {1, 2};
  ++state_.partition_epoch;
  Publish();
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 1);
  ExpectAcked(1, w, "w");
}

// Metadata that lags an ISR change the leader already applied (same leader epoch, older
// partition epoch) must not roll the ISR back.
TEST_F(PartitionReplicationTest, StalePartitionEpochDoesNotRollBackTheIsr) {
  Start({1, 2}, 1);
  Elect(1, {1});
  metadata::PartitionState before_expand = state_;
  publish_isr_changes_ = false;  // the metadata stream lags behind the AlterPartition response
  Produce(1, "p", 1, 1);
  Replicate();
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  ASSERT_EQ(P(1).state().isr, (Isr{1, 2}));
  ASSERT_GT(state_.partition_epoch, before_expand.partition_epoch);

  // An image from before the expand reaches broker 1 now.
  P(1).ApplyState(before_expand, now_);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2})) << "ISR rolled back by a stale partition epoch";

  LogAppendInfo w = Produce(1, "w", 1, -1);
  EXPECT_NE(Outcome(1, w), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone))
      << "acknowledged before replica 2 (in the controller's ISR) has it";
  if (Outcome(1, w) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
    acked_[w.first_offset.value()] = "w-0";
  }
  // 1 dies; 2, in the controller's ISR, is a clean choice.
  Crash(1);
  Elect(2, {2});
  ExpectNoAckedLoss();
}

// An answer to an older ISR change must not end the change in flight now.
TEST_F(PartitionReplicationTest, StaleIsrChangeAnswerDoesNotEndTheCurrentInFlightChange) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Replicate();
  auto_commit_isr_ = false;
  Produce(1, "p", 1, 1);
  Fetch(2);
  Fetch(2);
  now_ += kLagMs + 1;
  Fetch(2);
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);  // 3 lags: {1,2}, epoch 1
  ASSERT_TRUE(shrink.has_value());
  ASSERT_EQ(shrink->new_isr, (Isr{1, 2}));
  // While that AlterPartition is on its way, the controller moves to leader epoch 2 (3 fenced and
  // dropped from the ISR by the controller itself; 1 stays leader).
  Elect(1, {1, 2});
  Fetch(2);
  ASSERT_EQ(Hw(1), 1);
  // 3 is back, catches up and 1 proposes adding it (in flight: 3 now counts for the HW).
  Fetch(3);
  ASSERT_EQ(Leo(3), 1);
  ASSERT_TRUE(Fetch(3).isr_change);
  IsrChange expand = proposals_.back();
  ASSERT_EQ(expand.new_isr, (Isr{1, 2, 3}));
  ASSERT_EQ(expand.leader_epoch, 2);
  // A write reaches 2; the expand in flight keeps the HW at 3's log end.
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  ASSERT_EQ(Leo(2), 2);
  ASSERT_EQ(Hw(1), 1);
  // The controller's answer to the old shrink arrives: refused (stale leader epoch).
  CommitIsrChange(*shrink);
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  // 2's next fetch: the HW is recomputed (before the expand is proposed again).
  Fetch(2);
  EXPECT_EQ(Hw(1), 1) << "HW advanced without 3, whose addition to the ISR is in flight";
  EXPECT_EQ(Outcome(1, w), std::nullopt);
  if (Outcome(1, w) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
    acked_[w.first_offset.value()] = "w-0";
  }
  // The controller commits the expand; 1 dies; 3 (in the ISR) is a clean choice.
  CommitIsrChange(expand);
  ASSERT_EQ(state_.isr, (Isr{1, 2, 3}));
  Crash(1);
  Elect(3, {2, 3});
  Replicate();
  ExpectNoAckedLoss();
}


}  // namespace
}  // namespace gregor::broker
