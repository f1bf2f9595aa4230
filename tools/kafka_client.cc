#include "tools/kafka_client.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gregor::tools {
namespace {

using Clock = std::chrono::steady_clock;

int64_t MsUntil(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};

std::atomic<bool> g_interrupted{false};

void HandleInterrupt(int sig) {
  if (g_interrupted.exchange(true)) {
    // Second Ctrl-C: give up at once.
    signal(sig, SIG_DFL);
    raise(sig);
  }
}

}  // namespace

void AddClientFlags(CLI::App* cmd, ClientOptions* options, const std::string& property_help) {
  cmd->add_option("--bootstrap-server,-b", options->bootstrap_server,
                  "Broker(s) to connect to first, host:port[,host:port...]")
      ->capture_default_str();
  cmd->add_option("--property,-X", options->properties, property_help)
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_flag("--verbose,-v", options->verbose, "Also print librdkafka's own log lines");
}

absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(const std::string& text,
                                                                   const std::string& flag) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad ", flag, " '", text, "': expected key=value, e.g. ", flag,
                     flag == "--header" ? " trace-id=42" : " linger.ms=10"));
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

absl::StatusOr<std::string> AcksSetting(const std::string& acks) {
  if (acks == "all" || acks == "-1") return std::string("all");
  if (acks == "1" || acks == "0") return acks;
  return absl::InvalidArgumentError(
      absl::StrCat("bad --acks '", acks, "': use all (= -1, every in-sync replica), 1 (leader only) or 0 (no acknowledgement)"));
}

absl::StatusOr<KafkaSettings> DeliverySettings(const std::string& acks, bool idempotence) {
  auto setting = AcksSetting(acks);
  if (!setting.ok()) return setting.status();
  if (idempotence && *setting != "all") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--idempotence needs --acks all (a retry is only safe to de-duplicate once every in-sync "
        "replica has the first try), not --acks ", acks));
  }
  KafkaSettings settings = {{"acks", *setting}};
  if (idempotence) settings.push_back({"enable.idempotence", "true"});
  return settings;
}

absl::StatusOr<std::string> CompressionSetting(const std::string& codec) {
  static const char* const kCodecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  for (const char* c : kCodecs) {
    if (codec == c) return codec;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad --compression '", codec, "': use one of none, gzip, snappy, lz4, zstd"));
}

std::string UnreachableMessage(const std::string& bootstrap) {
  return absl::StrCat("no broker reachable at ", bootstrap,
                      " — is the cluster running? try ./run.sh, or point --bootstrap-server at a "
                      "running broker");
}

absl::StatusOr<std::unique_ptr<KafkaClient>> KafkaClient::Create(rd_kafka_type_t type,
                                                                 const ClientOptions& options,
                                                                 const KafkaSettings& settings,
                                                                 DeliveryCallback on_delivery) {
  std::unique_ptr<KafkaClient> client(new KafkaClient());
  client->type_ = type;
  client->bootstrap_ = options.bootstrap_server;
  client->on_delivery_ = std::move(on_delivery);

  if (options.bootstrap_server.empty()) {
    return absl::InvalidArgumentError("--bootstrap-server is empty: give host:port[,host:port...]");
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  auto set = [&](const std::string& key, const std::string& value,
                 const std::string& origin) -> absl::Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("bad ", origin, ": ", errstr));
    }
    return absl::OkStatus();
  };
  KafkaSettings all = {{"bootstrap.servers", options.bootstrap_server},
                       {"client.id", "gregor-cli"},
                       // Kafka's default is 5 minutes; a command line tool should give up sooner.
                       {"socket.timeout.ms", "10000"}};
  all.insert(all.end(), settings.begin(), settings.end());
  bool debug = options.verbose;
  absl::Status status;
  for (const auto& [key, value] : all) {
    status = set(key, value, absl::StrCat("setting ", key, "=", value));
    if (!status.ok()) break;
  }
  for (size_t i = 0; status.ok() && i < options.properties.size(); ++i) {
    auto kv = ParseKeyValue(options.properties[i], "--property");
    if (!kv.ok()) {
      status = kv.status();
      break;
    }
    if (kv->first == "debug") debug = true;
    status = set(kv->first, kv->second,
                 absl::StrCat("--property ", options.properties[i],
                              " (see librdkafka's CONFIGURATION.md for valid properties)"));
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  rd_kafka_conf_set_opaque(conf, client.get());
  rd_kafka_conf_set_error_cb(conf, &KafkaClient::OnError);
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, &KafkaClient::OnDelivery);
  // librdkafka logs every failed connection attempt to stderr; the commands report problems in
  // their own words instead. --verbose (or --property debug=...) shows librdkafka's lines.
  if (!debug) rd_kafka_conf_set_log_cb(conf, &KafkaClient::OnLog);

  client->rk_ = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (client->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);  // not taken over on failure
    return absl::InvalidArgumentError(absl::StrCat("cannot create the Kafka client: ", errstr));
  }
  return client;
}

