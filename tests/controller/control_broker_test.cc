// The controller's decisions about brokers: registration, heartbeats, fencing, controlled shutdown.
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
#include "controller/producer_id_blocks.h"

namespace gregor::controller {
namespace {

using namespace ::gregor::controller::control_testing;  // NOLINT: the shared helpers

// =================================================================================================
// RegisterBroker
// =================================================================================================

TEST(ControlRegisterBrokerTest, ValidationErrors) {
  Cluster c;
  auto expect_invalid = [&](RegisterBrokerRequest r) {
    auto result = RegisterBroker(c.image, r, c.settings);
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidRequest)) << r.DebugString();
    EXPECT_FALSE(result.reply.error().message().empty());
    EXPECT_THAT(result.records, IsEmpty());
  };
  RegisterBrokerRequest r = Cluster::RegisterRequest(1);
  r.set_broker_id(-1);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.clear_kafka_host();
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.set_kafka_port(0);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.set_kafka_port(65536);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.set_kafka_port(-5);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.clear_replication_host();
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.set_replication_port(0);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.set_replication_port(70000);
  expect_invalid(r);
  r = Cluster::RegisterRequest(1);
  r.clear_incarnation_id();
  expect_invalid(r);
  EXPECT_TRUE(c.image.brokers().empty());
}

TEST(ControlRegisterBrokerTest, BoundaryPortsAndBrokerIdZeroAreValid) {
  Cluster c;
  RegisterBrokerRequest r = Cluster::RegisterRequest(0);
  r.set_kafka_port(65535);
  r.set_replication_port(1);
  auto result = RegisterBroker(c.image, r, c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_EQ(result.records.size(), 1u);
}

TEST(ControlRegisterBrokerTest, NewRegistrationRecord) {
  Cluster c;
  c.Commit({});  // offset 1 used by something else
  RegisterBrokerRequest r = Cluster::RegisterRequest(3, "incarnation-x");
  r.set_rack("rack-1");
  auto result = RegisterBroker(c.image, r, c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  ASSERT_EQ(result.records.size(), 1u);
  ASSERT_TRUE(result.records[0].has_register_broker());
  const metadata::RegisterBrokerRecord& rec = result.records[0].register_broker();
  EXPECT_EQ(rec.broker_id(), 3);
  EXPECT_EQ(rec.incarnation_id(), "incarnation-x");
  EXPECT_EQ(rec.kafka_host(), "127.0.0.1");
  EXPECT_EQ(rec.kafka_port(), 9095);
  EXPECT_EQ(rec.replication_host(), "127.0.0.1");
  EXPECT_EQ(rec.replication_port(), 19095);
  EXPECT_EQ(rec.rack(), "rack-1");

  int64_t offset = c.Commit(result.records);
  EXPECT_EQ(offset, 2);
  const BrokerRegistration* b = c.image.FindBroker(3);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->epoch, offset);  // broker epoch = offset of the register record
  EXPECT_TRUE(b->fenced);
  EXPECT_EQ(b->rack, "rack-1");
}

TEST(ControlRegisterBrokerTest, ReRegistrationOfALiveBrokerFencesTheOldIncarnationFirst) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 6, 3);
  int64_t old_epoch = c.Epoch(1);
  MetadataImage before = c.image;

  auto result = RegisterBroker(c.image, Cluster::RegisterRequest(1, "second-life"), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  ASSERT_GE(result.records.size(), 2u);
  // Partition changes, then the fence of the old epoch, then the new registration.
  EXPECT_TRUE(result.records.back().has_register_broker());
  const MetadataRecord& fence = result.records[result.records.size() - 2];
  ASSERT_TRUE(fence.has_fence_broker());
  EXPECT_EQ(fence.fence_broker().broker_id(), 1);
  EXPECT_EQ(fence.fence_broker().broker_epoch(), old_epoch);
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kPartition), 6);  // 1 is in every ISR

  int64_t offset = c.Commit(result.records);
  const BrokerRegistration* b = c.image.FindBroker(1);
  EXPECT_EQ(b->epoch, offset);
  EXPECT_NE(b->epoch, old_epoch);
  EXPECT_EQ(b->incarnation_id, "second-life");
  EXPECT_TRUE(b->fenced);
  for (int32_t p = 0; p < 6; ++p) {
    const PartitionState& now = c.P("t", p);
    const PartitionState& was = *before.FindPartition("t", p);
    EXPECT_FALSE(now.InIsr(1)) << p;
    EXPECT_NE(now.leader, 1) << p;
    EXPECT_NE(now.leader, kNoLeader) << p;
    EXPECT_EQ(now.partition_epoch, was.partition_epoch + 1);
    EXPECT_EQ(now.leader_epoch, was.leader_epoch + (was.leader == 1 ? 1 : 0)) << p;
  }
}

