// The controller's decisions about partitions: AlterPartition, preferred and offline leader elections.
#include "controller/control.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/metadata/topic_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/control_test_util.h"

namespace gregor::controller {
namespace {

using namespace ::gregor::controller::control_testing;  // NOLINT: the shared helpers

// =================================================================================================
// AlterPartition
// =================================================================================================

class ControlAlterPartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.AddBrokers({1, 2, 3, 4});
    c.CreateManual("t", {{1, 2, 3}, {2, 3, 1}});
  }

  PartitionIsrChange Change(int32_t partition, std::vector<int32_t> isr) {
    const PartitionState& s = c.P("t", partition);
    PartitionIsrChange ch;
    ch.set_topic("t");
    ch.set_partition(partition);
    ch.set_leader_epoch(s.leader_epoch);
    ch.set_partition_epoch(s.partition_epoch);
    for (int32_t b : isr) ch.add_new_isr(b);
    return ch;
  }

  AlterPartitionRequest Request(int32_t sender, std::vector<PartitionIsrChange> changes) {
    AlterPartitionRequest r;
    r.set_broker_id(sender);
    r.set_broker_epoch(c.Epoch(sender));
    for (auto& ch : changes) *r.add_changes() = ch;
    return r;
  }

  // Sends one change from the current leader; expects a single result.
  PartitionIsrResult One(const PartitionIsrChange& change, int32_t sender = -1,
                         std::vector<MetadataRecord>* records = nullptr) {
    if (sender < 0) sender = c.P(change.topic(), change.partition()).leader;
    auto result = AlterPartition(c.image, Request(sender, {change}));
    EXPECT_EQ(result.reply.error().code(), kNone);
    EXPECT_EQ(result.reply.results_size(), 1);
    if (records) *records = result.records;
    return result.reply.results_size() ? result.reply.results(0) : PartitionIsrResult();
  }

  void ExpectRejected(const PartitionIsrChange& change, int32_t code, int32_t sender = 1) {
    std::vector<MetadataRecord> records;
    PartitionIsrResult r = One(change, sender, &records);
    EXPECT_EQ(r.error().code(), code) << r.error().message();
    EXPECT_FALSE(r.error().message().empty());
    EXPECT_THAT(records, IsEmpty());
    // The reply carries the current state so the leader can catch up.
    const PartitionState& s = c.P("t", change.partition());
    EXPECT_EQ(metadata::FromRecord(r.state()), s);
    EXPECT_EQ(r.state().topic(), "t");
    EXPECT_EQ(r.state().partition(), change.partition());
  }

  Cluster c;
};

TEST_F(ControlAlterPartitionTest, ShrinkSucceedsRaisingOnlyThePartitionEpoch) {
  PartitionState was = c.P("t", 0);
  std::vector<MetadataRecord> records;
  PartitionIsrResult r = One(Change(0, {1, 3}), 1, &records);
  EXPECT_EQ(r.error().code(), kNone);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].has_partition());
  PartitionState next = metadata::FromRecord(records[0].partition());
  EXPECT_THAT(next.isr, ElementsAre(1, 3));
  EXPECT_EQ(next.leader, 1);
  EXPECT_EQ(next.leader_epoch, was.leader_epoch);
  EXPECT_EQ(next.partition_epoch, was.partition_epoch + 1);
  EXPECT_THAT(next.replicas, ElementsAre(1, 2, 3));
  EXPECT_EQ(metadata::FromRecord(r.state()), next);  // the reply is the state after the change
  c.Commit(records);
  EXPECT_EQ(c.P("t", 0), next);
}

TEST_F(ControlAlterPartitionTest, ExpandSucceedsAndIsrIsInAssignmentOrder) {
  c.Commit(AlterPartition(c.image, Request(2, {Change(1, {2})})).records);
  ASSERT_THAT(c.P("t", 1).isr, ElementsAre(2));
  std::vector<MetadataRecord> records;
  PartitionIsrResult r = One(Change(1, {1, 2, 3}), 2, &records);
  EXPECT_EQ(r.error().code(), kNone);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_THAT(records[0].partition().isr(), ElementsAre(2, 3, 1));
  EXPECT_EQ(records[0].partition().leader(), 2);
}

