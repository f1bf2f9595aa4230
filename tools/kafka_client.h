// Shared librdkafka plumbing for the client commands (`gregor produce`, `consume`, `perf`):
// building a configuration from command-line flags and `--property key=value` pass-through,
// quiet logging, waiting for a topic's metadata, and error texts that tell the user what to do.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace CLI {
class App;
}

namespace gregor::tools {

// The local cluster's three brokers (deploy/local/cluster.sh): any one of them is enough.
inline constexpr char kDefaultBootstrapServer[] = "localhost:9092,localhost:9093,localhost:9094";

// Flags every client command has.
struct ClientOptions {
  std::string bootstrap_server = kDefaultBootstrapServer;
  std::vector<std::string> properties;  // "key=value", passed to librdkafka last
  bool verbose = false;                 // also print librdkafka's own log lines
};

// Adds --bootstrap-server, --property (repeatable) and --verbose to `cmd`. `property_help` says
// what --property is for on this command.
void AddClientFlags(CLI::App* cmd, ClientOptions* options, const std::string& property_help);

using KafkaSettings = std::vector<std::pair<std::string, std::string>>;

// Splits "key=value" at the first '='; the key must not be empty (the value may be).
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(const std::string& text,
                                                                   const std::string& flag);

// The --acks and --compression values, as librdkafka spells them; errors list the choices.
absl::StatusOr<std::string> AcksSetting(const std::string& acks);
// The producer settings of --acks and --idempotence (librdkafka's acks and enable.idempotence;
// idempotence needs acks=all, and keeps at most 5 requests in flight per broker).
absl::StatusOr<KafkaSettings> DeliverySettings(const std::string& acks, bool idempotence);
absl::StatusOr<std::string> CompressionSetting(const std::string& codec);

// The first line of every "cannot reach the cluster" error.
std::string UnreachableMessage(const std::string& bootstrap);

struct TopicMetadata {
  std::string name;
  int32_t partitions = 0;
  std::vector<int32_t> leaderless;  // partitions without a leader right now (a broker is down)
};

// "warning: partition(s) 1,2 of 'orders' have no leader right now ..." or "" if all have one.
std::string LeaderlessWarning(const TopicMetadata& topic);

// One librdkafka producer or consumer handle plus the state its callbacks share.
class KafkaClient {
 public:
  using DeliveryCallback = std::function<void(const rd_kafka_message_t&)>;

  // Configuration order: bootstrap.servers and quiet-logging defaults, then `settings` (the
  // command's own, from its flags), then every --property (the user's last word). An unknown
  // property or bad value fails with the property named. `on_delivery` (producers only) runs on
  // the thread that calls rd_kafka_poll / flush.
  static absl::StatusOr<std::unique_ptr<KafkaClient>> Create(rd_kafka_type_t type,
                                                             const ClientOptions& options,
                                                             const KafkaSettings& settings,
                                                             DeliveryCallback on_delivery = {});
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  rd_kafka_t* get() const { return rk_; }
  const std::string& bootstrap() const { return bootstrap_; }

  // Asks the cluster for `topic` until every partition has a leader (or, after a few seconds,
  // returns with the leaderless ones listed: their brokers may be down while the others work).
  // Fails at once when no broker is reachable ("no broker reachable at ... — is the cluster
  // running?"), when the topic does not exist and is not being auto-created (the error lists
  // some existing topics), or for an invalid name; otherwise after `timeout_ms`.
  // `allow_create` only picks the advice in the unknown-topic error: whether the broker
  // auto-creates follows the client's allow.auto.create.topics (producers: on).
  absl::StatusOr<TopicMetadata> WaitForTopic(const std::string& topic, bool allow_create,
                                             int timeout_ms);

  // Low and high watermark of one partition (high = next offset to be written = HW).
  absl::StatusOr<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic,
                                                         int32_t partition, int timeout_ms);

  // True once librdkafka has reported that it cannot connect to any broker; cleared when a
  // request succeeds again.
  bool all_brokers_down() const { return all_brokers_down_.load(); }
  void clear_all_brokers_down() { all_brokers_down_.store(false); }
  // The last error librdkafka reported through its error callback ("" if none).
  std::string last_error() const;

 private:
  KafkaClient() = default;
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void* opaque);
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf);
  absl::Status ReachabilityError() const;

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_type_t type_ = RD_KAFKA_PRODUCER;
  std::string bootstrap_;
  DeliveryCallback on_delivery_;
  std::atomic<bool> all_brokers_down_{false};
  mutable std::mutex mu_;
  std::string last_error_;
};

// Ctrl-C handling for long-running commands: the first SIGINT/SIGTERM sets a flag the command
// loops check (and interrupts a blocking read of stdin); a second one kills the process.
void InstallInterruptHandler();
bool Interrupted();
void ResetInterrupted();  // for in-process tests

// Unescapes \n, \t, \r, \\ and \0 in a separator or template given on the command line.
std::string Unescape(const std::string& text);

}  // namespace gregor::tools
