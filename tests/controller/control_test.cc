// Unit tests for the controller's decisions (controller/control.h). Images are built the way the
// controller builds them: decisions produce records, records are committed as one batch at the
// next offset and applied to the image.
#include "controller/control.h"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor::controller {
namespace {

using metadata::BrokerRegistration;
using metadata::kNoLeader;
using metadata::MetadataBatch;
using metadata::MetadataImage;
using metadata::MetadataRecord;
using metadata::PartitionState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

int32_t Code(KafkaErrorCode code) { return static_cast<int32_t>(code); }

constexpr int32_t kNone = 0;
constexpr int32_t kStaleBrokerEpoch = 77;
constexpr int32_t kInvalidUpdateVersion = 95;
constexpr int32_t kIneligibleReplica = 107;

// A controller image plus the bookkeeping to commit records at increasing offsets.
class Cluster {
 public:
  MetadataImage image;
  ControlSettings settings;
  std::mt19937_64 rng{1234};
  int64_t next_offset = 1;

  // Commits `records` as one batch; returns its offset.
  int64_t Commit(const std::vector<MetadataRecord>& records) {
    MetadataBatch batch;
    for (const MetadataRecord& r : records) *batch.add_records() = r;
    int64_t offset = next_offset++;
    absl::Status s = image.Apply(offset, batch);
    EXPECT_TRUE(s.ok()) << s;
    return offset;
  }

  static RegisterBrokerRequest RegisterRequest(int32_t id, const std::string& incarnation = "") {
    RegisterBrokerRequest r;
    r.set_broker_id(id);
    r.set_incarnation_id(incarnation.empty() ? absl::StrCat("inc-", id) : incarnation);
    r.set_kafka_host("127.0.0.1");
    r.set_kafka_port(9092 + id);
    r.set_replication_host("127.0.0.1");
    r.set_replication_port(19092 + id);
    return r;
  }

  // Registers `id` (fenced); returns its epoch.
  int64_t Register(int32_t id, const std::string& incarnation = "") {
    auto result = RegisterBroker(image, RegisterRequest(id, incarnation), settings);
    EXPECT_EQ(result.reply.error().code(), kNone) << result.reply.error().message();
    return Commit(result.records);
  }

  BrokerHeartbeatRequest Heartbeat(int32_t id, bool want_fence = false) const {
    BrokerHeartbeatRequest r;
    r.set_broker_id(id);
    r.set_broker_epoch(Epoch(id));
    r.set_metadata_offset(image.offset());
    r.set_want_fence(want_fence);
    return r;
  }

  // A caught-up heartbeat; commits what it decides.
  void Unfence(int32_t id) {
    auto result = BrokerHeartbeat(image, Heartbeat(id), settings);
    EXPECT_EQ(result.reply.error().code(), kNone) << result.reply.error().message();
    EXPECT_FALSE(result.reply.fenced());
    if (!result.records.empty()) Commit(result.records);
  }

  int64_t AddBroker(int32_t id) {
    int64_t epoch = Register(id);
    Unfence(id);
    return epoch;
  }

  void AddBrokers(std::vector<int32_t> ids) {
    for (int32_t id : ids) AddBroker(id);
  }

  void Fence(int32_t id) { Commit(FenceBroker(image, id, settings)); }

  void Shutdown(int32_t id) {
    ControlledShutdownRequest r;
    r.set_broker_id(id);
    r.set_broker_epoch(Epoch(id));
    auto result = ControlledShutdown(image, r, settings);
    EXPECT_EQ(result.reply.error().code(), kNone);
    Commit(result.records);
  }

  int64_t Epoch(int32_t id) const {
    const BrokerRegistration* b = image.FindBroker(id);
    EXPECT_NE(b, nullptr) << id;
    return b ? b->epoch : -1;
  }

  static TopicSpec Spec(const std::string& name, int32_t partitions, int32_t rf,
                        std::map<std::string, std::string> configs = {}) {
    TopicSpec spec;
    spec.set_name(name);
    spec.set_partitions(partitions);
    spec.set_replication_factor(rf);
    for (const auto& [k, v] : configs) (*spec.mutable_configs())[k] = v;
    return spec;
  }

  static TopicSpec ManualSpec(const std::string& name, std::vector<std::vector<int32_t>> assignment) {
    TopicSpec spec;
    spec.set_name(name);
    spec.set_partitions(-1);
    spec.set_replication_factor(-1);
    for (size_t p = 0; p < assignment.size(); ++p) {
      ReplicaAssignment* a = spec.add_assignments();
      a->set_partition(static_cast<int32_t>(p));
      for (int32_t b : assignment[p]) a->add_replicas(b);
    }
    return spec;
  }

  ControllerResult<CreateTopicsResponse> Create(std::vector<TopicSpec> specs,
                                                bool validate_only = false) {
    CreateTopicsRequest request;
    for (auto& s : specs) *request.add_topics() = s;
    request.set_validate_only(validate_only);
    return CreateTopics(image, request, settings, &rng);
  }

  void CreateTopic(const TopicSpec& spec) {
    auto result = Create({spec});
    EXPECT_EQ(result.reply.results(0).error().code(), kNone)
        << result.reply.results(0).error().message();
    Commit(result.records);
  }