TEST_F(ControlAlterPartitionTest, SameIsrIsANoOpWithoutRecords) {
  PartitionState was = c.P("t", 0);
  std::vector<MetadataRecord> records;
  PartitionIsrResult r = One(Change(0, {3, 2, 1}), 1, &records);
  EXPECT_EQ(r.error().code(), kNone);
  EXPECT_THAT(records, IsEmpty());
  EXPECT_EQ(metadata::FromRecord(r.state()), was);
}

TEST_F(ControlAlterPartitionTest, CompareAndSwapOnPartitionEpoch) {
  PartitionIsrChange first = Change(0, {1, 2});
  PartitionIsrChange second = Change(0, {1, 3});  // based on the same partition epoch
  c.Commit(AlterPartition(c.image, Request(1, {first})).records);
  ExpectRejected(second, kInvalidUpdateVersion);
  // A retry of the applied change with the old epoch is rejected too; with the new one it works.
  ExpectRejected(first, kInvalidUpdateVersion);
  PartitionIsrResult ok = One(Change(0, {1, 3}), 1);
  EXPECT_EQ(ok.error().code(), kNone);
}

TEST_F(ControlAlterPartitionTest, OlderLeaderEpochIsFenced) {
  PartitionIsrChange change = Change(0, {1, 2});
  change.set_leader_epoch(change.leader_epoch() - 1);
  ExpectRejected(change, Code(KafkaErrorCode::kFencedLeaderEpoch));
}

TEST_F(ControlAlterPartitionTest, OldLeaderAfterLeadershipMovedIsFenced) {
  PartitionIsrChange stale = Change(0, {1, 2});  // prepared by 1 while it led
  c.Shutdown(1);                                  // leadership moves to 2
  ASSERT_EQ(c.P("t", 0).leader, 2);
  ExpectRejected(stale, Code(KafkaErrorCode::kFencedLeaderEpoch), 1);
}

TEST_F(ControlAlterPartitionTest, NewerLeaderEpochIsUnknown) {
  PartitionIsrChange change = Change(0, {1, 2});
  change.set_leader_epoch(change.leader_epoch() + 1);
  ExpectRejected(change, Code(KafkaErrorCode::kUnknownLeaderEpoch));
}

TEST_F(ControlAlterPartitionTest, SenderThatIsNotTheLeader) {
  ExpectRejected(Change(0, {1, 2}), Code(KafkaErrorCode::kNotLeaderOrFollower), /*sender=*/2);
  ExpectRejected(Change(0, {2, 3}), Code(KafkaErrorCode::kNotLeaderOrFollower), /*sender=*/2);
}

TEST_F(ControlAlterPartitionTest, StalePartitionEpoch) {
  PartitionIsrChange change = Change(0, {1, 2});
  change.set_partition_epoch(change.partition_epoch() - 1);
  ExpectRejected(change, kInvalidUpdateVersion);
  change.set_partition_epoch(change.partition_epoch() + 2);
  ExpectRejected(change, kInvalidUpdateVersion);
}

TEST_F(ControlAlterPartitionTest, AddingAFencedBrokerIsIneligible) {
  c.Commit(AlterPartition(c.image, Request(1, {Change(0, {1, 2})})).records);
  c.Fence(3);
  ExpectRejected(Change(0, {1, 2, 3}), kIneligibleReplica);
}

TEST_F(ControlAlterPartitionTest, AddingAShuttingDownBrokerIsIneligible) {
  c.Shutdown(3);
  ASSERT_THAT(c.P("t", 0).isr, ElementsAre(1, 2));
  ExpectRejected(Change(0, {1, 2, 3}), kIneligibleReplica);
}

TEST_F(ControlAlterPartitionTest, InvalidIsrShapes) {
  int32_t invalid = Code(KafkaErrorCode::kInvalidRequest);
  ExpectRejected(Change(0, {}), invalid);
  ExpectRejected(Change(0, {1, 2, 2}), invalid);
  ExpectRejected(Change(0, {2, 3}), invalid);  // without the leader
  ExpectRejected(Change(0, {1, 4}), invalid);  // 4 is registered and alive but not a replica
  ExpectRejected(Change(0, {1, 9}), invalid);  // 9 is not even registered
}