TEST(ControlRegisterBrokerTest, ReRegistrationOfAFencedBrokerIsJustARegistration) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateTopic("t", 2, 2);
  c.Fence(1);
  MetadataImage before = c.image;
  auto result = RegisterBroker(c.image, Cluster::RegisterRequest(1, "again"), c.settings);
  ASSERT_EQ(result.records.size(), 1u);
  EXPECT_TRUE(result.records[0].has_register_broker());
  int64_t offset = c.Commit(result.records);
  EXPECT_EQ(c.Epoch(1), offset);
  for (int32_t p = 0; p < 2; ++p) EXPECT_EQ(c.P("t", p), *before.FindPartition("t", p));
}

TEST(ControlRegisterBrokerTest, ReRegistrationOfAShuttingDownBrokerFencesIt) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1}});  // 1 is the sole replica: its leadership cannot move
  c.Shutdown(1);
  ASSERT_EQ(c.P("t", 0).leader, 1);
  auto result = RegisterBroker(c.image, Cluster::RegisterRequest(1, "again"), c.settings);
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kFenceBroker), 1);
  c.Commit(result.records);
  EXPECT_EQ(c.P("t", 0).leader, kNoLeader);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(1));
  EXPECT_FALSE(c.image.FindBroker(1)->shutting_down);
}

// =================================================================================================
// BrokerHeartbeat
// =================================================================================================

TEST(ControlHeartbeatTest, UnknownBroker) {
  Cluster c;
  BrokerHeartbeatRequest r;
  r.set_broker_id(5);
  r.set_broker_epoch(1);
  auto result = BrokerHeartbeat(c.image, r, c.settings);
  EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kBrokerIdNotRegistered));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlHeartbeatTest, StaleEpochIsRejected) {
  Cluster c;
  int64_t old_epoch = c.AddBroker(1);
  c.Register(1);  // new incarnation
  BrokerHeartbeatRequest r = c.Heartbeat(1);
  r.set_broker_epoch(old_epoch);
  auto result = BrokerHeartbeat(c.image, r, c.settings);
  EXPECT_EQ(result.reply.error().code(), kStaleBrokerEpoch);
  EXPECT_THAT(result.reply.error().message(), HasSubstr(absl::StrCat(c.Epoch(1))));
  EXPECT_THAT(result.records, IsEmpty());
  // A future epoch is just as wrong.
  r.set_broker_epoch(c.Epoch(1) + 1);
  EXPECT_EQ(BrokerHeartbeat(c.image, r, c.settings).reply.error().code(), kStaleBrokerEpoch);
}

TEST(ControlHeartbeatTest, UnfencesOnlyOnceCaughtUpToItsRegistration) {
  Cluster c;
  c.Commit({});
  c.Commit({});
  int64_t epoch = c.Register(1);
  ASSERT_EQ(epoch, 3);
  BrokerHeartbeatRequest r = c.Heartbeat(1);
  r.set_metadata_offset(epoch - 1);
  auto early = BrokerHeartbeat(c.image, r, c.settings);
  EXPECT_EQ(early.reply.error().code(), kNone);
  EXPECT_TRUE(early.reply.fenced());
  EXPECT_THAT(early.records, IsEmpty());

  r.set_metadata_offset(epoch);
  auto caught_up = BrokerHeartbeat(c.image, r, c.settings);
  EXPECT_EQ(caught_up.reply.error().code(), kNone);
  EXPECT_FALSE(caught_up.reply.fenced());
  EXPECT_FALSE(caught_up.reply.shutting_down());
  ASSERT_EQ(caught_up.records.size(), 1u);
  ASSERT_TRUE(caught_up.records[0].has_unfence_broker());
  EXPECT_EQ(caught_up.records[0].unfence_broker().broker_id(), 1);
  EXPECT_EQ(caught_up.records[0].unfence_broker().broker_epoch(), epoch);
  c.Commit(caught_up.records);
  EXPECT_TRUE(c.image.FindBroker(1)->usable());
  EXPECT_EQ(c.Epoch(1), epoch);  // unfencing keeps the epoch

  // Further heartbeats change nothing.
  r.set_metadata_offset(c.image.offset());
  auto again = BrokerHeartbeat(c.image, r, c.settings);
  EXPECT_FALSE(again.reply.fenced());
  EXPECT_THAT(again.records, IsEmpty());
}

