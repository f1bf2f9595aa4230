#include "broker/peer_liveness.h"

namespace gregor::broker {

void PeerLiveness::ConnectionLost(int32_t broker, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  // One episode per loss: a connection that keeps failing does not extend the hold.
  lost_at_ms_.emplace(broker, now_ms);
}

void PeerLiveness::ConnectionUp(int32_t broker) {
  absl::MutexLock lock(&mu_);
  lost_at_ms_.erase(broker);
}

bool PeerLiveness::ShouldHold(int32_t broker, int64_t now_ms) const {
  absl::MutexLock lock(&mu_);
  auto it = lost_at_ms_.find(broker);
  return it != lost_at_ms_.end() && now_ms < it->second + hold_ms_;
}

int64_t PeerLiveness::HoldUntilMs(int32_t broker) const {
  absl::MutexLock lock(&mu_);
  auto it = lost_at_ms_.find(broker);
  return it == lost_at_ms_.end() ? 0 : it->second + hold_ms_;
}

}  // namespace gregor::broker