TEST_F(ControlAlterPartitionTest, UnknownPartition) {
  for (auto [topic, p] : std::vector<std::pair<std::string, int32_t>>{{"nope", 0}, {"t", 2}, {"t", -1}}) {
    PartitionIsrChange change;
    change.set_topic(topic);
    change.set_partition(p);
    change.add_new_isr(1);
    auto result = AlterPartition(c.image, Request(1, {change}));
    ASSERT_EQ(result.reply.results_size(), 1);
    EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kUnknownTopicOrPartition));
    EXPECT_EQ(result.reply.results(0).topic(), topic);
    EXPECT_EQ(result.reply.results(0).partition(), p);
    EXPECT_FALSE(result.reply.results(0).has_state());
    EXPECT_THAT(result.records, IsEmpty());
  }
}

TEST_F(ControlAlterPartitionTest, StaleOrUnknownSenderIsRejectedAsAWhole) {
  AlterPartitionRequest r = Request(1, {Change(0, {1, 2})});
  r.set_broker_epoch(r.broker_epoch() - 1);
  auto stale = AlterPartition(c.image, r);
  EXPECT_EQ(stale.reply.error().code(), kStaleBrokerEpoch);
  EXPECT_EQ(stale.reply.results_size(), 0);
  EXPECT_THAT(stale.records, IsEmpty());

  // An old incarnation of the leader after a restart.
  AlterPartitionRequest old = Request(1, {Change(0, {1, 2})});
  c.Register(1);
  EXPECT_EQ(AlterPartition(c.image, old).reply.error().code(), kStaleBrokerEpoch);

  r.set_broker_id(42);
  EXPECT_EQ(AlterPartition(c.image, r).reply.error().code(), kStaleBrokerEpoch);
}

TEST_F(ControlAlterPartitionTest, SeveralPartitionsInOneRequest) {
  c.CreateManual("u", {{1, 2}});
  PartitionIsrChange good = Change(0, {1, 2});
  PartitionIsrChange bad = Change(1, {1, 2, 3});  // 1 does not lead t-1
  PartitionIsrChange dup = Change(0, {1, 3});
  PartitionIsrChange other;
  other.set_topic("u");
  other.set_partition(0);
  other.set_leader_epoch(c.P("u", 0).leader_epoch);
  other.set_partition_epoch(c.P("u", 0).partition_epoch);
  other.add_new_isr(1);
  auto result = AlterPartition(c.image, Request(1, {good, bad, other, dup}));
  ASSERT_EQ(result.reply.results_size(), 4);
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kNotLeaderOrFollower));
  EXPECT_EQ(result.reply.results(2).error().code(), kNone);
  EXPECT_EQ(result.reply.results(3).error().code(), Code(KafkaErrorCode::kInvalidRequest));
  auto changes = PartitionRecords(result.records);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].topic(), "t");
  EXPECT_THAT(changes[0].isr(), ElementsAre(1, 2));
  EXPECT_EQ(changes[1].topic(), "u");
  EXPECT_THAT(changes[1].isr(), ElementsAre(1));
  c.Commit(result.records);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(1, 2));
  EXPECT_THAT(c.P("t", 1).isr, ElementsAre(2, 3, 1));
}

// A shutting-down sole leader must be able to add a caught-up follower (only joiners must be
// usable), or its controlled shutdown could never hand the partition over.
TEST_F(ControlAlterPartitionTest, ShuttingDownSoleLeaderCanAddACaughtUpFollower) {
  c.Commit(AlterPartition(c.image, Request(1, {Change(0, {1})})).records);
  ASSERT_THAT(c.P("t", 0).isr, ElementsAre(1));
  c.Shutdown(1);
  ASSERT_EQ(c.P("t", 0).leader, 1);  // kept: no other in-sync replica
  // Follower 2 has caught up: the leader asks to add it so leadership can move.
  std::vector<MetadataRecord> records;
  PartitionIsrResult r = One(Change(0, {1, 2}), 1, &records);
  EXPECT_EQ(r.error().code(), kNone) << r.error().message();
  ASSERT_EQ(records.size(), 1u);
  c.Commit(records);
  // Then the retried controlled shutdown can move the leadership.
  auto result = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  EXPECT_EQ(result.reply.remaining_leaderships(), 0);
}

