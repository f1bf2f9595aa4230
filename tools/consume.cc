#include "tools/consume.h"

#include <chrono>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace gregor::tools {
namespace {

using Clock = std::chrono::steady_clock;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};

void AppendBytes(const void* data, size_t len, std::string* out) {
  if (data == nullptr) {
    out->append("null");
  } else {
    out->append(static_cast<const char*>(data), len);
  }
}

// "k1:v1,k2:v2" (Kafka's DefaultMessageFormatter); `none` when the message has no headers.
void AppendHeaders(const rd_kafka_message_t& msg, const char* none, std::string* out) {
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(&msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || hdrs == nullptr ||
      rd_kafka_header_cnt(hdrs) == 0) {
    out->append(none);
    return;
  }
  const char* name;
  const void* value;
  size_t size;
  for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                     RD_KAFKA_RESP_ERR_NO_ERROR;
       ++i) {
    if (i > 0) out->push_back(',');
    out->append(name);
    out->push_back(':');
    AppendBytes(value, size, out);
  }
}

// Kafka console-consumer formatter properties (`--property print.key=true` ...) are understood
// here instead of being handed to librdkafka.
absl::Status TakeFormatterProperties(ConsumeOptions* options) {
  std::vector<std::string> rest;
  for (const std::string& p : options->client.properties) {
    auto kv = ParseKeyValue(p, "--property");
    if (!kv.ok()) return kv.status();
    const std::string& k = kv->first;
    bool on = kv->second == "true";
    if (k == "print.key") options->print_key = on;
    else if (k == "print.offset") options->print_offset = on;
    else if (k == "print.partition") options->print_partition = on;
    else if (k == "print.timestamp") options->print_timestamp = on;
    else if (k == "print.headers") options->print_headers = on;
    else if (k == "print.value") options->print_value = on;
    else if (k == "key.separator") options->key_separator = kv->second;
    else rest.push_back(p);
  }
  options->client.properties = rest;
  return absl::OkStatus();
}

// Kafka's DefaultMessageFormatter layout: [timestamp] [Partition:p] [Offset:o] [headers] [key]
// value, separated by the key separator.
void RenderDefault(const ConsumeOptions& o, const rd_kafka_message_t& msg, std::string* out) {
  bool first = true;
  auto field = [&] {
    if (!first) out->append(o.key_separator);
    first = false;
  };
  if (o.print_timestamp) {
    field();
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(&msg, &type);
    if (type == RD_KAFKA_TIMESTAMP_CREATE_TIME) {
      absl::StrAppend(out, "CreateTime:", ts);
    } else if (type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME) {
      absl::StrAppend(out, "LogAppendTime:", ts);
    } else {
      out->append("NO_TIMESTAMP");
    }
  }
  if (o.print_partition) {
    field();
    absl::StrAppend(out, "Partition:", msg.partition);
  }
  if (o.print_offset) {
    field();
    absl::StrAppend(out, "Offset:", msg.offset);
  }
  if (o.print_headers) {
    field();
    AppendHeaders(msg, "NO_HEADERS", out);
  }
  if (o.print_key) {
    field();
    AppendBytes(msg.key, msg.key_len, out);
  }
  if (o.print_value) {
    field();
    AppendBytes(msg.payload, msg.len, out);
  }
}

bool IsFatal(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__FATAL:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<MessageFormat> MessageFormat::Parse(const std::string& raw) {
  static const std::pair<const char*, Field> kFields[] = {
      {"key", Field::kKey},           {"value", Field::kValue},
      {"offset", Field::kOffset},     {"partition", Field::kPartition},
      {"timestamp", Field::kTimestamp}, {"headers", Field::kHeaders},
      {"topic", Field::kTopic}};
  const std::string tmpl = Unescape(raw);
  MessageFormat f;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) f.pieces_.push_back({Field::kLiteral, literal});
    literal.clear();
  };
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      literal.push_back(c);  // {{ and }} are literal braces
      ++i;
      continue;
    }
    if (c == '}') {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --format '", raw, "': unmatched '}' (write }} for a literal brace)"));
    }
    if (c != '{') {
      literal.push_back(c);
      continue;
    }
    size_t close = tmpl.find('}', i);
    if (close == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad --format '", raw, "': unclosed '{' (write {{ for a literal brace)"));
    }
    std::string name = tmpl.substr(i + 1, close - i - 1);
    const Field* field = nullptr;
    for (const auto& [n, fld] : kFields) {
      if (name == n) field = &fld;
    }
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --format '", raw, "': unknown placeholder {", name,
          "}; use {key} {value} {offset} {partition} {timestamp} {headers} {topic}"));
    }
    flush();
    f.pieces_.push_back({*field, ""});
    i = close;
  }
  flush();
  return f;
}

