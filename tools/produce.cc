#include "tools/produce.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"

namespace gregor::tools {
namespace {

using Clock = std::chrono::steady_clock;

// Kafka console-producer reader properties (`--property parse.key=true --property
// key.separator=:`) are understood here instead of being handed to librdkafka.
absl::Status TakeReaderProperties(ProduceOptions* options) {
  std::vector<std::string> rest;
  bool parse_key = false;
  std::optional<std::string> separator;
  for (const std::string& p : options->client.properties) {
    auto kv = ParseKeyValue(p, "--property");
    if (!kv.ok()) return kv.status();
    if (kv->first == "parse.key") {
      parse_key = kv->second == "true";
    } else if (kv->first == "key.separator") {
      separator = kv->second;
    } else {
      rest.push_back(p);
    }
  }
  options->client.properties = rest;
  if (parse_key && !options->key_separator) options->key_separator = separator.value_or("\t");
  return absl::OkStatus();
}

// What a delivery error usually means, for the per-line report.
std::string Hint(rd_kafka_resp_err_t e, bool from_broker) {
  switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return from_broker ? " (larger than the broker's message.max.bytes or the topic's "
                           "max.message.bytes)"
                         : " (larger than the client's limit: raise it with --property "
                           "message.max.bytes=N; the broker has its own)";
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      return " (no acknowledgement within --timeout-ms: is the partition's leader up, and are "
             "enough replicas in sync for --acks all?)";
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return " (fewer in-sync replicas than the topic's min.insync.replicas)";
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
      return " (a compacted topic — cleanup.policy=compact — needs a key on every message: "
             "give one with --key-separator)";
    default:
      return "";
  }
}

struct Header {
  std::string key;
  std::string value;
};

}  // namespace

int RunProduce(const ProduceOptions& given, std::istream& in, std::ostream& err) {
  ProduceOptions options = given;
  auto fail = [&](const absl::Status& s) {
    err << "error: " << s.message() << "\n";
    return 2;
  };
  if (auto s = TakeReaderProperties(&options); !s.ok()) return fail(s);
  auto delivery = DeliverySettings(options.acks, options.idempotence);
  if (!delivery.ok()) return fail(delivery.status());
  const bool acks_zero = options.acks == "0";
  auto codec = CompressionSetting(options.compression);
  if (!codec.ok()) return fail(codec.status());
  if (options.key_separator && options.key_separator->empty()) {
    return fail(absl::InvalidArgumentError("--key-separator is empty: give e.g. ':' or '\\t'"));
  }
  if (options.timeout_ms <= 0) {
    return fail(absl::InvalidArgumentError("--timeout-ms must be positive"));
  }
  std::vector<Header> headers;
  for (const std::string& h : options.headers) {
    auto kv = ParseKeyValue(h, "--header");
    if (!kv.ok()) return fail(kv.status());
    headers.push_back({kv->first, kv->second});
  }

  std::ifstream file;
  std::istream* input = &in;
  if (!options.file.empty()) {
    file.open(options.file);
    if (!file) {
      return fail(absl::NotFoundError(
          absl::StrCat("cannot open --file ", options.file, ": ", std::strerror(errno))));
    }
    input = &file;
  }

  // Delivery reports arrive on the poller thread (and, at the end, in flush on this one).
  std::mutex mu;
  int64_t delivered = 0;
  int64_t failed = 0;
  auto on_delivery = [&](const rd_kafka_message_t& msg) {
    auto line = reinterpret_cast<intptr_t>(msg._private);
    std::lock_guard<std::mutex> lock(mu);
    if (msg.err) {
      ++failed;
      err << "line " << line << ": not delivered: " << rd_kafka_err2str(msg.err)
          << Hint(msg.err, true) << "\n";
    } else {
      ++delivered;
    }
  };

  KafkaSettings settings = *delivery;
  settings.push_back({"compression.type", *codec});
  settings.push_back({"message.timeout.ms", std::to_string(options.timeout_ms)});
  if (options.linger_ms) settings.push_back({"linger.ms", std::to_string(*options.linger_ms)});
  auto client = KafkaClient::Create(RD_KAFKA_PRODUCER, options.client, settings, on_delivery);
  if (!client.ok()) return fail(client.status());
  rd_kafka_t* rk = (*client)->get();

  auto topic = (*client)->WaitForTopic(options.topic, /*allow_create=*/true, 15000);
  if (!topic.ok()) return fail(topic.status());
  err << LeaderlessWarning(*topic);
  if (options.partition >= topic->partitions) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "partition ", options.partition, " does not exist: topic '", options.topic, "' has ",
        topic->partitions, " partition(s), 0..", topic->partitions - 1)));
  }

  std::atomic<bool> stop_polling{false};
  std::thread poller([&] {
    // Ctrl-C must reach the main thread, blocked reading stdin.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    while (!stop_polling.load()) rd_kafka_poll(rk, 100);
  });

  int64_t lines = 0;
  int64_t rejected = 0;  // refused by produce() itself
  std::string line;
  while (!Interrupted() && std::getline(*input, line)) {
    ++lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const char* key = nullptr;
    size_t key_len = 0;
    const char* value = line.data();
    size_t value_len = line.size();
    if (options.key_separator) {
      size_t at = line.find(*options.key_separator);
      if (at != std::string::npos) {
        key = line.data();
        key_len = at;
        value = line.data() + at + options.key_separator->size();
        value_len = line.size() - at - options.key_separator->size();
      }
    }
    while (true) {
      rd_kafka_headers_t* hdrs = nullptr;
      if (!headers.empty()) {
        hdrs = rd_kafka_headers_new(headers.size());
        for (const Header& h : headers) {
          rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                              h.value.data(), static_cast<ssize_t>(h.value.size()));
        }
      }
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(options.topic.c_str()), RD_KAFKA_V_PARTITION(options.partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(const_cast<char*>(key), key_len),
          RD_KAFKA_V_VALUE(const_cast<char*>(value), value_len), RD_KAFKA_V_HEADERS(hdrs),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(lines))), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);  // still ours when producev fails
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !Interrupted()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poller drains it
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      ++rejected;
      err << "line " << lines << ": not sent: " << rd_kafka_err2str(e) << Hint(e, false) << "\n";
      break;
    }
  }
  bool read_error = input->bad() && !Interrupted();
  stop_polling.store(true);
  poller.join();

  // Wait for the outstanding acknowledgements (each message gives up after --timeout-ms).
  const auto deadline = Clock::now() + std::chrono::milliseconds(options.timeout_ms + 5000);
  while (rd_kafka_outq_len(rk) > 0 && Clock::now() < deadline) rd_kafka_flush(rk, 100);
  int unsent = rd_kafka_outq_len(rk);

  std::lock_guard<std::mutex> lock(mu);
  if (read_error) err << "error: reading the input failed after line " << lines << "\n";
  if (Interrupted()) err << "interrupted after line " << lines << "\n";
  if (unsent > 0) {
    err << "error: " << unsent << " message(s) still unacknowledged after waiting "
        << options.timeout_ms << " ms\n";
  }
  err << "produced " << delivered << " message" << (delivered == 1 ? "" : "s") << " to "
      << options.topic;
  if (acks_zero) err << " (acks=0: sent, not acknowledged)";
  int64_t lost = failed + rejected;
  if (lost > 0) err << "; " << lost << " failed (see above)";
  err << "\n";
  return (lost > 0 || unsent > 0 || read_error) ? 1 : 0;
}

