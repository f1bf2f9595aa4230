// gregor-broker's configuration: Kafka's key names from server.properties and --override,
// turned once into this plain struct.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/group/group_config.h"
#include "broker/replication/replication_config.h"
#include "broker/storage/log_config.h"
#include "common/config.h"

namespace gregor::broker {

struct BrokerConfig {
  // Every broker config as DescribeConfigs shows it: the value (set, else the default; unset
  // if neither), whether server.properties or --override set it, type and doc.
  struct Setting {
    std::optional<std::string> value;
    bool is_set = false;
    ConfigType type = ConfigType::kString;
    std::string doc;
  };
  std::map<std::string, Setting> settings;

  int32_t node_id = -1;                      // node.id
  std::string listen_host;                   // from listeners=PLAINTEXT://host:port
  int32_t listen_port = 9092;
  std::string advertised_host;               // from advertised.listeners (default: listeners)
  int32_t advertised_port = 9092;
  std::string replication_host = "127.0.0.1";  // replication.listener=host:port
  int32_t replication_port = 19092;
  std::vector<std::string> log_dirs;         // log.dirs (or log.dir)
  std::map<int32_t, std::string> controller_voters;  // controller.quorum.voters
  std::string rack;                          // broker.rack
  bool rack_aware_replica_selector = false;  // replica.selector.class=...RackAwareReplicaSelector

  int32_t num_partitions = 1;                // num.partitions (auto-created topics)
  int16_t default_replication_factor = 1;    // default.replication.factor
  bool auto_create_topics = true;            // auto.create.topics.enable
  int32_t min_insync_replicas = 1;           // min.insync.replicas (default for topics)
  int32_t fetch_session_cache_slots = 1000;  // max.incremental.fetch.session.cache.slots
  int64_t fetch_session_eviction_ms = 120000;  // min.incremental.fetch.session.eviction.ms
  storage::LogConfig log;                    // log.* defaults for every topic
  int64_t retention_check_interval_ms = 300000;  // log.retention.check.interval.ms
  int64_t producer_id_expiration_ms = 86400000;   // producer.id.expiration.ms
  storage::CleanerConfig cleaner;            // log.cleaner.*
  int64_t recovery_point_checkpoint_interval_ms = 60000;  // log.flush.offset.checkpoint.interval.ms
  int64_t hw_checkpoint_interval_ms = 5000;  // replica.high.watermark.checkpoint.interval.ms

  int32_t replica_lag_time_max_ms = 30000;   // replica.lag.time.max.ms
  int32_t replica_fetch_max_bytes = 1048576; // replica.fetch.max.bytes
  int32_t replica_fetch_wait_max_ms = 500;   // replica.fetch.wait.max.ms
  int64_t replica_fetch_response_max_bytes = 10485760;  // replica.fetch.response.max.bytes
  int32_t broker_heartbeat_interval_ms = 250;  // broker.heartbeat.interval.ms
  int32_t controlled_shutdown_timeout_ms = 30000;  // controlled.shutdown.timeout.ms

  int32_t socket_request_max_bytes = 104857600;  // socket.request.max.bytes
  int32_t num_network_threads = 2;           // num.network.threads
  int32_t num_io_threads = 4;                // num.io.threads
  // queued.max.requests.per.connection: requests of one connection started but not yet
  // answered (an acks=all produce waiting for replication); 1 = strictly one at a time.
  int32_t queued_max_requests_per_connection = 32;
  std::string log_level = "info";            // log.level

  // Consumer groups: the __consumer_offsets topic and the coordinator.
  int32_t offsets_topic_num_partitions = 50;          // offsets.topic.num.partitions
  int16_t offsets_topic_replication_factor = 3;       // offsets.topic.replication.factor
  int64_t offsets_topic_segment_bytes = 104857600;    // offsets.topic.segment.bytes
  int64_t offsets_retention_check_interval_ms = 600000;  // offsets.retention.check.interval.ms
  int32_t offsets_commit_timeout_ms = 5000;           // offsets.commit.timeout.ms
  int32_t offsets_load_buffer_size = 5242880;         // offsets.load.buffer.size
  group::GroupConfig group;  // group.*, offsets.retention.minutes, offset.metadata.max.bytes

  absl::Status Validate() const;
  std::string Describe() const;  // one line for the start-up log
  // The settings the replication module takes.
  ReplicationConfig Replication() const {
    return {node_id,
            replication_host,
            replication_port,
            replica_fetch_max_bytes,
            replica_fetch_response_max_bytes,
            replica_fetch_wait_max_ms};
  }
};

const ConfigSchema& BrokerConfigSchema();

// Loads `path` (may be empty: defaults only), applies `overrides` ("key=value"), validates.
absl::StatusOr<BrokerConfig> LoadBrokerConfig(const std::string& path,
                                              const std::vector<std::string>& overrides);

// Parses "PLAINTEXT://host:port" (a single listener; an empty host means 0.0.0.0).
absl::Status ParseListener(std::string_view value, std::string* host, int32_t* port);

}  // namespace gregor::broker
