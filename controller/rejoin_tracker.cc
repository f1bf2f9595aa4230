#include "controller/rejoin_tracker.h"

namespace gregor::controller {

bool RejoinTracker::Update(const std::vector<int32_t>& alive, int64_t now_ms) {
  std::map<int32_t, int64_t> since;
  for (int32_t id : alive) {
    auto it = alive_since_ms_.find(id);
    since[id] = it == alive_since_ms_.end() ? now_ms : it->second;
  }
  alive_since_ms_ = std::move(since);
  bool newly = false;
  std::set<int32_t> eligible;
  for (const auto& [id, t] : alive_since_ms_) {
    if (now_ms - t < delay_ms_) continue;
    eligible.insert(id);
    if (!eligible_.count(id)) newly = true;
  }
  eligible_ = std::move(eligible);
  return newly;
}

void RejoinTracker::Reset() {
  alive_since_ms_.clear();
  eligible_.clear();
}

}  // namespace gregor::controller
