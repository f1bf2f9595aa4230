// LeaderState: the leader's pure view of its followers (high watermark, caught-up bookkeeping,
// ISR shrink / expand, one change in flight). No clock: every call gets a simulated `now_ms`.
#include "broker/replication/leader_state.h"

#include <optional>
#include <vector>

#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

using Isr = std::vector<int32_t>;

constexpr int32_t kLeader = 1;
constexpr int64_t kLagMs = 100;

auto AllEligible() {
  return [](int32_t) { return true; };
}

class LeaderStateTest : public ::testing::Test {
 protected:
  LeaderState state_{kLeader, kLagMs};
};

// ---- tombstone floor (log compaction) --------------------------------------------------------

TEST_F(LeaderStateTest, TombstoneFloorIsTheSmallestLogEndOverEveryAssignedReplica) {
  // Replica 3 is assigned but out of the ISR: it still counts, so a tombstone it lacks stays.
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  EXPECT_EQ(state_.MinReplicaLogEndOffset(10), std::nullopt) << "nobody fetched yet";
  state_.OnFollowerFetch(2, 10, 10, 1);
  EXPECT_EQ(state_.MinReplicaLogEndOffset(10), std::nullopt) << "3 has not fetched";
  state_.OnFollowerFetch(3, 4, 10, 1);
  EXPECT_EQ(state_.MinReplicaLogEndOffset(10), std::optional<int64_t>(4));
  state_.OnFollowerFetch(3, 10, 12, 2);
  EXPECT_EQ(state_.MinReplicaLogEndOffset(12), std::optional<int64_t>(10));
  // Alone, the leader's own log end.
  LeaderState alone{kLeader, kLagMs};
  alone.Reset({1}, {1}, 0, 0);
  EXPECT_EQ(alone.MinReplicaLogEndOffset(7), std::optional<int64_t>(7));
}

// ---- high watermark --------------------------------------------------------------------------

TEST_F(LeaderStateTest, HighWatermarkIsMinLogEndOverIsrIncludingLeader) {
  state_.Reset({1, 2, 3}, {1, 2, 3}, 0, 0);
  state_.OnFollowerFetch(2, 7, 10, 1);
  state_.OnFollowerFetch(3, 4, 10, 1);
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(4));
  state_.OnFollowerFetch(3, 9, 10, 2);
  EXPECT_EQ(state_.NewHighWatermark(10, 4, 1), std::optional<int64_t>(7));
  // Both followers at the leader's log end: the leader's own log end is the bound.
  state_.OnFollowerFetch(2, 10, 10, 3);
  state_.OnFollowerFetch(3, 10, 10, 3);
  EXPECT_EQ(state_.NewHighWatermark(10, 7, 1), std::optional<int64_t>(10));
  // The leader's log end bounds it too (followers cannot report more than it had, but the
  // leader's value taken is the one passed in).
  EXPECT_EQ(state_.NewHighWatermark(8, 7, 1), std::optional<int64_t>(8));
}

TEST_F(LeaderStateTest, FollowersOutsideTheIsrDoNotHoldTheHighWatermarkBack) {
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  // Replica 3 never fetched (unknown log end) and is not in the ISR.
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(10));
  state_.OnFollowerFetch(3, 2, 12, 2);
  EXPECT_EQ(state_.NewHighWatermark(12, 10, 1), std::nullopt);  // 2 is still at 10
  state_.OnFollowerFetch(2, 12, 12, 3);
  EXPECT_EQ(state_.NewHighWatermark(12, 10, 1), std::optional<int64_t>(12));
}

TEST_F(LeaderStateTest, HighWatermarkNeverGoesBackwards) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 5, 10, 1);
  EXPECT_EQ(state_.NewHighWatermark(10, 7, 1), std::nullopt);  // 5 < current 7
  EXPECT_EQ(state_.NewHighWatermark(10, 5, 1), std::nullopt);  // equal: no move
  EXPECT_EQ(state_.NewHighWatermark(10, 4, 1), std::optional<int64_t>(5));
}

TEST_F(LeaderStateTest, UnknownFollowerLogEndBlocksAdvance) {
  state_.Reset({1, 2, 3}, {1, 2, 3}, 0, 0);
  EXPECT_EQ(state_.FollowerLogEndOffset(2), -1);
  EXPECT_EQ(state_.FollowerLogEndOffset(3), -1);
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::nullopt);
  state_.OnFollowerFetch(2, 10, 10, 1);
  // 3 is in the ISR and has not fetched in this leader epoch.
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::nullopt);
  state_.OnFollowerFetch(3, 6, 10, 2);
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(6));
}

