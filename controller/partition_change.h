// Pure construction of partition changes (Kafka's PartitionChangeBuilder): given a partition's
// state, a target ISR and which brokers are usable, decide the new leader and epochs.
//
// Rules:
//  - keep the current leader if it is still in the ISR and usable (unless a preferred election
//    asks for replicas[0] and that one is in the ISR and usable);
//  - else the first replica in assignment order that is in the ISR and usable;
//  - else, only if unclean election is allowed, the first usable replica (the ISR becomes just it);
//  - else no leader (-1): the partition is offline.
//  - The ISR never becomes empty: when the last member goes, it stays recorded as the ISR so it
//    can be elected cleanly when it returns.
//  - A new leader (including -1) raises the leader epoch; any change raises the partition epoch.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "common/metadata/metadata_image.h"

namespace gregor::controller {

enum class Election { kKeepOrAny, kPreferred };

struct PartitionChange {
  // The ISR to move to (nullopt: keep the current one). Members that are not replicas are
  // ignored; order follows the assignment.
  std::optional<std::vector<int32_t>> target_isr;
  Election election = Election::kKeepOrAny;
  bool unclean_allowed = false;
};

// The new state, or nullopt if nothing changes.
std::optional<metadata::PartitionState> BuildPartitionChange(
    const metadata::PartitionState& current, const PartitionChange& change,
    const std::function<bool(int32_t)>& usable);

// `isr` without `broker` (but never empty: {broker} if it was the only member).
std::vector<int32_t> IsrWithout(const std::vector<int32_t>& isr, int32_t broker);

}  // namespace gregor::controller
