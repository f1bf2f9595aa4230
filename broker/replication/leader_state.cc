#include "broker/replication/leader_state.h"

#include <algorithm>

namespace gregor::broker {

namespace {
bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

void LeaderState::Reset(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr,
                        int64_t epoch_start_offset, int64_t now_ms) {
  replicas_ = replicas;
  isr_ = isr;
  epoch_start_offset_ = epoch_start_offset;
  followers_.clear();
  in_flight_.reset();
  for (int32_t r : replicas_) {
    if (r == local_) continue;
    Follower f;
    f.last_caught_up_ms = now_ms;  // a fresh leader gives every follower a full lag budget
    followers_[r] = f;
  }
}

void LeaderState::UpdateFromMetadata(const std::vector<int32_t>& replicas,
                                     const std::vector<int32_t>& isr) {
  if (isr != isr_ || replicas != replicas_) in_flight_.reset();
  replicas_ = replicas;
  isr_ = isr;
  for (int32_t r : replicas_) {
    if (r != local_ && !followers_.count(r)) followers_[r] = Follower{};
  }
}

void LeaderState::OnFollowerFetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo,
                                  int64_t now_ms, int64_t log_start_offset) {
  auto it = followers_.find(replica);
  if (it == followers_.end()) return;
  Follower& f = it->second;
  if (fetch_offset >= leader_leo) {
    f.last_caught_up_ms = now_ms;
  } else if (f.leader_leo_at_last_fetch >= 0 && fetch_offset >= f.leader_leo_at_last_fetch) {
    f.last_caught_up_ms = std::max(f.last_caught_up_ms, f.last_fetch_ms);
  }
  f.log_end_offset = fetch_offset;
  if (log_start_offset >= 0) f.log_start_offset = log_start_offset;
  f.leader_leo_at_last_fetch = leader_leo;
  f.last_fetch_ms = now_ms;
}

std::vector<int32_t> LeaderState::MaximalIsr() const {
  std::vector<int32_t> out = isr_;
  if (in_flight_) {
    for (int32_t r : *in_flight_) {
      if (!Contains(out, r)) out.push_back(r);
    }
  }
  return out;
}

std::optional<int64_t> LeaderState::NewHighWatermark(int64_t leader_leo, int64_t current_hw,
                                                     int32_t min_insync_replicas) const {
  if (static_cast<int32_t>(isr_.size()) < min_insync_replicas) return std::nullopt;
  int64_t hw = leader_leo;
  for (int32_t r : MaximalIsr()) {
    if (r == local_) continue;
    auto it = followers_.find(r);
    if (it == followers_.end() || it->second.log_end_offset < 0) return std::nullopt;
    hw = std::min(hw, it->second.log_end_offset);
  }
  if (hw <= current_hw) return std::nullopt;
  return hw;
}

std::optional<std::vector<int32_t>> LeaderState::IsrToExpand(
    int64_t high_watermark, const std::function<bool(int32_t)>& eligible) const {
  if (in_flight_) return std::nullopt;
  std::vector<int32_t> next = isr_;
  for (int32_t r : replicas_) {
    if (r == local_ || Contains(isr_, r)) continue;
    auto it = followers_.find(r);
    if (it == followers_.end()) continue;
    int64_t leo = it->second.log_end_offset;
    if (leo >= high_watermark && leo >= epoch_start_offset_ && eligible(r)) next.push_back(r);
  }
  if (next.size() == isr_.size()) return std::nullopt;
  return next;
}

bool LeaderState::IsCaughtUp(const Follower& f, int64_t leader_leo, int64_t now_ms) const {
  return f.log_end_offset == leader_leo || now_ms - f.last_caught_up_ms <= lag_max_ms_;
}

std::optional<std::vector<int32_t>> LeaderState::IsrToShrink(int64_t leader_leo,
                                                             int64_t now_ms) const {
  if (in_flight_) return std::nullopt;
  std::vector<int32_t> next;
  for (int32_t r : isr_) {
    if (r == local_) {
      next.push_back(r);
      continue;
    }
    auto it = followers_.find(r);
    if (it != followers_.end() && IsCaughtUp(it->second, leader_leo, now_ms)) next.push_back(r);
  }
  if (next.size() == isr_.size()) return std::nullopt;
  return next;
}

int64_t LeaderState::FollowerLogEndOffset(int32_t replica) const {
  auto it = followers_.find(replica);
  return it == followers_.end() ? -1 : it->second.log_end_offset;
}

std::optional<int64_t> LeaderState::MinReplicaLogEndOffset(int64_t leader_leo) const {
  int64_t min = leader_leo;
  for (int32_t r : replicas_) {
    if (r == local_) continue;
    int64_t leo = FollowerLogEndOffset(r);
    if (leo < 0) return std::nullopt;
    min = std::min(min, leo);
  }
  return min;
}

int64_t LeaderState::LowWatermark(int64_t leader_start) const {
  int64_t low = leader_start;
  for (int32_t r : isr_) {
    if (r == local_) continue;
    auto it = followers_.find(r);
    low = std::min(low, it == followers_.end() ? -1 : it->second.log_start_offset);
  }
  return low;
}

int64_t LeaderState::LastCaughtUpMs(int32_t replica) const {
  auto it = followers_.find(replica);
  return it == followers_.end() ? 0 : it->second.last_caught_up_ms;
}

}  // namespace gregor::broker