TEST(ControlHeartbeatTest, WantFenceFencesALiveBroker) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1, 2}, {2, 1}});
  auto result = BrokerHeartbeat(c.image, c.Heartbeat(1, /*want_fence=*/true), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_TRUE(result.reply.fenced());
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kFenceBroker), 1);
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kPartition), 2);
  c.Commit(result.records);
  EXPECT_TRUE(c.image.FindBroker(1)->fenced);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_THAT(c.P("t", 1).isr, ElementsAre(2));

  // Asking again, or asking while caught up, keeps it fenced without records.
  auto again = BrokerHeartbeat(c.image, c.Heartbeat(1, /*want_fence=*/true), c.settings);
  EXPECT_TRUE(again.reply.fenced());
  EXPECT_THAT(again.records, IsEmpty());
}

TEST(ControlHeartbeatTest, UnfencingElectsOfflinePartitionsWhoseLastIsrMemberItIs) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {3, 2, 1}});
  c.Fence(1);
  c.Fence(3);
  c.Fence(2);  // 2 was the last ISR member of both partitions
  ASSERT_EQ(c.P("t", 0).leader, kNoLeader);
  ASSERT_THAT(c.P("t", 0).isr, ElementsAre(2));
  ASSERT_THAT(c.P("t", 1).isr, ElementsAre(2));
  int32_t le0 = c.P("t", 0).leader_epoch;
  int32_t pe0 = c.P("t", 0).partition_epoch;

  // 1 coming back is not enough: it is not in sync (unclean election is off).
  auto one = BrokerHeartbeat(c.image, c.Heartbeat(1), c.settings);
  ASSERT_EQ(one.records.size(), 1u);
  EXPECT_TRUE(one.records[0].has_unfence_broker());
  c.Commit(one.records);
  EXPECT_EQ(c.P("t", 0).leader, kNoLeader);

  auto two = BrokerHeartbeat(c.image, c.Heartbeat(2), c.settings);
  EXPECT_FALSE(two.reply.fenced());
  ASSERT_FALSE(two.records.empty());
  EXPECT_TRUE(two.records[0].has_unfence_broker());  // the unfence comes first
  EXPECT_EQ(CountCase(two.records, MetadataRecord::kPartition), 2);
  c.Commit(two.records);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_EQ(c.P("t", 1).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("t", 0).leader_epoch, le0 + 1);
  EXPECT_EQ(c.P("t", 0).partition_epoch, pe0 + 1);
}

TEST(ControlHeartbeatTest, UnfencingWithUncleanTopicElectsAnOutOfSyncReplica) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1, 2}});
  c.CreateManual("safe", {{1, 2}});
  c.Fence(2);
  c.Fence(1);  // both offline with ISR [1]
  c.SetConfig("t", "unclean.leader.election.enable", "true");
  auto result = BrokerHeartbeat(c.image, c.Heartbeat(2), c.settings);
  c.Commit(result.records);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("safe", 0).leader, kNoLeader);
  EXPECT_THAT(c.P("safe", 0).isr, ElementsAre(1));
}

TEST(ControlHeartbeatTest, ReportsShuttingDown) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.Shutdown(1);
  auto result = BrokerHeartbeat(c.image, c.Heartbeat(1), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_FALSE(result.reply.fenced());
  EXPECT_TRUE(result.reply.shutting_down());
  EXPECT_THAT(result.records, IsEmpty());
  // The final want_fence of a stopping broker fences it.
  auto stop = BrokerHeartbeat(c.image, c.Heartbeat(1, /*want_fence=*/true), c.settings);
  EXPECT_TRUE(stop.reply.fenced());
  EXPECT_FALSE(stop.reply.shutting_down());
  EXPECT_EQ(CountCase(stop.records, MetadataRecord::kFenceBroker), 1);
}

// =================================================================================================
// FenceBroker
// =================================================================================================

TEST(ControlFenceBrokerTest, UnknownOrAlreadyFencedBrokerGivesNothing) {
  Cluster c;
  c.AddBrokers({1});
  EXPECT_THAT(FenceBroker(c.image, 9, c.settings), IsEmpty());
  c.Register(2);  // registered, still fenced
  EXPECT_THAT(FenceBroker(c.image, 2, c.settings), IsEmpty());
  c.Fence(1);
  EXPECT_THAT(FenceBroker(c.image, 1, c.settings), IsEmpty());
}

