// Sends the leaders' ISR changes to the controller (AlterPartition, compare-and-swap on the
// partition epoch) from one background thread, and hands each answer back to its partition.
// Also runs the periodic ISR-shrink check over the partitions this broker leads.
#pragma once

#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/steady_waiter.h"
#include "broker/replication/partition.h"
#include "broker/replication/replica_host.h"
#include "common/clock.h"

namespace gregor::broker {

class IsrManager {
 public:
  IsrManager(PartitionDirectory* replicas, ClusterView* cluster, Clock* clock, int32_t broker_id,
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

  PartitionDirectory* const replicas_;
  ClusterView* const cluster_;
  Clock* const clock_;
  const int32_t broker_id_;
  const int64_t shrink_check_interval_ms_;
  absl::Mutex mu_;
  std::deque<IsrChange> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SteadyWaiter waiter_;  // stopping_, queue_
  std::thread thread_;
};

}  // namespace gregor::broker
