#include "broker/kafka/kafka_apis.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/record_batch.h"
#include "common/strings.h"
#include "common/logging.h"
#include "broker/kafka/config_descriptions.h"
#include "broker/kafka/served_apis.h"
#include "common/kafka/constants.h"
#include "common/metadata/topic_names.h"

namespace gregor::broker {

using kafka::ApiKey;
using storage::TopicPartition;

KafkaApis::KafkaApis(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
                     PeerLiveness* peers, Clock* clock)
    : config_(config),
      replicas_(replicas),
      link_(link),
      peers_(peers),
      clock_(clock),
      fetch_sessions_(config.fetch_session_cache_slots, config.fetch_session_eviction_ms),
      producer_ids_([this] { return AllocateProducerIdBlock(); }) {}

KafkaApis::Outcome KafkaApis::HandleSimple(const kafka::RequestHeader& header) {
  if (header.api_key == ApiKey::kApiVersions) return HandleApiVersions(header);
  if (!IsServed(header.api_key, header.api_version)) {
    // Kafka cannot parse such a request and drops the connection.
    return CloseConnection(absl::StrCat("unsupported request ", kafka::ApiKeyName(header.api_key), " v",
                              header.api_version));
  }
  switch (header.api_key) {
    case ApiKey::kMetadata: return HandleMetadata(header, /*may_hold=*/false);
    case ApiKey::kListOffsets: return HandleListOffsets(header);
    case ApiKey::kCreateTopics: return HandleCreateTopics(header);
    case ApiKey::kDeleteTopics: return HandleDeleteTopics(header);
    case ApiKey::kDescribeConfigs: return HandleDescribeConfigs(header);
    case ApiKey::kAlterConfigs: return HandleAlterConfigs(header);
    case ApiKey::kIncrementalAlterConfigs: return HandleIncrementalAlterConfigs(header);
    case ApiKey::kCreatePartitions: return HandleCreatePartitions(header);
    case ApiKey::kDescribeCluster: return HandleDescribeCluster(header);
    case ApiKey::kDescribeLogDirs: return HandleDescribeLogDirs(header);
    case ApiKey::kOffsetForLeaderEpoch: return HandleOffsetForLeaderEpoch(header);
    case ApiKey::kElectLeaders: return HandleElectLeaders(header);
    case ApiKey::kInitProducerId: return HandleInitProducerId(header);
    case ApiKey::kDescribeProducers: return HandleDescribeProducers(header);
    default:
      return CloseConnection(absl::StrCat("request ", kafka::ApiKeyName(header.api_key),
                                " is not handled here"));
  }
}

KafkaApis::Outcome KafkaApis::HandleApiVersions(const kafka::RequestHeader& header) {
  // Versions we cannot read get the v0-format UNSUPPORTED_VERSION reply (KIP-511); clients
  // retry with a version from it.
  if (!IsServed(ApiKey::kApiVersions, header.api_version)) {
    return EncodeOrClose(MakeUnsupportedApiVersionsResponse(), 0,
                         kafka::EncodeApiVersionsResponse);
  }
  auto request = kafka::DecodeApiVersionsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  return EncodeOrClose(MakeApiVersionsResponse(), header.api_version,
                       kafka::EncodeApiVersionsResponse);
}

KafkaApis::Outcome KafkaApis::HandleMetadata(const kafka::RequestHeader& header, bool may_hold) {
  auto request = kafka::DecodeMetadataRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  auto image = link_->image();
  const int64_t now_ms = clock_->SteadyMs();
  auto hold_for = [&](int32_t leader) {
    if (!may_hold || peers_ == nullptr || leader == config_.node_id || leader < 0) return false;
    const metadata::BrokerRegistration* b = image->FindBroker(leader);
    return b != nullptr && !b->fenced && peers_->ShouldHold(leader, now_ms);
  };
  kafka::MetadataResponse response;
  // Null only before the first active controller wrote it (a brand-new cluster's first second).
  if (std::string id = ClusterId(); !id.empty()) response.cluster_id = id;
  for (const LiveBroker& b : LiveBrokers()) {
    response.brokers.push_back({b.node_id, b.host, b.port, b.rack});
  }
  // A live broker: kafka-python's admin client sends CreateTopics to the "controller".
  response.controller_id = response.brokers.front().node_id;
  if (request->include_cluster_authorized_operations) {
    response.cluster_authorized_operations = kClusterOperations;
  }

  std::vector<std::string> names;
  std::vector<kafka::Uuid> unknown_ids;  // v12+: topics asked by an id no topic has
  // Null asks for all topics; so does [] in v0, which has no null.
  const bool all_topics =
      !request->topics.has_value() || (header.api_version == 0 && request->topics->empty());
  if (!all_topics) {
    for (const kafka::MetadataRequestTopic& t : *request->topics) {
      if (t.name) {
        names.push_back(*t.name);
        continue;
      }
      // A topic by id (a null name).
      const std::string id(t.topic_id.bytes.begin(), t.topic_id.bytes.end());
      bool found = false;
      for (const auto& [name, topic] : image->topics()) {
        if (topic.topic_id == id) {
          names.push_back(name);
          found = true;
          break;
        }
      }
      if (!found) unknown_ids.push_back(t.topic_id);
    }
  } else {
    for (const auto& [name, t] : image->topics()) names.push_back(name);
  }
  std::vector<std::string> to_create;
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    kafka::MetadataResponseTopic topic;
    topic.name = name;
    topic.is_internal = name == "__consumer_offsets";
    if (request->include_topic_authorized_operations) {
      topic.topic_authorized_operations = kTopicOperations;
    }
    const metadata::TopicState* state = image->FindTopic(name);
    if (state != nullptr && state->topic_id.size() == topic.topic_id.bytes.size()) {  // v10+
      std::copy(state->topic_id.begin(), state->topic_id.end(), topic.topic_id.bytes.begin());
    }
    if (state == nullptr) {
      absl::Status valid = metadata::ValidateTopicName(*image, name);
      if (!valid.ok()) {
        topic.error_code = KafkaErrorCode::kInvalidTopicException;
      } else if (request->allow_auto_topic_creation && config_.auto_create_topics) {
        topic.error_code = KafkaErrorCode::kLeaderNotAvailable;  // being created; retry
        to_create.push_back(name);
      } else {
        topic.error_code = KafkaErrorCode::kUnknownTopicOrPartition;
      }
      response.topics.push_back(std::move(topic));
      continue;
    }
    for (size_t p = 0; p < state->partitions.size(); ++p) {
      const metadata::PartitionState& ps = state->partitions[p];
      kafka::MetadataResponsePartition out;
      out.partition_index = static_cast<int32_t>(p);
      out.leader_id = ps.leader;
      out.replica_nodes = ps.replicas;
      out.isr_nodes = ps.isr;
      for (int32_t r : ps.replicas) {  // v5+: replicas on brokers that are not alive
        const metadata::BrokerRegistration* b = image->FindBroker(r);
        if (b == nullptr || b->fenced) out.offline_replicas.push_back(r);
      }
      out.leader_epoch = ps.leader_epoch;  // v7+
      if (ps.leader == metadata::kNoLeader) out.error_code = KafkaErrorCode::kLeaderNotAvailable;
      if (hold_for(ps.leader)) {
        Outcome wait;
        wait.wait_for_metadata = true;
        return wait;
      }
      topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(topic));
  }
  for (const kafka::Uuid& id : unknown_ids) {
    kafka::MetadataResponseTopic topic;
    topic.name = std::nullopt;  // v12+: the topic is named by its id
    topic.topic_id = id;
    topic.error_code = KafkaErrorCode::kUnknownTopicId;
    response.topics.push_back(std::move(topic));
  }
  if (!to_create.empty()) StartAutoCreate(to_create);
  return EncodeOrClose(response, header.api_version, kafka::EncodeMetadataResponse);
}