  void CreateTopic(const std::string& name, int32_t partitions, int32_t rf,
                   std::map<std::string, std::string> configs = {}) {
    CreateTopic(Spec(name, partitions, rf, std::move(configs)));
  }

  void CreateManual(const std::string& name, std::vector<std::vector<int32_t>> assignment) {
    CreateTopic(ManualSpec(name, std::move(assignment)));
  }

  // Overwrites a partition's state directly (to reach states precisely).
  void SetPartition(const std::string& topic, int32_t p, std::vector<int32_t> isr, int32_t leader,
                    std::optional<int32_t> leader_epoch = std::nullopt) {
    PartitionState s = P(topic, p);
    s.isr = std::move(isr);
    if (s.leader != leader) s.leader_epoch = leader_epoch.value_or(s.leader_epoch + 1);
    s.leader = leader;
    s.partition_epoch++;
    Commit({metadata::MakePartitionRecord(topic, p, s)});
  }

  void SetConfig(const std::string& topic, const std::string& key, const std::string& value) {
    MetadataRecord r;
    r.mutable_config()->set_topic(topic);
    r.mutable_config()->set_name(key);
    r.mutable_config()->set_value(value);
    Commit({r});
  }

  const PartitionState& P(const std::string& topic, int32_t p) const {
    const PartitionState* s = image.FindPartition(topic, p);
    EXPECT_NE(s, nullptr) << topic << "-" << p;
    static const PartitionState kEmpty;
    return s ? *s : kEmpty;
  }
};

// The image after applying `records` to a copy of `image`.
MetadataImage After(const MetadataImage& image, const std::vector<MetadataRecord>& records) {
  MetadataImage copy = image;
  MetadataBatch batch;
  for (const MetadataRecord& r : records) *batch.add_records() = r;
  absl::Status s = copy.Apply(image.offset() + 1, batch);
  EXPECT_TRUE(s.ok()) << s;
  return copy;
}

std::vector<metadata::PartitionRecord> PartitionRecords(const std::vector<MetadataRecord>& records) {
  std::vector<metadata::PartitionRecord> out;
  for (const MetadataRecord& r : records) {
    if (r.has_partition()) out.push_back(r.partition());
  }
  return out;
}

int CountCase(const std::vector<MetadataRecord>& records, MetadataRecord::RecordCase c) {
  return static_cast<int>(std::count_if(records.begin(), records.end(),
                                        [c](const MetadataRecord& r) { return r.record_case() == c; }));
}

// Every partition of every topic, flattened.
std::vector<std::pair<std::string, int32_t>> AllPartitions(const MetadataImage& image) {
  std::vector<std::pair<std::string, int32_t>> out;
  for (const auto& [name, t] : image.topics()) {
    for (size_t p = 0; p < t.partitions.size(); ++p) out.emplace_back(name, static_cast<int32_t>(p));
  }
  return out;
}

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

ControlledShutdownRequest ShutdownRequest(int32_t id, int64_t epoch) {
  ControlledShutdownRequest r;
  r.set_broker_id(id);
  r.set_broker_epoch(epoch);
  return r;
}

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
// CreateTopics
// =================================================================================================

TEST(ControlTopicNameTest, KafkaNameRules) {
  MetadataImage image;
  EXPECT_FALSE(ValidateTopicName(image, "").ok());
  EXPECT_FALSE(ValidateTopicName(image, ".").ok());
  EXPECT_FALSE(ValidateTopicName(image, "..").ok());
  EXPECT_TRUE(ValidateTopicName(image, "...").ok());
  EXPECT_TRUE(ValidateTopicName(image, std::string(249, 'a')).ok());
  absl::Status too_long = ValidateTopicName(image, std::string(250, 'a'));
  EXPECT_FALSE(too_long.ok());
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("249"));
  EXPECT_TRUE(ValidateTopicName(image, "Orders-2024_v1.0").ok());
  for (const std::string& bad : std::vector<std::string>{"a b", "a/b", "a:b", "a*", "a\\b", "t\xc3\xa4", "a\nb", "a+b",
                          "a,b", std::string("a\0b", 3)}) {
    EXPECT_FALSE(ValidateTopicName(image, bad).ok()) << bad;
  }
}

TEST(ControlTopicNameTest, DotAndUnderscoreCollide) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("metrics.cpu", 1, 1);
  absl::Status s = ValidateTopicName(c.image, "metrics_cpu");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("metrics.cpu"));
  EXPECT_TRUE(ValidateTopicName(c.image, "metrics.cpu").ok());  // the same name is no collision
  EXPECT_TRUE(ValidateTopicName(c.image, "metrics-cpu").ok());

  auto result = c.Create({Cluster::Spec("metrics_cpu", 1, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidTopicException));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidNamesAreInvalidTopicException) {
  Cluster c;
  c.AddBroker(1);
  auto result = c.Create({Cluster::Spec("", 1, 1), Cluster::Spec(".", 1, 1),
                          Cluster::Spec("..", 1, 1), Cluster::Spec(std::string(250, 'x'), 1, 1),
                          Cluster::Spec("bad name", 1, 1), Cluster::Spec("ok", 1, 1)});
  ASSERT_EQ(result.reply.results_size(), 6);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result.reply.results(i).error().code(), Code(KafkaErrorCode::kInvalidTopicException))
        << i;
    EXPECT_FALSE(result.reply.results(i).error().message().empty());
  }
  EXPECT_EQ(result.reply.results(5).error().code(), kNone);
  c.Commit(result.records);
  EXPECT_EQ(c.image.topics().size(), 1u);
  EXPECT_NE(c.image.FindTopic("ok"), nullptr);
}

