// gregor-broker: wires storage, the controller link, the replica manager and the Kafka listener,
// and runs the start-up and shutdown sequences.
//
// Start-up: open and recover the logs; register with the controller (new broker epoch); replay
// the metadata up to the registration; make this broker leader/follower of what the metadata
// says; open the Kafka listener; heartbeat (the controller unfences the broker once its metadata
// has caught up). Shutdown (SIGTERM): controlled shutdown (leaderships move away first), close
// the listener, close the logs cleanly (clean-shutdown marker), ask to be fenced.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "broker/broker_config.h"
#include "common/clock.h"

namespace gregor::broker {

class HangGuard;

class Broker {
 public:
  // `guard` (optional, outlives the broker) is told of heartbeat attempts, the session timeout
  // and the Kafka port (hang_guard.h).
  // `on_failure` (optional) is called once, from any thread, when the broker can no longer do
  // its job and must stop: a log dir failed (a full or broken disk). The owner then calls
  // Shutdown() — leaderships move away as in a controlled shutdown — and exits with an error;
  // Kafka's KRaft brokers stop the same way when a log dir fails.
  using FailureHandler = std::function<void(const std::string& reason)>;
  static absl::StatusOr<std::unique_ptr<Broker>> Create(BrokerConfig config, Clock* clock,
                                                        HangGuard* guard = nullptr,
                                                        FailureHandler on_failure = nullptr);
  virtual ~Broker() = default;
  virtual absl::Status Start() = 0;
  // Controlled shutdown then a clean stop. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace gregor::broker