std::vector<KafkaApis::LiveBroker> KafkaApis::LiveBrokers() const {
  std::vector<LiveBroker> out;
  auto image = link_->image();
  for (const auto& [id, b] : image->brokers()) {
    if (b.fenced) continue;  // clients only see live brokers
    out.push_back({id, b.kafka_host, b.kafka_port,
                   b.rack.empty() ? std::nullopt : std::optional<std::string>(b.rack)});
  }
  if (out.empty()) {
    // Before this broker is unfenced the image may list nobody alive; clients still need a
    // broker to talk to.
    out.push_back({config_.node_id, config_.advertised_host, config_.advertised_port, std::nullopt});
  }
  return out;
}

std::string KafkaApis::ClusterId() const { return link_->image()->cluster_id(); }

KafkaErrorCode KafkaApis::NotHostedError(const std::string& topic, int32_t partition) const {
  // The cluster has it elsewhere (the client's metadata is stale), or not at all.
  return link_->image()->FindPartition(topic, partition) != nullptr
             ? KafkaErrorCode::kNotLeaderOrFollower
             : KafkaErrorCode::kUnknownTopicOrPartition;
}

void KafkaApis::StartAutoCreate(const std::vector<std::string>& topics) {
  constexpr size_t kMaxTopicsBeingCreated = 1000;
  std::vector<std::string> fresh;
  {
    absl::MutexLock lock(&auto_create_mu_);
    for (const std::string& name : topics) {
      if (auto_creating_.size() >= kMaxTopicsBeingCreated) break;  // the client retries
      if (auto_creating_.insert(name).second) fresh.push_back(name);
    }
  }
  if (fresh.empty()) return;
  auto job = [this, fresh] {
    AutoCreateTopics(fresh);
    absl::MutexLock lock(&auto_create_mu_);
    for (const std::string& name : fresh) auto_creating_.erase(name);
  };
  if (background_) {
    background_(std::move(job));
  } else {
    job();
  }
}

