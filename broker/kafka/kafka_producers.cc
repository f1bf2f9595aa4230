// InitProducerId and DescribeProducers (KafkaApis, kafka_apis.h): idempotent producers (KIP-98).
//
// InitProducerId gives a new producer id, epoch 0, from this broker's block (producer_ids.h).
// A producer that sends its current id and epoch (v3+, KIP-360: it is resuming after an error
// such as a sequence it cannot continue) gets the next epoch of the same id, so every partition
// restarts its sequences at 0 and fences the old epoch; at the epoch's maximum it gets a new id.
// A transactional id is refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients treat as
// fatal; FindCoordinator for a transaction coordinator answers the same with a message): Gregor
// has no transactions.
#include "absl/strings/str_cat.h"
#include "broker/kafka/kafka_apis.h"
#include "common/errors.h"
#include "common/logging.h"

namespace gregor::broker {

absl::StatusOr<std::pair<int64_t, int32_t>> KafkaApis::AllocateProducerIdBlock() {
  controller::AllocateProducerIdsRequest request;
  request.set_broker_id(config_.node_id);
  request.set_broker_epoch(link_->broker_epoch());
  auto reply = link_->client().Call(&controller::Controller::Stub::AllocateProducerIds, request,
                                    absl::Seconds(10));
  if (!reply.ok()) return reply.status();
  if (reply->error().code() != 0) {
    return KafkaError(static_cast<KafkaErrorCode>(reply->error().code()), reply->error().message());
  }
  Logger("kafka")->info("producer ids {}..{} allocated to this broker", reply->producer_id_start(),
                        reply->producer_id_start() + reply->producer_id_len() - 1);
  return std::make_pair(reply->producer_id_start(), reply->producer_id_len());
}

KafkaApis::Outcome KafkaApis::HandleInitProducerId(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeInitProducerIdRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  kafka::InitProducerIdResponse response;
  response.producer_id = -1;
  response.producer_epoch = -1;
  if (request->transactional_id) {
    Logger("kafka")->warn("InitProducerId for transactional id '{}' from {} refused: Gregor does "
                          "not support transactions",
                          *request->transactional_id, header.client_id.value_or(""));
    response.error_code = KafkaErrorCode::kTransactionalIdAuthorizationFailed;  // fatal, as above
    return EncodeOrClose(response, header.api_version, kafka::EncodeInitProducerIdResponse);
  }
  constexpr int16_t kMaxEpoch = INT16_MAX - 1;  // Kafka keeps Short.MAX_VALUE as "no epoch"
  if (request->producer_id >= 0 && request->producer_epoch >= 0 &&
      request->producer_epoch < kMaxEpoch) {
    response.producer_id = request->producer_id;
    response.producer_epoch = static_cast<int16_t>(request->producer_epoch + 1);
    Logger("kafka")->info("producer {} bumped to epoch {}", response.producer_id,
                          response.producer_epoch);
  } else {
    auto id = producer_ids_.Next();
    if (!id.ok()) {
      Logger("kafka")->warn("no producer id for InitProducerId: {}", id.status().message());
      response.error_code = KafkaErrorCode::kCoordinatorNotAvailable;  // retriable
      return EncodeOrClose(response, header.api_version, kafka::EncodeInitProducerIdResponse);
    }
    response.producer_id = *id;
    response.producer_epoch = 0;
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeInitProducerIdResponse);
}

KafkaApis::Outcome KafkaApis::HandleDescribeProducers(const kafka::RequestHeader& header) {
  auto request = kafka::DecodeDescribeProducersRequest(header.body, header.api_version);
  if (!request.ok()) return CloseConnection(std::string(request.status().message()));
  kafka::DescribeProducersResponse response;
  for (const auto& topic : request->topics) {
    kafka::DescribeProducersTopicResponse out_topic;
    out_topic.name = topic.name;
    for (int32_t index : topic.partition_indexes) {
      kafka::DescribeProducersPartitionResponse out;
      out.partition_index = index;
      auto partition = replicas_->GetPartition({topic.name, index});
      if (partition == nullptr) {
        out.error_code = NotHostedError(topic.name, index);
      } else if (!partition->is_leader()) {
        out.error_code = KafkaErrorCode::kNotLeaderOrFollower;
        out.error_message = absl::StrCat("broker ", config_.node_id, " does not lead ", topic.name,
                                         "-", index);
      } else {
        const storage::ProducerStateTable producers = partition->log()->ProducerStates();
        for (const auto& [pid, entry] : producers.entries()) {
          kafka::ProducerState state;
          state.producer_id = pid;
          state.producer_epoch = entry.epoch;
          state.last_sequence = entry.batches.empty() ? -1 : entry.batches.back().last_seq;
          state.last_timestamp = entry.last_timestamp;
          state.coordinator_epoch = -1;
          state.current_txn_start_offset = -1;
          out.active_producers.push_back(state);
        }
      }
      out_topic.partitions.push_back(std::move(out));
    }
    response.topics.push_back(std::move(out_topic));
  }
  return EncodeOrClose(response, header.api_version, kafka::EncodeDescribeProducersResponse);
}

}  // namespace gregor::broker
