// Unit tests for the pure partition-change builder (controller/partition_change.h): leader
// election rules (keep, first in-sync replica in assignment order, preferred, unclean, offline),
// ISR normalization, and epochs.
#include "controller/partition_change.h"

#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor::controller {
namespace {

using metadata::kNoLeader;
using metadata::PartitionState;
using ::testing::ElementsAre;

PartitionState State(std::vector<int32_t> replicas, std::vector<int32_t> isr, int32_t leader,
                     int32_t leader_epoch = 5, int32_t partition_epoch = 10) {
  PartitionState s;
  s.replicas = std::move(replicas);
  s.isr = std::move(isr);
  s.leader = leader;
  s.leader_epoch = leader_epoch;
  s.partition_epoch = partition_epoch;
  return s;
}

std::function<bool(int32_t)> Usable(std::set<int32_t> ids) {
  return [ids](int32_t id) { return ids.count(id) > 0; };
}

std::function<bool(int32_t)> AllUsable() {
  return [](int32_t id) { return id >= 0; };
}

PartitionChange Isr(std::vector<int32_t> isr, bool unclean = false) {
  PartitionChange c;
  c.target_isr = std::move(isr);
  c.unclean_allowed = unclean;
  return c;
}

// ---- IsrWithout --------------------------------------------------------------------------------

TEST(PartitionChangeTest, IsrWithoutRemovesTheBroker) {
  EXPECT_THAT(IsrWithout({1, 2, 3}, 2), ElementsAre(1, 3));
  EXPECT_THAT(IsrWithout({1, 2, 3}, 1), ElementsAre(2, 3));
  EXPECT_THAT(IsrWithout({1, 2, 3}, 4), ElementsAre(1, 2, 3));
}

TEST(PartitionChangeTest, IsrWithoutNeverEmpties) {
  EXPECT_THAT(IsrWithout({2}, 2), ElementsAre(2));
  EXPECT_THAT(IsrWithout({}, 2), ElementsAre());
}

// ---- no change -------------------------------------------------------------------------------

TEST(PartitionChangeTest, NothingToChangeIsNullopt) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 1);
  EXPECT_EQ(BuildPartitionChange(s, PartitionChange{}, AllUsable()), std::nullopt);
  EXPECT_EQ(BuildPartitionChange(s, Isr({1, 2, 3}), AllUsable()), std::nullopt);
  // The same set in another order is the same ISR (assignment order is canonical).
  EXPECT_EQ(BuildPartitionChange(s, Isr({3, 1, 2}), AllUsable()), std::nullopt);
  // Non-replicas and duplicates in the target are ignored.
  EXPECT_EQ(BuildPartitionChange(s, Isr({1, 9, 2, 2, 3}), AllUsable()), std::nullopt);
}

TEST(PartitionChangeTest, OfflineWithNoCandidateStaysUnchanged) {
  PartitionState s = State({1, 2, 3}, {2}, kNoLeader);
  EXPECT_EQ(BuildPartitionChange(s, PartitionChange{}, Usable({1, 3})), std::nullopt);
}

// ---- keep the leader ---------------------------------------------------------------------------

