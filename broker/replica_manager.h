// Hosts this broker's partition replicas and keeps them matching the controller's metadata:
// creates logs for partitions assigned here, deletes them when their topic goes, makes this
// broker leader or follower with the leader epoch the metadata gives, applies topic configs.
//
// Also the wake-up point for requests that wait on a partition (long-poll fetches, acks=all
// produces): Notify(tp) after anything that may satisfy them (append, high watermark move).
//
// Thread-safety: all methods are thread-safe. Reconcile() runs on the metadata thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/broker_config.h"
#include "broker/replication/partition.h"
#include "broker/replication/replica_host.h"
#include "broker/storage/log_manager.h"
#include "common/clock.h"
#include "common/metadata/metadata_image.h"

namespace gregor::broker {

class ReplicaManager : public PartitionDirectory {
 public:
  ReplicaManager(const BrokerConfig& config, storage::LogManager* logs, Clock* clock);
  storage::LogManager* logs() const { return logs_; }

  // Makes the hosted replicas match `image`. The first call also deletes logs on disk that
  // the metadata no longer assigns to this broker.
  void Reconcile(const metadata::MetadataImage& image);

  std::shared_ptr<Partition> GetPartition(const storage::TopicPartition& tp) const override;
  std::vector<std::shared_ptr<Partition>> Partitions() const override;

  // The topic's min.insync.replicas (topic config, else the broker default).
  int32_t MinInsyncReplicas(const std::string& topic) const;

  // Registers a waiter on `tp`, woken (once) by the next Notify(tp). Holds it weakly.
  void AddWaiter(const storage::TopicPartition& tp,
                 const std::shared_ptr<PartitionWaiter>& waiter) override;
  void Notify(const storage::TopicPartition& tp) override;
  // Registers a waiter woken (once) by the next metadata change (the end of a Reconcile).
  void AddMetadataWaiter(const std::shared_ptr<PartitionWaiter>& waiter);

  // Called for every partition whose role changed (the replication layer hooks in here).
  using RoleListener = std::function<void(const std::shared_ptr<Partition>&, Partition::Transition)>;
  void SetRoleListener(RoleListener listener) { role_listener_ = std::move(listener); }
  // Called for every partition this broker stops hosting.
  using RemovalListener = std::function<void(const storage::TopicPartition&)>;
  void SetRemovalListener(RemovalListener listener) { removal_listener_ = std::move(listener); }

  // The log config of a topic: broker defaults with the topic's overrides.
  storage::LogConfig LogConfigFor(const std::map<std::string, std::string>& topic_configs) const;

 private:
  const BrokerConfig config_;
  storage::LogManager* const logs_;
  Clock* const clock_;
  RoleListener role_listener_;
  RemovalListener removal_listener_;

  mutable absl::Mutex mu_;
  std::map<storage::TopicPartition, std::shared_ptr<Partition>> partitions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, std::string>> topic_configs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> topic_ids_ ABSL_GUARDED_BY(mu_);
  bool first_reconcile_done_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex waiters_mu_;
  std::map<storage::TopicPartition, std::vector<std::weak_ptr<PartitionWaiter>>> waiters_
      ABSL_GUARDED_BY(waiters_mu_);
};

}  // namespace gregor::broker
