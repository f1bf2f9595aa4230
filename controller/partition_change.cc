#include "controller/partition_change.h"

#include <algorithm>

namespace gregor::controller {

using metadata::kNoLeader;
using metadata::PartitionState;

std::vector<int32_t> IsrWithout(const std::vector<int32_t>& isr, int32_t broker) {
  std::vector<int32_t> out;
  for (int32_t b : isr) {
    if (b != broker) out.push_back(b);
  }
  if (out.empty() && !isr.empty()) return isr;
  return out;
}

std::optional<PartitionState> BuildPartitionChange(const PartitionState& current,
                                                   const PartitionChange& change,
                                                   const std::function<bool(int32_t)>& usable) {
  PartitionState next = current;
  if (change.target_isr) {
    // Keep assignment order, drop non-replicas and duplicates; never empty.
    std::vector<int32_t> isr;
    for (int32_t r : current.replicas) {
      if (std::find(change.target_isr->begin(), change.target_isr->end(), r) !=
          change.target_isr->end()) {
        isr.push_back(r);
      }
    }
    if (!isr.empty()) next.isr = std::move(isr);
  }

  auto eligible = [&](int32_t b) { return b != kNoLeader && next.InIsr(b) && usable(b); };
  int32_t leader = kNoLeader;
  if (change.election == Election::kPreferred && !next.replicas.empty() &&
      eligible(next.replicas[0])) {
    leader = next.replicas[0];
  } else if (eligible(current.leader)) {
    leader = current.leader;
  } else {
    for (int32_t r : next.replicas) {
      if (eligible(r)) {
        leader = r;
        break;
      }
    }
    if (leader == kNoLeader && change.unclean_allowed) {
      for (int32_t r : next.replicas) {
        if (usable(r)) {
          leader = r;
          next.isr = {r};
          break;
        }
      }
    }
  }
  next.leader = leader;
  if (next.leader != current.leader) next.leader_epoch = current.leader_epoch + 1;
  if (next == current) return std::nullopt;
  next.partition_epoch = current.partition_epoch + 1;
  return next;
}

}  // namespace gregor::controller