void KafkaApis::AutoCreateTopics(const std::vector<std::string>& topics) {
  controller::CreateTopicsRequest request;
  for (const std::string& name : topics) {
    auto* t = request.add_topics();
    t->set_name(name);
    t->set_partitions(config_.num_partitions);
    t->set_replication_factor(config_.default_replication_factor);
  }
  auto response = link_->client().Call(&controller::Controller::Stub::CreateTopics, request,
                                       absl::Seconds(5));
  if (!response.ok()) {
    Logger("kafka")->warn("auto-creating topics failed: {}", response.status().message());
    return;
  }
  for (const auto& r : response->results()) {
    if (r.error().code() == 0) {
      Logger("kafka")->info("auto-created topic {} ({} partitions, RF {})", r.name(), r.partitions(),
                            r.replication_factor());
    } else if (r.error().code() != static_cast<int32_t>(KafkaErrorCode::kTopicAlreadyExists)) {
      Logger("kafka")->warn("auto-creating topic {} failed: {}", r.name(), r.error().message());
    }
  }
}

namespace {

// The leader epoch of the batch holding `offset`: that of the last epoch that starts at or
// below it (-1 when the log has no epoch for it).
int32_t EpochOfOffset(const std::vector<storage::EpochEntry>& epochs, int64_t offset) {
  int32_t epoch = -1;
  for (const storage::EpochEntry& e : epochs) {
    if (e.start_offset > offset) break;
    epoch = e.epoch;
  }
  return epoch;
}

}  // namespace

