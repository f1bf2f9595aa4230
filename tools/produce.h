// `gregor produce TOPIC`: the console producer. Sends every line of stdin (or --file) as one
// message, optionally split into key and value at --key-separator, and reports each message
// the cluster did not acknowledge with its line number.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tools/kafka_client.h"

namespace CLI {
class App;
}

namespace gregor::tools {

struct ProduceOptions {
  ClientOptions client;
  std::string topic;
  std::string file;                          // read lines from here instead of `in`
  std::optional<std::string> key_separator;  // split each line at the first occurrence
  std::string acks = "all";                  // all|-1|1|0 (Kafka's console producer: -1)
  int32_t partition = -1;                    // -1: librdkafka's partitioner
  std::string compression = "none";          // none|gzip|snappy|lz4|zstd
  std::vector<std::string> headers;          // key=value, added to every message
  std::optional<int> linger_ms;
  int timeout_ms = 30000;                    // per message: librdkafka's message.timeout.ms
  bool idempotence = false;                  // librdkafka's enable.idempotence
};

// Returns the exit status: 0 every message acknowledged; 1 some were not (each reported on
// `err` as "line N: ..."); 2 nothing was sent (bad option values, no broker, unknown topic,
// unreadable file). Summary ("produced N messages to TOPIC") and errors go to `err`.
int RunProduce(const ProduceOptions& options, std::istream& in, std::ostream& err);

// Registers `gregor produce` on `app`; the command's exit status is stored in *exit_code.
void AddProduceCommand(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