// =================================================================================================
// PreferredLeaderElection
// =================================================================================================

TEST(ControlPreferredLeaderTest, BalancedClusterNeedsNothing) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 6, 3);
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings), IsEmpty());
}

TEST(ControlPreferredLeaderTest, MovesBackOnlyAboveTheThreshold) {
  Cluster c;
  c.AddBrokers({1, 2});
  // Broker 1 is preferred leader of 10 partitions.
  c.CreateManual("t", std::vector<std::vector<int32_t>>(10, {1, 2}));
  ASSERT_EQ(c.settings.leader_imbalance_per_broker_percentage, 10);
  c.SetPartition("t", 3, {1, 2}, 2);
  // 1 of 10 (10%) is not above 10%.
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings), IsEmpty());

  c.SetPartition("t", 7, {1, 2}, 2);
  // 2 of 10 (20%) is: both move back.
  PartitionState was3 = c.P("t", 3);
  auto records = PreferredLeaderElection(c.image, c.settings);
  auto changes = PartitionRecords(records);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].partition(), 3);
  EXPECT_EQ(changes[1].partition(), 7);
  c.Commit(records);
  EXPECT_EQ(c.P("t", 3).leader, 1);
  EXPECT_EQ(c.P("t", 7).leader, 1);
  EXPECT_EQ(c.P("t", 3).leader_epoch, was3.leader_epoch + 1);
  EXPECT_EQ(c.P("t", 3).partition_epoch, was3.partition_epoch + 1);
  EXPECT_EQ(c.P("t", 3).isr, was3.isr);
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings), IsEmpty());
}

TEST(ControlPreferredLeaderTest, ThresholdIsASetting) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", std::vector<std::vector<int32_t>>(4, {1, 2}));
  c.SetPartition("t", 0, {1, 2}, 2);  // 25%
  c.settings.leader_imbalance_per_broker_percentage = 25;
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings), IsEmpty());
  c.settings.leader_imbalance_per_broker_percentage = 24;
  EXPECT_EQ(PreferredLeaderElection(c.image, c.settings).size(), 1u);
}

TEST(ControlPreferredLeaderTest, OnlyToPreferredReplicasThatAreInSyncAndUsable) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4});
  c.CreateManual("t", {{1, 2}, {1, 2}, {3, 2}, {3, 2}, {4, 2}, {4, 2}});
  c.Shutdown(3);
  c.SetPartition("t", 0, {2}, 2);     // 1 not in sync
  c.SetPartition("t", 1, {2}, 2);
  c.SetPartition("t", 2, {3, 2}, 2);  // 3 in sync (on paper) but shutting down
  c.SetPartition("t", 3, {3, 2}, 2);
  c.SetPartition("t", 4, {4, 2}, 2);  // 4 in sync and usable: moves
  c.SetPartition("t", 5, {4, 2}, 2);
  auto changes = PartitionRecords(PreferredLeaderElection(c.image, c.settings));
  ASSERT_EQ(changes.size(), 2u);
  for (const auto& p : changes) {
    EXPECT_TRUE(p.partition() == 4 || p.partition() == 5);
    EXPECT_EQ(p.leader(), 4);
  }
}

TEST(ControlPreferredLeaderTest, RestartedBrokerGetsItsLeadershipsBackOnceInSync) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 6, 3);
  c.Fence(1);
  c.Unfence(1);  // back, but out of every ISR
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings), IsEmpty());
  // The leaders add 1 back to their ISRs.
  for (int32_t p = 0; p < 6; ++p) {
    const PartitionState& s = c.P("t", p);
    PartitionIsrChange ch;
    ch.set_topic("t");
    ch.set_partition(p);
    ch.set_leader_epoch(s.leader_epoch);
    ch.set_partition_epoch(s.partition_epoch);
    for (int32_t r : s.replicas) ch.add_new_isr(r);
    AlterPartitionRequest r;
    r.set_broker_id(s.leader);
    r.set_broker_epoch(c.Epoch(s.leader));
    *r.add_changes() = ch;
    auto result = AlterPartition(c.image, r);
    ASSERT_EQ(result.reply.results(0).error().code(), kNone);
    c.Commit(result.records);
  }
  auto changes = PartitionRecords(PreferredLeaderElection(c.image, c.settings));
  EXPECT_EQ(changes.size(), 2u);  // 1 is preferred leader of 2 of the 6
  for (const auto& p : changes) EXPECT_EQ(p.leader(), 1);
  // Not while the controller says 1 may not lead yet (it came back too recently).
  EXPECT_THAT(PreferredLeaderElection(c.image, c.settings, [](int32_t b) { return b != 1; }),
              IsEmpty());
  EXPECT_EQ(PreferredLeaderElection(c.image, c.settings, [](int32_t) { return true; }).size(), 2u);
}

