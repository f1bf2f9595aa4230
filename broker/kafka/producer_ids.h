// The producer ids this broker hands to InitProducerId (idempotent producers, KIP-98): from a
// block the controller allocated to it (controller/producer_id_blocks.h), a new block when the
// current one is used up. Ids are unique across the cluster and never reused.
//
// Thread-safety: Next() may be called from any thread; a block request is made by one caller
// at a time while the others wait for it.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace gregor::broker {

class ProducerIdManager {
 public:
  // Asks the controller for a block: its first id and length.
  using AllocateBlock = std::function<absl::StatusOr<std::pair<int64_t, int32_t>>()>;
  explicit ProducerIdManager(AllocateBlock allocate) : allocate_(std::move(allocate)) {}

  // A new producer id; the controller's error (or the transport's) when no block can be had.
  absl::StatusOr<int64_t> Next();

 private:
  AllocateBlock allocate_;
  absl::Mutex mu_;
  int64_t next_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t end_ ABSL_GUARDED_BY(mu_) = 0;  // exclusive; next_ == end_: no block
};

}  // namespace gregor::broker
