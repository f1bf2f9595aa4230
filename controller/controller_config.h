// gregor-controller's configuration: Kafka-style keys from controller.properties and
// --override, turned once into this plain struct.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config.h"
#include "controller/control.h"

namespace gregor::controller {

struct ControllerConfig {
  int32_t node_id = -1;                          // node.id
  std::map<int32_t, std::string> voters;         // controller.quorum.voters
  std::string metadata_log_dir;                  // metadata.log.dir
  int32_t election_timeout_ms = 500;             // controller.quorum.election.timeout.ms
  int32_t quorum_heartbeat_ms = 50;              // controller.quorum.heartbeat.interval.ms
  int32_t broker_session_timeout_ms = 2000;      // broker.session.timeout.ms
  int32_t broker_heartbeat_interval_ms = 250;    // broker.heartbeat.interval.ms (brokers' pace)
  bool auto_leader_rebalance = true;             // auto.leader.rebalance.enable
  int32_t leader_imbalance_check_interval_s = 300;  // leader.imbalance.check.interval.seconds
  int32_t leader_rejoin_delay_ms = 12000;           // leader.imbalance.rejoin.delay.ms
  int64_t snapshot_after_bytes = 20 << 20;  // metadata.log.max.record.bytes.between.snapshots
  std::string log_level = "info";           // log.level
  ControlSettings settings;  // num.partitions, default.replication.factor, unclean..., imbalance %

  absl::Status Validate() const;
  // This node's host:port (its entry in the voters).
  std::string listen_address() const;
};

// Every key gregor-controller accepts, with defaults and docs.
const ConfigSchema& ControllerConfigSchema();

// Loads `path` (may be empty: defaults only), applies `overrides` ("key=value"), validates.
absl::StatusOr<ControllerConfig> LoadControllerConfig(const std::string& path,
                                                      const std::vector<std::string>& overrides);

}  // namespace gregor::controller