// =================================================================================================
// ElectOfflineLeaders
// =================================================================================================

TEST(ControlElectOfflineTest, ElectsWhereAnInSyncReplicaIsUsable) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}});
  c.SetPartition("t", 1, {1}, 1);
  c.Fence(1);  // t-1 offline with ISR [1]; t-0 and t-2 led by 2
  ASSERT_EQ(c.P("t", 1).leader, kNoLeader);
  c.SetPartition("t", 0, {2, 3}, kNoLeader);  // offline although 2 and 3 are in sync and usable
  PartitionState was0 = c.P("t", 0);
  auto records = ElectOfflineLeaders(c.image, c.settings);
  auto changes = PartitionRecords(records);
  ASSERT_EQ(changes.size(), 1u);  // not t-1 (no usable ISR member), not t-2 (online)
  EXPECT_EQ(changes[0].partition(), 0);
  EXPECT_EQ(changes[0].leader(), 2);
  EXPECT_THAT(changes[0].isr(), ElementsAre(2, 3));
  EXPECT_EQ(changes[0].leader_epoch(), was0.leader_epoch + 1);
  EXPECT_EQ(changes[0].partition_epoch(), was0.partition_epoch + 1);
}

TEST(ControlElectOfflineTest, UncleanOnlyWhereAllowed) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("clean", {{1, 2, 3}});
  c.CreateManual("dirty", {{1, 3, 2}});
  c.SetPartition("clean", 0, {1}, 1);
  c.SetPartition("dirty", 0, {1}, 1);
  c.Fence(1);
  ASSERT_EQ(c.P("clean", 0).leader, kNoLeader);
  ASSERT_EQ(c.P("dirty", 0).leader, kNoLeader);
  EXPECT_THAT(ElectOfflineLeaders(c.image, c.settings), IsEmpty());

  c.SetConfig("dirty", "unclean.leader.election.enable", "true");
  auto changes = PartitionRecords(ElectOfflineLeaders(c.image, c.settings));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].topic(), "dirty");
  EXPECT_EQ(changes[0].leader(), 3);  // first usable replica in assignment order
  EXPECT_THAT(changes[0].isr(), ElementsAre(3));

  // The cluster-wide default applies to topics without the config.
  c.settings.unclean_leader_election = true;
  auto both = PartitionRecords(ElectOfflineLeaders(c.image, c.settings));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].topic(), "clean");
  EXPECT_EQ(both[0].leader(), 2);
  EXPECT_THAT(both[0].isr(), ElementsAre(2));
}

TEST(ControlElectOfflineTest, NothingWhenNoBrokerCanLead) {
  Cluster c;
  c.settings.unclean_leader_election = true;
  c.AddBrokers({1});
  c.CreateTopic("t", 2, 1);
  c.Fence(1);
  EXPECT_THAT(ElectOfflineLeaders(c.image, c.settings), IsEmpty());
}

TEST(ControlMakeErrorTest, CarriesCodeAndMessage) {
  Error e = MakeError(KafkaErrorCode::kInvalidUpdateVersion, "stale");
  EXPECT_EQ(e.code(), 95);
  EXPECT_EQ(e.message(), "stale");
}

}  // namespace
}  // namespace gregor::controller