TEST_F(LeaderStateTest, ResetForgetsFollowerLogEnds) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  ASSERT_EQ(state_.FollowerLogEndOffset(2), 10);
  // A new leader epoch: what followers reported before does not count.
  state_.Reset({1, 2}, {1, 2}, 10, 5);
  EXPECT_EQ(state_.FollowerLogEndOffset(2), -1);
  EXPECT_EQ(state_.NewHighWatermark(12, 0, 1), std::nullopt);
}

TEST_F(LeaderStateTest, BelowMinInsyncReplicasBlocksAdvance) {
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  state_.OnFollowerFetch(3, 10, 10, 1);  // caught up, but not (yet) in the ISR
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 3), std::nullopt);
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 2), std::optional<int64_t>(10));

  // A leader alone in the ISR does not commit anything with min.insync.replicas = 2
  // (KAFKA-15583), but does with 1.
  state_.UpdateFromMetadata({1, 2, 3}, {1});
  EXPECT_EQ(state_.NewHighWatermark(20, 10, 2), std::nullopt);
  EXPECT_EQ(state_.NewHighWatermark(20, 10, 1), std::optional<int64_t>(20));
}

TEST_F(LeaderStateTest, MinInsyncReplicasCountsTheCommittedIsrNotAnInFlightExpand) {
  state_.Reset({1, 2}, {1}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  state_.SetInFlight({1, 2});
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1, 2}));
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 2), std::nullopt);
  state_.UpdateFromMetadata({1, 2}, {1, 2});
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 2), std::optional<int64_t>(10));
}

TEST_F(LeaderStateTest, MaximalIsrCountsMembersAnInFlightExpandAdds) {
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  state_.OnFollowerFetch(3, 4, 10, 1);
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(10));
  // Before that HW is applied, an expand adding 3 goes out: from now on 3 counts.
  state_.SetInFlight({1, 2, 3});
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1, 2, 3}));
  EXPECT_EQ(state_.isr(), (Isr{1, 2}));
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(4));
  // The controller rejects it: 3 no longer holds the HW back.
  state_.ClearInFlight();
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1, 2}));
  EXPECT_EQ(state_.NewHighWatermark(10, 4, 1), std::optional<int64_t>(10));
}

TEST_F(LeaderStateTest, MaximalIsrKeepsMembersAnInFlightShrinkRemoves) {
  state_.Reset({1, 2, 3}, {1, 2, 3}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  state_.OnFollowerFetch(3, 3, 10, 1);
  state_.SetInFlight({1, 2});
  // Until the controller commits the shrink, 3 may still be elected: it still counts.
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1, 2, 3}));
  EXPECT_EQ(state_.NewHighWatermark(10, 0, 1), std::optional<int64_t>(3));
  state_.UpdateFromMetadata({1, 2, 3}, {1, 2});
  EXPECT_FALSE(state_.in_flight());
  EXPECT_EQ(state_.NewHighWatermark(10, 3, 1), std::optional<int64_t>(10));
}

// ---- caught-up bookkeeping -------------------------------------------------------------------

TEST_F(LeaderStateTest, FetchAtLeaderLogEndIsCaughtUpNow) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  EXPECT_EQ(state_.LastCaughtUpMs(2), 0);  // the fresh leader's budget starts at Reset
  state_.OnFollowerFetch(2, 10, 10, 40);
  EXPECT_EQ(state_.LastCaughtUpMs(2), 40);
  EXPECT_EQ(state_.FollowerLogEndOffset(2), 10);
}

TEST_F(LeaderStateTest, FetchReachingThePreviousFetchsLeaderLogEndCountsFromThatFetch) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 10);  // caught up at 10
  state_.OnFollowerFetch(2, 10, 12, 20);  // 2 records arrived meanwhile: behind, no change
  EXPECT_EQ(state_.LastCaughtUpMs(2), 10);
  // The next fetch reaches 12, the leader's log end at the previous fetch (t=20), while the
  // leader is at 15 by now: the follower was caught up as of t=20.
  state_.OnFollowerFetch(2, 12, 15, 30);
  EXPECT_EQ(state_.LastCaughtUpMs(2), 20);
  // Not even the previous log end (15): unchanged.
  state_.OnFollowerFetch(2, 14, 18, 40);
  EXPECT_EQ(state_.LastCaughtUpMs(2), 20);
}

TEST_F(LeaderStateTest, FirstFetchBehindTheLeaderDoesNotMoveCaughtUpTime) {
  state_.Reset({1, 2}, {1, 2}, 0, 5);
  state_.OnFollowerFetch(2, 3, 10, 50);  // no previous fetch in this epoch
  EXPECT_EQ(state_.LastCaughtUpMs(2), 5);
}