TEST(ControlFenceDeadBrokerTest, FencesOnlyTheRegistrationThatWasProbed) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 3, 3);
  const int64_t probed = c.Epoch(1);
  // The registration the probe found gone: the same records as a session expiry.
  EXPECT_EQ(FenceDeadBroker(c.image, 1, probed, c.settings).size(),
            FenceBroker(c.image, 1, c.settings).size());
  EXPECT_THAT(FenceDeadBroker(c.image, 1, probed + 1, c.settings), IsEmpty());
  EXPECT_THAT(FenceDeadBroker(c.image, 9, probed, c.settings), IsEmpty());
  // A new process registered meanwhile (and is alive): the verdict on the old one is void.
  c.Fence(1);
  c.Register(1);
  c.Unfence(1);
  EXPECT_NE(c.Epoch(1), probed);
  EXPECT_THAT(FenceDeadBroker(c.image, 1, probed, c.settings), IsEmpty());
}

TEST(ControlFenceBrokerTest, BrokerWithoutReplicasOnlyGetsTheFenceRecord) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1}});
  auto records = FenceBroker(c.image, 2, c.settings);
  ASSERT_EQ(records.size(), 1u);
  ASSERT_TRUE(records[0].has_fence_broker());
  EXPECT_EQ(records[0].fence_broker().broker_id(), 2);
  EXPECT_EQ(records[0].fence_broker().broker_epoch(), c.Epoch(2));
}

TEST(ControlFenceBrokerTest, RemovesFromEveryIsrAndMovesLeadershipsInAssignmentOrder) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4});
  // Leader 1 in each; the next in-sync replica in assignment order differs.
  c.CreateManual("t", {{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {3, 4, 2}, {1, 4, 3}});
  c.SetPartition("t", 4, {1, 3}, 1);  // 4 not in sync: must be skipped
  c.CreateManual("other", {{2, 3}});
  MetadataImage before = c.image;

  auto records = FenceBroker(c.image, 1, c.settings);
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.back().has_fence_broker());  // after the partition changes
  EXPECT_EQ(records.back().fence_broker().broker_epoch(), c.Epoch(1));
  auto changes = PartitionRecords(records);
  EXPECT_EQ(changes.size(), 4u);  // t-0, t-1, t-2, t-4; t-3 and other-0 do not involve 1
  for (const auto& p : changes) EXPECT_EQ(p.topic(), "t");
  c.Commit(records);

  EXPECT_TRUE(c.image.FindBroker(1)->fenced);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2, 3));
  EXPECT_EQ(c.P("t", 1).leader, 3);
  EXPECT_THAT(c.P("t", 1).isr, ElementsAre(3, 2));
  EXPECT_EQ(c.P("t", 2).leader, 2);  // not its leadership: kept
  EXPECT_THAT(c.P("t", 2).isr, ElementsAre(2, 3));
  EXPECT_EQ(c.P("t", 4).leader, 3);  // 4 is live but not in sync
  EXPECT_THAT(c.P("t", 4).isr, ElementsAre(3));
  for (auto [topic, p] : AllPartitions(c.image)) EXPECT_FALSE(c.P(topic, p).InIsr(1));

  const PartitionState& was0 = *before.FindPartition("t", 0);
  EXPECT_EQ(c.P("t", 0).leader_epoch, was0.leader_epoch + 1);
  EXPECT_EQ(c.P("t", 0).partition_epoch, was0.partition_epoch + 1);
  const PartitionState& was2 = *before.FindPartition("t", 2);
  EXPECT_EQ(c.P("t", 2).leader_epoch, was2.leader_epoch);  // only the ISR changed
  EXPECT_EQ(c.P("t", 2).partition_epoch, was2.partition_epoch + 1);
  EXPECT_EQ(c.P("t", 3), *before.FindPartition("t", 3));
  EXPECT_EQ(c.P("other", 0), *before.FindPartition("other", 0));
}

TEST(ControlFenceBrokerTest, SkipsNonUsableIsrMembersWhenElecting) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}});
  c.Shutdown(2);  // registered, not fenced, but not usable
  c.SetPartition("t", 0, {1, 2, 3}, 1);  // pretend 2 is still in sync
  c.Fence(1);
  EXPECT_EQ(c.P("t", 0).leader, 3);
}

