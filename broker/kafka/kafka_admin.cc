// The admin APIs (KafkaApis, kafka_apis.h): DescribeConfigs, AlterConfigs,
// IncrementalAlterConfigs, CreatePartitions, DescribeCluster, DeleteRecords, DescribeLogDirs and
// ElectLeaders. Topic changes go to the
// controller (AlterConfigs and CreatePartitions RPCs), which validates them as at create time;
// descriptions come from the metadata image and this broker's configuration.
#include <sys/statvfs.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/kafka/config_descriptions.h"
#include "broker/kafka/kafka_apis.h"
#include "common/errors.h"
#include "common/strings.h"

namespace gregor::broker {
namespace {

constexpr int8_t kTopicResource = 2;
constexpr int8_t kBrokerResource = 4;
constexpr int8_t kBrokerLoggerResource = 8;

struct ResourceError {
  KafkaErrorCode code = KafkaErrorCode::kNone;
  std::string message;
};

ResourceError ErrorOf(const absl::Status& status) {
  if (status.ok()) return {};
  return {ToKafkaErrorCode(status), std::string(status.message())};
}

}  // namespace

absl::Duration KafkaApis::ControllerTimeout(int32_t timeout_ms) const {
  return absl::Milliseconds(std::clamp(timeout_ms, 1000, 60000));
}

// ---- DescribeConfigs ------------------------------------------------------------------------

KafkaApis::Outcome KafkaApis::HandleDescribeConfigs(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDescribeConfigsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  const int16_t version = header.api_version;
  auto image = link_->image();
  kafka::DescribeConfigsResponse response;
  for (const auto& resource : request->resources) {
    kafka::DescribeConfigsResult result;
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    std::vector<ConfigDescription> configs;
    if (resource.resource_type == kTopicResource) {
      const metadata::TopicState* topic = image->FindTopic(resource.resource_name);
      if (topic == nullptr) {
        result.error_code = KafkaErrorCode::kUnknownTopicOrPartition;
        result.error_message = absl::StrCat("topic '", resource.resource_name, "' does not exist");
      } else {
        configs = DescribeTopicConfigs(topic->configs, config_, resource.configuration_keys);
      }
    } else if (resource.resource_type == kBrokerResource) {
      // This broker, or "" (the cluster-wide dynamic defaults: Gregor has none).
      if (resource.resource_name.empty()) {
      } else if (resource.resource_name != absl::StrCat(config_.node_id)) {
        result.error_code = KafkaErrorCode::kInvalidRequest;
        result.error_message = absl::StrCat("unexpected broker id ", resource.resource_name,
                                            ": this is broker ", config_.node_id,
                                            " (ask each broker for its own configs)");
      } else {
        configs = DescribeBrokerConfigs(config_, resource.configuration_keys);
      }
    } else {
      result.error_code = KafkaErrorCode::kInvalidRequest;
      result.error_message =
          resource.resource_type == kBrokerLoggerResource
              ? "broker loggers cannot be described: Gregor has one log level, log.level"
              : absl::StrCat("unknown resource type ", static_cast<int>(resource.resource_type));
    }
    for (ConfigDescription& d : configs) {
      kafka::DescribeConfigsResourceResult out;
      out.name = d.name;
      out.value = d.value;
      out.read_only = d.read_only;
      out.is_default = d.source == kDefaultConfig;  // v0
      out.config_source = d.source;                  // v1+
      out.is_sensitive = false;
      if (request->include_synonyms) {
        for (const ConfigSynonym& s : d.synonyms) out.synonyms.push_back({s.name, s.value, s.source});
      }
      out.config_type = d.type;                                           // v3+
      if (request->include_documentation) out.documentation = d.doc;      // v3+
      result.configs.push_back(std::move(out));
    }
    response.results.push_back(std::move(result));
  }
  return EncodeOrClose(response, version, kafka::EncodeDescribeConfigsResponse);
}

// ---- AlterConfigs / IncrementalAlterConfigs -------------------------------------------------

absl::Status KafkaApis::AlterTopicConfigs(const std::string& topic,
                                          const std::map<std::string, std::string>& wanted,
                                          bool validate_only) {
  auto image = link_->image();
  const metadata::TopicState* state = image->FindTopic(topic);
  if (state == nullptr) {
    return KafkaError(KafkaErrorCode::kUnknownTopicOrPartition,
                      absl::StrCat("topic '", topic, "' does not exist"));
  }
  controller::AlterConfigsRequest forward;
  forward.set_topic(topic);
  forward.set_validate_only(validate_only);
  for (const auto& [key, value] : wanted) {
    auto it = state->configs.find(key);
    if (it == state->configs.end() || it->second != value) (*forward.mutable_set())[key] = value;
  }
  for (const auto& [key, value] : state->configs) {
    if (!wanted.count(key)) forward.add_remove(key);
  }
  if (forward.set().empty() && forward.remove().empty()) return absl::OkStatus();
  auto reply = link_->client().Call(&controller::Controller::Stub::AlterConfigs, forward,
                                    ControllerTimeout(30000));
  if (!reply.ok()) return KafkaError(KafkaErrorCode::kRequestTimedOut, reply.status().message());
  if (reply->error().code() != 0) {
    return KafkaError(static_cast<KafkaErrorCode>(reply->error().code()), reply->error().message());
  }
  return absl::OkStatus();
}

namespace {

// Gregor's broker configs are all static: only an empty change succeeds.
absl::Status AlterBrokerConfigs(const BrokerConfig& config, const std::string& name,
                                const std::vector<std::string>& keys) {
  if (!name.empty() && name != absl::StrCat(config.node_id)) {
    return KafkaError(KafkaErrorCode::kInvalidRequest,
                      absl::StrCat("unexpected broker id ", name, ": this is broker ", config.node_id));
  }
  if (keys.empty()) return absl::OkStatus();
  return KafkaError(KafkaErrorCode::kInvalidConfig,
                    absl::StrCat("Cannot update these configs dynamically: ", absl::StrJoin(keys, ", "),
                                 " (Gregor brokers read their configs at start-up: change "
                                 "server.properties and restart the broker)"));
}

}  // namespace

namespace {

// An AlterConfigs or IncrementalAlterConfigs resource result (the same fields).
template <typename Result>
Result ResultFor(const absl::Status& status, int8_t type, const std::string& name) {
  ResourceError e = ErrorOf(status);
  Result r;
  r.error_code = e.code;
  if (e.code != KafkaErrorCode::kNone) r.error_message = e.message;
  r.resource_type = type;
  r.resource_name = name;
  return r;
}

}  // namespace

absl::Status KafkaApis::AlterResourceConfigs(int8_t type, const std::string& name,
                                             const std::vector<std::string>& keys,
                                             bool validate_only, const WantedConfigs& wanted) {
  if (type == kBrokerResource) return AlterBrokerConfigs(config_, name, keys);
  if (type != kTopicResource) {
    return KafkaError(KafkaErrorCode::kInvalidRequest,
                      absl::StrCat("resource type ", static_cast<int>(type), " cannot be altered"));
  }
  auto image = link_->image();
  const metadata::TopicState* state = image->FindTopic(name);
  if (state == nullptr) {
    return KafkaError(KafkaErrorCode::kUnknownTopicOrPartition,
                      absl::StrCat("topic '", name, "' does not exist"));
  }
  auto configs = wanted(state->configs);
  if (!configs.ok()) return configs.status();
  return AlterTopicConfigs(name, *configs, validate_only);
}

KafkaApis::Outcome KafkaApis::HandleAlterConfigs(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeAlterConfigsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  kafka::AlterConfigsResponse response;
  for (const auto& resource : request->resources) {
    std::vector<std::string> keys;
    for (const auto& c : resource.configs) keys.push_back(c.name);
    // The legacy API replaces every override: what is not named goes back to its default.
    auto wanted = [&](const std::map<std::string, std::string>&)
        -> absl::StatusOr<std::map<std::string, std::string>> {
      std::map<std::string, std::string> out;
      for (const auto& c : resource.configs) {
        if (!c.value) {
          return KafkaError(KafkaErrorCode::kInvalidRequest,
                            absl::StrCat("null value for config '", c.name, "'"));
        }
        out[c.name] = *c.value;
      }
      return out;
    };
    absl::Status status = AlterResourceConfigs(resource.resource_type, resource.resource_name,
                                               keys, request->validate_only, wanted);
    response.responses.push_back(ResultFor<kafka::AlterConfigsResourceResponse>(
        status, resource.resource_type, resource.resource_name));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeAlterConfigsResponse);
}

KafkaApis::Outcome KafkaApis::HandleIncrementalAlterConfigs(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeIncrementalAlterConfigsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  kafka::IncrementalAlterConfigsResponse response;
  for (const auto& resource : request->resources) {
    std::vector<ConfigOp> ops;
    std::vector<std::string> keys;
    for (const auto& c : resource.configs) {
      ops.push_back({c.name, c.config_operation, c.value});
      keys.push_back(c.name);
    }
    auto wanted = [&](const std::map<std::string, std::string>& current) {
      return ApplyConfigOps(current, ops, config_);
    };
    absl::Status status = AlterResourceConfigs(resource.resource_type, resource.resource_name,
                                               keys, request->validate_only, wanted);
    response.responses.push_back(ResultFor<kafka::IncrementalAlterConfigsResourceResponse>(
        status, resource.resource_type, resource.resource_name));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeIncrementalAlterConfigsResponse);
}

// ---- CreatePartitions -----------------------------------------------------------------------

KafkaApis::Outcome KafkaApis::HandleCreatePartitions(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeCreatePartitionsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  std::map<std::string, int> named;
  for (const auto& t : request->topics) ++named[t.name];
  kafka::CreatePartitionsResponse response;
  for (const auto& t : request->topics) {
    kafka::CreatePartitionsTopicResult result;
    result.name = t.name;
    if (named[t.name] > 1) {
      result.error_code = KafkaErrorCode::kInvalidRequest;
      result.error_message = "Duplicate topic in request.";
      response.results.push_back(std::move(result));
      continue;
    }
    controller::CreatePartitionsRequest forward;
    forward.set_topic(t.name);
    forward.set_total_count(t.count);
    forward.set_validate_only(request->validate_only);
    if (t.assignments) {
      for (const auto& a : *t.assignments) {
        auto* out = forward.add_assignments();
        for (int32_t b : a.broker_ids) out->add_replicas(b);
      }
    }
    auto reply = link_->client().Call(&controller::Controller::Stub::CreatePartitions, forward,
                                      ControllerTimeout(request->timeout_ms));
    if (!reply.ok()) {
      result.error_code = KafkaErrorCode::kRequestTimedOut;
      result.error_message = std::string(reply.status().message());
    } else if (reply->error().code() != 0) {
      result.error_code = static_cast<KafkaErrorCode>(reply->error().code());
      result.error_message = reply->error().message();
    }
    response.results.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeCreatePartitionsResponse);
}

// ---- DescribeCluster ------------------------------------------------------------------------

KafkaApis::Outcome KafkaApis::HandleDescribeCluster(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDescribeClusterRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  kafka::DescribeClusterResponse response;
  response.endpoint_type = request->endpoint_type;
  response.cluster_id = ClusterId();
  if (request->endpoint_type != 1) {
    // Controllers speak Gregor's own protocol; brokers describe brokers (as Kafka's do).
    response.error_code = KafkaErrorCode::kUnsupportedEndpointType;
    response.error_message = "brokers answer for endpoint type 1 (brokers) only";
    return EncodeOrClose(response, header.api_version, kafka::EncodeDescribeClusterResponse);
  }
  for (const auto& b : LiveBrokers()) {
    response.brokers.push_back({b.node_id, b.host, b.port, b.rack});
  }
  response.controller_id = response.brokers.front().broker_id;
  if (request->include_cluster_authorized_operations) {
    response.cluster_authorized_operations = kClusterOperations;
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeDescribeClusterResponse);
}

// ---- DeleteRecords --------------------------------------------------------------------------

absl::StatusOr<KafkaApis::DeleteRecordsState> KafkaApis::BeginDeleteRecords(
    const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDeleteRecordsRequest(header.body, header.api_version);
  if (!request.ok()) return request.status();
  DeleteRecordsState state;
  state.version = header.api_version;
  state.request = std::move(*request);
  for (size_t ti = 0; ti < state.request.topics.size(); ++ti) {
    const auto& topic = state.request.topics[ti];
    kafka::DeleteRecordsTopicResult out_topic;
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      kafka::DeleteRecordsPartitionResult out;
      out.partition_index = p.partition_index;
      storage::TopicPartition tp{topic.name, p.partition_index};
      auto partition = replicas_->GetPartition(tp);
      if (partition == nullptr) {
        out.error_code = NotHostedError(topic.name, p.partition_index);
      } else if (auto start = partition->DeleteRecordsAsLeader(p.offset); !start.ok()) {
        out.error_code = ToKafkaErrorCode(start.status());
      } else {
        state.pending.push_back({ti, out_topic.partitions.size(), tp, *start});
        state.partitions.push_back(tp);
      }
      out_topic.partitions.push_back(out);
    }
    state.response.topics.push_back(std::move(out_topic));
  }
  for (const storage::TopicPartition& tp : state.partitions) replicas_->Notify(tp);
  return state;
}

