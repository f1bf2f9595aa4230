// Partition replication (fixture: partition_replication_fixture.h): fetch errors, log start,
// leader changes (KIP-101, KIP-279), unclean election.
#include "tests/replication/partition_replication_fixture.h"

namespace gregor::broker {
namespace {

using namespace ::gregor::broker::replication_testing;  // NOLINT: the fixture and its helpers

// ---- fetch errors ------------------------------------------------------------------------------

TEST_F(PartitionReplicationTest, FetchErrors) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "p", 3, 1);
  Partition::FollowerFetch ok = Request(2);
  ASSERT_EQ(ok.current_leader_epoch, 1);

  // A follower still on an older leader epoch.
  Partition::FollowerFetch fenced = ok;
  fenced.current_leader_epoch = 0;
  fenced.fetch_offset = 3;
  auto r = Send(1, fenced);
  EXPECT_EQ(r.error, KafkaErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(r.records.size, 0);
  // A follower that knows a newer epoch than the leader (the leader's metadata is behind).
  Partition::FollowerFetch unknown = ok;
  unknown.current_leader_epoch = 2;
  unknown.fetch_offset = 3;
  EXPECT_EQ(Send(1, unknown).error, KafkaErrorCode::kUnknownLeaderEpoch);
  // Not a replica of this partition.
  Partition::FollowerFetch stranger = ok;
  stranger.replica = 9;
  stranger.fetch_offset = 3;
  EXPECT_EQ(Send(1, stranger).error, KafkaErrorCode::kNotLeaderOrFollower);
  // Not the leader.
  EXPECT_EQ(Send(2, Request(3)).error, KafkaErrorCode::kNotLeaderOrFollower);
  // None of the refused fetches counted as a follower position.
  EXPECT_EQ(Hw(1), 0);

  // Past the leader's log end (no epoch to check divergence with).
  Partition::FollowerFetch beyond = ok;
  beyond.fetch_offset = 7;
  r = Send(1, beyond);
  EXPECT_EQ(r.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(r.offsets.log_end_offset, Offset(3));
  EXPECT_EQ(r.offsets.log_start_offset, Offset(0));
  EXPECT_FALSE(r.diverging.has_value());
  EXPECT_EQ(Hw(1), 0);

  // Below the leader's log start.
  Replicate();
  ASSERT_TRUE(Log(1).MaybeIncrementLogStartOffset(Offset(2)).ok());
  Partition::FollowerFetch below = Request(3);
  below.fetch_offset = 1;
  below.last_fetched_epoch = -1;
  r = Send(1, below);
  EXPECT_EQ(r.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(r.offsets.log_start_offset, Offset(2));

  // A well-formed fetch at the log end: no error, nothing to read.
  r = Send(1, Request(2));
  EXPECT_EQ(r.error, KafkaErrorCode::kNone);
  EXPECT_EQ(r.records.size, 0);
  EXPECT_FALSE(r.diverging.has_value());
}

TEST_F(PartitionReplicationTest, FollowerOnAStaleEpochIsFencedUntilItLearnsTheNewOne) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "a", 2, 1);
  Replicate();
  // New epoch, same leader; broker 3 has not seen it yet.
  state_.leader_epoch += 1;
  state_.partition_epoch += 1;
  P(1).ApplyState(state_, now_);
  P(2).ApplyState(state_, now_);
  Produce(1, "b", 2, 1);
  FetchOutcome f = Fetch(3);
  EXPECT_EQ(f.error, KafkaErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(Leo(3), 2);
  P(3).ApplyState(state_, now_);
  Replicate();
  ExpectIdenticalLogs();
}

// ---- log start ---------------------------------------------------------------------------------

// Found by the nemesis (tests/nemesis, schedule "quorum"): broker 1 followed broker 2 at epoch 1;
// the controller made broker 1 leader at epoch 2 while a fetch to broker 2 (deposed, not yet
// told) was in flight, built after broker 1 had recorded epoch 2. Broker 2 knew no epoch at or
// below 2 and answered a diverging epoch of -1; broker 1 truncated its whole log, as leader,
// and its followers truncated to match: committed records lost. Now the old fetch's answer is
// refused (broker 1 no longer follows at epoch 1), and a diverging epoch of -1 truncates
// nothing.
TEST_F(PartitionReplicationTest, AFetchAnswerFromTheDeposedLeaderNeverTruncatesTheNewLeader) {
  Start({1, 2, 3}, 2);
  Elect(2, {1, 2, 3});  // epoch 1
  Produce(2, "a", 5, 1);
  Replicate();
  ASSERT_EQ(Leo(1), 5);
  ASSERT_EQ(Hw(1), 5);
  // The request broker 1 sends while following broker 2 at epoch 1.
  Partition::FollowerFetch in_flight = Request(1);
  // The controller elects broker 1 (broker 2 does not hear of it); broker 1's fetch, built
  // after it recorded epoch 2, reaches broker 2, which answers from its epoch-1 view.
  state_.leader = 1;
  state_.isr = {1, 3};
  ++state_.leader_epoch;
  ++state_.partition_epoch;
  P(1).ApplyState(state_, now_);
  P(3).ApplyState(state_, now_);
  in_flight.last_fetched_epoch = 2;
  auto answer = Send(2, in_flight);
  ASSERT_EQ(answer.error, KafkaErrorCode::kNone);
  ASSERT_TRUE(answer.diverging.has_value());
  EXPECT_EQ(answer.diverging->epoch, -1);
  // The old fetch's answer reaches broker 1, now the leader: refused, nothing truncated.
  auto truncated = P(1).TruncateOnDivergence(*answer.diverging, /*leader_epoch=*/1);
  EXPECT_TRUE(absl::IsFailedPrecondition(truncated.status())) << truncated.status();
  EXPECT_TRUE(absl::IsFailedPrecondition(P(1).AppendFromLeader(1, "", 5, 0)));
  EXPECT_TRUE(absl::IsFailedPrecondition(P(1).TruncateToLeaderRange(1, 0, 0)));
  EXPECT_EQ(Leo(1), 5);
  // A follower that gets the same answer while still following at that epoch keeps its log.
  Elect(2, {1, 2, 3});  // epoch 3: broker 3 follows broker 2 again
  auto kept = P(3).TruncateOnDivergence({-1, -1}, P(3).leader_epoch());
  EXPECT_TRUE(absl::IsUnavailable(kept.status())) << kept.status();
  EXPECT_EQ(Leo(3), 5);
  Replicate();
  EXPECT_EQ(Leo(1), 5);
  EXPECT_EQ(Leo(3), 5);
}

TEST_F(PartitionReplicationTest, FollowerBelowLeaderLogStartStartsOverThere) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "a", 3, -1);
  Replicate();  // everyone holds [0, 3)
  Crash(3);
  Produce(1, "b0", 2, -1);  // 3 is at the log end no more
  now_ += kLagMs + 1;
  Replicate();  // 2 keeps up
  auto shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  for (int i = 1; i < 4; ++i) Produce(1, absl::StrCat("b", i), 2, -1);
  Replicate();
  // Records below 7 are deleted (DeleteRecords / retention); 2 learns the new log start.
  ASSERT_TRUE(Log(1).MaybeIncrementLogStartOffset(Offset(7)).ok());
  Replicate();
  EXPECT_EQ(Lso(2), 7);
  Produce(1, "c", 1, -1);

