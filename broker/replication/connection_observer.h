// Told by the replica fetchers when the replication connection to a leader breaks and when it
// works again (the broker's PeerLiveness implements it). Its own header, so that the
// implementation needs nothing else of the replication module.
#pragma once

#include <cstdint>

namespace gregor::broker {

class LeaderConnectionObserver {
 public:
  virtual ~LeaderConnectionObserver() = default;
  // The connection broke (not by our own choice).
  virtual void ConnectionLost(int32_t leader, int64_t now_ms) = 0;
  // It works again (a response arrived).
  virtual void ConnectionUp(int32_t leader) = 0;
};

}  // namespace gregor::broker