TEST(ControlCreateTopicsTest, CreatesTopicRecordsPartitionsAndConfigs) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("orders", 4, 2, {{"retention.ms", "60000"},
                                                         {"cleanup.policy", "compact"}})});
  ASSERT_EQ(result.reply.results_size(), 1);
  const TopicResult& r = result.reply.results(0);
  EXPECT_EQ(r.error().code(), kNone);
  EXPECT_EQ(r.name(), "orders");
  EXPECT_EQ(r.partitions(), 4);
  EXPECT_EQ(r.replication_factor(), 2);
  EXPECT_EQ(r.topic_id().size(), 16u);

  ASSERT_FALSE(result.records.empty());
  ASSERT_TRUE(result.records[0].has_topic());
  EXPECT_EQ(result.records[0].topic().name(), "orders");
  EXPECT_EQ(result.records[0].topic().topic_id(), r.topic_id());
  auto parts = PartitionRecords(result.records);
  ASSERT_EQ(parts.size(), 4u);
  for (int32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(parts[p].topic(), "orders");
    EXPECT_EQ(parts[p].partition(), p);
    EXPECT_EQ(parts[p].replicas_size(), 2);
    EXPECT_THAT(parts[p].isr(), ElementsAre(parts[p].replicas(0), parts[p].replicas(1)));
    EXPECT_EQ(parts[p].leader(), parts[p].replicas(0));
    EXPECT_EQ(parts[p].leader_epoch(), 0);
    EXPECT_EQ(parts[p].partition_epoch(), 0);
  }
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kConfig), 2);

  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("orders")->topic_id, r.topic_id());
  EXPECT_EQ(c.image.TopicConfig("orders", "retention.ms"), "60000");
  EXPECT_EQ(c.image.TopicConfig("orders", "cleanup.policy"), "compact");
  EXPECT_EQ(c.image.PartitionCount(), 4u);
}

TEST(ControlCreateTopicsTest, TopicAlreadyExists) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  auto result = c.Create({Cluster::Spec("t", 2, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kTopicAlreadyExists));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidPartitions) {
  Cluster c;
  c.AddBroker(1);
  c.settings.max_partitions_per_request = 50;
  for (int32_t n : {0, -2, 51}) {
    auto result = c.Create({Cluster::Spec("t", n, 1)});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidPartitions)) << n;
    EXPECT_THAT(result.records, IsEmpty());
  }
  EXPECT_EQ(c.Create({Cluster::Spec("t", 50, 1)}).reply.results(0).error().code(), kNone);
}

// The limit holds for the request as a whole (it is one committed batch), not per topic.
TEST(ControlCreateTopicsTest, PartitionLimitCountsTheWholeRequest) {
  Cluster c;
  c.AddBroker(1);
  c.settings.max_partitions_per_request = 50;
  auto result = c.Create({Cluster::Spec("a", 30, 1), Cluster::Spec("b", 30, 1),
                          Cluster::Spec("c", 20, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kInvalidPartitions));
  EXPECT_THAT(result.reply.results(1).error().message(), HasSubstr("in all"));
  EXPECT_EQ(result.reply.results(2).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, InvalidReplicationFactor) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.Register(4);  // fenced: does not count
  c.Shutdown(3);  // shutting down: does not count
  for (int32_t rf : {0, -3}) {
    auto result = c.Create({Cluster::Spec("t", 1, rf)});
    EXPECT_EQ(result.reply.results(0).error().code(),
              Code(KafkaErrorCode::kInvalidReplicationFactor)) << rf;
  }
  auto result = c.Create({Cluster::Spec("t", 1, 3)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr("only 2 broker"));
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(c.Create({Cluster::Spec("t", 1, 2)}).reply.results(0).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, NoBrokersAtAll) {
  Cluster c;
  auto result = c.Create({Cluster::Spec("t", 1, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr("only 0 broker"));
}

TEST(ControlCreateTopicsTest, DefaultsForMinusOne) {
  Cluster c;
  c.settings.default_partitions = 5;
  c.settings.default_replication_factor = 2;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("t", -1, -1)});
  ASSERT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).partitions(), 5);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("t")->partitions.size(), 5u);
  EXPECT_EQ(c.P("t", 4).replicas.size(), 2u);

  // Defaults are validated like explicit values.
  c.settings.default_replication_factor = 4;
  EXPECT_EQ(c.Create({Cluster::Spec("u", -1, -1)}).reply.results(0).error().code(),
            Code(KafkaErrorCode::kInvalidReplicationFactor));
}

