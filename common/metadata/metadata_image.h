// The cluster metadata image: brokers, topics, partitions and topic configs, materialized from
// the metadata log (proto/metadata.proto). The controller applies committed batches to it; each
// broker keeps one fed by WatchMetadata; tools diff two of them to describe what changed.
//
// Plain value type, no locking: each owner guards its own copy.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/metadata.pb.h"

namespace gregor::metadata {

inline constexpr int32_t kNoLeader = -1;

struct BrokerRegistration {
  int32_t id = 0;
  int64_t epoch = 0;  // offset of its RegisterBrokerRecord
  std::string incarnation_id;
  std::string kafka_host;
  int32_t kafka_port = 0;
  std::string replication_host;
  int32_t replication_port = 0;
  std::string rack;
  bool fenced = true;  // registered brokers start fenced until they catch up
  bool shutting_down = false;

  // Unfenced and not shutting down: may lead and may join an ISR.
  bool usable() const { return !fenced && !shutting_down; }
  // "alive", "fenced" or "shutting_down".
  std::string StateName() const;
};

struct PartitionState {
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int32_t leader = kNoLeader;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;

  bool InIsr(int32_t broker) const;
  bool IsReplica(int32_t broker) const;
  bool operator==(const PartitionState&) const = default;
};

struct TopicState {
  std::string name;
  std::string topic_id;  // 16 bytes
  std::vector<PartitionState> partitions;  // index = partition id
  std::map<std::string, std::string> configs;
};

class MetadataImage {
 public:
  // Applies every record of the batch committed at `offset`. A record that does not fit the
  // image (unknown topic, partition out of order, ...) is InvalidArgument; the records before
  // it stay applied — the controller only commits batches it validated against this image.
  absl::Status Apply(int64_t offset, const MetadataBatch& batch);
  absl::Status ApplyRecord(int64_t offset, const MetadataRecord& record);

  MetadataSnapshot ToSnapshot() const;
  static absl::StatusOr<MetadataImage> FromSnapshot(const MetadataSnapshot& snapshot);

  // The last offset applied (0 for an empty image).
  int64_t offset() const { return offset_; }
  // "" until the first active controller wrote it (ClusterIdRecord).
  const std::string& cluster_id() const { return cluster_id_; }
  // The first producer id not yet handed out in a block (ProducerIdsRecord).
  int64_t next_producer_id() const { return next_producer_id_; }
  const std::map<int32_t, BrokerRegistration>& brokers() const { return brokers_; }
  const std::map<std::string, TopicState>& topics() const { return topics_; }
  const BrokerRegistration* FindBroker(int32_t id) const;
  const TopicState* FindTopic(const std::string& name) const;
  const PartitionState* FindPartition(const std::string& topic, int32_t partition) const;
  // Ids of the brokers that may take replicas and leadership, ascending.
  std::vector<int32_t> UsableBrokers() const;
  size_t PartitionCount() const;

  // A topic config's value, if set on the topic.
  std::optional<std::string> TopicConfig(const std::string& topic, const std::string& name) const;

 private:
  int64_t offset_ = 0;
  std::string cluster_id_;
  int64_t next_producer_id_ = 0;
  std::map<int32_t, BrokerRegistration> brokers_;
  std::map<std::string, TopicState> topics_;
};

// A new cluster id: 16 random bytes, base64url without padding (22 characters), as Kafka's
// kafka-storage.sh random-uuid makes them.
std::string NewClusterId();

// Helpers to build records (used by the controller logic and tests).
MetadataRecord MakePartitionRecord(const std::string& topic, int32_t partition,
                                   const PartitionState& state);
PartitionState FromRecord(const PartitionRecord& record);
// A change of an existing partition that does not raise its partition epoch: decided on an
// older state, so applying it is skipped (see ApplyRecord).
bool IsStalePartitionRecord(const PartitionState& current, const PartitionRecord& record);

}  // namespace gregor::metadata
