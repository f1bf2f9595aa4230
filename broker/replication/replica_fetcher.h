// The follower side of replication: one fetcher thread per leader broker, each keeping one
// ReplicaFetch stream to that leader and multiplexing every partition this broker follows from
// it. For each partition it sends (log end offset, last fetched epoch, current leader epoch),
// then truncates on a diverging epoch, or appends the leader's batches and applies its high
// watermark and log start offset. A broken stream is reopened with backoff; a partition whose
// leader moved is handed to the right fetcher by the replica manager.
#pragma once

#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "broker/broker_config.h"
#include "broker/controller_link.h"
#include "broker/partition.h"
#include "common/clock.h"

namespace gregor::broker {

class ReplicaManager;

class FetcherManager {
 public:
  FetcherManager(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
                 Clock* clock);
  ~FetcherManager();

  // `partition` follows `leader` at `leader_epoch` from now on (moving it between fetchers).
  void Follow(const std::shared_ptr<Partition>& partition, int32_t leader, int32_t leader_epoch);
  // Stop fetching `tp` (this broker leads it now, or no longer hosts it).
  void Unfollow(const storage::TopicPartition& tp);
  void Stop();

 private:
  class Fetcher;
  const BrokerConfig config_;
  ReplicaManager* const replicas_;
  ControllerLink* const link_;
  Clock* const clock_;
  absl::Mutex mu_;
  std::map<int32_t, std::unique_ptr<Fetcher>> fetchers_ ABSL_GUARDED_BY(mu_);
  std::map<storage::TopicPartition, int32_t> leader_of_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gregor::broker