namespace gregor::controller {
namespace {

using namespace ::gregor::controller::control_testing;  // NOLINT: the shared helpers

ElectLeadersRequest Elect(int32_t type, std::vector<std::pair<std::string, int32_t>> partitions) {
  ElectLeadersRequest r;
  r.set_election_type(type);
  if (partitions.empty()) r.set_all(true);
  for (const auto& [t, p] : partitions) {
    auto* ref = r.add_partitions();
    ref->set_topic(t);
    ref->set_partition(p);
  }
  return r;
}

int32_t ResultCode(const ControllerResult<ElectLeadersResponse>& r, size_t i) {
  return r.reply.results(static_cast<int>(i)).error().code();
}

TEST(ControlElectLeadersTest, PreferredElection) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {2, 3, 1}});
  // Nothing to do while the preferred replicas lead; unknown partitions are said so.
  auto none = ElectLeaders(c.image, Elect(0, {{"t", 0}, {"t", 1}, {"t", 7}, {"u", 0}}));
  ASSERT_EQ(none.reply.results_size(), 4);
  EXPECT_EQ(ResultCode(none, 0), Code(KafkaErrorCode::kElectionNotNeeded));
  EXPECT_EQ(ResultCode(none, 2), Code(KafkaErrorCode::kUnknownTopicOrPartition));
  EXPECT_EQ(ResultCode(none, 3), Code(KafkaErrorCode::kUnknownTopicOrPartition));
  EXPECT_TRUE(none.records.empty());
  // Broker 1 fenced: t-0 moves to 2; while 1 is away its preferred election is impossible.
  c.Fence(1);
  ASSERT_EQ(c.image.FindPartition("t", 0)->leader, 2);
  auto away = ElectLeaders(c.image, Elect(0, {{"t", 0}}));
  EXPECT_EQ(ResultCode(away, 0), Code(KafkaErrorCode::kPreferredLeaderNotAvailable));
  // Back and in the ISR: the election moves t-0 to 1 with a new leader epoch.
  c.Unfence(1);
  MetadataRecord rejoin;
  PartitionState s = *c.image.FindPartition("t", 0);
  s.isr = {1, 2, 3};
  s.partition_epoch++;
  c.Commit({metadata::MakePartitionRecord("t", 0, s)});
  const int32_t epoch = c.image.FindPartition("t", 0)->leader_epoch;
  auto moved = ElectLeaders(c.image, Elect(0, {}));  // all partitions: only the one elected
  ASSERT_EQ(moved.reply.results_size(), 1);
  EXPECT_EQ(moved.reply.results(0).partition(), 0);
  EXPECT_EQ(ResultCode(moved, 0), 0);
  c.Commit(moved.records);
  EXPECT_EQ(c.image.FindPartition("t", 0)->leader, 1);
  EXPECT_EQ(c.image.FindPartition("t", 0)->leader_epoch, epoch + 1);
}

TEST(ControlElectLeadersTest, UncleanElection) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1, 2}});
  EXPECT_EQ(ResultCode(ElectLeaders(c.image, Elect(1, {{"t", 0}})), 0),
            Code(KafkaErrorCode::kElectionNotNeeded));
  // The ISR shrinks to {1}, then 1 is fenced: no leader (unclean election is off for the topic).
  PartitionState s = *c.image.FindPartition("t", 0);
  s.isr = {1};
  s.partition_epoch++;
  c.Commit({metadata::MakePartitionRecord("t", 0, s)});
  c.Fence(1);
  ASSERT_EQ(c.image.FindPartition("t", 0)->leader, kNoLeader);
  // An explicit unclean election elects the live out-of-sync replica anyway.
  auto elected = ElectLeaders(c.image, Elect(1, {{"t", 0}}));
  EXPECT_EQ(ResultCode(elected, 0), 0);
  c.Commit(elected.records);
  EXPECT_EQ(c.image.FindPartition("t", 0)->leader, 2);
  EXPECT_EQ(c.image.FindPartition("t", 0)->isr, std::vector<int32_t>{2});
  // Nobody live: ELIGIBLE_LEADERS_NOT_AVAILABLE.
  c.Fence(2);
  EXPECT_EQ(ResultCode(ElectLeaders(c.image, Elect(1, {{"t", 0}})), 0),
            Code(KafkaErrorCode::kEligibleLeadersNotAvailable));
  EXPECT_EQ(ElectLeaders(c.image, Elect(5, {{"t", 0}})).reply.error().code(),
            Code(KafkaErrorCode::kInvalidRequest));
}

}  // namespace
}  // namespace gregor::controller