bool KafkaApis::DeleteRecordsSatisfied(DeleteRecordsState& state) {
  auto& pending = state.pending;
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [&](const DeleteRecordsState::Pending& p) {
                                 auto& out = state.response.topics[p.topic].partitions[p.partition];
                                 auto partition = replicas_->GetPartition(p.tp);
                                 if (partition == nullptr) {
                                   out.error_code = KafkaErrorCode::kNotLeaderOrFollower;
                                   return true;
                                 }
                                 auto low = partition->LowWatermark();
                                 if (!low.ok()) {
                                   out.error_code = ToKafkaErrorCode(low.status());
                                   return true;
                                 }
                                 out.low_watermark = *low;
                                 return *low >= p.target;
                               }),
                pending.end());
  return pending.empty();
}

KafkaApis::Outcome KafkaApis::FinishDeleteRecords(DeleteRecordsState& state, bool timed_out) {
  if (timed_out) {
    for (const auto& p : state.pending) {
      state.response.topics[p.topic].partitions[p.partition].error_code =
          KafkaErrorCode::kRequestTimedOut;
    }
  }
  return EncodeOrClose(state.response, state.version, kafka::EncodeDeleteRecordsResponse);
}

// ---- DescribeLogDirs ------------------------------------------------------------------------

KafkaApis::Outcome KafkaApis::HandleDescribeLogDirs(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDescribeLogDirsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  auto wanted = [&](const storage::TopicPartition& tp) {
    if (!request->topics) return true;
    for (const auto& t : *request->topics) {
      if (t.topic == tp.topic &&
          std::find(t.partitions.begin(), t.partitions.end(), tp.partition) != t.partitions.end()) {
        return true;
      }
    }
    return false;
  };
  storage::LogManager* logs = replicas_->logs();
  kafka::DescribeLogDirsResponse response;
  std::vector<storage::TopicPartition> partitions = logs->Partitions();  // sorted
  for (const std::string& dir : logs->config().log_dirs) {
    kafka::DescribeLogDirsResult result;
    result.log_dir = dir;
    struct statvfs fs{};
    if (statvfs(dir.c_str(), &fs) == 0) {
      result.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
      result.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    } else {
      result.error_code = KafkaErrorCode::kKafkaStorageError;
    }
    for (const storage::TopicPartition& tp : partitions) {
      if (!wanted(tp) || logs->LogDirOf(tp) != dir) continue;
      auto log = logs->GetLog(tp);
      if (log == nullptr) continue;
      if (result.topics.empty() || result.topics.back().name != tp.topic) {
        result.topics.emplace_back().name = tp.topic;
      }
      kafka::DescribeLogDirsPartition p;
      p.partition_index = tp.partition;
      p.partition_size = log->size_bytes();
      p.offset_lag = std::max<int64_t>(0, log->high_watermark().value() - log->log_end_offset().value());
      result.topics.back().partitions.push_back(p);
    }
    response.results.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeDescribeLogDirsResponse);
}