KafkaApis::Outcome KafkaApis::HandleListOffsets(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeListOffsetsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  const int16_t version = header.api_version;
  kafka::ListOffsetsResponse response;
  for (const auto& topic : request->topics) {
    kafka::ListOffsetsResponseTopic out_topic;
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      kafka::ListOffsetsResponsePartition out;
      out.partition_index = p.partition_index;
      auto partition = replicas_->GetPartition({topic.name, p.partition_index});
      if (partition == nullptr) {
        out.error_code = NotHostedError(topic.name, p.partition_index);
        out_topic.partitions.push_back(out);
        continue;
      }
      // v4+: the consumer's leader epoch first (KIP-320), then leadership.
      out.error_code = partition->CheckLeaderEpochAsLeader(p.current_leader_epoch);
      if (out.error_code != KafkaErrorCode::kNone) {
        out_topic.partitions.push_back(out);
        continue;
      }
      const PartitionOffsets offsets = partition->Offsets();
      // Consumers see up to the high watermark (read_committed too: no transactions, so the
      // last stable offset is the high watermark); a debugging replica (-2, as Kafka's tools
      // use) up to the log end.
      const int64_t last_fetchable = request->replica_id == -2 ? offsets.log_end_offset.value()
                                                               : offsets.high_watermark.value();
      const std::vector<storage::EpochEntry> epochs = partition->log()->EpochEntries();
      if (p.timestamp == kafka::kEarliestTimestamp) {
        out.offset = offsets.log_start_offset.value();
        // Kafka: the first epoch, if it starts at or below the log start.
        if (!epochs.empty() && epochs.front().start_offset <= out.offset) {
          out.leader_epoch = EpochOfOffset(epochs, out.offset);
        }
      } else if (p.timestamp == kafka::kLatestTimestamp) {
        out.offset = last_fetchable;
        out.leader_epoch = partition->leader_epoch();
      } else {
        std::optional<storage::TimestampOffset> found;
        if (p.timestamp == kafka::kMaxTimestamp && version >= 7) {
          found = partition->log()->MaxTimestampOffset();
        } else {
          auto searched = partition->log()->FetchOffsetByTimestamp(p.timestamp);
          if (!searched.ok()) {
            out.error_code = ToKafkaErrorCode(searched.status());
          } else {
            found = *searched;
          }
        }
        // Nothing at or above the HW is visible: offset and timestamp stay -1.
        if (found && found->offset < last_fetchable) {
          out.offset = found->offset;
          out.timestamp = found->timestamp;
          out.leader_epoch = EpochOfOffset(epochs, found->offset);
        }
      }
      out_topic.partitions.push_back(out);
    }
    response.topics.push_back(std::move(out_topic));
  }
  return EncodeOrClose(response, version, kafka::EncodeListOffsetsResponse);
}

KafkaApis::Outcome KafkaApis::HandleOffsetForLeaderEpoch(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeOffsetForLeaderEpochRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  // Consumers and followers ask the leader; debugging tools (-2) may ask any replica.
  const bool leader_only = request->replica_id != -2;
  kafka::OffsetForLeaderEpochResponse response;
  for (const auto& topic : request->topics) {
    kafka::OffsetForLeaderTopicResult out_topic;
    out_topic.topic = topic.topic;
    for (const auto& p : topic.partitions) {
      kafka::OffsetForLeaderEpochPartitionResult out;
      out.partition = p.partition;
      auto partition = replicas_->GetPartition({topic.topic, p.partition});
      if (partition == nullptr) {
        out.error_code = NotHostedError(topic.topic, p.partition);
      } else if (KafkaErrorCode e = partition->CheckLeaderEpochAsLeader(p.current_leader_epoch);
                 e != KafkaErrorCode::kNone && (leader_only || e != KafkaErrorCode::kNotLeaderOrFollower)) {
        out.error_code = e;
      } else {
        storage::EpochEndOffset end = partition->log()->EndOffsetForEpoch(LeaderEpoch(p.leader_epoch));
        out.leader_epoch = end.epoch;
        out.end_offset = end.end_offset;
      }
      out_topic.partitions.push_back(out);
    }
    response.topics.push_back(std::move(out_topic));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeOffsetForLeaderEpochResponse);
}