  // 3 comes back at log end 3 (epoch 1), below the leader's log start.
  Open(3);
  Publish();
  FetchOutcome f = Fetch(3);
  EXPECT_EQ(f.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Lso(3), 7);
  EXPECT_EQ(Leo(3), 7);
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2, 3}));
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(3), Values(1));
}

// ---- leader changes: KIP-101 -------------------------------------------------------------------

// KIP-101 scenario 1: the follower restarts before it learns the HW that covers its last record
// (its checkpointed HW is stale), then becomes leader. Truncating to the local HW would lose an
// acknowledged record; Gregor keeps it (truncation is by leader epoch, on divergence only).
TEST_F(PartitionReplicationTest, Kip101HighWatermarkTruncationDoesNotLoseCommittedRecord) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m1 = Produce(1, "m1", 1, -1);
  Replicate();
  ExpectAcked(1, m1, "m1");
  LogAppendInfo m2 = Produce(1, "m2", 1, -1);
  Fetch(2);  // B copies m2
  // B's next fetch tells A it has m2: A's HW covers m2 and the produce is acknowledged...
  Partition::FollowerFetchResult lost = Send(1, Request(2));
  EXPECT_EQ(lost.offsets.high_watermark, Offset(2));
  ExpectAcked(1, m2, "m2");
  // ...but B restarts before it applies that response: its HW is still 1.
  ASSERT_EQ(Hw(2), 1);
  Crash(2);
  Open(2, /*checkpointed_hw=*/1);
  Publish();
  EXPECT_EQ(Leo(2), 2) << "a restarting follower must not truncate to its HW";
  // A dies; B is elected.
  Crash(1);
  Elect(2, {2});
  EXPECT_EQ(Leo(2), 2);
  EXPECT_EQ(Hw(2), 2);  // alone in the ISR
  LogAppendInfo m3 = Produce(2, "m3", 1, -1);
  ExpectAcked(2, m3, "m3");
  // A comes back and follows B.
  Open(1);
  Publish();
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "m1-0"}, {1, "m2-0"}, {2, "m3-0"}}));
  EXPECT_EQ(state_.isr, (Isr{2, 1}));
}

