#include "broker/broker_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/strings.h"
#include "common/voters.h"

namespace gregor::broker {

const ConfigSchema& BrokerConfigSchema() {
  static const ConfigSchema* schema = [] {
    auto* s = new ConfigSchema;
    s->Int("node.id", std::nullopt, "This broker's id (unique in the cluster).", 0)
        .String("listeners", "PLAINTEXT://127.0.0.1:9092", "The Kafka listener, PLAINTEXT://host:port.")
        .String("advertised.listeners", std::nullopt,
                "The Kafka listener address given to clients (default: listeners).")
        .String("replication.listener", "127.0.0.1:19092",
                "host:port of the gRPC listener followers fetch from.")
        .List("log.dirs", std::nullopt, "Directories holding partition logs (comma-separated).")
        .List("log.dir", std::nullopt, "Alias of log.dirs.")
        .String("controller.quorum.voters", std::nullopt,
                "The controller quorum: id@host:port entries, comma-separated.")
        .String("broker.rack", "",
                "Rack of this broker: replicas of a partition are spread over racks, and consumers "
                "with client.rack may read from a replica in their rack (replica.selector.class).")
        .String("replica.selector.class", "",
                "Which replica a consumer should read from (KIP-392): empty for the leader, or "
                "org.apache.kafka.common.replica.RackAwareReplicaSelector for an in-sync replica "
                "in the consumer's client.rack.")
        .Int("num.partitions", "1", "Partitions of auto-created topics.", 1, 100000)
        .Int("default.replication.factor", "1", "Replication factor of auto-created topics.", 1, 32767)
        .Bool("auto.create.topics.enable", "true",
              "Create a topic when a client asks for metadata of an unknown one.")
        .Int("max.incremental.fetch.session.cache.slots", "1000",
             "Incremental fetch sessions (KIP-227) a broker keeps; 0 turns them off.", 0)
        .Long("min.incremental.fetch.session.eviction.ms", "120000",
              "A fetch session unused this long may give its slot to a new one.", 0)
        .Int("min.insync.replicas", "1",
             "acks=all writes need at least this many in-sync replicas (topic default).", 1)
        .Long("log.segment.bytes", "1073741824", "Segment size.", 14, 2147483647)
        .Long("log.roll.ms", "604800000", "Roll a segment after this long.", 1)
        .Long("log.roll.hours", std::nullopt, "log.roll.ms in hours (log.roll.ms wins).", 1)
        .Long("log.retention.ms", "604800000", "Delete segments older than this (-1: never).", -1)
        .Long("log.retention.minutes", std::nullopt, "log.retention.ms in minutes.", -1)
        .Long("log.retention.hours", std::nullopt, "log.retention.ms in hours.", -1)
        .Long("log.retention.bytes", "-1", "Delete old segments beyond this size (-1: no limit).", -1)
        .Long("log.retention.check.interval.ms", "300000", "How often retention runs.", 1)
        .Long("producer.id.expiration.ms", "86400000",
              "Forget an idempotent producer's sequences after this long without a write.", 1)
        .Int("log.index.interval.bytes", "4096", "Bytes between offset-index entries.", 0)
        .Long("log.flush.interval.messages", "9223372036854775807",
              "fsync after this many messages.", 1)
        .Long("log.flush.interval.ms", "9223372036854775807", "fsync after this long.", 0)
        .Long("log.flush.offset.checkpoint.interval.ms", "60000",
              "How often recovery points are checkpointed.", 1)
        .Int("message.max.bytes", "1048588", "Largest record batch accepted.", 0)
        .String("log.message.timestamp.type", "CreateTime", "CreateTime or LogAppendTime.")
        .String("log.cleanup.policy", "delete", "delete, compact or compact,delete.")
        .Bool("log.cleaner.enable", "true", "Run the log cleaner (compaction of compacted topics).")
        .Int("log.cleaner.threads", "1", "Log cleaner threads.", 0, 64)
        .Long("log.cleaner.dedupe.buffer.size", "134217728",
              "Memory of the cleaners' key -> offset maps (all threads; 24 bytes per key).",
              24 * 16, 2147483647.0 * 64)
        .Double("log.cleaner.io.buffer.load.factor", "0.9", "How full a cleaner's key map may get.",
                0.01, 0.99)
        .Long("log.cleaner.io.buffer.size", "524288", "Read buffers of the cleaners (all threads).",
              8192)
        .Double("log.cleaner.io.max.bytes.per.second", "1.7976931348623157E308",
                "Bound on the cleaners' reads plus writes.", 1)
        .Long("log.cleaner.backoff.ms", "15000", "Sleep of a cleaner thread with nothing to do.", 0)
        .Double("log.cleaner.min.cleanable.ratio", "0.5",
                "Default min.cleanable.dirty.ratio: clean a log when its dirty share exceeds this.", 0,
                1)
        .Long("log.cleaner.delete.retention.ms", "86400000",
              "Default delete.retention.ms: how long tombstones stay after their first clean.", 0)
        .Long("log.cleaner.min.compaction.lag.ms", "0",
              "Default min.compaction.lag.ms: records younger than this are not cleaned.", 0)
        .Long("log.cleaner.max.compaction.lag.ms", "9223372036854775807",
              "Default max.compaction.lag.ms: dirty records older than this are cleaned whatever the "
              "ratio.",
              1)
        .Int("replica.lag.time.max.ms", "30000",
             "A follower not caught up for this long leaves the ISR.", 1)
        .Int("replica.fetch.max.bytes", "1048576", "Bytes per partition per follower fetch.", 1)
        .Int("replica.fetch.wait.max.ms", "500", "Longest wait of a follower fetch.", 0)
        .Long("replica.fetch.response.max.bytes", "10485760", "Bytes per follower fetch response.", 1)
        .Long("replica.high.watermark.checkpoint.interval.ms", "5000",
              "How often high watermarks are checkpointed.", 1)
        .Int("broker.heartbeat.interval.ms", "250", "How often to heartbeat the controller.", 10)
        .Int("controlled.shutdown.timeout.ms", "30000",
             "How long SIGTERM waits for leadership to move away.", 0)
        .Int("socket.request.max.bytes", "104857600", "Largest request accepted.", 1024)
        .Int("num.network.threads", "2", "Threads serving Kafka connections.", 1, 64)
        .Int("num.io.threads", "4", "Threads doing disk work for requests.", 1, 256)
        .Int("queued.max.requests.per.connection", "32",
             "Requests of one connection in progress at once (their waits overlap).", 1, 1024)
        .String("log.level", "info", "trace, debug, info, warn, error or off.")
        .Int("offsets.topic.num.partitions", "50",
             "Partitions of __consumer_offsets (used when it is created; never change it after).", 1,
             100000)
        .Int("offsets.topic.replication.factor", "3",
             "Replication factor of __consumer_offsets (capped at the live brokers).", 1, 32767)
        .Long("offsets.topic.segment.bytes", "104857600", "Segment size of __consumer_offsets.", 14,
              2147483647)
        .Long("offsets.retention.minutes", "10080",
              "Committed offsets of a group expire this long after it became empty.", 1)
        .Long("offsets.retention.check.interval.ms", "600000", "How often offsets expire.", 1)
        .Int("offsets.commit.timeout.ms", "5000",
             "How long a commit waits for the offsets partition's replicas.", 1)
        .Int("offsets.load.buffer.size", "5242880",
             "Bytes read at a time when loading groups from __consumer_offsets.", 1)
        .Int("offset.metadata.max.bytes", "4096", "Longest metadata string of a commit.", 0)
        .Int("group.min.session.timeout.ms", "6000", "Shortest session timeout a member may ask for.",
             1)
        .Int("group.max.session.timeout.ms", "1800000",
             "Longest session timeout a member may ask for.", 1)
        .Int("group.initial.rebalance.delay.ms", "3000",
             "How long an empty group's first rebalance waits for more members.", 0)
        .Int("group.max.size", "2147483647", "Most members a group may have.", 1);
    return s;
  }();
  return *schema;
}

absl::Status ParseListener(std::string_view value, std::string* host, int32_t* port) {
  std::string_view v = value;
  if (absl::StartsWith(ToAbsl(v), "PLAINTEXT://")) v.remove_prefix(12);
  if (v.find("://") != std::string_view::npos || v.find(',') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listener '", ToAbsl(value), "' is not supported: use one PLAINTEXT://host:port"));
  }
  if (!v.empty() && v.front() == ':') {
    *host = "0.0.0.0";
    std::string dummy;
    return SplitHostPort(absl::StrCat("0.0.0.0", ToAbsl(v)), &dummy, port);
  }
  return SplitHostPort(v, host, port);
}

absl::Status BrokerConfig::Validate() const {
  if (node_id < 0) return absl::InvalidArgumentError("node.id is required");
  if (log_dirs.empty()) return absl::InvalidArgumentError("log.dirs is required");
  if (controller_voters.empty()) {
    return absl::InvalidArgumentError("controller.quorum.voters is required");
  }
  if (listen_port == replication_port && (listen_host == replication_host || listen_host == "0.0.0.0")) {
    return absl::InvalidArgumentError("listeners and replication.listener must use different ports");
  }
  return log.Validate();
}

std::string BrokerConfig::Describe() const {
  return absl::StrCat("node.id=", node_id, " kafka=", listen_host, ":", listen_port,
                      " advertised=", advertised_host, ":", advertised_port,
                      " replication=", replication_host, ":", replication_port,
                      " log.dirs=", absl::StrJoin(log_dirs, ","));
}

absl::StatusOr<BrokerConfig> LoadBrokerConfig(const std::string& path,
                                              const std::vector<std::string>& overrides) {
  const ConfigSchema& schema = BrokerConfigSchema();
  absl::StatusOr<Config> loaded =
      path.empty() ? Config::Parse(schema, "", "(defaults)") : Config::LoadFile(schema, path);
  if (!loaded.ok()) return loaded.status();
  Config& c = *loaded;
  for (const std::string& o : overrides) RETURN_IF_ERROR(c.ApplyOverride(o));
  for (const char* required : {"node.id", "controller.quorum.voters"}) {
    if (!c.IsSet(required)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "missing required config '", required, "' (set it in the file or with --override)"));
    }
  }
  BrokerConfig b;
  for (const ConfigKeyDef& def : schema.keys()) {
    b.settings[def.name] = {c.Text(def.name), c.IsSet(def.name), def.type, def.doc};
  }
  b.node_id = c.GetInt("node.id");
  RETURN_IF_ERROR(ParseListener(c.GetString("listeners"), &b.listen_host, &b.listen_port));
  if (c.IsSet("advertised.listeners")) {
    RETURN_IF_ERROR(
        ParseListener(c.GetString("advertised.listeners"), &b.advertised_host, &b.advertised_port));
  } else {
    b.advertised_host = b.listen_host == "0.0.0.0" ? "127.0.0.1" : b.listen_host;
    b.advertised_port = b.listen_port;
  }
  RETURN_IF_ERROR(SplitHostPort(c.GetString("replication.listener"), &b.replication_host,
                                &b.replication_port));
  if (c.IsSet("log.dirs")) {
    b.log_dirs = c.GetList("log.dirs");
  } else if (c.IsSet("log.dir")) {
    b.log_dirs = c.GetList("log.dir");
  }
  if (b.log_dirs.empty()) {
    return absl::InvalidArgumentError("missing required config 'log.dirs'");
  }
  auto voters = ParseQuorumVoters(c.GetString("controller.quorum.voters"));
  if (!voters.ok()) return voters.status();
  b.controller_voters = *voters;
  b.rack = c.GetString("broker.rack");
  const std::string selector = c.GetString("replica.selector.class");
  if (selector == "org.apache.kafka.common.replica.RackAwareReplicaSelector") {
    b.rack_aware_replica_selector = true;
  } else if (!selector.empty() && selector != "org.apache.kafka.common.replica.LeaderSelector") {
    return absl::InvalidArgumentError(absl::StrCat(
        "replica.selector.class '", selector, "' is not supported: leave it empty (the leader) or "
        "set org.apache.kafka.common.replica.RackAwareReplicaSelector"));
  }
  b.num_partitions = c.GetInt("num.partitions");
  b.default_replication_factor = static_cast<int16_t>(c.GetInt("default.replication.factor"));
  b.auto_create_topics = c.GetBool("auto.create.topics.enable");
  b.min_insync_replicas = c.GetInt("min.insync.replicas");
  b.fetch_session_cache_slots = c.GetInt("max.incremental.fetch.session.cache.slots");
  b.fetch_session_eviction_ms = c.GetLong("min.incremental.fetch.session.eviction.ms");
  b.log.segment_bytes = c.GetLong("log.segment.bytes");
  b.log.segment_ms = c.IsSet("log.roll.ms") || !c.IsSet("log.roll.hours")
                         ? c.GetLong("log.roll.ms")
                         : c.GetLong("log.roll.hours") * 3600000;
  if (c.IsSet("log.retention.ms")) {
    b.log.retention_ms = c.GetLong("log.retention.ms");
  } else if (c.IsSet("log.retention.minutes")) {
    b.log.retention_ms = c.GetLong("log.retention.minutes") * 60000;
  } else if (c.IsSet("log.retention.hours")) {
    b.log.retention_ms = c.GetLong("log.retention.hours") * 3600000;
  } else {
    b.log.retention_ms = c.GetLong("log.retention.ms");
  }
  b.log.retention_bytes = c.GetLong("log.retention.bytes");
  b.log.index_interval_bytes = c.GetInt("log.index.interval.bytes");
  b.log.flush_messages = c.GetLong("log.flush.interval.messages");
  b.log.flush_ms = c.GetLong("log.flush.interval.ms");
  b.log.max_message_bytes = c.GetInt("message.max.bytes");
  std::string ts = c.GetString("log.message.timestamp.type");
  if (ts == "LogAppendTime") {
    b.log.timestamp_type = storage::TimestampType::kLogAppendTime;
  } else if (ts != "CreateTime") {
    return absl::InvalidArgumentError(absl::StrCat(
        "log.message.timestamp.type must be CreateTime or LogAppendTime, got '", ts, "'"));
  }
  b.log.cleanup_policy = c.GetString("log.cleanup.policy");
  b.log.min_cleanable_dirty_ratio = c.GetDouble("log.cleaner.min.cleanable.ratio");
  b.log.delete_retention_ms = c.GetLong("log.cleaner.delete.retention.ms");
  b.log.min_compaction_lag_ms = c.GetLong("log.cleaner.min.compaction.lag.ms");
  b.log.max_compaction_lag_ms = c.GetLong("log.cleaner.max.compaction.lag.ms");
  b.cleaner.enable = c.GetBool("log.cleaner.enable");
  b.cleaner.threads = c.GetInt("log.cleaner.threads");
  b.cleaner.dedupe_buffer_size = c.GetLong("log.cleaner.dedupe.buffer.size");
  b.cleaner.dedupe_load_factor = c.GetDouble("log.cleaner.io.buffer.load.factor");
  b.cleaner.io_buffer_size = c.GetLong("log.cleaner.io.buffer.size");
  b.cleaner.io_max_bytes_per_second = c.GetDouble("log.cleaner.io.max.bytes.per.second");
  b.cleaner.backoff_ms = c.GetLong("log.cleaner.backoff.ms");
  if (b.cleaner.threads == 0) b.cleaner.enable = false;
  b.retention_check_interval_ms = c.GetLong("log.retention.check.interval.ms");
  b.producer_id_expiration_ms = c.GetLong("producer.id.expiration.ms");
  b.recovery_point_checkpoint_interval_ms = c.GetLong("log.flush.offset.checkpoint.interval.ms");
  b.hw_checkpoint_interval_ms = c.GetLong("replica.high.watermark.checkpoint.interval.ms");
  b.replica_lag_time_max_ms = c.GetInt("replica.lag.time.max.ms");
  b.replica_fetch_max_bytes = c.GetInt("replica.fetch.max.bytes");
  b.replica_fetch_wait_max_ms = c.GetInt("replica.fetch.wait.max.ms");
  b.replica_fetch_response_max_bytes = c.GetLong("replica.fetch.response.max.bytes");
  b.broker_heartbeat_interval_ms = c.GetInt("broker.heartbeat.interval.ms");
  b.controlled_shutdown_timeout_ms = c.GetInt("controlled.shutdown.timeout.ms");
  b.socket_request_max_bytes = c.GetInt("socket.request.max.bytes");
  b.num_network_threads = c.GetInt("num.network.threads");
  b.num_io_threads = c.GetInt("num.io.threads");
  b.queued_max_requests_per_connection = c.GetInt("queued.max.requests.per.connection");
  b.log_level = c.GetString("log.level");
  b.offsets_topic_num_partitions = c.GetInt("offsets.topic.num.partitions");
  b.offsets_topic_replication_factor = static_cast<int16_t>(c.GetInt("offsets.topic.replication.factor"));
  b.offsets_topic_segment_bytes = c.GetLong("offsets.topic.segment.bytes");
  b.offsets_retention_check_interval_ms = c.GetLong("offsets.retention.check.interval.ms");
  b.offsets_commit_timeout_ms = c.GetInt("offsets.commit.timeout.ms");
  b.offsets_load_buffer_size = c.GetInt("offsets.load.buffer.size");
  b.group.offsets_retention_ms = c.GetLong("offsets.retention.minutes") * 60000;
  b.group.offset_metadata_max_bytes = c.GetInt("offset.metadata.max.bytes");
  b.group.min_session_timeout_ms = c.GetInt("group.min.session.timeout.ms");
  b.group.max_session_timeout_ms = c.GetInt("group.max.session.timeout.ms");
  b.group.initial_rebalance_delay_ms = c.GetInt("group.initial.rebalance.delay.ms");
  b.group.max_size = c.GetInt("group.max.size");
  if (b.group.min_session_timeout_ms > b.group.max_session_timeout_ms) {
    return absl::InvalidArgumentError(
        "group.min.session.timeout.ms must not exceed group.max.session.timeout.ms");
  }
  RETURN_IF_ERROR(b.Validate());
  return b;
}

}  // namespace gregor::broker
