// What this broker knows first-hand about other brokers' liveness, from its own replication
// connections: a follower's fetch stream to its leader breaks the moment the leader's process
// dies (its kernel closes the connection).
//
// Why it matters: a client that loses its connection to a dead leader asks another broker for
// metadata within a millisecond or two, while the controller needs a few more (probe, commit,
// push) to fence the dead broker and elect new leaders. Answered at once, the client is told
// the dead broker still leads, and librdkafka only asks again a second later. So a broker that
// has just lost its connection to a leader holds Metadata answers that name that leader, until
// the controller's verdict reaches its image or a short bound passes (a live leader behind a
// broken link must not delay metadata for long: each loss episode holds for at most `hold_ms`,
// counted from the loss).
//
// Pure state with an injected clock; thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <map>

#include "absl/synchronization/mutex.h"
#include "broker/replication/connection_observer.h"

namespace gregor::broker {

// How long a loss episode holds Metadata answers at most: far more than the controller needs to
// fence a dead broker (milliseconds), far less than librdkafka's 1 s re-query.
constexpr int64_t kPeerLossHoldMs = 500;

class PeerLiveness : public LeaderConnectionObserver {
 public:
  explicit PeerLiveness(int64_t hold_ms) : hold_ms_(hold_ms) {}

  // The replication connection to `broker` broke (not by our own choice).
  void ConnectionLost(int32_t broker, int64_t now_ms) override;
  // It works again (a response arrived): nothing to hold for.
  void ConnectionUp(int32_t broker) override;
  // Whether answers naming `broker` as a leader should wait for newer metadata now.
  bool ShouldHold(int32_t broker, int64_t now_ms) const;
  // The end of the current hold for `broker` (0 if none).
  int64_t HoldUntilMs(int32_t broker) const;

 private:
  const int64_t hold_ms_;
  mutable absl::Mutex mu_;
  std::map<int32_t, int64_t> lost_at_ms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gregor::broker