KafkaApis::Outcome KafkaApis::HandleCreateTopics(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeCreateTopicsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  controller::CreateTopicsRequest forward;
  forward.set_validate_only(request->validate_only);
  for (const auto& t : request->topics) {
    auto* spec = forward.add_topics();
    spec->set_name(t.name);
    if (t.assignments.empty()) {
      // -1 (v4+, KIP-464): this broker's defaults, as for topics it auto-creates.
      spec->set_partitions(t.num_partitions == -1 ? config_.num_partitions : t.num_partitions);
      spec->set_replication_factor(t.replication_factor == -1 ? config_.default_replication_factor
                                                              : t.replication_factor);
    }
    for (const auto& a : t.assignments) {
      auto* out = spec->add_assignments();
      out->set_partition(a.partition_index);
      for (int32_t b : a.broker_ids) out->add_replicas(b);
    }
    for (const auto& c : t.configs) {
      if (c.value) (*spec->mutable_configs())[c.name] = *c.value;
    }
  }
  auto reply = link_->client().Call(&controller::Controller::Stub::CreateTopics, forward,
                                    ControllerTimeout(request->timeout_ms));
  kafka::CreateTopicsResponse response;
  for (int i = 0; i < static_cast<int>(request->topics.size()); ++i) {
    kafka::CreatableTopicResult result;
    result.name = request->topics[i].name;
    if (!reply.ok()) {
      result.error_code = KafkaErrorCode::kRequestTimedOut;
      result.error_message = std::string(reply.status().message());
    } else if (reply->error().code() != 0) {
      result.error_code = static_cast<KafkaErrorCode>(reply->error().code());
      result.error_message = reply->error().message();
    } else if (i < reply->results_size()) {
      const auto& r = reply->results(i);
      result.error_code = static_cast<KafkaErrorCode>(r.error().code());
      if (r.error().code() != 0) result.error_message = r.error().message();
    }
    if (result.error_code == KafkaErrorCode::kNone && i < reply->results_size()) {
      // v5+: what the topic got, configs as DescribeConfigs gives them (KIP-525); v7+ its id.
      const auto& r = reply->results(i);
      result.num_partitions = r.partitions();
      result.replication_factor = static_cast<int16_t>(r.replication_factor());
      if (r.topic_id().size() == result.topic_id.bytes.size()) {
        std::copy(r.topic_id().begin(), r.topic_id().end(), result.topic_id.bytes.begin());
      }
      std::map<std::string, std::string> overrides;
      for (const auto& c : request->topics[i].configs) {
        if (c.value) overrides[c.name] = *c.value;
      }
      result.configs.emplace();
      for (const ConfigDescription& d : DescribeTopicConfigs(overrides, config_, std::nullopt)) {
        result.configs->push_back({d.name, d.value, d.read_only, d.source, false});
      }
    }
    response.topics.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeCreateTopicsResponse);
}

KafkaApis::Outcome KafkaApis::HandleDeleteTopics(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDeleteTopicsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  // v6+ names a topic by name or by id; older versions by name.
  struct Target {
    std::optional<std::string> name;
    kafka::Uuid id;
    KafkaErrorCode error = KafkaErrorCode::kNone;
  };
  std::vector<Target> targets;
  auto image = link_->image();
  for (const std::string& name : request->topic_names) targets.push_back({name, {}});
  for (const kafka::DeleteTopicState& t : request->topics) {
    Target target{t.name, t.topic_id};
    if (!t.name) {
      const std::string id(t.topic_id.bytes.begin(), t.topic_id.bytes.end());
      for (const auto& [name, topic] : image->topics()) {
        if (topic.topic_id == id) target.name = name;
      }
      if (!target.name) target.error = KafkaErrorCode::kUnknownTopicId;
    }
    targets.push_back(std::move(target));
  }
  controller::DeleteTopicsRequest forward;
  for (const Target& t : targets) {
    if (t.name) forward.add_names(*t.name);
  }
  absl::StatusOr<controller::DeleteTopicsResponse> reply;
  if (forward.names_size() > 0) {
    reply = link_->client().Call(&controller::Controller::Stub::DeleteTopics, forward,
                                 ControllerTimeout(request->timeout_ms));
  }
  kafka::DeleteTopicsResponse response;
  int next = 0;  // the controller answers the names it was sent, in order
  for (const Target& t : targets) {
    kafka::DeletableTopicResult result;
    result.name = t.name;
    result.topic_id = t.id;
    if (const metadata::TopicState* state = t.name ? image->FindTopic(*t.name) : nullptr;
        state != nullptr && state->topic_id.size() == result.topic_id.bytes.size()) {
      std::copy(state->topic_id.begin(), state->topic_id.end(), result.topic_id.bytes.begin());
    }
    if (t.error != KafkaErrorCode::kNone) {
      result.error_code = t.error;
      result.error_message = "no topic has this id";
    } else if (!reply.ok()) {
      result.error_code = KafkaErrorCode::kRequestTimedOut;
      result.error_message = std::string(reply.status().message());
    } else if (reply->error().code() != 0) {
      result.error_code = static_cast<KafkaErrorCode>(reply->error().code());
      result.error_message = reply->error().message();
    } else if (next < reply->results_size()) {
      const auto& r = reply->results(next);
      result.error_code = static_cast<KafkaErrorCode>(r.error().code());
      if (r.error().code() != 0) result.error_message = r.error().message();
    }
    if (t.name) ++next;
    response.responses.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeDeleteTopicsResponse);
}

}  // namespace gregor::broker