void MessageFormat::Render(const rd_kafka_message_t& msg, std::string* out) const {
  for (const Piece& p : pieces_) {
    switch (p.field) {
      case Field::kLiteral: out->append(p.text); break;
      case Field::kKey: AppendBytes(msg.key, msg.key_len, out); break;
      case Field::kValue: AppendBytes(msg.payload, msg.len, out); break;
      case Field::kOffset: absl::StrAppend(out, msg.offset); break;
      case Field::kPartition: absl::StrAppend(out, msg.partition); break;
      case Field::kTimestamp: absl::StrAppend(out, rd_kafka_message_timestamp(&msg, nullptr)); break;
      case Field::kHeaders: AppendHeaders(msg, "", out); break;
      case Field::kTopic: out->append(rd_kafka_topic_name(msg.rkt)); break;
    }
  }
}

int RunConsume(const ConsumeOptions& given, std::ostream& out, std::ostream& err) {
  ConsumeOptions options = given;
  auto fail = [&](const absl::Status& s) {
    err << "error: " << s.message() << "\n";
    return 2;
  };
  if (auto s = TakeFormatterProperties(&options); !s.ok()) return fail(s);
  std::optional<MessageFormat> format;
  if (!options.format.empty()) {
    auto f = MessageFormat::Parse(options.format);
    if (!f.ok()) return fail(f.status());
    format = std::move(*f);
  }
  options.key_separator = Unescape(options.key_separator);

  const bool in_group = !options.group.empty();
  std::string reset = options.reset;
  if (in_group) {
    if (options.partition >= 0 || !options.offset.empty()) {
      return fail(absl::InvalidArgumentError(
          "--partition and --offset read without a group: a group's members get their partitions "
          "from the group and start at its committed offsets (--reset earliest|latest|none for "
          "partitions without one)"));
    }
    if (options.from_beginning && !reset.empty() && reset != "earliest") {
      return fail(absl::InvalidArgumentError(
          "--from-beginning means --reset earliest; use one of them"));
    }
    if (options.from_beginning) reset = "earliest";
    if (reset.empty()) reset = "latest";
    if (reset != "earliest" && reset != "latest" && reset != "none") {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "bad --reset '", reset, "': use earliest, latest or none")));
    }
  } else if (!reset.empty()) {
    return fail(absl::InvalidArgumentError(
        "--reset applies to a consumer group (--group G); without one use --from-beginning or "
        "--offset"));
  }

  // Where to start: a logical offset for every partition, or one absolute offset.
  int64_t start = RD_KAFKA_OFFSET_END;
  bool absolute = false;
  if (options.from_beginning && !options.offset.empty()) {
    return fail(absl::InvalidArgumentError(
        "use either --from-beginning or --offset, not both (--from-beginning = --offset earliest)"));
  }
  if (options.from_beginning || options.offset == "earliest") {
    start = RD_KAFKA_OFFSET_BEGINNING;
  } else if (options.offset.empty() || options.offset == "latest") {
    start = RD_KAFKA_OFFSET_END;
  } else {
    int64_t n;
    if (!absl::SimpleAtoi(ToAbsl(options.offset), &n) || n < 0) {
      return fail(absl::InvalidArgumentError(absl::StrCat(
          "bad --offset '", options.offset, "': use earliest, latest or an offset >= 0")));
    }
    if (options.partition < 0) {
      return fail(absl::InvalidArgumentError(
          "--offset N needs --partition P: offsets are per partition (earliest and latest "
          "work for all partitions)"));
    }
    start = n;
    absolute = true;
  }
  if (options.max_messages == 0) return 0;

  KafkaSettings settings = {
      // librdkafka's KafkaConsumer insists on a group.id; with assign() and no commits it never
      // talks to a group coordinator.
      {"group.id", "gregor-cli-no-group"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"isolation.level", "read_committed"},  // up to the last stable offset (= HW in Gregor)
      {"auto.offset.reset", "error"},         // never skip silently
      {"allow.auto.create.topics", "false"},
  };
  if (in_group) {
    // A member of the group: partitions from the group, committed offsets to start from, and
    // commits (every 5 s and at exit) of what was printed — each message's offset is stored
    // only after its line is written.
    settings[0] = {"group.id", options.group};
    settings[1] = {"enable.auto.commit", "true"};
    settings[5] = {"auto.offset.reset", reset == "none" ? "error" : reset};
  }
  auto client = KafkaClient::Create(RD_KAFKA_CONSUMER, options.client, settings);
  if (!client.ok()) return fail(client.status());
  rd_kafka_t* rk = (*client)->get();

  auto topic = (*client)->WaitForTopic(options.topic, /*allow_create=*/false, 15000);
  if (!topic.ok()) return fail(topic.status());
  err << LeaderlessWarning(*topic);
  if (options.partition >= topic->partitions) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "partition ", options.partition, " does not exist: topic '", options.topic, "' has ",
        topic->partitions, " partition(s), 0..", topic->partitions - 1)));
  }
  if (absolute) {
    auto marks = (*client)->Watermarks(options.topic, options.partition, 10000);
    if (!marks.ok()) return fail(marks.status());
    if (start < marks->first || start > marks->second) {
      return fail(absl::OutOfRangeError(absl::StrCat(
          "offset ", start, " is out of range for ", options.topic, "-", options.partition,
          ": it holds offsets ", marks->first, "..", marks->second - 1,
          " (", marks->second, " is the next to be written; use --offset earliest or latest)")));
    }
  }

  rd_kafka_poll_set_consumer(rk);  // errors and messages through rd_kafka_consumer_poll
  if (in_group) {
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> topics(
        rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options.topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics.get()); e) {
      return fail(absl::InternalError(absl::StrCat("cannot join group '", options.group,
                                                   "': ", rd_kafka_err2str(e))));
    }
  } else {
    std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> assignment(
        rd_kafka_topic_partition_list_new(topic->partitions));
    for (int32_t p = 0; p < topic->partitions; ++p) {
      if (options.partition >= 0 && p != options.partition) continue;
      rd_kafka_topic_partition_list_add(assignment.get(), options.topic.c_str(), p)->offset = start;
    }
    if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, assignment.get()); e) {
      return fail(absl::InternalError(absl::StrCat("cannot assign the partitions: ", rd_kafka_err2str(e))));
    }
  }

  int64_t count = 0;
  int status = 0;
  auto last_message = Clock::now();
  std::set<int> warned;
  std::string line;
  while (!Interrupted()) {
    if (options.max_messages > 0 && count >= options.max_messages) break;
    int wait_ms = 100;
    if (options.timeout_ms >= 0) {
      auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_message)
                      .count();
      if (idle >= options.timeout_ms) break;
      wait_ms = static_cast<int>(std::min<int64_t>(wait_ms, options.timeout_ms - idle));
    }
    std::unique_ptr<rd_kafka_message_t, MessageDeleter> msg(rd_kafka_consumer_poll(rk, wait_ms));
    if ((*client)->all_brokers_down()) {
      err << "warning: lost the connection to every broker at " << options.client.bootstrap_server
          << "; retrying (Ctrl-C to stop)\n";
      (*client)->clear_all_brokers_down();
    }
    if (!msg) {
      out.flush();
      continue;
    }
    if (msg->err) {
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      std::string where = msg->rkt ? absl::StrCat(rd_kafka_topic_name(msg->rkt), "-", msg->partition)
                                   : std::string("consumer");
      std::string text = rd_kafka_message_errstr(msg.get());
      if (IsFatal(msg->err)) {
        if (in_group && msg->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
          text += absl::StrCat(" (group '", options.group, "' has no committed offset here and --reset none was given)");
        }
        err << "error: " << where << ": " << text << "\n";
        status = 1;
        break;
      }
      if (warned.insert(msg->err).second) err << "warning: " << where << ": " << text << "\n";
      continue;
    }
    last_message = Clock::now();
    ++count;
    line.clear();
    if (format) {
      format->Render(*msg, &line);
    } else {
      RenderDefault(options, *msg, &line);
    }
    line.push_back('\n');
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    if (in_group) rd_kafka_offset_store(msg->rkt, msg->partition, msg->offset);  // stores offset+1
  }
  out.flush();
  if (in_group) {
    // Leaves the group and commits what was printed.
    if (rd_kafka_resp_err_t e = rd_kafka_consumer_close(rk); e) {
      err << "warning: leaving group '" << options.group << "': " << rd_kafka_err2str(e) << "\n";
    }
  }
  err << "Processed a total of " << count << " message" << (count == 1 ? "" : "s") << "\n";
  return status;
}

void AddConsumeCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ConsumeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "consume",
      "Print committed messages of TOPIC, one per line (like kafka-console-consumer.sh).\n"
      "Without --group every partition (or --partition N) is assigned explicitly and nothing is "
      "committed; with --group G it consumes as a member of group G and commits its progress. "
      "Runs until Ctrl-C, --max-messages or --timeout-ms.\n"
      "Exit status: 0 stopped normally, 1 error while reading, 2 could not start.");
  cmd->footer(
      "Examples:\n"
      "  gregor consume orders --from-beginning --max-messages 10\n"
      "  gregor consume orders --partition 0 --offset 42 --print-key --print-offset\n"
      "  gregor consume orders --group billing --from-beginning   # resumes where billing left off\n"
      "  gregor consume orders --from-beginning --timeout-ms 2000 "
      "--format '{partition}/{offset} {key}={value}'");
  cmd->add_option("topic", options->topic, "Topic to read")->required();
  AddClientFlags(cmd, &options->client,
                 "librdkafka consumer property, repeatable (e.g. -X fetch.wait.max.ms=100); "
                 "Kafka's print.key=true, print.offset=true, ..., key.separator=SEP also work");
  cmd->add_flag("--from-beginning", options->from_beginning,
                "Start at the earliest offset (default: only new messages)");
  cmd->add_option("--offset,-o", options->offset,
                  "Start offset: earliest, latest (default) or N (needs --partition)")
      ->type_name("N|earliest|latest");
  cmd->add_option("--partition,-p", options->partition, "Read only this partition")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--group,-g", options->group,
                  "Consume as a member of this consumer group: partitions shared with the other "
                  "members, starting at the group's committed offsets, committing what is printed");
  cmd->add_option("--reset", options->reset,
                  "With --group, where partitions without a committed offset start: earliest, "
                  "latest (default) or none (an error); --from-beginning = --reset earliest")
      ->type_name("earliest|latest|none");
  cmd->add_option("--max-messages,-n", options->max_messages, "Stop after N messages")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout-ms,--timeout", options->timeout_ms,
                  "Stop when no message arrives for this many milliseconds (default: run until Ctrl-C)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--print-key", options->print_key, "Print the key before the value");
  cmd->add_flag("--print-offset", options->print_offset, "Print Offset:N");
  cmd->add_flag("--print-partition", options->print_partition, "Print Partition:N");
  cmd->add_flag("--print-timestamp", options->print_timestamp, "Print CreateTime:MS");
  cmd->add_flag("--print-headers", options->print_headers, "Print headers as k1:v1,k2:v2");
  cmd->add_option("--key-separator", options->key_separator,
                  "Separator between printed fields (default: tab)")
      ->type_name("SEP");
  cmd->add_option("--format,-f", options->format,
                  "Print each message with this template instead: {key} {value} {offset} "
                  "{partition} {timestamp} {headers} {topic}; \\t and \\n escapes; a line break "
                  "follows each message")
      ->type_name("TEMPLATE");
  cmd->callback([options, exit_code] {
    InstallInterruptHandler();
    *exit_code = RunConsume(*options, std::cout, std::cerr);
  });
}

}  // namespace gregor::tools
