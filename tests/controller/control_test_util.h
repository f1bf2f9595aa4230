// Helpers shared by the controller-decision tests (control_*_test.cc): an image built the way
// the controller builds it (decisions produce records, committed as one batch at the next offset
// and applied), and small queries over records and images.
#pragma once

#include "controller/control.h"

#include "common/metadata/topic_names.h"

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

namespace gregor::controller::control_testing {

using metadata::BrokerRegistration;
using metadata::kNoLeader;
using metadata::MetadataBatch;
using metadata::MetadataImage;
using metadata::MetadataRecord;
using metadata::PartitionState;
using metadata::ValidateTopicName;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

inline int32_t Code(KafkaErrorCode code) { return static_cast<int32_t>(code); }

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
inline MetadataImage After(const MetadataImage& image, const std::vector<MetadataRecord>& records) {
  MetadataImage copy = image;
  MetadataBatch batch;
  for (const MetadataRecord& r : records) *batch.add_records() = r;
  absl::Status s = copy.Apply(image.offset() + 1, batch);
  EXPECT_TRUE(s.ok()) << s;
  return copy;
}

inline std::vector<metadata::PartitionRecord> PartitionRecords(const std::vector<MetadataRecord>& records) {
  std::vector<metadata::PartitionRecord> out;
  for (const MetadataRecord& r : records) {
    if (r.has_partition()) out.push_back(r.partition());
  }
  return out;
}

inline int CountCase(const std::vector<MetadataRecord>& records, MetadataRecord::RecordCase c) {
  return static_cast<int>(std::count_if(records.begin(), records.end(),
                                        [c](const MetadataRecord& r) { return r.record_case() == c; }));
}

// Every partition of every topic, flattened.
inline std::vector<std::pair<std::string, int32_t>> AllPartitions(const MetadataImage& image) {
  std::vector<std::pair<std::string, int32_t>> out;
  for (const auto& [name, t] : image.topics()) {
    for (size_t p = 0; p < t.partitions.size(); ++p) out.emplace_back(name, static_cast<int32_t>(p));
  }
  return out;
}


inline ControlledShutdownRequest ShutdownRequest(int32_t id, int64_t epoch) {
  ControlledShutdownRequest r;
  r.set_broker_id(id);
  r.set_broker_epoch(epoch);
  return r;
}

}  // namespace gregor::controller::control_testing