TEST(ControlCreateTopicsTest, ValidateOnlyProducesNoRecords) {
  Cluster c;
  c.AddBrokers({1, 2});
  auto result = c.Create({Cluster::Spec("t", 3, 2), Cluster::Spec("bad", 0, 1)}, true);
  ASSERT_EQ(result.reply.results_size(), 2);
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).partitions(), 3);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kInvalidPartitions));
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(c.image.FindTopic("t"), nullptr);
}

TEST(ControlCreateTopicsTest, InvalidConfigs) {
  Cluster c;
  c.AddBroker(1);
  std::vector<std::pair<std::string, std::string>> bad = {
      {"no.such.config", "1"},
      {"retention.ms", "abc"},
      {"retention.ms", "-2"},
      {"retention.ms", "1.5"},
      {"retention.ms", ""},
      {"cleanup.policy", "shred"},
      {"unclean.leader.election.enable", "yes"},
      {"min.insync.replicas", "0"},
      {"segment.bytes", "13"},
      {"compression.type", "brotli"},
      {"message.timestamp.type", "Now"},
      {"min.cleanable.dirty.ratio", "1.5"},
      {"min.cleanable.dirty.ratio", "-0.1"},
  };
  for (const auto& [key, value] : bad) {
    auto result = c.Create({Cluster::Spec("t", 1, 1, {{key, value}})});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidConfig))
        << key << "=" << value;
    EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr(key));
    EXPECT_THAT(result.records, IsEmpty());
  }
}

TEST(ControlTopicConfigTest, ValidValues) {
  std::vector<std::pair<std::string, std::string>> good = {
      {"cleanup.policy", "delete"},
      {"cleanup.policy", "compact"},
      {"cleanup.policy", "delete,compact"},
      {"cleanup.policy", "compact,delete"},
      {"retention.ms", "-1"},
      {"retention.ms", "604800000"},
      {"retention.bytes", "-1"},
      {"segment.bytes", "14"},
      {"segment.bytes", "1073741824"},
      {"segment.ms", "1"},
      {"min.insync.replicas", "2"},
      {"flush.messages", "1"},
      {"flush.ms", "0"},
      {"max.message.bytes", "1048588"},
      {"unclean.leader.election.enable", "true"},
      {"unclean.leader.election.enable", "false"},
      {"preallocate", "false"},
      {"message.timestamp.type", "CreateTime"},
      {"message.timestamp.type", "LogAppendTime"},
      {"compression.type", "producer"},
      {"compression.type", "zstd"},
      {"min.cleanable.dirty.ratio", "0"},
      {"min.cleanable.dirty.ratio", "0.5"},
      {"min.cleanable.dirty.ratio", "1"},
      {"delete.retention.ms", "86400000"},
      {"index.interval.bytes", "4096"},
  };
  for (const auto& [key, value] : good) {
    EXPECT_TRUE(ValidateTopicConfig(key, value).ok()) << key << "=" << value;
  }
}

TEST(ControlTopicConfigTest, InvalidValues) {
  EXPECT_FALSE(ValidateTopicConfig("segment.ms", "0").ok());
  EXPECT_FALSE(ValidateTopicConfig("flush.ms", "-1").ok());
  EXPECT_FALSE(ValidateTopicConfig("retention.bytes", "lots").ok());
  EXPECT_FALSE(ValidateTopicConfig("retention.ms", "99999999999999999999999").ok());
  EXPECT_FALSE(ValidateTopicConfig("compression.type", "GZIP").ok());
  EXPECT_FALSE(ValidateTopicConfig("Retention.ms", "1").ok());
  absl::Status unknown = ValidateTopicConfig("log.retention.ms", "1");  // a broker key
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("unknown"));
}

// "nan" parses as a double but is not a ratio between 0 and 1.
TEST(ControlTopicConfigTest, NanDirtyRatioIsInvalid) {
  EXPECT_FALSE(ValidateTopicConfig("min.cleanable.dirty.ratio", "nan").ok());
}

