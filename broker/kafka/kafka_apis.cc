#include "broker/kafka/kafka_apis.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/record_batch.h"
#include "common/strings.h"
#include "common/logging.h"
#include "broker/kafka/served_apis.h"
#include "common/kafka/constants.h"
#include "common/metadata/topic_names.h"

namespace gregor::broker {

using kafka::ApiKey;
using storage::TopicPartition;

namespace {

constexpr char kClusterId[] = "gregor-local-cluster";

// Whether any batch of a produce request's records is zstd-compressed.
bool UsesZstd(std::string_view records) {
  record::BatchIterator it(records);
  record::BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    if (header.compression() == Compression::kZstd) return true;
  }
  return false;
}

}  // namespace

KafkaApis::KafkaApis(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
                     PeerLiveness* peers, Clock* clock)
    : config_(config), replicas_(replicas), link_(link), peers_(peers), clock_(clock) {}

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
  response.cluster_id = kClusterId;
  for (const auto& [id, b] : image->brokers()) {
    if (b.fenced) continue;  // clients only see live brokers
    kafka::MetadataResponseBroker out;
    out.node_id = id;
    out.host = b.kafka_host;
    out.port = b.kafka_port;
    if (!b.rack.empty()) out.rack = b.rack;
    response.brokers.push_back(std::move(out));
  }
  if (response.brokers.empty()) {
    // Before this broker is unfenced the image may list nobody alive; clients still need a
    // broker to talk to.
    response.brokers.push_back({config_.node_id, config_.advertised_host, config_.advertised_port,
                                std::nullopt});
  }
  // A live broker: kafka-python's admin client sends CreateTopics to the "controller".
  response.controller_id = response.brokers.front().node_id;

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

KafkaApis::Outcome KafkaApis::HandleListOffsets(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeListOffsetsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
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
      } else if (!partition->is_leader()) {
        out.error_code = KafkaErrorCode::kNotLeaderOrFollower;
      } else {
        PartitionOffsets offsets = partition->Offsets();
        if (p.timestamp == kafka::kEarliestTimestamp) {
          out.offset = offsets.log_start_offset.value();
        } else if (p.timestamp == kafka::kLatestTimestamp) {
          // Consumers get the high watermark; a debugging replica (-2, as Kafka's tools use)
          // gets the log end offset.
          out.offset = request->replica_id == -2 ? offsets.log_end_offset.value()
                                                 : offsets.high_watermark.value();
        } else {
          auto found = partition->log()->FetchOffsetByTimestamp(p.timestamp);
          if (!found.ok()) {
            out.error_code = ToKafkaErrorCode(found.status());
          } else if (found->has_value() && (*found)->offset < offsets.high_watermark.value()) {
            out.offset = (*found)->offset;
            out.timestamp = (*found)->timestamp;
          }
        }
      }
      out_topic.partitions.push_back(out);
    }
    response.topics.push_back(std::move(out_topic));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeListOffsetsResponse);
}

