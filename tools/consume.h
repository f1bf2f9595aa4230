// `gregor consume TOPIC`: the console consumer. Reads committed messages from every partition
// of a topic (or one, --partition), assigned explicitly, or as a member of a consumer group
// (--group, committing what it printed), and prints them as text, with Kafka's print.* choices
// or a --format template.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "tools/kafka_client.h"

namespace CLI {
class App;
}

namespace gregor::tools {

struct ConsumeOptions {
  ClientOptions client;
  std::string topic;
  std::string group;           // consume as a member of this group ("": assign, no commits)
  std::string reset;           // with group: earliest, latest or none ("": latest)
  bool from_beginning = false;
  std::string offset;          // "" (latest), "earliest", "latest" or a number
  int32_t partition = -1;      // -1: every partition
  int64_t max_messages = -1;   // -1: no limit
  int64_t timeout_ms = -1;     // stop after this long without a message; -1: never
  bool print_key = false;
  bool print_offset = false;
  bool print_partition = false;
  bool print_timestamp = false;
  bool print_headers = false;
  bool print_value = true;
  std::string key_separator = "\t";  // between the printed fields
  std::string format;                // template with {key} {value} {offset} ...; overrides print_*
};

// Returns the exit status: 0 when it stopped normally (--max-messages reached, --timeout-ms
// without a message, or Ctrl-C); 1 on an error while reading; 2 when it could not start (bad
// option values, no broker, unknown topic or partition, offset out of range).
// Messages go to `out`, one per line; errors and "Processed a total of N messages" to `err`.
int RunConsume(const ConsumeOptions& options, std::ostream& out, std::ostream& err);

// A compiled --format template; Render appends one message (without a line break).
class MessageFormat {
 public:
  static absl::StatusOr<MessageFormat> Parse(const std::string& tmpl);
  void Render(const rd_kafka_message_t& msg, std::string* out) const;

 private:
  enum class Field { kLiteral, kKey, kValue, kOffset, kPartition, kTimestamp, kHeaders, kTopic };
  struct Piece {
    Field field;
    std::string text;  // kLiteral
  };
  std::vector<Piece> pieces_;
};

// Registers `gregor consume` on `app`; the command's exit status is stored in *exit_code.
void AddConsumeCommand(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