// KIP-101 scenario 2: both brokers fail; B lost m2 (unflushed), restarts first, becomes leader
// and writes m3 at m2's offset. A returns with m2 and an HW covering it: without epochs it would
// keep m2 and the logs would diverge for good. With epochs A truncates m2 and copies m3. (m2,
// acknowledged, is lost: every copy that survived the double failure lacks it. KIP-101 fixes
// divergence, not that.)
TEST_F(PartitionReplicationTest, Kip101ReplicaDivergenceAfterDoubleFailure) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m1 = Produce(1, "m1", 1, -1);
  LogAppendInfo m2 = Produce(1, "m2", 1, -1);
  Replicate();
  ExpectAcked(1, m1, "m1");
  EXPECT_EQ(Outcome(1, m2), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
  EXPECT_EQ(Hw(1), 2);
  EXPECT_EQ(Hw(2), 2);
  // Power failure: B had not flushed m2.
  ASSERT_TRUE(Log(2).TruncateTo(Offset(1)).ok());
  Crash(2);
  Crash(1);
  Open(2);
  Elect(2, {2});
  LogAppendInfo m3 = Produce(2, "m3", 1, -1);
  ASSERT_EQ(m3.first_offset, Offset(1));  // at m2's offset
  ExpectAcked(2, m3, "m3");
  Open(1, /*checkpointed_hw=*/2);
  Publish();
  ASSERT_EQ(Hw(1), 2);

  FetchOutcome f = Fetch(1);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 1}));  // B ends epoch 1 at offset 1
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Leo(1), 1);
  EXPECT_LE(Hw(1), 1);
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "m1-0"}, {1, "m3-0"}}));
}

// A new leader records (epoch, log end) at once (KAFKA-7415) and answers divergence for a
// follower holding an uncommitted tail of the previous epoch before it wrote anything itself.
TEST_F(PartitionReplicationTest, NewLeaderTruncatesFollowersUncommittedTailBeforeItWrites) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Produce(1, "tail", 3, -1);  // only 2 copies it
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  ASSERT_EQ(Leo(3), 2);
  Crash(1);
  Elect(3, {2, 3});
  EXPECT_EQ(Log(3).EpochEntries(),
            (std::vector<storage::EpochEntry>{{1, 0}, {2, 2}}));  // (new epoch, LEO) at once
  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 2}));
  EXPECT_EQ(Leo(2), 2);
  Replicate();
  ExpectIdenticalLogs();
  LogAppendInfo b = Produce(3, "b", 1, -1);
  Replicate();
  ExpectAcked(3, b, "b");
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
}

// ---- leader changes: KIP-279 -------------------------------------------------------------------

