#include "controller/producer_id_blocks.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace gregor::controller {

ControllerResult<AllocateProducerIdsResponse> AllocateProducerIds(
    const metadata::MetadataImage& image, const AllocateProducerIdsRequest& request) {
  ControllerResult<AllocateProducerIdsResponse> result;
  const metadata::BrokerRegistration* broker = image.FindBroker(request.broker_id());
  if (broker == nullptr) {
    *result.reply.mutable_error() =
        MakeError(KafkaErrorCode::kBrokerIdNotRegistered,
                  absl::StrCat("broker ", request.broker_id(), " is not registered"));
    return result;
  }
  if (broker->epoch != request.broker_epoch()) {
    *result.reply.mutable_error() = MakeError(
        KafkaErrorCode::kStaleBrokerEpoch,
        absl::StrCat("broker ", request.broker_id(), " epoch ", request.broker_epoch(),
                     " is stale; the current registration has epoch ", broker->epoch));
    return result;
  }
  const int64_t start = image.next_producer_id();
  metadata::ProducerIdsRecord* record = result.records.emplace_back().mutable_producer_ids();
  record->set_broker_id(request.broker_id());
  record->set_broker_epoch(request.broker_epoch());
  record->set_next_producer_id(start + kProducerIdBlockSize);
  result.reply.set_producer_id_start(start);
  result.reply.set_producer_id_len(kProducerIdBlockSize);
  return result;
}

}  // namespace gregor::controller
