// The follower side of replication: one fetcher thread per leader broker, each keeping one TCP
// connection to that leader's replication listener (replica_wire.h) and multiplexing every
// partition this broker follows from it. For each partition it sends (log end offset, last
// fetched epoch, current leader epoch), then truncates on a diverging epoch, or appends the
// leader's batches (from its receive buffer, no copy) and applies its high watermark and log
// start offset. A broken connection is reopened with backoff, and reported to PeerLiveness; a
// partition whose leader moved is handed to the right fetcher by the replica manager, and a
// fetcher whose partition set grew wakes its outstanding (parked) fetch at once.
#pragma once

#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "broker/replication/partition.h"
#include "broker/replication/replica_host.h"
#include "common/clock.h"

namespace gregor::broker {

class FetcherManager {
 public:
  // `peers` learns when a leader's connection breaks and works again.
  FetcherManager(const ReplicationConfig& config, PartitionDirectory* replicas,
                 ClusterView* cluster, LeaderConnectionObserver* peers, Clock* clock);
  ~FetcherManager();

  // `partition` follows `leader` at `leader_epoch` from now on (moving it between fetchers).
  void Follow(const std::shared_ptr<Partition>& partition, int32_t leader, int32_t leader_epoch);
  // Stop fetching `tp` (this broker leads it now, or no longer hosts it).
  void Unfollow(const storage::TopicPartition& tp);
  void Stop();

 private:
  class Fetcher;
  const ReplicationConfig config_;
  PartitionDirectory* const replicas_;
  ClusterView* const cluster_;
  LeaderConnectionObserver* const peers_;
  Clock* const clock_;
  absl::Mutex mu_;
  std::map<int32_t, std::unique_ptr<Fetcher>> fetchers_ ABSL_GUARDED_BY(mu_);
  std::map<storage::TopicPartition, int32_t> leader_of_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace gregor::broker
