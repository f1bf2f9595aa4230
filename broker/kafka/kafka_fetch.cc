// Fetch v4-12 for consumers (KafkaApis, kafka_apis.h). Followers replicate over their own
// protocol (broker/replication/). v5+ answers the log start offset, v7+ may use an incremental
// fetch session (fetch_sessions.h) and has a top-level error, v9+ checks the consumer's leader
// epoch (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, KIP-320), v10+ may read zstd, v11 carries
// the consumer's rack and a preferred read replica (-1: the leader), v12 is flexible: the
// consumer's last fetched epoch, answered with where its log diverges, and the current leader
// with a leadership error.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/kafka/kafka_apis.h"
#include "common/errors.h"
#include "common/logging.h"

namespace gregor::broker {
namespace {

FetchSessionCache::Request SessionRequest(const kafka::FetchRequest& request) {
  FetchSessionCache::Request out;
  out.session_id = request.session_id;
  out.epoch = request.session_epoch;
  for (const auto& t : request.topics) {
    for (const auto& p : t.partitions) {
      out.partitions.push_back({{t.topic, p.partition}, p.fetch_offset, p.partition_max_bytes,
                                p.current_leader_epoch, p.last_fetched_epoch});
    }
  }
  for (const auto& t : request.forgotten_topics_data) {
    for (int32_t p : t.partitions) out.forgotten.push_back({t.topic, p});
  }
  return out;
}

}  // namespace

std::optional<int32_t> KafkaApis::PreferredReplica(const FetchState& state,
                                                   const Partition& partition,
                                                   const FetchSessionRead& read,
                                                   const metadata::MetadataImage& image) const {
  if (!config_.rack_aware_replica_selector || state.version < 11 || state.request.rack_id.empty()) {
    return std::nullopt;
  }
  auto rack_of = [&image](int32_t broker) {
    const metadata::BrokerRegistration* b = image.FindBroker(broker);
    return b == nullptr ? std::string() : b->rack;
  };
  auto alive = [&image](int32_t broker) {
    const metadata::BrokerRegistration* b = image.FindBroker(broker);
    return b != nullptr && b->usable();
  };
  return partition.PreferredReadReplica(state.request.rack_id, read.fetch_offset, rack_of, alive);
}

void KafkaApis::NoteFollowerRead(const FetchSessionKey& key, const std::string& client_rack) {
  absl::MutexLock lock(&follower_reads_mu_);
  if (follower_reads_.size() >= 10000 ||
      !follower_reads_.insert(absl::StrCat(key.topic, "-", key.partition, "|", client_rack)).second) {
    return;
  }
  Logger("kafka")->info("serving consumer fetches of {}-{} as a follower (client rack '{}')",
                        key.topic, key.partition, client_rack);
}

absl::StatusOr<KafkaApis::FetchState> KafkaApis::ReadFetch(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeFetchRequest(header.body, header.api_version);
  if (!request.ok()) return request.status();
  FetchState state;
  state.version = header.api_version;
  state.request = std::move(*request);
  state.session = fetch_sessions_.Open(SessionRequest(state.request), clock_->SteadyMs());
  for (const FetchSessionRead& read : state.session.reads) {
    state.partitions.push_back({read.key.topic, read.key.partition});
  }
  FillFetch(state);
  return state;
}

void KafkaApis::RereadFetch(FetchState& state) { FillFetch(state); }

void KafkaApis::FillFetch(FetchState& state) {
  state.results.clear();
  state.bytes = 0;
  state.has_error = state.session.error != KafkaErrorCode::kNone;
  if (state.has_error) return;
  auto image = link_->image();
  int64_t budget = state.request.max_bytes > 0 ? state.request.max_bytes : INT32_MAX;
  for (const FetchSessionRead& read : state.session.reads) {
    kafka::FetchResponsePartition out;
    out.partition_index = read.key.partition;
    auto partition = replicas_->GetPartition({read.key.topic, read.key.partition});
    const metadata::TopicState* topic = image->FindTopic(read.key.topic);
    if (partition == nullptr) {
      out.error_code = NotHostedError(read.key.topic, read.key.partition);
    } else if (state.version < 10 && topic != nullptr && topic->configs.count("compression.type") &&
               topic->configs.at("compression.type") == "zstd") {
      // Kafka's rule: a zstd topic cannot be read before Fetch v10 (KIP-110).
      out.error_code = KafkaErrorCode::kUnsupportedCompressionType;
    } else if (std::optional<int32_t> preferred = PreferredReplica(state, *partition, read, *image)) {
      // KIP-392: read from this replica in your rack instead (no records from the leader).
      PartitionOffsets o = partition->Offsets();
      out.preferred_read_replica = *preferred;
      out.high_watermark = o.high_watermark.value();
      out.last_stable_offset = o.high_watermark.value();
      out.log_start_offset = o.log_start_offset.value();
    } else {
      FetchReadLimit limit = FetchReadLimitFor(read.max_bytes, budget,
                                               /*nothing_read_yet=*/state.bytes == 0);
      Partition::ConsumerRead consumer;
      consumer.offset = Offset(read.fetch_offset);
      consumer.max_bytes = limit.max_bytes;
      consumer.min_one_batch = limit.min_one_batch;
      consumer.current_leader_epoch = read.current_leader_epoch;
      consumer.last_fetched_epoch = read.last_fetched_epoch;
      consumer.follower_may_serve = state.version >= 11;  // KIP-392 consumers may read here
      auto result = partition->ReadForConsumer(consumer);
      if (!result.ok()) {
        out.error_code = ToKafkaErrorCode(result.status());
        if (out.error_code == KafkaErrorCode::kNotLeaderOrFollower ||
            out.error_code == KafkaErrorCode::kFencedLeaderEpoch) {
          if (const auto* ps = image->FindPartition(read.key.topic, read.key.partition)) {
            out.current_leader = kafka::FetchCurrentLeader{ps->leader, ps->leader_epoch};  // v12+
          }
        }
        if (out.error_code == KafkaErrorCode::kOffsetOutOfRange) {
          PartitionOffsets o = partition->Offsets();
          out.high_watermark = o.high_watermark.value();
          out.last_stable_offset = o.high_watermark.value();
          out.log_start_offset = o.log_start_offset.value();
        }
      } else {
        if (result->diverging) {  // v12+: truncate to here first
          out.diverging_epoch =
              kafka::FetchDivergingEpoch{result->diverging->epoch, result->diverging->end_offset};
        }
        if (result->as_follower) NoteFollowerRead(read.key, state.request.rack_id);
        out.high_watermark = result->offsets.high_watermark.value();
        out.last_stable_offset = result->offsets.high_watermark.value();  // no transactions
        out.log_start_offset = result->offsets.log_start_offset.value();
        if (result->records.size > 0) {
          state.bytes += static_cast<size_t>(result->records.size);
          budget -= result->records.size;
          out.records.push_back(result->records);
        }
      }
    }
    if (out.error_code != KafkaErrorCode::kNone) state.has_error = true;
    state.results.push_back(std::move(out));
  }
}

bool KafkaApis::FetchSatisfied(const FetchState& state) const {
  return state.has_error || state.bytes >= static_cast<size_t>(std::max(state.request.min_bytes, 0)) ||
         state.request.max_wait_ms <= 0;
}

KafkaApis::Outcome KafkaApis::FinishFetch(FetchState& state) {
  kafka::FetchResponse response;
  response.error_code = state.session.error;
  if (state.session.error == KafkaErrorCode::kNone) {
    std::vector<FetchSessionAnswer> answers;
    for (const kafka::FetchResponsePartition& r : state.results) {
      answers.push_back({!r.records.empty(), r.error_code != KafkaErrorCode::kNone,
                         r.diverging_epoch.has_value(), r.high_watermark, r.log_start_offset,
                         r.preferred_read_replica >= 0});
    }
    std::vector<bool> send(state.results.size(), true);
    const int64_t now_ms = clock_->SteadyMs();
    if (state.session.open_session) {
      response.session_id = fetch_sessions_.CreateSession(state.session, answers, now_ms);
    } else if (state.session.incremental) {
      response.session_id = state.session.session_id;
      send = fetch_sessions_.SelectIncremental(state.session, answers, now_ms);
    }
    // Consecutive partitions of one topic share a topic entry, as Kafka writes them.
    for (size_t i = 0; i < state.results.size(); ++i) {
      if (!send[i]) continue;
      const std::string& topic = state.session.reads[i].key.topic;
      if (response.responses.empty() || response.responses.back().topic != topic) {
        response.responses.emplace_back().topic = topic;
      }
      response.responses.back().partitions.push_back(std::move(state.results[i]));
    }
  }
  kafka::Writer w;
  absl::Status s = kafka::EncodeFetchResponse(response, state.version, w);
  if (!s.ok()) return CloseConnection(absl::StrCat("cannot encode the fetch response: ", s.message()));
  return Respond(std::move(w));
}

}  // namespace gregor::broker