// KAFKA-6361 / KIP-279: A writes m1 (not replicated), B takes over and writes m2 at the same
// offset, then A takes over again before B fetched anything. B's epoch (2) is unknown to A, which
// answers with its largest epoch below it (1) and where that ends (2 — where A's epoch 3 starts).
// Truncating to min(2, B's LEO) would keep m2 (pre-KIP-279 divergence); B must match epoch 1 to
// its own end of epoch 1 (offset 1).
TEST_F(PartitionReplicationTest, Kip279FastLeaderChangesDoNotDiverge) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m0 = Produce(1, "m0", 1, -1);
  Replicate();
  ExpectAcked(1, m0, "m0");
  Produce(1, "m1", 1, 1);  // offset 1, epoch 1, only on A
  Elect(2, {1, 2});
  Produce(2, "m2", 1, 1);  // offset 1, epoch 2, only on B
  Elect(1, {1, 2});
  Produce(1, "m3", 1, 1);  // offset 2, epoch 3

  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 2}));
  EXPECT_EQ(Leo(2), 1) << "B must drop m2 (epoch 2), which A never had";
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(2), (std::map<int64_t, std::string>{{0, "m0-0"}, {1, "m1-0"}, {2, "m3-0"}}));
  EXPECT_EQ(Log(2).EpochEntries(), Log(1).EpochEntries());
}

// The iterative case: the leader answers with an epoch the follower never had; the follower cuts
// back to the end of its own epoch below that and asks again with an older last epoch.
//   1 (epoch 1): m0..m2 committed everywhere; m3, m4 copied by 2 only.
//   3 (epoch 2): writes c3..c7 at offsets 3..7, nobody copies them.
//   2 (epoch 3): writes b5, b6 at offsets 5, 6.
//   3 (epoch 4): writes c8.
// 2 follows 3 with last epoch 3 -> diverging (2, 8): 2 has no epoch 2, cuts to its end of epoch
// 1 (5) and asks again with last epoch 1 -> diverging (1, 3) -> truncates to 3 and copies.
TEST_F(PartitionReplicationTest, Kip279IterativeTruncationWhenFollowerLacksLeadersEpoch) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  std::vector<LogAppendInfo> m;
  for (int i = 0; i < 3; ++i) m.push_back(Produce(1, absl::StrCat("m", i), 1, -1));
  Replicate();
  for (int i = 0; i < 3; ++i) ExpectAcked(1, m[i], absl::StrCat("m", i));
  Produce(1, "m3", 1, -1);
  Produce(1, "m4", 1, -1);
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  ASSERT_EQ(Leo(3), 3);
  EXPECT_EQ(Hw(1), 3);

  Crash(1);
  Elect(3, {2, 3});
  for (int i = 3; i <= 7; ++i) Produce(3, absl::StrCat("c", i), 1, 1);
  Elect(2, {2, 3});
  Produce(2, "b5", 1, 1);
  Produce(2, "b6", 1, 1);
  Elect(3, {2, 3});
  Produce(3, "c8", 1, 1);
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {3, 5}}));
  ASSERT_EQ(Log(3).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {2, 3}, {4, 8}}));

  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{2, 8}));
  EXPECT_EQ(Leo(2), 5);
  EXPECT_EQ(Log(2).LatestEpoch(), LeaderEpoch(1));
  f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 3}));
  EXPECT_EQ(Leo(2), 3);
  f = Fetch(2);
  EXPECT_FALSE(f.diverging.has_value());
  EXPECT_GT(f.record_bytes, 0u);

  // A comes back with m3, m4 of epoch 1 and follows 3 too.
  Open(1);
  Publish();
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), Values(3));
  auto values = Values(2);
  EXPECT_EQ(values[3], "c3-0");
  EXPECT_EQ(values[8], "c8-0");
}

// Metadata that lags an ISR change the leader already applied (same leader epoch, older
// partition epoch) must not roll the ISR back.
TEST_F(PartitionReplicationTest, FollowerThatLedAnEmptyEpochCatchesUp) {
  Start({1, 2}, 2);
  Elect(1, {1, 2});
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Elect(2, {1, 2});  // e.g. a preferred-leader election bouncing back and forth
  Elect(1, {1, 2});
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {2, 2}}));
  LogAppendInfo b = Produce(1, "b", 1, -1);
  for (int i = 0; i < 5; ++i) Fetch(2);
  EXPECT_EQ(Leo(2), Leo(1)) << "follower stuck on diverging epoch answers";
  EXPECT_EQ(Log(2).LatestEpoch(), LeaderEpoch(3));
  EXPECT_EQ(Outcome(1, b), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
}