TEST(ControlFenceBrokerTest, SoleIsrMemberGoesOfflineKeepingTheIsr) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}});
  c.SetPartition("t", 0, {1}, 1);
  PartitionState was = c.P("t", 0);
  c.Fence(1);
  const PartitionState& now = c.P("t", 0);
  EXPECT_EQ(now.leader, kNoLeader);
  EXPECT_THAT(now.isr, ElementsAre(1));
  EXPECT_EQ(now.leader_epoch, was.leader_epoch + 1);
  EXPECT_EQ(now.partition_epoch, was.partition_epoch + 1);
}

TEST(ControlFenceBrokerTest, UncleanTopicPicksAnyLiveReplica) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}});
  c.SetConfig("t", "unclean.leader.election.enable", "true");
  c.SetPartition("t", 0, {1}, 1);
  c.Shutdown(2);  // not usable: skipped by the unclean election too
  c.Fence(1);
  EXPECT_EQ(c.P("t", 0).leader, 3);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(3));
}

TEST(ControlFenceBrokerTest, ClusterDefaultUncleanAndTopicOverride) {
  Cluster c;
  c.settings.unclean_leader_election = true;
  c.AddBrokers({1, 2});
  c.CreateManual("default", {{1, 2}});
  c.CreateManual("strict", {{1, 2}});
  c.SetConfig("strict", "unclean.leader.election.enable", "false");
  c.SetPartition("default", 0, {1}, 1);
  c.SetPartition("strict", 0, {1}, 1);
  c.Fence(1);
  EXPECT_EQ(c.P("default", 0).leader, 2);
  EXPECT_THAT(c.P("default", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("strict", 0).leader, kNoLeader);
  EXPECT_THAT(c.P("strict", 0).isr, ElementsAre(1));
}

TEST(ControlFenceBrokerTest, FencingEveryBrokerLeavesEveryIsrNonEmpty) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 9, 2);
  for (int32_t b : {2, 3, 1}) c.Fence(b);
  for (auto [topic, p] : AllPartitions(c.image)) {
    EXPECT_EQ(c.P(topic, p).leader, kNoLeader);
    EXPECT_EQ(c.P(topic, p).isr.size(), 1u);
  }
  // Everyone returns: every partition gets its last in-sync replica back as leader.
  for (int32_t b : {1, 2, 3}) c.Unfence(b);
  for (auto [topic, p] : AllPartitions(c.image)) {
    EXPECT_EQ(c.P(topic, p).leader, c.P(topic, p).isr[0]);
  }
}

// =================================================================================================
// ControlledShutdown
// =================================================================================================


TEST(ControlShutdownTest, UnknownAndStaleEpoch) {
  Cluster c;
  c.AddBroker(1);
  auto unknown = ControlledShutdown(c.image, ShutdownRequest(7, 1), c.settings);
  EXPECT_EQ(unknown.reply.error().code(), Code(KafkaErrorCode::kBrokerIdNotRegistered));
  EXPECT_THAT(unknown.records, IsEmpty());
  auto stale = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1) - 1), c.settings);
  EXPECT_EQ(stale.reply.error().code(), kStaleBrokerEpoch);
  EXPECT_THAT(stale.records, IsEmpty());
}

TEST(ControlShutdownTest, FencedBrokerHasNothingToMove) {
  Cluster c;
  c.Register(1);
  auto result = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(result.reply.remaining_leaderships(), 0);
}

TEST(ControlShutdownTest, MovesLeadershipsAndLeavesIsrs) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {2, 1, 3}, {1, 3, 2}});
  c.SetPartition("t", 2, {1, 3}, 1);
  c.CreateManual("u", {{2, 3}});
  MetadataImage before = c.image;
  auto result = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_EQ(result.reply.remaining_leaderships(), 0);
  ASSERT_FALSE(result.records.empty());
  ASSERT_TRUE(result.records[0].has_broker_shutting_down());
  EXPECT_EQ(result.records[0].broker_shutting_down().broker_id(), 1);
  EXPECT_EQ(result.records[0].broker_shutting_down().broker_epoch(), c.Epoch(1));
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kPartition), 3);
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kFenceBroker), 0);
  c.Commit(result.records);

  const BrokerRegistration* b = c.image.FindBroker(1);
  EXPECT_TRUE(b->shutting_down);
  EXPECT_FALSE(b->fenced);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2, 3));
  EXPECT_EQ(c.P("t", 0).leader_epoch, before.FindPartition("t", 0)->leader_epoch + 1);
  EXPECT_EQ(c.P("t", 1).leader, 2);
  EXPECT_THAT(c.P("t", 1).isr, ElementsAre(2, 3));
  EXPECT_EQ(c.P("t", 1).leader_epoch, before.FindPartition("t", 1)->leader_epoch);
  EXPECT_EQ(c.P("t", 2).leader, 3);
  EXPECT_THAT(c.P("t", 2).isr, ElementsAre(3));
  EXPECT_EQ(c.P("u", 0), *before.FindPartition("u", 0));
  EXPECT_THAT(c.image.UsableBrokers(), ElementsAre(2, 3));
}