KafkaClient::~KafkaClient() {
  if (rk_ == nullptr) return;
  if (type_ == RD_KAFKA_CONSUMER) rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

void KafkaClient::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  if (self->on_delivery_) self->on_delivery_(*msg);
}

void KafkaClient::OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->all_brokers_down_.store(true);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->last_error_ = reason;
}

void KafkaClient::OnLog(const rd_kafka_t*, int, const char*, const char*) {}

std::string KafkaClient::last_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

absl::Status KafkaClient::ReachabilityError() const {
  std::string detail = last_error();
  // "... Connection refused (after 0ms in state CONNECT, 1 identical error(s) suppressed)"
  if (size_t at = detail.find(" (after "); at != std::string::npos) detail.resize(at);
  return absl::UnavailableError(
      detail.empty() ? UnreachableMessage(bootstrap_)
                     : absl::StrCat(UnreachableMessage(bootstrap_), "\n  (librdkafka: ", detail, ")"));
}

absl::StatusOr<TopicMetadata> KafkaClient::WaitForTopic(const std::string& topic,
                                                        bool allow_create, int timeout_ms) {
  if (topic.empty()) return absl::InvalidArgumentError("the topic name is empty");
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> rkt(
      rd_kafka_topic_new(rk_, topic.c_str(), nullptr));
  if (!rkt) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot use topic '", topic, "': ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  // A topic being created gets its leaders within moments; longer means a broker is down.
  constexpr auto kLeaderGrace = std::chrono::seconds(3);
  Clock::time_point first_seen;
  std::string waiting_for = "an answer from any broker";
  bool reached = false;
  // librdkafka reports "all brokers down" after the first failed connection attempt, also when
  // the next address of the same name (localhost: ::1, then 127.0.0.1) would work: give up only
  // when that is still so after a moment.
  const auto give_up_unreachable = Clock::now() + std::chrono::milliseconds(1000);
  while (true) {
    rd_kafka_poll(rk_, 0);  // serves the error callback (ALL_BROKERS_DOWN)
    if (all_brokers_down_.load() && !reached && Clock::now() >= give_up_unreachable) {
      return ReachabilityError();
    }
    int64_t left = MsUntil(deadline);
    if (left <= 0) break;
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_, 0, rkt.get(), &raw, static_cast<int>(std::min<int64_t>(left, 500)));
    MetadataPtr md(raw);
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // it may fail at once
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("metadata request for topic '", topic,
                                                 "' failed: ", rd_kafka_err2str(err)));
    }
    reached = true;
    all_brokers_down_.store(false);
    const rd_kafka_metadata_topic_t* t = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (topic == md->topics[i].topic) t = &md->topics[i];
    }
    if (t == nullptr || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      // Not being created (a broker that auto-creates answers LEADER_NOT_AVAILABLE instead).
      std::vector<std::string> names;
      const rd_kafka_metadata_t* all_raw = nullptr;
      if (rd_kafka_metadata(rk_, 1, nullptr, &all_raw, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        MetadataPtr all(all_raw);
        for (int i = 0; i < all->topic_cnt; ++i) {
          if (std::strncmp(all->topics[i].topic, "__", 2) != 0) names.push_back(all->topics[i].topic);
        }
      }
      std::sort(names.begin(), names.end());
      std::string existing = "there are no topics yet";
      if (!names.empty()) {
        size_t shown = std::min<size_t>(names.size(), 20);
        existing = absl::StrCat(
            "existing topics: ",
            absl::StrJoin(names.begin(), names.begin() + static_cast<ptrdiff_t>(shown), ", "),
            names.size() > shown ? absl::StrCat(" (and ", names.size() - shown, " more)") : "");
      }
      return absl::NotFoundError(absl::StrCat(
          "unknown topic '", topic, "' at ", bootstrap_, " (", existing, "). ",
          allow_create ? "The brokers do not auto-create topics (auto.create.topics.enable=false): "
                         "create it first with gregor topic create "
                       : "Check the name, or create it with gregor topic create ",
          topic));
    }
    if (t->err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid topic name '", topic,
          "': use at most 249 characters from [a-zA-Z0-9._-], and not '.' or '..'"));
    }
    if (t->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      return absl::PermissionDeniedError(
          absl::StrCat("not authorized to access topic '", topic, "'"));
    }
    if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      waiting_for = absl::StrCat("topic '", topic, "' (last answer: ", rd_kafka_err2str(t->err), ")");
    } else if (t->partition_cnt == 0) {
      waiting_for = absl::StrCat("topic '", topic, "' to have partitions");
    } else {
      std::vector<int32_t> leaderless;
      for (int i = 0; i < t->partition_cnt; ++i) {
        if (t->partitions[i].leader < 0) leaderless.push_back(t->partitions[i].id);
      }
      if (first_seen == Clock::time_point()) first_seen = Clock::now();
      if (leaderless.empty() || Clock::now() - first_seen >= kLeaderGrace) {
        return TopicMetadata{topic, t->partition_cnt, leaderless};
      }
      waiting_for = absl::StrCat("a leader for partition(s) ", absl::StrJoin(leaderless, ","),
                                 " of topic '", topic, "'");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!reached) return ReachabilityError();
  return absl::DeadlineExceededError(
      absl::StrCat("timed out after ", timeout_ms, " ms waiting for ", waiting_for, " at ",
                   bootstrap_, " — is every broker of the cluster running?"));
}

std::string LeaderlessWarning(const TopicMetadata& topic) {
  if (topic.leaderless.empty()) return "";
  return absl::StrCat("warning: partition(s) ", absl::StrJoin(topic.leaderless, ","), " of '",
                      topic.name,
                      "' have no leader right now (their brokers are down?); messages for them "
                      "wait until a leader is elected\n");
}

absl::StatusOr<std::pair<int64_t, int64_t>> KafkaClient::Watermarks(const std::string& topic,
                                                                    int32_t partition,
                                                                    int timeout_ms) {
  int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("cannot read the offsets of ", topic, "-", partition,
                                               ": ", rd_kafka_err2str(err)));
  }
  return std::make_pair(low, high);
}

void InstallInterruptHandler() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = HandleInterrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking read of stdin returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted.load(); }
void ResetInterrupted() { g_interrupted.store(false); }

std::string Unescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out.push_back(text[i]);
      continue;
    }
    char c = text[++i];
    switch (c) {
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case 'r': out.push_back('\r'); break;
      case '0': out.push_back('\0'); break;
      case '\\': out.push_back('\\'); break;
      default:
        out.push_back('\\');
        out.push_back(c);
    }
  }
  return out;
}

}  // namespace gregor::tools
