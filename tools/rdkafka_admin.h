// The CLI's admin operations through librdkafka's admin API (rdkafka.h), so that `gregor topic`
// and `gregor config` are one more real client of the brokers' Kafka admin APIs: CreatePartitions,
// DescribeConfigs and AlterConfigs. librdkafka 2.0.2 has no IncrementalAlterConfigs: changing
// some configs of a topic describes its overrides first and sends the whole new set (what
// kafka-configs did before Kafka 2.3; a concurrent change in between is overwritten).
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/admin_common.h"

namespace gregor::tools {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafka = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

// A client for admin requests (librdkafka logs silenced: errors are reported by the caller).
RdKafka MakeAdminClient(const ClusterAddress& address, std::ostream& err);

// "no broker reachable at ... — is the cluster running? try ./run.sh ..."
std::string BrokerUnreachable(const ClusterAddress& address, const std::string& detail);

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  std::string source;  // librdkafka's name: DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, ...
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  std::string source;
  bool read_only = false;
  bool is_default = false;
  bool sensitive = false;
  std::vector<ConfigSynonym> synonyms;
};

// Errors carry the broker's message; an unreachable cluster is DeadlineExceeded.
absl::StatusOr<std::vector<ConfigEntry>> DescribeConfigs(rd_kafka_t* rk, rd_kafka_ResourceType_t type,
                                                         const std::string& name, int timeout_ms);

// Sets `set` and removes `remove` among a topic's overrides, keeping the others.
absl::Status AlterTopicConfigs(rd_kafka_t* rk, const std::string& topic,
                               const std::map<std::string, std::string>& set,
                               const std::vector<std::string>& remove, int timeout_ms);

// AlterConfigs of a broker resource: Gregor brokers answer with why they cannot.
absl::Status AlterBrokerConfigs(rd_kafka_t* rk, const std::string& broker,
                                const std::map<std::string, std::string>& set, int timeout_ms);

absl::Status CreatePartitions(rd_kafka_t* rk, const std::string& topic, int total, int timeout_ms);

}  // namespace gregor::tools
