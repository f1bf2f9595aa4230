// Produce v3-9 (KafkaApis, kafka_apis.h): appends as leader, then (acks=all) waits for the
// high watermark. v5+ answers the log start offset, v7+ allows zstd, v8+ names the records that
// made a batch be refused (KIP-467), v9 is flexible.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/kafka/kafka_apis.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/record_batch.h"
#include "common/strings.h"

namespace gregor::broker {
namespace {

using storage::TopicPartition;

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

absl::StatusOr<KafkaApis::ProduceState> KafkaApis::BeginProduce(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeProduceRequest(header.body, header.api_version);
  if (!request.ok()) return request.status();
  ProduceState state;
  state.version = header.api_version;
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
        out.error_message = "transactions are not supported by Gregor";
      } else if (partition == nullptr) {
        out.error_code = NotHostedError(topic.name, p.index);
      } else if (!p.records) {
        out.error_code = KafkaErrorCode::kCorruptMessage;
      } else if (state.version < 7 && UsesZstd(*p.records)) {
        // zstd needs Produce v7+ (KIP-110).
        out.error_code = KafkaErrorCode::kUnsupportedCompressionType;
        out.error_message = "zstd-compressed batches need Produce v7 or later";
      } else {
        // The records are a view into the request frame, a buffer this broker owns and keeps
        // until the response is sent: the append rewrites them in place (offsets, leader
        // epoch), no copy.
        absl::Span<char> batches(const_cast<char*>(p.records->data()), p.records->size());
        int32_t epoch = 0;
        auto info = partition->AppendAsLeader(batches, acks, &epoch);
        if (!info.ok()) {
          out.error_code = ToKafkaErrorCode(info.status());
          out.error_message = std::string(info.status().message());  // v8+
          for (int32_t index : RecordErrorIndexes(info.status())) {   // v8+ (KIP-467)
            out.record_errors.push_back({index, out.error_message});
          }
          Logger("kafka")->debug("produce to {} failed: {}", tp.DirName(), info.status().message());
        } else {
          out.base_offset = info->first_offset.value();
          out.log_append_time_ms = info->log_append_time_ms;
          out.log_start_offset = partition->Offsets().log_start_offset.value();  // v5+
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
  return EncodeOrClose(state.response, state.version, kafka::EncodeProduceResponse);
}

}  // namespace gregor::broker
