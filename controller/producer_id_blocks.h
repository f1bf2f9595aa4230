// Idempotent-producer ids, handed to brokers in blocks (Kafka's AllocateProducerIds, KIP-730):
// each block is a ProducerIdsRecord in the metadata log, so after a controller failover the
// next block starts where the last committed one ended and no id is ever given twice. A broker
// hands the ids of its block to InitProducerId requests and asks for a new block when it runs
// out. Pure decision, as control.h.
#pragma once

#include <cstdint>

#include "controller/control.h"

namespace gregor::controller {

inline constexpr int32_t kProducerIdBlockSize = 1000;

// The next block for a registered broker at its current epoch (else BROKER_ID_NOT_REGISTERED /
// STALE_BROKER_EPOCH).
ControllerResult<AllocateProducerIdsResponse> AllocateProducerIds(
    const metadata::MetadataImage& image, const AllocateProducerIdsRequest& request);

}  // namespace gregor::controller