TEST(ControlCreateTopicsTest, ManualAssignment) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  TopicSpec spec;
  spec.set_name("m");
  spec.set_partitions(-1);
  spec.set_replication_factor(-1);
  // Listed out of order.
  for (auto [p, replicas] : std::vector<std::pair<int32_t, std::vector<int32_t>>>{
           {2, {1, 3}}, {0, {3, 2}}, {1, {2, 1}}}) {
    ReplicaAssignment* a = spec.add_assignments();
    a->set_partition(p);
    for (int32_t b : replicas) a->add_replicas(b);
  }
  auto result = c.Create({spec});
  ASSERT_EQ(result.reply.results(0).error().code(), kNone) << result.reply.results(0).error().message();
  EXPECT_EQ(result.reply.results(0).partitions(), 3);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  c.Commit(result.records);
  EXPECT_THAT(c.P("m", 0).replicas, ElementsAre(3, 2));
  EXPECT_THAT(c.P("m", 1).replicas, ElementsAre(2, 1));
  EXPECT_THAT(c.P("m", 2).replicas, ElementsAre(1, 3));
  EXPECT_EQ(c.P("m", 0).leader, 3);
  EXPECT_THAT(c.P("m", 0).isr, ElementsAre(3, 2));

  // Partitions/replication factor of 0 (unset) are fine alongside an assignment.
  TopicSpec zero = Cluster::ManualSpec("z", {{1}});
  zero.set_partitions(0);
  zero.set_replication_factor(0);
  EXPECT_EQ(c.Create({zero}).reply.results(0).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, ManualAssignmentOnFencedBrokers) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.Register(3);  // registered, fenced
  c.Register(4);
  // Fenced replicas stay out of the ISR; a partition needs at least one live replica.
  c.CreateManual("m", {{3, 1}, {1, 3}});
  EXPECT_EQ(c.P("m", 0).leader, 1);
  EXPECT_THAT(c.P("m", 0).isr, ElementsAre(1));
  EXPECT_THAT(c.P("m", 1).isr, ElementsAre(1));
  auto result = c.Create({Cluster::ManualSpec("n", {{4, 3}})});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicaAssignment));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidManualAssignments) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto expect_invalid = [&](TopicSpec spec, KafkaErrorCode code) {
    auto result = c.Create({spec});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(code)) << spec.DebugString();
    EXPECT_THAT(result.records, IsEmpty());
  };
  expect_invalid(Cluster::ManualSpec("m", {{1, 1}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{1, 9}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{1, 2}, {3}}), KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec gap = Cluster::ManualSpec("m", {{1}, {2}});
  gap.mutable_assignments(1)->set_partition(2);
  expect_invalid(gap, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec from_one = Cluster::ManualSpec("m", {{1}, {2}});
  from_one.mutable_assignments(0)->set_partition(2);
  from_one.mutable_assignments(1)->set_partition(1);
  expect_invalid(from_one, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec twice = Cluster::ManualSpec("m", {{1}, {2}});
  twice.mutable_assignments(1)->set_partition(0);
  expect_invalid(twice, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec negative = Cluster::ManualSpec("m", {{1}});
  negative.mutable_assignments(0)->set_partition(-1);
  expect_invalid(negative, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec both = Cluster::ManualSpec("m", {{1}});
  both.set_partitions(1);
  expect_invalid(both, KafkaErrorCode::kInvalidRequest);
  TopicSpec both_rf = Cluster::ManualSpec("m", {{1}});
  both_rf.set_replication_factor(1);
  expect_invalid(both_rf, KafkaErrorCode::kInvalidRequest);
}

// Counts per broker: how many partitions it is preferred leader of, and how many replicas it holds.
struct Spread {
  std::map<int32_t, int> leaders;
  std::map<int32_t, int> replicas;
};

Spread SpreadOf(const MetadataImage& image, const std::string& topic) {
  Spread s;
  for (const PartitionState& p : image.FindTopic(topic)->partitions) {
    s.leaders[p.replicas[0]]++;
    for (int32_t r : p.replicas) s.replicas[r]++;
  }
  return s;
}

TEST(ControlCreateTopicsTest, PlacementSpreadsReplicasAndPreferredLeadersEvenly) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("a", 6, 3);
  Spread a = SpreadOf(c.image, "a");
  EXPECT_EQ(a.leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  EXPECT_EQ(a.replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}}));
  for (const PartitionState& p : c.image.FindTopic("a")->partitions) {
    EXPECT_EQ(std::set<int32_t>(p.replicas.begin(), p.replicas.end()).size(), 3u);
    EXPECT_EQ(p.leader, p.replicas[0]);  // the preferred replica leads at creation
  }

  Cluster d;
  d.AddBrokers({1, 2, 3, 4});
  d.CreateTopic("x", 5, 1);  // something already there: placement must still be even
  d.CreateTopic("b", 12, 2);
  Spread b = SpreadOf(d.image, "b");
  EXPECT_EQ(b.leaders, (std::map<int32_t, int>{{1, 3}, {2, 3}, {3, 3}, {4, 3}}));
  EXPECT_EQ(b.replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}, {4, 6}}));
  for (const PartitionState& p : d.image.FindTopic("b")->partitions) {
    EXPECT_NE(p.replicas[0], p.replicas[1]);
  }
}

TEST(ControlCreateTopicsTest, PlacementUsesOnlyUsableBrokers) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4, 5});
  c.Fence(2);
  c.Shutdown(4);
  c.CreateTopic("t", 10, 2);
  Spread s = SpreadOf(c.image, "t");
  EXPECT_EQ(s.replicas.count(2), 0u);
  EXPECT_EQ(s.replicas.count(4), 0u);
  EXPECT_EQ(s.leaders.size(), 3u);
}

// As Kafka: every entry of a name given twice fails with INVALID_REQUEST; none is created.
TEST(ControlCreateTopicsTest, DuplicateNamesInOneRequestAreAllRejected) {
  Cluster c;
  c.AddBrokers({1, 2});
  auto result = c.Create({Cluster::Spec("dup", 1, 1), Cluster::Spec("fine", 1, 1),
                          Cluster::Spec("dup", 4, 2)});
  ASSERT_EQ(result.reply.results_size(), 3);
  EXPECT_EQ(result.reply.results(1).error().code(), kNone);
  EXPECT_EQ(result.reply.results(2).error().code(), Code(KafkaErrorCode::kInvalidRequest));
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidRequest));
  MetadataImage after = After(c.image, result.records);
  EXPECT_EQ(after.FindTopic("dup"), nullptr);
  EXPECT_NE(after.FindTopic("fine"), nullptr);
}