TEST_F(LeaderStateTest, UnknownReplicaFetchIsIgnored) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(9, 10, 10, 1);
  EXPECT_EQ(state_.FollowerLogEndOffset(9), -1);
  // The leader itself has no follower entry either.
  state_.OnFollowerFetch(kLeader, 10, 10, 1);
  EXPECT_EQ(state_.FollowerLogEndOffset(kLeader), -1);
}

// ---- shrink ----------------------------------------------------------------------------------

TEST_F(LeaderStateTest, ShrinkRemovesAFollowerNotCaughtUpWithinTheLag) {
  state_.Reset({1, 2, 3}, {1, 2, 3}, 0, 0);
  state_.OnFollowerFetch(2, 0, 0, 50);  // caught up at 50; 3 never fetches
  EXPECT_EQ(state_.IsrToShrink(5, 100), std::nullopt);  // exactly the lag: still in
  EXPECT_EQ(state_.IsrToShrink(5, 101), std::optional<Isr>(Isr{1, 2}));
  // 2 fell behind too: caught up last at 50.
  EXPECT_EQ(state_.IsrToShrink(5, 150), std::optional<Isr>(Isr{1, 2}));
  EXPECT_EQ(state_.IsrToShrink(5, 151), std::optional<Isr>(Isr{1}));
}

TEST_F(LeaderStateTest, FollowerAtLeaderLogEndIsNeverShrunk) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  // Nothing was produced for a long time: the follower is at the log end.
  EXPECT_EQ(state_.IsrToShrink(10, 100000), std::nullopt);
  // One record more and the follower has not fetched since: out.
  EXPECT_EQ(state_.IsrToShrink(11, 100000), std::optional<Isr>(Isr{1}));
}

TEST_F(LeaderStateTest, SteadyTrickleOfProducesDoesNotShrinkAHealthyFollower) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  int64_t leo = 0;
  state_.OnFollowerFetch(2, 0, 0, 0);
  // Every 30 ms a record arrives just before the follower's fetch, so each fetch reaches only
  // the log end of the previous fetch, never the current one. Without the "previous fetch"
  // rule the follower would never count as caught up after t=0 and be out after 100 ms.
  for (int64_t t = 30; t <= 3000; t += 30) {
    int64_t follower_leo = leo;  // what it got from the previous fetch
    ++leo;
    state_.OnFollowerFetch(2, follower_leo, leo, t);
    ASSERT_EQ(state_.LastCaughtUpMs(2), t - 30) << "at " << t;
    ASSERT_EQ(state_.IsrToShrink(leo, t + 29), std::nullopt) << "at " << t;
  }
}

TEST_F(LeaderStateTest, FollowerFallingFurtherBehindIsShrunk) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  int64_t leo = 100;
  // The follower moves, but never reaches the leader's log end as of its previous fetch.
  for (int64_t t = 10, f = 0; t <= 300; t += 10, f += 1, leo += 5) {
    state_.OnFollowerFetch(2, f, leo, t);
  }
  EXPECT_EQ(state_.LastCaughtUpMs(2), 0);
  EXPECT_EQ(state_.IsrToShrink(leo, 101), std::optional<Isr>(Isr{1}));
}

TEST_F(LeaderStateTest, LeaderIsNeverShrunk) {
  state_.Reset({1}, {1}, 0, 0);
  EXPECT_EQ(state_.IsrToShrink(10, 1000000), std::nullopt);
}

TEST_F(LeaderStateTest, FreshLeaderGivesFollowersAFullLagBudget) {
  state_.Reset({1, 2}, {1, 2}, 0, 1000);
  EXPECT_EQ(state_.IsrToShrink(10, 1100), std::nullopt);
  EXPECT_EQ(state_.IsrToShrink(10, 1101), std::optional<Isr>(Isr{1}));
}

// ---- expand ----------------------------------------------------------------------------------

TEST_F(LeaderStateTest, ExpandNeedsHighWatermarkAndEpochStartOffset) {
  // This leader epoch started at offset 5.
  state_.Reset({1, 2, 3}, {1, 2}, 5, 0);
  EXPECT_EQ(state_.IsrToExpand(3, AllEligible()), std::nullopt);  // 3 has not fetched
  state_.OnFollowerFetch(3, 4, 8, 1);
  // At the HW (3) but before the epoch start (5): it has nothing of this epoch yet.
  EXPECT_EQ(state_.IsrToExpand(3, AllEligible()), std::nullopt);
  state_.OnFollowerFetch(3, 5, 8, 2);
  EXPECT_EQ(state_.IsrToExpand(3, AllEligible()), std::optional<Isr>(Isr{1, 2, 3}));
  // Past the epoch start but below the HW.
  EXPECT_EQ(state_.IsrToExpand(6, AllEligible()), std::nullopt);
  state_.OnFollowerFetch(3, 6, 8, 3);
  EXPECT_EQ(state_.IsrToExpand(6, AllEligible()), std::optional<Isr>(Isr{1, 2, 3}));
}