TEST(PartitionChangeTest, ShrinkKeepsLeaderAndRaisesOnlyPartitionEpoch) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 1);
  auto next = BuildPartitionChange(s, Isr({1, 3}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(next->replicas, ElementsAre(1, 2, 3));
  EXPECT_THAT(next->isr, ElementsAre(1, 3));
  EXPECT_EQ(next->leader, 1);
  EXPECT_EQ(next->leader_epoch, 5);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, ExpandKeepsLeaderAndRaisesOnlyPartitionEpoch) {
  PartitionState s = State({1, 2, 3}, {2}, 2);
  auto next = BuildPartitionChange(s, Isr({2, 3, 1}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(next->isr, ElementsAre(1, 2, 3));  // assignment order
  EXPECT_EQ(next->leader, 2);                    // not moved to the preferred replica
  EXPECT_EQ(next->leader_epoch, 5);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, TargetIsrFollowsAssignmentOrderWithoutNonReplicasOrDuplicates) {
  PartitionState s = State({3, 1, 2}, {3}, 3);
  auto next = BuildPartitionChange(s, Isr({2, 7, 3, 2, 1, -1}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_THAT(next->isr, ElementsAre(3, 1, 2));
}

TEST(PartitionChangeTest, TargetIsrNeverBecomesEmpty) {
  PartitionState s = State({1, 2, 3}, {1, 2}, 1);
  // An empty target, or one with only non-replicas, leaves the ISR as it is.
  EXPECT_EQ(BuildPartitionChange(s, Isr({}), AllUsable()), std::nullopt);
  EXPECT_EQ(BuildPartitionChange(s, Isr({8, 9}), AllUsable()), std::nullopt);
}

TEST(PartitionChangeTest, KeepsACurrentLeaderThatIsNotTheFirstReplica) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 3);
  EXPECT_EQ(BuildPartitionChange(s, PartitionChange{}, AllUsable()), std::nullopt);
  auto next = BuildPartitionChange(s, Isr({2, 3}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
  EXPECT_EQ(next->leader_epoch, 5);
}

// ---- electing a new leader ---------------------------------------------------------------------

TEST(PartitionChangeTest, LeaderLeavingTheIsrElectsFirstIsrReplicaInAssignmentOrder) {
  // Assignment order 3, 1, 2: among the remaining ISR {1, 2}, 1 comes first.
  PartitionState s = State({3, 1, 2}, {2, 1, 3}, 3);
  auto next = BuildPartitionChange(s, Isr({2, 1}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 1);
  EXPECT_THAT(next->isr, ElementsAre(1, 2));
  EXPECT_EQ(next->leader_epoch, 6);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, UnusableLeaderIsReplacedEvenWithoutIsrChange) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 1);
  auto next = BuildPartitionChange(s, PartitionChange{}, Usable({2, 3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 2);
  EXPECT_THAT(next->isr, ElementsAre(1, 2, 3));  // ISR untouched: only the leader changes
  EXPECT_EQ(next->leader_epoch, 6);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, ElectionSkipsUnusableIsrMembers) {
  PartitionState s = State({1, 2, 3, 4}, {1, 2, 3, 4}, 1);
  auto next = BuildPartitionChange(s, Isr({2, 3, 4}), Usable({3, 4}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
}

TEST(PartitionChangeTest, ElectionNeverPicksAReplicaOutsideTheIsr) {
  // 2 is usable but not in sync; 3 is in sync.
  PartitionState s = State({1, 2, 3}, {1, 3}, 1);
  auto next = BuildPartitionChange(s, Isr({3}), Usable({2, 3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
}

TEST(PartitionChangeTest, NoEligibleReplicaMakesThePartitionOffline) {
  PartitionState s = State({1, 2, 3}, {1}, 1);
  // The only ISR member can no longer lead; 2 and 3 are usable but not in sync.
  auto next = BuildPartitionChange(s, Isr({}), Usable({2, 3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, kNoLeader);
  EXPECT_THAT(next->isr, ElementsAre(1));  // kept, so it can be elected cleanly later
  EXPECT_EQ(next->leader_epoch, 6);        // a change to "no leader" is a leader change
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, OfflinePartitionElectsAReturningIsrMember) {
  PartitionState s = State({1, 2, 3}, {2}, kNoLeader, 6, 11);
  auto next = BuildPartitionChange(s, PartitionChange{}, Usable({1, 2, 3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 2);
  EXPECT_THAT(next->isr, ElementsAre(2));
  EXPECT_EQ(next->leader_epoch, 7);
  EXPECT_EQ(next->partition_epoch, 12);
}

TEST(PartitionChangeTest, RemovingTheLeaderFromTheIsrWhileUsableStillMovesLeadership) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 1);
  auto next = BuildPartitionChange(s, Isr({2, 3}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 2);
  EXPECT_EQ(next->leader_epoch, 6);
}

// ---- unclean ---------------------------------------------------------------------------------

TEST(PartitionChangeTest, UncleanElectsFirstUsableReplicaAndIsrBecomesItAlone) {
  PartitionState s = State({1, 2, 3}, {1}, 1);
  auto next = BuildPartitionChange(s, Isr({}, /*unclean=*/true), Usable({3, 2}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 2);
  EXPECT_THAT(next->isr, ElementsAre(2));
  EXPECT_EQ(next->leader_epoch, 6);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, UncleanIsNotUsedWhenACleanCandidateExists) {
  PartitionState s = State({1, 2, 3}, {1, 3}, 1);
  auto next = BuildPartitionChange(s, Isr({3}, /*unclean=*/true), Usable({2, 3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
  EXPECT_THAT(next->isr, ElementsAre(3));
}

TEST(PartitionChangeTest, UncleanWithNoUsableReplicaStaysOffline) {
  PartitionState s = State({1, 2, 3}, {1}, 1);
  auto next = BuildPartitionChange(s, Isr({}, /*unclean=*/true), Usable({}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, kNoLeader);
  EXPECT_THAT(next->isr, ElementsAre(1));
  EXPECT_EQ(next->leader_epoch, 6);
}

TEST(PartitionChangeTest, UncleanElectionOfAnOfflinePartition) {
  PartitionState s = State({1, 2, 3}, {1}, kNoLeader, 6, 11);
  EXPECT_EQ(BuildPartitionChange(s, PartitionChange{}, Usable({3})), std::nullopt);
  PartitionChange c;
  c.unclean_allowed = true;
  auto next = BuildPartitionChange(s, c, Usable({3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
  EXPECT_THAT(next->isr, ElementsAre(3));
  EXPECT_EQ(next->leader_epoch, 7);
  EXPECT_EQ(next->partition_epoch, 12);
}

// ---- preferred ---------------------------------------------------------------------------------

PartitionChange Preferred() {
  PartitionChange c;
  c.election = Election::kPreferred;
  return c;
}

TEST(PartitionChangeTest, PreferredElectionMovesLeadershipToTheFirstReplica) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 2);
  auto next = BuildPartitionChange(s, Preferred(), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 1);
  EXPECT_THAT(next->isr, ElementsAre(1, 2, 3));
  EXPECT_EQ(next->leader_epoch, 6);
  EXPECT_EQ(next->partition_epoch, 11);
}

TEST(PartitionChangeTest, PreferredElectionNeedsThePreferredReplicaInSyncAndUsable) {
  // Not in the ISR: the current leader stays.
  EXPECT_EQ(BuildPartitionChange(State({1, 2, 3}, {2, 3}, 2), Preferred(), AllUsable()),
            std::nullopt);
  // In the ISR but not usable: the current leader stays.
  EXPECT_EQ(BuildPartitionChange(State({1, 2, 3}, {1, 2, 3}, 2), Preferred(), Usable({2, 3})),
            std::nullopt);
  // Already the leader.
  EXPECT_EQ(BuildPartitionChange(State({1, 2, 3}, {1, 2, 3}, 1), Preferred(), AllUsable()),
            std::nullopt);
}

TEST(PartitionChangeTest, PreferredElectionFallsBackToNormalElection) {
  // Preferred replica unusable and the current leader unusable: first eligible replica.
  auto next = BuildPartitionChange(State({1, 2, 3}, {1, 2, 3}, 2), Preferred(), Usable({3}));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
}

TEST(PartitionChangeTest, PreferredElectionOfAnOfflinePartition) {
  auto next = BuildPartitionChange(State({1, 2, 3}, {1, 2}, kNoLeader), Preferred(), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 1);
}

TEST(PartitionChangeTest, EpochsRaiseByExactlyOneWhenLeaderAndIsrBothChange) {
  PartitionState s = State({1, 2, 3}, {1, 2, 3}, 1, 41, 99);
  auto next = BuildPartitionChange(s, Isr({3}), AllUsable());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->leader, 3);
  EXPECT_THAT(next->isr, ElementsAre(3));
  EXPECT_EQ(next->leader_epoch, 42);
  EXPECT_EQ(next->partition_epoch, 100);
  EXPECT_THAT(next->replicas, ElementsAre(1, 2, 3));  // the assignment never changes here
}

}  // namespace
}  // namespace gregor::controller