TEST(ControlCreateTopicsTest, SeveralTopicsInOneRequest) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("a", 3, 3), Cluster::Spec("b", 2, 1),
                          Cluster::Spec("a.b", 1, 1), Cluster::Spec("a_b", 1, 1)});
  ASSERT_EQ(result.reply.results_size(), 4);
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(1).error().code(), kNone);
  EXPECT_EQ(result.reply.results(2).error().code(), kNone);
  // Collides with a topic created earlier in the same request.
  EXPECT_EQ(result.reply.results(3).error().code(), Code(KafkaErrorCode::kInvalidTopicException));
  EXPECT_NE(result.reply.results(0).topic_id(), result.reply.results(1).topic_id());
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kTopic), 3);
  c.Commit(result.records);
  EXPECT_EQ(c.image.PartitionCount(), 6u);
}

// =================================================================================================
// Placement (PlaceReplicas)
// =================================================================================================

TEST(PlacementTest, DegenerateInputs) {
  EXPECT_THAT(PlaceReplicas({}, 0, 3, 1, 0), IsEmpty());
  EXPECT_THAT(PlaceReplicas({1, 2}, 0, 3, 3, 0), IsEmpty());
  EXPECT_THAT(PlaceReplicas({1, 2}, 0, 0, 1, 0), IsEmpty());
  auto one = PlaceReplicas({7}, 0, 3, 1, 99);
  ASSERT_EQ(one.size(), 3u);
  for (const auto& r : one) EXPECT_THAT(r, ElementsAre(7));
}

TEST(PlacementTest, ReplicasAreDistinctBrokersFromTheList) {
  std::vector<int32_t> brokers = {2, 5, 9, 11, 40};
  for (uint64_t seed = 0; seed < 40; ++seed) {
    for (int32_t rf = 1; rf <= 5; ++rf) {
      auto placement = PlaceReplicas(brokers, 0, 17, rf, seed);
      ASSERT_EQ(placement.size(), 17u);
      for (const auto& replicas : placement) {
        ASSERT_EQ(replicas.size(), static_cast<size_t>(rf));
        EXPECT_EQ(std::set<int32_t>(replicas.begin(), replicas.end()).size(), replicas.size());
        for (int32_t r : replicas) {
          EXPECT_NE(std::find(brokers.begin(), brokers.end(), r), brokers.end());
        }
      }
    }
  }
}

std::pair<std::map<int32_t, int>, std::map<int32_t, int>> Counts(
    const std::vector<std::vector<int32_t>>& placement) {
  std::map<int32_t, int> leaders, replicas;
  for (const auto& r : placement) {
    leaders[r[0]]++;
    for (int32_t b : r) replicas[b]++;
  }
  return {leaders, replicas};
}

TEST(PlacementTest, SixPartitionsRf3OverThreeBrokersForEverySeed) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto [leaders, replicas] = Counts(PlaceReplicas({1, 2, 3}, 0, 6, 3, seed));
    EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}})) << seed;
    EXPECT_EQ(replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}})) << seed;
  }
}

TEST(PlacementTest, TwelvePartitionsRf2OverFourBrokersForEverySeed) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto placement = PlaceReplicas({10, 20, 30, 40}, 0, 12, 2, seed);
    auto [leaders, replicas] = Counts(placement);
    EXPECT_EQ(leaders, (std::map<int32_t, int>{{10, 3}, {20, 3}, {30, 3}, {40, 3}})) << seed;
    EXPECT_EQ(replicas, (std::map<int32_t, int>{{10, 6}, {20, 6}, {30, 6}, {40, 6}})) << seed;
    // Followers are spread too, and no broker always follows the same leader.
    std::map<int32_t, std::set<int32_t>> followers_of;
    for (const auto& r : placement) followers_of[r[0]].insert(r[1]);
    for (const auto& [leader, followers] : followers_of) EXPECT_GT(followers.size(), 1u) << seed;
  }
}

TEST(PlacementTest, AddedPartitionsContinueTheRoundRobin) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto first = PlaceReplicas({1, 2, 3}, 0, 3, 2, seed);
    auto more = PlaceReplicas({1, 2, 3}, 3, 3, 2, seed);
    auto [l1, r1] = Counts(first);
    auto [l2, r2] = Counts(more);
    EXPECT_EQ(l1.size(), 3u);
    EXPECT_EQ(l2.size(), 3u);  // the three new partitions have three different leaders
  }
}

TEST(PlacementTest, DeterministicForASeedAndVariedAcrossSeeds) {
  EXPECT_EQ(PlaceReplicas({1, 2, 3, 4}, 0, 8, 3, 7), PlaceReplicas({1, 2, 3, 4}, 0, 8, 3, 7));
  std::set<std::vector<std::vector<int32_t>>> distinct;
  for (uint64_t seed = 0; seed < 16; ++seed) distinct.insert(PlaceReplicas({1, 2, 3, 4}, 0, 4, 2, seed));
  EXPECT_GT(distinct.size(), 1u);
}