// The same for the KIP-279 branch: the follower lacks the leader's epoch.
TEST_F(PartitionReplicationTest, FollowerThatLedAnEmptyEpochAndLacksTheLeadersEpochConverges) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  for (int i = 0; i < 3; ++i) Produce(1, absl::StrCat("m", i), 1, -1);
  Replicate();
  Produce(1, "m3", 1, -1);
  Produce(1, "m4", 1, -1);
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  Crash(1);
  Elect(3, {2, 3});
  Produce(3, "c3", 1, 1);
  Produce(3, "c4", 1, 1);
  Elect(2, {2, 3});
  Elect(3, {2, 3});
  Produce(3, "c5", 1, 1);
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {3, 5}}));
  for (int i = 0; i < 6; ++i) Fetch(2);
  EXPECT_EQ(Leo(2), Leo(3));
  EXPECT_EQ(Values(2), Values(3));
}

// ---- unclean election ---------------------------------------------------------------------------

// 2 is out of the ISR and down while 1 commits more (ISR {1}); then 1 dies and 2 is elected
// uncleanly. 1 returns ahead of the new leader, with an HW past the new leader's log end: it
// truncates to where epoch 1 ends on 2 and copies 2's log. (The records only 1 had are lost —
// that is what an unclean election means.)
TEST_F(PartitionReplicationTest, FollowerAheadOfUncleanlyElectedLeaderTruncates) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  LogAppendInfo a = Produce(1, "a", 1, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Crash(2);
  Produce(1, "b", 2, -1);
  EXPECT_EQ(Hw(1), 1);
  now_ += kLagMs + 1;
  auto shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  EXPECT_EQ(Hw(1), 3);
  Produce(1, "c", 1, -1);
  EXPECT_EQ(Hw(1), 4);
  Crash(1);
  Open(2);
  Elect(2, {2});  // unclean: 2 was not in the ISR
  Produce(2, "n", 1, -1);
  EXPECT_EQ(Leo(2), 2);

  Open(1, /*checkpointed_hw=*/4);
  Publish();
  ASSERT_EQ(Hw(1), 4);
  FetchOutcome f = Fetch(1);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 1}));
  EXPECT_EQ(Leo(1), 1);
  EXPECT_LE(Hw(1), 1);
  Replicate();
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "a-0"}, {1, "n-0"}}));
  EXPECT_EQ(state_.isr, (Isr{2, 1}));
}

// The fetcher's other OFFSET_OUT_OF_RANGE branch: a follower past the leader's log end with no
// epoch to compare (its batches carry no leader epoch) truncates to the leader's log end.
TEST_F(PartitionReplicationTest, FollowerAheadWithoutEpochsTruncatesToLeaderLogEnd) {
  Start({1, 2}, 1);
  std::string batch = MakeBatch(5, clock_.WallMs(), 0, Compression::kNone, "old");
  record::SetPartitionLeaderEpoch(batch.data(), -1);
  auto old = Log(2).AppendAsFollower(batch);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(Leo(2), 5);
  ASSERT_FALSE(Log(2).LatestEpoch().has_value());
  Elect(1, {1});  // unclean: 1 has nothing
  FetchOutcome f = Fetch(2);
  EXPECT_EQ(f.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(f.offsets.log_end_offset, Offset(0));
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Leo(2), 0);
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(2), (std::map<int64_t, std::string>{{0, "a-0"}, {1, "a-1"}}));
}

// Leadership moves around several times with traffic and replicas restarting; after every
// change the replicas converge and nothing acknowledged is lost.
TEST_F(PartitionReplicationTest, RepeatedLeaderChangesConverge) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  const std::vector<int32_t> leaders{2, 3, 1, 3, 2, 1};
  int n = 0;
  for (int32_t next : leaders) {
    int32_t leader = state_.leader;
    for (int i = 0; i < 3; ++i, ++n) {
      std::string prefix = absl::StrCat("r", n);
      LogAppendInfo info = Produce(leader, prefix, 1 + n % 3, -1);
      Replicate();
      ExpectAcked(leader, info, prefix);
    }
    // An uncommitted tail on the old leader only, then a clean election (all in the ISR).
    Produce(leader, absl::StrCat("tail", n), 2, 1);
    Elect(next, {1, 2, 3});
    Produce(next, absl::StrCat("first", n), 1, 1);
    Replicate();
    ExpectIdenticalLogs();
    ExpectNoAckedLoss();
  }
}


}  // namespace
}  // namespace gregor::broker
