#include "broker/kafka/producer_ids.h"

#include "absl/strings/str_cat.h"

namespace gregor::broker {

absl::StatusOr<int64_t> ProducerIdManager::Next() {
  absl::MutexLock lock(&mu_);
  if (next_ >= end_) {
    auto block = allocate_();
    if (!block.ok()) return block.status();
    if (block->first < 0 || block->second <= 0) {
      return absl::InternalError(absl::StrCat("the controller allocated producer ids [",
                                              block->first, ", +", block->second, ")"));
    }
    next_ = block->first;
    end_ = block->first + block->second;
  }
  return next_++;
}

}  // namespace gregor::broker
