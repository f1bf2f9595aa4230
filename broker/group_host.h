// Hosts the group coordinator (broker/group/) in this broker: the one mutex around its state
// machine, the __consumer_offsets partitions it writes to and loads from, and its timers.
//
// - Leadership: when this broker becomes leader of an offsets partition, its groups answer
//   COORDINATOR_LOAD_IN_PROGRESS while a loader thread reads the partition's log from its start
//   to its end; then they are served. When it stops leading, they are dropped at once (parked
//   requests get NOT_COORDINATOR).
// - Writes: one batch per group write or commit, appended as leader with acks=all; the
//   completion runs once the high watermark passes it (or NOT_COORDINATOR if the leadership
//   moved, REQUEST_TIMED_OUT after offsets.commit.timeout.ms).
// - A worker thread fires the state machine's timers, completes writes and sweeps expired
//   offsets (offsets.retention.check.interval.ms).
//
// Thread-safety: all methods are thread-safe. Callbacks given to the coordinator run under its
// mutex and must only hand results off (post to a connection's strand).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker_config.h"
#include "broker/group/group_coordinator.h"
#include "broker/replica_manager.h"
#include "broker/replication/replica_host.h"
#include "common/clock.h"

namespace gregor::broker {

inline constexpr char kOffsetsTopic[] = "__consumer_offsets";

class GroupHost : private group::OffsetsStore {
 public:
  GroupHost(const BrokerConfig& config, ReplicaManager* replicas, ClusterView* cluster, Clock* clock);
  ~GroupHost() override;

  void Start();
  void Stop();

  // From the replica manager: a partition's role changed, or it is no longer hosted here.
  void OnRoleChange(const std::shared_ptr<Partition>& partition, Partition::Transition transition);
  void OnRemoved(const storage::TopicPartition& tp);

  // Runs `fn` on the coordinator under its mutex (the request handlers' way in).
  void With(const std::function<void(group::GroupCoordinator&)>& fn);

 private:
  struct PendingWrite {
    storage::TopicPartition tp;
    int64_t required_offset = 0;
    int32_t leader_epoch = 0;
    int64_t deadline_ms = 0;
    std::optional<KafkaErrorCode> ready;  // failed at once
    std::function<void(KafkaErrorCode)> done;
  };

  void Append(int32_t partition, std::vector<Record> records,
              std::function<void(KafkaErrorCode)> done) override;
  void Run();
  void RunLoader();
  void LoadPartition(int32_t partition, int32_t leader_epoch);
  // Under mu_: completes the writes that are committed, failed or timed out.
  void CompleteWrites();
  bool TopicExists(const std::string& topic, int32_t partition) const;
  void UpdatePartitionCount();
  // Under mu_: offsets of topics deleted (or deleted and re-created) since the last image go.
  void ForgetDeletedTopics();
  void Wake();
  void NotifyAppended(const std::vector<storage::TopicPartition>& appended);

  const BrokerConfig config_;
  ReplicaManager* const replicas_;
  ClusterView* const cluster_;
  Clock* const clock_;

  std::mutex mu_;  // the coordinator's state and pending_
  std::condition_variable cv_;
  group::GroupCoordinator coordinator_;
  std::vector<PendingWrite> pending_;
  std::vector<storage::TopicPartition> appended_;  // to Notify once mu_ is released
  bool woken_ = false;
  bool stopping_ = false;
  int64_t next_expiry_ms_ = 0;
  std::shared_ptr<const metadata::MetadataImage> last_image_;
  std::map<std::string, std::string> topic_ids_;  // name -> id, as of last_image_
  std::thread worker_;

  std::mutex load_mu_;
  std::condition_variable load_cv_;
  std::deque<std::pair<int32_t, int32_t>> loads_;  // (partition, leader epoch)
  bool load_stopping_ = false;
  std::thread loader_;
};

}  // namespace gregor::broker
