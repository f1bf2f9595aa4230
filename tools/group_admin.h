// What `gregor group` asks the cluster, through librdkafka's admin API (the calls Kafka's own
// tools make): list and describe groups, read, change and delete committed offsets, delete
// groups, and the partitions' offsets to compute lag. One blocking call each.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::tools {

using TopicPartitionId = std::pair<std::string, int32_t>;

struct GroupMemberInfo {
  std::string consumer_id;
  std::string instance_id;  // "" when dynamic
  std::string host;
  std::string client_id;
  std::vector<TopicPartitionId> assignment;  // decoded by librdkafka from the consumer protocol
};

struct GroupInfo {
  std::string id;
  std::string state;     // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
  std::string assignor;  // the chosen protocol ("" unless Stable)
  int32_t coordinator_id = -1;
  std::string coordinator;  // host:port
  std::vector<GroupMemberInfo> members;
  std::string error;  // "" unless describing it failed
};

class GroupAdmin {
 public:
  // Fails with the "no broker reachable ... is the cluster running?" text when nothing answers.
  static absl::StatusOr<std::unique_ptr<GroupAdmin>> Create(const std::string& bootstrap,
                                                            int timeout_ms);
  ~GroupAdmin();

  absl::StatusOr<std::vector<std::string>> ListGroups();
  absl::StatusOr<std::vector<GroupInfo>> Describe(const std::vector<std::string>& groups);
  // Every topic and its partition count (internal topics left out).
  absl::StatusOr<std::map<std::string, int32_t>> Topics();
  // The group's committed offsets among `partitions` (partitions without one are left out).
  absl::StatusOr<std::map<TopicPartitionId, int64_t>> Committed(
      const std::string& group, const std::vector<TopicPartitionId>& partitions);
  // Log start offset and high watermark.
  absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(const TopicPartitionId& tp);
  // The first offset with a timestamp >= each given one; -1 where there is none.
  absl::StatusOr<std::map<TopicPartitionId, int64_t>> OffsetsForTimes(
      const std::map<TopicPartitionId, int64_t>& timestamps);
  // Admin commits (generation -1): per partition, "" or the error.
  absl::StatusOr<std::map<TopicPartitionId, std::string>> AlterOffsets(
      const std::string& group, const std::map<TopicPartitionId, int64_t>& offsets);
  // Per group: "" or the error.
  absl::StatusOr<std::map<std::string, std::string>> DeleteGroups(const std::vector<std::string>& groups);
  // Group-level error (or ""), and per partition "" or the error.
  absl::StatusOr<std::pair<std::string, std::map<TopicPartitionId, std::string>>> DeleteOffsets(
      const std::string& group, const std::vector<TopicPartitionId>& partitions);

 private:
  GroupAdmin() = default;
  // Runs one admin request and waits for its result event (owned by the caller).
  absl::StatusOr<rd_kafka_event_t*> Await(rd_kafka_queue_t* queue);
  absl::Status Unreachable(const std::string& detail) const;

  rd_kafka_t* rk_ = nullptr;
  std::string bootstrap_;
  int timeout_ms_ = 10000;
};

}  // namespace gregor::tools