void AddProduceCommand(CLI::App& app, int* exit_code) {
  auto options = std::make_shared<ProduceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "produce",
      "Send lines from stdin (or --file) to TOPIC, one message per line (like "
      "kafka-console-producer.sh).\nErrors and the summary go to stderr. Exit status: 0 every "
      "message acknowledged, 1 some were not (reported per line), 2 nothing sent.");
  cmd->footer(
      "Examples:\n"
      "  echo 'hello' | gregor produce orders\n"
      "  printf 'k1:v1\\nk2:v2\\n' | gregor produce orders --key-separator : --acks all\n"
      "  gregor produce orders --file events.txt --partition 0 --compression zstd "
      "--header source=import");
  cmd->add_option("topic", options->topic, "Topic to write to (auto-created if the brokers allow)")
      ->required();
  AddClientFlags(cmd, &options->client,
                 "librdkafka producer property, repeatable (e.g. -X enable.idempotence=true); "
                 "Kafka's parse.key=true and key.separator=SEP also work");
  cmd->add_option("--file,-f", options->file, "Read lines from this file instead of stdin");
  cmd->add_option("--key-separator,-K", options->key_separator,
                  "Split each line at the first SEP into key and value (\\t for a tab); lines "
                  "without it are sent with a null key")
      ->type_name("SEP")
      ->transform([](std::string s) { return Unescape(s); });
  cmd->add_option("--acks,--request-required-acks", options->acks,
                  "Acknowledgement required: all (= -1), 1 (leader) or 0 (none)")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "-1", "1", "0"}));
  cmd->add_flag("--idempotence,--enable-idempotence", options->idempotence,
               "Idempotent producer (librdkafka enable.idempotence): retries, even across a "
               "failover, write each message once and in order. Needs --acks all");
  cmd->add_option("--partition,-p", options->partition,
                  "Send every message to this partition (default: librdkafka's partitioner)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--compression,--compression-codec", options->compression,
                  "Batch compression codec")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  cmd->add_option("--header,-H", options->headers, "Header added to every message, repeatable")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--linger-ms", options->linger_ms,
                  "How long to wait to fill a batch (librdkafka's default: 5)")
      ->check(CLI::Range(0, 900000));
  cmd->add_option("--timeout-ms", options->timeout_ms,
                  "Give up on a message not acknowledged within this time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([options, exit_code] {
    InstallInterruptHandler();
    *exit_code = RunProduce(*options, std::cin, std::cerr);
  });
}

}  // namespace gregor::tools