// =================================================================================================
// DeleteTopics
// =================================================================================================

TEST(ControlDeleteTopicsTest, DeletesAndReportsUnknown) {
  Cluster c;
  c.AddBrokers({1});
  c.CreateTopic("a", 2, 1);
  c.CreateTopic("b", 1, 1);
  std::string id = c.image.FindTopic("a")->topic_id;
  DeleteTopicsRequest r;
  r.add_names("a");
  r.add_names("nope");
  r.add_names("a");
  auto result = DeleteTopics(c.image, r);
  ASSERT_EQ(result.reply.results_size(), 3);
  EXPECT_EQ(result.reply.results(0).name(), "a");
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).topic_id(), id);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kUnknownTopicOrPartition));
  ASSERT_EQ(result.records.size(), 1u);  // the repeated name is removed once
  ASSERT_TRUE(result.records[0].has_remove_topic());
  EXPECT_EQ(result.records[0].remove_topic().name(), "a");
  EXPECT_EQ(result.records[0].remove_topic().topic_id(), id);
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("a"), nullptr);
  EXPECT_NE(c.image.FindTopic("b"), nullptr);
  EXPECT_EQ(c.image.PartitionCount(), 1u);

  // The name is free again, with a new id.
  c.CreateTopic("a", 1, 1);
  EXPECT_NE(c.image.FindTopic("a")->topic_id, id);
}

// =================================================================================================
// CreatePartitions
// =================================================================================================

CreatePartitionsRequest Grow(const std::string& topic, int32_t total, bool validate_only = false) {
  CreatePartitionsRequest r;
  r.set_topic(topic);
  r.set_total_count(total);
  r.set_validate_only(validate_only);
  return r;
}

TEST(ControlCreatePartitionsTest, Errors) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateTopic("t", 3, 2);
  EXPECT_EQ(CreatePartitions(c.image, Grow("nope", 4)).reply.error().code(),
            Code(KafkaErrorCode::kUnknownTopicOrPartition));
  for (int32_t total : {3, 2, 0, -1}) {
    auto result = CreatePartitions(c.image, Grow("t", total));
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidPartitions)) << total;
    EXPECT_THAT(result.records, IsEmpty());
  }
  c.Fence(2);
  auto result = CreatePartitions(c.image, Grow("t", 4));
  EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreatePartitionsTest, ValidateOnly) {
  Cluster c;
  c.AddBrokers({1});
  c.CreateTopic("t", 1, 1);
  auto result = CreatePartitions(c.image, Grow("t", 5, true));
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreatePartitionsTest, NewPartitionsArePlacedEvenlyOnUsableBrokers) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4});
  c.CreateTopic("t", 3, 2);
  c.Fence(4);
  MetadataImage before = c.image;
  auto result = CreatePartitions(c.image, Grow("t", 9));
  EXPECT_EQ(result.reply.error().code(), kNone);
  auto parts = PartitionRecords(result.records);
  ASSERT_EQ(parts.size(), 6u);
  std::map<int32_t, int> leaders;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].topic(), "t");
    EXPECT_EQ(parts[i].partition(), static_cast<int32_t>(3 + i));
    ASSERT_EQ(parts[i].replicas_size(), 2);  // the topic's replication factor
    EXPECT_NE(parts[i].replicas(0), parts[i].replicas(1));
    EXPECT_THAT(parts[i].isr(), ElementsAre(parts[i].replicas(0), parts[i].replicas(1)));
    EXPECT_EQ(parts[i].leader(), parts[i].replicas(0));
    for (int32_t r : parts[i].replicas()) EXPECT_NE(r, 4);
    leaders[parts[i].replicas(0)]++;
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("t")->partitions.size(), 9u);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(c.P("t", p), *before.FindPartition("t", p));
}

// =================================================================================================
// AlterConfigs
// =================================================================================================

AlterConfigsRequest Alter(const std::string& topic, std::map<std::string, std::string> set,
                          std::vector<std::string> remove = {}, bool validate_only = false) {
  AlterConfigsRequest r;
  r.set_topic(topic);
  for (const auto& [k, v] : set) (*r.mutable_set())[k] = v;
  for (const auto& k : remove) r.add_remove(k);
  r.set_validate_only(validate_only);
  return r;
}

TEST(ControlAlterConfigsTest, SetAndRemove) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1, {{"retention.ms", "1000"}});
  auto set = AlterConfigs(c.image, Alter("t", {{"retention.ms", "2000"}, {"segment.ms", "60000"}}),
                          c.settings);
  EXPECT_EQ(set.reply.error().code(), kNone);
  EXPECT_EQ(CountCase(set.records, MetadataRecord::kConfig), 2);
  for (const auto& r : set.records) EXPECT_TRUE(r.config().has_value());
  c.Commit(set.records);
  EXPECT_EQ(c.image.TopicConfig("t", "retention.ms"), "2000");
  EXPECT_EQ(c.image.TopicConfig("t", "segment.ms"), "60000");

  auto remove = AlterConfigs(c.image, Alter("t", {}, {"retention.ms"}), c.settings);
  EXPECT_EQ(remove.reply.error().code(), kNone);
  ASSERT_EQ(remove.records.size(), 1u);
  EXPECT_EQ(remove.records[0].config().name(), "retention.ms");
  EXPECT_FALSE(remove.records[0].config().has_value());
  c.Commit(remove.records);
  EXPECT_EQ(c.image.TopicConfig("t", "retention.ms"), std::nullopt);
  EXPECT_EQ(c.image.TopicConfig("t", "segment.ms"), "60000");

  // Removing a known config that is not set is fine.
  EXPECT_EQ(AlterConfigs(c.image, Alter("t", {}, {"flush.ms"}), c.settings).reply.error().code(),
            kNone);
}

