#include "tools/rdkafka_admin.h"

#include "absl/strings/str_cat.h"

namespace gregor::tools {
namespace {

// One admin request's plumbing: options with the timeout, a queue, the result event.
class AdminCall {
 public:
  AdminCall(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms)
      : queue_(rd_kafka_queue_new(rk)), options_(rd_kafka_AdminOptions_new(rk, op)), timeout_ms_(timeout_ms) {
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(options_, timeout_ms, errstr, sizeof(errstr));
  }
  ~AdminCall() {
    if (event_) rd_kafka_event_destroy(event_);
    rd_kafka_AdminOptions_destroy(options_);
    rd_kafka_queue_destroy(queue_);
  }
  AdminCall(const AdminCall&) = delete;
  AdminCall& operator=(const AdminCall&) = delete;

  rd_kafka_AdminOptions_t* options() { return options_; }
  rd_kafka_queue_t* queue() { return queue_; }

  // The result event, or why there is none.
  absl::StatusOr<rd_kafka_event_t*> Wait() {
    event_ = rd_kafka_queue_poll(queue_, timeout_ms_ + 2000);
    if (event_ == nullptr) return absl::DeadlineExceededError("timed out");
    if (rd_kafka_event_error(event_)) {
      std::string message = rd_kafka_event_error_string(event_);
      if (rd_kafka_event_error(event_) == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        return absl::DeadlineExceededError(message);
      }
      return absl::UnknownError(message);
    }
    return event_;
  }

 private:
  rd_kafka_queue_t* queue_;
  rd_kafka_AdminOptions_t* options_;
  int timeout_ms_;
  rd_kafka_event_t* event_ = nullptr;
};

absl::Status ResourceError(const rd_kafka_ConfigResource_t* resource) {
  rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(resource);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  const char* message = rd_kafka_ConfigResource_error_string(resource);
  return absl::FailedPreconditionError(
      absl::StrCat(rd_kafka_err2name(e), ": ", message ? message : rd_kafka_err2str(e)));
}

std::optional<std::string> Text(const char* s) {
  return s ? std::optional<std::string>(s) : std::nullopt;
}

}  // namespace

RdKafka MakeAdminClient(const ClusterAddress& address, std::ostream& err) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", address.bootstrap_server.c_str(), errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    err << "bad --bootstrap-server: " << errstr << "\n";
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));  // we report errors ourselves
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    err << "cannot create a Kafka client: " << errstr << "\n";
    return nullptr;
  }
  return RdKafka(rk);
}

std::string BrokerUnreachable(const ClusterAddress& address, const std::string& detail) {
  return absl::StrCat("no broker reachable at ", address.bootstrap_server,
                      " — is the cluster running? try ./run.sh (or pass --bootstrap-server host:port)\n  (",
                      detail, ")");
}

absl::StatusOr<std::vector<ConfigEntry>> DescribeConfigs(rd_kafka_t* rk, rd_kafka_ResourceType_t type,
                                                         const std::string& name, int timeout_ms) {
  AdminCall call(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
  rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(type, name.c_str());
  rd_kafka_DescribeConfigs(rk, &resource, 1, call.options(), call.queue());
  rd_kafka_ConfigResource_destroy(resource);
  auto event = call.Wait();
  if (!event.ok()) return event.status();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(*event), &n);
  if (n != 1) return absl::UnknownError("the broker answered for no resource");
  if (absl::Status s = ResourceError(resources[0]); !s.ok()) return s;
  std::vector<ConfigEntry> out;
  size_t count = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[0], &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_ConfigEntry_t* e = entries[i];
    ConfigEntry entry;
    entry.name = rd_kafka_ConfigEntry_name(e);
    entry.value = Text(rd_kafka_ConfigEntry_value(e));
    entry.source = rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e));
    entry.read_only = rd_kafka_ConfigEntry_is_read_only(e);
    entry.is_default = rd_kafka_ConfigEntry_is_default(e);
    entry.sensitive = rd_kafka_ConfigEntry_is_sensitive(e);
    size_t synonyms = 0;
    const rd_kafka_ConfigEntry_t** list = rd_kafka_ConfigEntry_synonyms(e, &synonyms);
    for (size_t j = 0; j < synonyms; ++j) {
      entry.synonyms.push_back({rd_kafka_ConfigEntry_name(list[j]),
                                Text(rd_kafka_ConfigEntry_value(list[j])),
                                rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(list[j]))});
    }
    out.push_back(std::move(entry));
  }
  return out;
}

namespace {

absl::Status AlterConfigs(rd_kafka_t* rk, rd_kafka_ResourceType_t type, const std::string& name,
                          const std::map<std::string, std::string>& configs, int timeout_ms) {
  AdminCall call(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms);
  rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(type, name.c_str());
  for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(resource, k.c_str(), v.c_str());
  rd_kafka_AlterConfigs(rk, &resource, 1, call.options(), call.queue());
  rd_kafka_ConfigResource_destroy(resource);
  auto event = call.Wait();
  if (!event.ok()) return event.status();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(*event), &n);
  if (n != 1) return absl::UnknownError("the broker answered for no resource");
  return ResourceError(resources[0]);
}

}  // namespace

absl::Status AlterTopicConfigs(rd_kafka_t* rk, const std::string& topic,
                               const std::map<std::string, std::string>& set,
                               const std::vector<std::string>& remove, int timeout_ms) {
  auto current = DescribeConfigs(rk, RD_KAFKA_RESOURCE_TOPIC, topic, timeout_ms);
  if (!current.ok()) return current.status();
  std::map<std::string, std::string> wanted;
  for (const ConfigEntry& e : *current) {
    if (e.source == "DYNAMIC_TOPIC_CONFIG" && e.value) wanted[e.name] = *e.value;
  }
  for (const std::string& k : remove) wanted.erase(k);
  for (const auto& [k, v] : set) wanted[k] = v;
  return AlterConfigs(rk, RD_KAFKA_RESOURCE_TOPIC, topic, wanted, timeout_ms);
}

absl::Status AlterBrokerConfigs(rd_kafka_t* rk, const std::string& broker,
                                const std::map<std::string, std::string>& set, int timeout_ms) {
  return AlterConfigs(rk, RD_KAFKA_RESOURCE_BROKER, broker, set, timeout_ms);
}

absl::Status CreatePartitions(rd_kafka_t* rk, const std::string& topic, int total, int timeout_ms) {
  char errstr[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), errstr, sizeof(errstr));
  if (np == nullptr) return absl::InvalidArgumentError(errstr);
  AdminCall call(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, timeout_ms);
  rd_kafka_CreatePartitions(rk, &np, 1, call.options(), call.queue());
  rd_kafka_NewPartitions_destroy(np);
  auto event = call.Wait();
  if (!event.ok()) return event.status();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(*event), &n);
  if (n != 1) return absl::UnknownError("the broker answered for no topic");
  rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[0]);
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  const char* message = rd_kafka_topic_result_error_string(results[0]);
  return absl::FailedPreconditionError(
      absl::StrCat(rd_kafka_err2name(e), ": ", message ? message : rd_kafka_err2str(e)));
}

}  // namespace gregor::tools
