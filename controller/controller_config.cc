#include "controller/controller_config.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/voters.h"

namespace gregor::controller {

const ConfigSchema& ControllerConfigSchema() {
  static const ConfigSchema* schema = [] {
    auto* s = new ConfigSchema;
    s->Int("node.id", std::nullopt, "This controller's id; must appear in controller.quorum.voters.", 0)
        .String("controller.quorum.voters", std::nullopt,
                "The quorum: id@host:port entries, comma-separated. Each controller serves the "
                "quorum, brokers and tools on its own entry's address.")
        .String("metadata.log.dir", std::nullopt, "Directory of the Raft log and snapshots.")
        .Int("controller.quorum.election.timeout.ms", "500",
             "Raft election timeout; randomized in [t, 2t).", 100, 60000)
        .Int("controller.quorum.heartbeat.interval.ms", "50",
             "How often the Raft leader sends appends when idle.", 10, 10000)
        .Int("broker.session.timeout.ms", "2000",
             "A broker without a heartbeat for this long is fenced.", 100, 3600000)
        .Int("broker.heartbeat.interval.ms", "250", "How often brokers heartbeat.", 10, 60000)
        .Int("num.partitions", "1", "Partitions of a topic created without a count.", 1, 100000)
        .Int("default.replication.factor", "1", "Replication factor of a topic created without one.",
             1, 32767)
        .Bool("unclean.leader.election.enable", "false",
              "Elect a replica outside the ISR when no in-sync replica is alive (data loss).")
        .Bool("auto.leader.rebalance.enable", "true",
              "Move leadership back to preferred replicas when they are in sync again.")
        .Int("leader.imbalance.check.interval.seconds", "300",
             "How often to check preferred leaders.", 1, 86400)
        .Int("leader.imbalance.rejoin.delay.ms", "12000",
             "A broker that comes back gets its preferred leaderships back only after it has been "
             "alive this long, so that clients have left the reconnect backoff they entered while "
             "it was down (librdkafka's reconnect.backoff.max.ms is 10 s); then at once, without "
             "waiting for the next check.",
             0, 3600000)
        .Int("leader.imbalance.per.broker.percentage", "10",
             "Rebalance a broker's leadership when more than this share of its preferred "
             "partitions is led elsewhere.",
             0, 100)
        .Long("metadata.log.max.record.bytes.between.snapshots", "20971520",
              "Take a metadata snapshot after this many bytes of records.", 1024)
        .String("log.level", "info", "trace, debug, info, warn, error or off.");
    return s;
  }();
  return *schema;
}

absl::Status ControllerConfig::Validate() const {
  if (node_id < 0) return absl::InvalidArgumentError("node.id is required");
  if (!voters.count(node_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("node.id ", node_id, " is not in controller.quorum.voters"));
  }
  if (metadata_log_dir.empty()) return absl::InvalidArgumentError("metadata.log.dir is required");
  if (quorum_heartbeat_ms * 2 > election_timeout_ms) {
    return absl::InvalidArgumentError(
        "controller.quorum.heartbeat.interval.ms must be at most half the election timeout");
  }
  if (broker_heartbeat_interval_ms >= broker_session_timeout_ms) {
    return absl::InvalidArgumentError(
        "broker.heartbeat.interval.ms must be below broker.session.timeout.ms");
  }
  return absl::OkStatus();
}

std::string ControllerConfig::listen_address() const { return voters.at(node_id); }

absl::StatusOr<ControllerConfig> LoadControllerConfig(const std::string& path,
                                                      const std::vector<std::string>& overrides) {
  const ConfigSchema& schema = ControllerConfigSchema();
  absl::StatusOr<Config> loaded = path.empty() ? Config::Parse(schema, "", "(defaults)")
                                               : Config::LoadFile(schema, path);
  if (!loaded.ok()) return loaded.status();
  Config& c = *loaded;
  for (const std::string& o : overrides) RETURN_IF_ERROR(c.ApplyOverride(o));
  for (const char* required : {"node.id", "controller.quorum.voters", "metadata.log.dir"}) {
    if (!c.IsSet(required)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing required config '", required, "' (set it in the file or with --override)"));
    }
  }
  ControllerConfig config;
  config.node_id = c.GetInt("node.id");
  auto voters = ParseQuorumVoters(c.GetString("controller.quorum.voters"));
  if (!voters.ok()) return voters.status();
  config.voters = *voters;
  config.metadata_log_dir = c.GetString("metadata.log.dir");
  config.election_timeout_ms = c.GetInt("controller.quorum.election.timeout.ms");
  config.quorum_heartbeat_ms = c.GetInt("controller.quorum.heartbeat.interval.ms");
  config.broker_session_timeout_ms = c.GetInt("broker.session.timeout.ms");
  config.broker_heartbeat_interval_ms = c.GetInt("broker.heartbeat.interval.ms");
  config.auto_leader_rebalance = c.GetBool("auto.leader.rebalance.enable");
  config.leader_imbalance_check_interval_s = c.GetInt("leader.imbalance.check.interval.seconds");
  config.leader_rejoin_delay_ms = c.GetInt("leader.imbalance.rejoin.delay.ms");
  config.snapshot_after_bytes = c.GetLong("metadata.log.max.record.bytes.between.snapshots");
  config.log_level = c.GetString("log.level");
  config.settings.default_partitions = c.GetInt("num.partitions");
  config.settings.default_replication_factor =
      static_cast<int16_t>(c.GetInt("default.replication.factor"));
  config.settings.unclean_leader_election = c.GetBool("unclean.leader.election.enable");
  config.settings.leader_imbalance_per_broker_percentage =
      c.GetInt("leader.imbalance.per.broker.percentage");
  RETURN_IF_ERROR(config.Validate());
  return config;
}

}  // namespace gregor::controller
