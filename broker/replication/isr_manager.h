// Sends the leaders' ISR changes to the controller (AlterPartition, compare-and-swap on the
// partition epoch) from one background thread, and hands each answer back to its partition.
// Also runs the periodic ISR-shrink check over the partitions this broker leads.
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/controller_link.h"
#include "broker/partition.h"
#include "common/clock.h"

namespace gregor::broker {

class ReplicaManager;

class IsrManager {
 public:
  IsrManager(ReplicaManager* replicas, ControllerLink* link, Clock* clock, int32_t broker_id,
             int64_t shrink_check_interval_ms);
  ~IsrManager();
  void Start();
  void Stop();
  void Submit(IsrChange change);

 private:
  static constexpr size_t kMaxChangesPerRequest = 1000;

  void Run();
  // One AlterPartition request for `changes` (distinct partitions); hands each result back.
  void Send(const std::vector<IsrChange>& changes);

  ReplicaManager* const replicas_;
  ControllerLink* const link_;
  Clock* const clock_;
  const int32_t broker_id_;
  const int64_t shrink_check_interval_ms_;
  absl::Mutex mu_;
  std::deque<IsrChange> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace gregor::broker