TEST(ControlShutdownTest, SoleIsrLeadershipsStayAndAreCounted) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("solo", {{1}});
  c.CreateManual("t", {{2, 1}, {1, 2}, {1, 2}, {2, 1}});
  c.SetPartition("t", 2, {1}, 1);  // 2 not in sync
  MetadataImage before = c.image;
  auto result = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  // t-2 waits for follower 2; solo-0 has no other replica, so waiting would change nothing.
  EXPECT_EQ(result.reply.remaining_leaderships(), 1);
  c.Commit(result.records);
  EXPECT_EQ(c.P("solo", 0), *before.FindPartition("solo", 0));
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("t", 2), *before.FindPartition("t", 2));
  EXPECT_EQ(c.P("t", 1).leader, 2);
  EXPECT_THAT(c.P("t", 3).isr, ElementsAre(2));

  // Asking again: no second shutting-down record, the same leaderships remain.
  auto again = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  EXPECT_EQ(again.reply.error().code(), kNone);
  EXPECT_EQ(again.reply.remaining_leaderships(), 1);
  EXPECT_THAT(again.records, IsEmpty());
}

TEST(ControlShutdownTest, SoleIsrLeadershipStaysEvenWithUncleanElection) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateManual("t", {{1, 2}});
  c.SetConfig("t", "unclean.leader.election.enable", "true");
  c.SetPartition("t", 0, {1}, 1);
  auto result = ControlledShutdown(c.image, ShutdownRequest(1, c.Epoch(1)), c.settings);
  EXPECT_EQ(result.reply.remaining_leaderships(), 1);
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kPartition), 0);
}

TEST(ControlShutdownTest, NoNewLeadershipsGoToAShuttingDownBroker) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{3, 1, 2}});
  c.Shutdown(1);
  c.Fence(3);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
}

// Producer id blocks (producer_id_blocks.h): consecutive, never twice, even from a snapshot of
// the image (a new active controller); only for a broker's current registration.
TEST(ControlProducerIdsTest, BlocksFollowEachOtherAndSurviveASnapshot) {
  Cluster c;
  c.AddBrokers({1, 2});
  AllocateProducerIdsRequest request;
  request.set_broker_id(1);
  request.set_broker_epoch(c.Epoch(1));
  auto first = AllocateProducerIds(c.image, request);
  EXPECT_EQ(first.reply.error().code(), kNone);
  EXPECT_EQ(first.reply.producer_id_start(), 0);
  EXPECT_EQ(first.reply.producer_id_len(), kProducerIdBlockSize);
  c.Commit(first.records);
  request.set_broker_id(2);
  request.set_broker_epoch(c.Epoch(2));
  auto second = AllocateProducerIds(c.image, request);
  EXPECT_EQ(second.reply.producer_id_start(), kProducerIdBlockSize);
  c.Commit(second.records);
  auto restored = MetadataImage::FromSnapshot(c.image.ToSnapshot());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->next_producer_id(), 2 * kProducerIdBlockSize);
  EXPECT_EQ(AllocateProducerIds(*restored, request).reply.producer_id_start(),
            2 * kProducerIdBlockSize);

  request.set_broker_epoch(c.Epoch(2) + 100);
  auto stale = AllocateProducerIds(c.image, request);
  EXPECT_EQ(stale.reply.error().code(), kStaleBrokerEpoch);
  EXPECT_THAT(stale.records, IsEmpty());
  request.set_broker_id(9);
  EXPECT_EQ(AllocateProducerIds(c.image, request).reply.error().code(),
            Code(KafkaErrorCode::kBrokerIdNotRegistered));
}

}  // namespace
}  // namespace gregor::controller