TEST_F(LeaderStateTest, ExpandRespectsEligibility) {
  state_.Reset({1, 2, 3}, {1}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  state_.OnFollowerFetch(3, 10, 10, 1);
  auto only_3 = [](int32_t b) { return b == 3; };
  EXPECT_EQ(state_.IsrToExpand(10, only_3), std::optional<Isr>(Isr{1, 3}));
  auto none = [](int32_t) { return false; };
  EXPECT_EQ(state_.IsrToExpand(10, none), std::nullopt);
  EXPECT_EQ(state_.IsrToExpand(10, AllEligible()), std::optional<Isr>(Isr{1, 2, 3}));
}

TEST_F(LeaderStateTest, NoExpandWhenEveryReplicaIsInTheIsr) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(2, 10, 10, 1);
  EXPECT_EQ(state_.IsrToExpand(10, AllEligible()), std::nullopt);
}

// ---- one change in flight --------------------------------------------------------------------

TEST_F(LeaderStateTest, InFlightChangeBlocksShrinkAndExpand) {
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(3, 0, 0, 1);  // eligible for the ISR (HW 0, epoch start 0)
  ASSERT_TRUE(state_.IsrToExpand(0, AllEligible()).has_value());
  ASSERT_TRUE(state_.IsrToShrink(5, 1000).has_value());  // 2 never fetched

  state_.SetInFlight({1, 2, 3});
  EXPECT_TRUE(state_.in_flight());
  EXPECT_EQ(state_.IsrToExpand(0, AllEligible()), std::nullopt);
  EXPECT_EQ(state_.IsrToShrink(5, 1000), std::nullopt);

  state_.ClearInFlight();
  EXPECT_FALSE(state_.in_flight());
  EXPECT_TRUE(state_.IsrToExpand(0, AllEligible()).has_value());
  EXPECT_TRUE(state_.IsrToShrink(5, 1000).has_value());
}

TEST_F(LeaderStateTest, MetadataReflectingTheChangeEndsTheInFlightChange) {
  state_.Reset({1, 2, 3}, {1, 2}, 0, 0);
  state_.SetInFlight({1, 2, 3});
  // Metadata that does not reflect the change yet (same ISR and replicas): still in flight.
  state_.UpdateFromMetadata({1, 2, 3}, {1, 2});
  EXPECT_TRUE(state_.in_flight());
  state_.UpdateFromMetadata({1, 2, 3}, {1, 2, 3});
  EXPECT_FALSE(state_.in_flight());
  EXPECT_EQ(state_.isr(), (Isr{1, 2, 3}));
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1, 2, 3}));
}

TEST_F(LeaderStateTest, NewerDifferentMetadataAlsoEndsTheInFlightChange) {
  state_.Reset({1, 2, 3}, {1, 2, 3}, 0, 0);
  state_.SetInFlight({1, 2});
  // The controller removed 3 for another reason and 2 too (e.g. fenced): anything newer ends it.
  state_.UpdateFromMetadata({1, 2, 3}, {1});
  EXPECT_FALSE(state_.in_flight());
  EXPECT_EQ(state_.MaximalIsr(), (Isr{1}));
}

TEST_F(LeaderStateTest, ResetEndsTheInFlightChange) {
  state_.Reset({1, 2}, {1}, 0, 0);
  state_.SetInFlight({1, 2});
  state_.Reset({1, 2}, {1}, 0, 10);
  EXPECT_FALSE(state_.in_flight());
}

TEST_F(LeaderStateTest, MetadataAddingAReplicaStartsTrackingIt) {
  state_.Reset({1, 2}, {1, 2}, 0, 0);
  state_.OnFollowerFetch(4, 10, 10, 1);
  EXPECT_EQ(state_.FollowerLogEndOffset(4), -1);
  state_.UpdateFromMetadata({1, 2, 4}, {1, 2});
  state_.OnFollowerFetch(4, 10, 10, 2);
  EXPECT_EQ(state_.FollowerLogEndOffset(4), 10);
  state_.OnFollowerFetch(2, 10, 10, 2);
  EXPECT_EQ(state_.IsrToExpand(10, AllEligible()), std::optional<Isr>(Isr{1, 2, 4}));
}

}  // namespace
}  // namespace gregor::broker
