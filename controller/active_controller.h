// The active controller: on the quorum leader, once it has applied an entry of its own term, it
// decides and commits metadata changes — one at a time, each decided against the image that
// already holds the previous one's records.
//
// It also owns the soft state that is never written to the log: broker heartbeat times (the
// session timer that fences silent brokers) and the preferred-leader rebalance timer.
//
// Threads: one controller thread runs the operations in order. Submit() and RecordHeartbeat()
// are called from gRPC handlers; OnApplied()/OnLeaderChange() from the quorum driver's thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/steady_waiter.h"
#include "common/clock.h"
#include "common/metadata/metadata_image.h"
#include "controller/controller_config.h"
#include "controller/metadata_state.h"
#include "controller/quorum/quorum_driver.h"
#include "controller/rejoin_tracker.h"

namespace gregor::controller {

class ActiveController {
 public:
  using Decide = std::function<std::vector<metadata::MetadataRecord>(const metadata::MetadataImage&)>;
  // The committed offset of the operation's batch (or the current offset when it wrote
  // nothing), or an error: Unavailable when this node is not the active controller.
  using Done = std::function<void(absl::StatusOr<int64_t>)>;

  ActiveController(const ControllerConfig& config, MetadataState* state,
                   quorum::QuorumDriver* driver, Clock* clock);
  ~ActiveController();

  void Start();
  void Stop();

  void Submit(std::string name, Decide decide, Done done);
  // A broker heartbeat or registration arrived: its session is renewed.
  void RecordHeartbeat(int32_t broker_id);
  // A broker's metadata stream (its standing connection to this controller) closed. If the
  // broker's listeners refuse connections its process is gone: it is fenced at once, without
  // waiting for its session to expire (liveness_probe.h). From gRPC threads; never blocks.
  void OnBrokerConnectionLost(int32_t broker_id);

  bool active() const;

  // From the quorum driver thread.
  void OnApplied(int64_t entry_term);
  void OnLeaderChange(quorum::Role role, int64_t term, quorum::NodeId leader);

 private:
  struct Op {
    std::string name;
    Decide decide;
    Done done;
  };
  void Run();
  void Process(Op op);
  void CheckSessions();
  void MaybeRebalance();
  void RunProbes();
  // Probes a broker whose connection closed; true if its process is gone.
  bool ProbeBroker(const metadata::BrokerRegistration& broker);

  const ControllerConfig config_;
  MetadataState* const state_;
  quorum::QuorumDriver* const driver_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  std::deque<Op> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SteadyWaiter waiter_;  // stopping_, queue_
  bool is_leader_ ABSL_GUARDED_BY(mu_) = false;
  int64_t leader_term_ ABSL_GUARDED_BY(mu_) = -1;
  bool active_ ABSL_GUARDED_BY(mu_) = false;
  bool just_activated_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int32_t, int64_t> last_contact_ms_ ABSL_GUARDED_BY(mu_);
  int64_t last_rebalance_ms_ ABSL_GUARDED_BY(mu_) = 0;
  // Which brokers may take preferred leaderships back (alive long enough).
  RejoinTracker rejoin_ ABSL_GUARDED_BY(mu_);
  // Brokers whose connection closed, waiting for the prober thread (each id once).
  std::deque<int32_t> to_probe_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
  std::thread prober_;
};

}  // namespace gregor::controller