TEST(ControlAlterConfigsTest, Errors) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  EXPECT_EQ(AlterConfigs(c.image, Alter("nope", {{"retention.ms", "1"}}), c.settings)
                .reply.error().code(),
            Code(KafkaErrorCode::kUnknownTopicOrPartition));
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"retention.ms", "soon"}, {"bogus", "1"}, {"unclean.leader.election.enable", "1"}}) {
    auto result = AlterConfigs(c.image, Alter("t", {{"segment.ms", "5"}, {k, v}}), c.settings);
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidConfig)) << k;
    EXPECT_THAT(result.records, IsEmpty()) << k;  // nothing is applied when any entry is bad
  }
  auto remove = AlterConfigs(c.image, Alter("t", {}, {"bogus"}), c.settings);
  EXPECT_EQ(remove.reply.error().code(), Code(KafkaErrorCode::kInvalidConfig));
  EXPECT_THAT(remove.records, IsEmpty());
  // Removing a known key whose validator rejects "0" is still allowed.
  for (const char* key : {"unclean.leader.election.enable", "cleanup.policy", "compression.type",
                          "message.timestamp.type", "segment.ms"}) {
    EXPECT_EQ(AlterConfigs(c.image, Alter("t", {}, {key}), c.settings).reply.error().code(), kNone)
        << key;
  }
}

TEST(ControlAlterConfigsTest, ValidateOnly) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  auto result = AlterConfigs(c.image, Alter("t", {{"retention.ms", "5"}}, {}, true), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(AlterConfigs(c.image, Alter("t", {{"retention.ms", "x"}}, {}, true), c.settings)
                .reply.error().code(),
            Code(KafkaErrorCode::kInvalidConfig));
}

TEST(ControlAlterConfigsTest, EnablingUncleanElectionElectsOfflineLeadersAtOnce) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {2, 3, 1}, {1, 3, 2}});
  c.CreateManual("other", {{1, 2}});
  c.SetPartition("t", 0, {1}, 1);
  c.SetPartition("other", 0, {1}, 1);
  c.Fence(1);
  ASSERT_EQ(c.P("t", 0).leader, kNoLeader);
  ASSERT_EQ(c.P("t", 2).leader, 3);  // 3 was in sync
  ASSERT_EQ(c.P("other", 0).leader, kNoLeader);
  int32_t le = c.P("t", 0).leader_epoch;

  auto off = AlterConfigs(c.image, Alter("t", {{"unclean.leader.election.enable", "false"}}),
                          c.settings);
  EXPECT_EQ(CountCase(off.records, MetadataRecord::kPartition), 0);

  auto result = AlterConfigs(c.image, Alter("t", {{"unclean.leader.election.enable", "true"}}),
                             c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  ASSERT_FALSE(result.records.empty());
  EXPECT_TRUE(result.records[0].has_config());  // the config comes before the elections
  auto changes = PartitionRecords(result.records);
  ASSERT_EQ(changes.size(), 1u);  // only this topic's offline partition
  EXPECT_EQ(changes[0].topic(), "t");
  EXPECT_EQ(changes[0].partition(), 0);
  c.Commit(result.records);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("t", 0).leader_epoch, le + 1);
  EXPECT_EQ(c.P("other", 0).leader, kNoLeader);

  // Validate-only does not elect.
  c.SetPartition("t", 0, {1}, kNoLeader);
  EXPECT_THAT(AlterConfigs(c.image,
                           Alter("t", {{"unclean.leader.election.enable", "true"}}, {}, true),
                           c.settings)
                  .records,
              IsEmpty());
}

TEST(ControlUncleanAllowedTest, TopicConfigOverridesClusterDefault) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("plain", 1, 1);
  c.CreateTopic("yes", 1, 1, {{"unclean.leader.election.enable", "true"}});
  c.CreateTopic("no", 1, 1, {{"unclean.leader.election.enable", "false"}});
  EXPECT_FALSE(UncleanAllowed(c.image, "plain", c.settings));
  EXPECT_TRUE(UncleanAllowed(c.image, "yes", c.settings));
  EXPECT_FALSE(UncleanAllowed(c.image, "no", c.settings));
  c.settings.unclean_leader_election = true;
  EXPECT_TRUE(UncleanAllowed(c.image, "plain", c.settings));
  EXPECT_TRUE(UncleanAllowed(c.image, "yes", c.settings));
  EXPECT_FALSE(UncleanAllowed(c.image, "no", c.settings));
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