KafkaApis::Outcome KafkaApis::HandleCreateTopics(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeCreateTopicsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  controller::CreateTopicsRequest forward;
  forward.set_validate_only(request->validate_only);
  for (const auto& t : request->topics) {
    auto* spec = forward.add_topics();
    spec->set_name(t.name);
    spec->set_partitions(t.assignments.empty() ? t.num_partitions : -1);
    spec->set_replication_factor(t.assignments.empty() ? t.replication_factor : -1);
    if (!t.assignments.empty()) {
      spec->set_partitions(0);
      spec->set_replication_factor(0);
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
  absl::Duration timeout = absl::Milliseconds(std::clamp(request->timeout_ms, 1000, 60000));
  auto reply = link_->client().Call(&controller::Controller::Stub::CreateTopics, forward, timeout);
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
    response.topics.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeCreateTopicsResponse);
}

KafkaApis::Outcome KafkaApis::HandleDeleteTopics(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDeleteTopicsRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  controller::DeleteTopicsRequest forward;
  for (const std::string& name : request->topic_names) forward.add_names(name);
  absl::Duration timeout = absl::Milliseconds(std::clamp(request->timeout_ms, 1000, 60000));
  auto reply = link_->client().Call(&controller::Controller::Stub::DeleteTopics, forward, timeout);
  kafka::DeleteTopicsResponse response;
  for (int i = 0; i < static_cast<int>(request->topic_names.size()); ++i) {
    kafka::DeletableTopicResult result;
    result.name = request->topic_names[i];
    if (!reply.ok()) {
      result.error_code = KafkaErrorCode::kRequestTimedOut;
    } else if (reply->error().code() != 0) {
      result.error_code = static_cast<KafkaErrorCode>(reply->error().code());
    } else if (i < reply->results_size()) {
      result.error_code = static_cast<KafkaErrorCode>(reply->results(i).error().code());
    }
    response.responses.push_back(std::move(result));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeDeleteTopicsResponse);
}

// ---- Produce --------------------------------------------------------------------------------

absl::StatusOr<KafkaApis::ProduceState> KafkaApis::BeginProduce(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeProduceRequest(header.body, header.api_version);
  if (!request.ok()) return request.status();
  ProduceState state;
  state.request = std::move(*request);
  state.timeout_ms = std::max(0, state.request.timeout_ms);
  const int16_t acks = state.request.acks;
  for (size_t ti = 0; ti < state.request.topic_data.size(); ++ti) {
    const auto& topic = state.request.topic_data[ti];
    kafka::ProduceTopicResponse out_topic;
    out_topic.name = topic.name;
    for (size_t pi = 0; pi < topic.partition_data.size(); ++pi) {
      const auto& p = topic.partition_data[pi];
      kafka::ProducePartitionResponse out;
      out.index = p.index;
      TopicPartition tp{topic.name, p.index};
      auto partition = replicas_->GetPartition(tp);
      if (acks != 0 && acks != 1 && acks != -1) {
        out.error_code = KafkaErrorCode::kInvalidRequiredAcks;
      } else if (topic.name == "__consumer_offsets") {
        // Only the group coordinator writes there (Kafka: "Cannot append to internal topic").
        out.error_code = KafkaErrorCode::kInvalidTopicException;
      } else if (state.request.transactional_id) {
        out.error_code = KafkaErrorCode::kUnsupportedForMessageFormat;
      } else if (partition == nullptr) {
        out.error_code = NotHostedError(topic.name, p.index);
      } else if (!p.records) {
        out.error_code = KafkaErrorCode::kCorruptMessage;
      } else if (UsesZstd(*p.records)) {
        // zstd needs Produce v7+ (KIP-110); clients that know only v3 must not send it.
        out.error_code = KafkaErrorCode::kUnsupportedCompressionType;
      } else {
        // The records are a view into the request frame, a buffer this broker owns and keeps
        // until the response is sent: the append rewrites them in place (offsets, leader
        // epoch), no copy.
        absl::Span<char> batches(const_cast<char*>(p.records->data()), p.records->size());
        int32_t epoch = 0;
        auto info = partition->AppendAsLeader(batches, acks, &epoch);
        if (!info.ok()) {
          out.error_code = ToKafkaErrorCode(info.status());
          Logger("kafka")->debug("produce to {} failed: {}", tp.DirName(), info.status().message());
        } else {
          out.base_offset = info->first_offset.value();
          out.log_append_time_ms = info->log_append_time_ms;
          state.touched.push_back(tp);
          if (acks == -1) {
            state.pending.push_back({ti, out_topic.partition_responses.size(), tp,
                                     info->last_offset.value() + 1, epoch});
          }
        }
      }
      out_topic.partition_responses.push_back(out);
    }
    state.response.responses.push_back(std::move(out_topic));
  }
  // Readers waiting on these partitions may have something now.
  for (const TopicPartition& tp : state.touched) replicas_->Notify(tp);
  return state;
}

bool KafkaApis::ProduceSatisfied(ProduceState& state) {
  auto& pending = state.pending;
  pending.erase(std::remove_if(pending.begin(), pending.end(),
                               [&](const ProduceState::Pending& p) {
                                 auto& out = state.response.responses[p.topic].partition_responses[p.partition];
                                 auto partition = replicas_->GetPartition(p.tp);
                                 if (partition == nullptr) {
                                   out.error_code = KafkaErrorCode::kNotLeaderOrFollower;
                                   return true;
                                 }
                                 auto outcome = partition->CheckAppendCommitted(p.required_offset, p.leader_epoch);
                                 if (!outcome) return false;  // keep waiting
                                 out.error_code = *outcome;
                                 return true;
                               }),
                pending.end());
  return pending.empty();
}

KafkaApis::Outcome KafkaApis::FinishProduce(ProduceState& state, bool timed_out) {
  if (timed_out) {
    for (const auto& p : state.pending) {
      state.response.responses[p.topic].partition_responses[p.partition].error_code =
          KafkaErrorCode::kRequestTimedOut;
    }
  }
  if (state.request.acks == 0) {
    // No response at all. Kafka closes the connection when an acks=0 produce fails, so the
    // client notices.
    for (const auto& t : state.response.responses) {
      for (const auto& p : t.partition_responses) {
        if (p.error_code != KafkaErrorCode::kNone) {
          return CloseConnection(absl::StrCat("acks=0 produce to ", t.name, "-", p.index, " failed: ",
                                    ToAbsl(KafkaErrorName(p.error_code))));
        }
      }
    }
    return Outcome{};
  }
  return EncodeOrClose(state.response, 3, kafka::EncodeProduceResponse);
}

// ---- Fetch ----------------------------------------------------------------------------------

absl::StatusOr<KafkaApis::FetchState> KafkaApis::ReadFetch(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeFetchRequest(header.body, header.api_version);
  if (!request.ok()) return request.status();
  FetchState state;
  state.request = std::move(*request);
  for (const auto& t : state.request.topics) {
    for (const auto& p : t.partitions) state.partitions.push_back({t.topic, p.partition});
  }
  FillFetch(state);
  return state;
}

void KafkaApis::RereadFetch(FetchState& state) { FillFetch(state); }

void KafkaApis::FillFetch(FetchState& state) {
  state.response = kafka::FetchResponse{};
  state.bytes = 0;
  state.has_error = false;
  int64_t budget = state.request.max_bytes > 0 ? state.request.max_bytes : INT32_MAX;
  for (const auto& topic : state.request.topics) {
    kafka::FetchResponseTopic out_topic;
    out_topic.topic = topic.topic;
    for (const auto& p : topic.partitions) {
      kafka::FetchResponsePartition out;
      out.partition_index = p.partition;
      auto partition = replicas_->GetPartition({topic.topic, p.partition});
      if (partition == nullptr) {
        out.error_code = NotHostedError(topic.topic, p.partition);
      } else {
        FetchReadLimit limit = FetchReadLimitFor(p.partition_max_bytes, budget,
                                                 /*nothing_read_yet=*/state.bytes == 0);
        auto read = partition->ReadAsLeader(Offset(p.fetch_offset), limit.max_bytes,
                                            limit.min_one_batch);
        if (!read.ok()) {
          out.error_code = ToKafkaErrorCode(read.status());
          if (out.error_code == KafkaErrorCode::kOffsetOutOfRange) {
            PartitionOffsets o = partition->Offsets();
            out.high_watermark = o.high_watermark.value();
            out.last_stable_offset = o.high_watermark.value();
          }
        } else {
          out.high_watermark = read->offsets.high_watermark.value();
          out.last_stable_offset = read->offsets.high_watermark.value();  // no transactions
          if (read->records.size > 0) {
            state.bytes += static_cast<size_t>(read->records.size);
            budget -= read->records.size;
            out.records.push_back(read->records);
          }
        }
      }
      if (out.error_code != KafkaErrorCode::kNone) state.has_error = true;
      out_topic.partitions.push_back(std::move(out));
    }
    state.response.responses.push_back(std::move(out_topic));
  }
}

bool KafkaApis::FetchSatisfied(const FetchState& state) const {
  return state.has_error || state.bytes >= static_cast<size_t>(std::max(state.request.min_bytes, 0)) ||
         state.request.max_wait_ms <= 0;
}

KafkaApis::Outcome KafkaApis::FinishFetch(FetchState& state) {
  kafka::Writer w;
  absl::Status s = kafka::EncodeFetchResponse(state.response, 4, w);
  if (!s.ok()) return CloseConnection(absl::StrCat("cannot encode the fetch response: ", s.message()));
  return Respond(std::move(w));
}

}  // namespace gregor::broker