// ---- ElectLeaders ---------------------------------------------------------------------------

KafkaApis::Outcome KafkaApis::HandleElectLeaders(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeElectLeadersRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  controller::ElectLeadersRequest forward;
  forward.set_election_type(request->election_type);
  forward.set_all(!request->topic_partitions.has_value());
  if (request->topic_partitions) {
    for (const auto& t : *request->topic_partitions) {
      for (int32_t p : t.partitions) {
        auto* ref = forward.add_partitions();
        ref->set_topic(t.topic);
        ref->set_partition(p);
      }
    }
  }
  kafka::ElectLeadersResponse response;
  auto reply = link_->client().Call(&controller::Controller::Stub::ElectLeaders, forward,
                                    ControllerTimeout(request->timeout_ms));
  KafkaErrorCode top = KafkaErrorCode::kNone;
  std::string top_message;
  if (!reply.ok()) {
    top = KafkaErrorCode::kRequestTimedOut;
    top_message = std::string(reply.status().message());
  } else if (reply->error().code() != 0) {
    top = static_cast<KafkaErrorCode>(reply->error().code());
    top_message = reply->error().message();
  }
  if (top != KafkaErrorCode::kNone) {
    // v1+ carries it on top; every partition asked for gets it too (v0 has only those).
    response.error_code = top;
    if (request->topic_partitions) {
      for (const auto& t : *request->topic_partitions) {
        auto& out = response.replica_election_results.emplace_back();
        out.topic = t.topic;
        for (int32_t p : t.partitions) out.partition_result.push_back({p, top, top_message});
      }
    }
    return EncodeOrClose(response, header.api_version, kafka::EncodeElectLeadersResponse);
  }
  for (const auto& r : reply->results()) {
    if (response.replica_election_results.empty() ||
        response.replica_election_results.back().topic != r.topic()) {
      response.replica_election_results.emplace_back().topic = r.topic();
    }
    kafka::ElectLeadersPartitionResult out;
    out.partition_id = r.partition();
    out.error_code = static_cast<KafkaErrorCode>(r.error().code());
    if (r.error().code() != 0) out.error_message = r.error().message();
    response.replica_election_results.back().partition_result.push_back(std::move(out));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeElectLeadersResponse);
}

}  // namespace gregor::broker
