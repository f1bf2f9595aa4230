// What the replication module needs from the broker around it, as narrow interfaces. The
// broker implements them (ReplicaManager, ControllerLink, and PeerLiveness for
// connection_observer.h) and hands them in;
// nothing under broker/replication/ includes broker/*.h, so the arrows go one way.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/replication/connection_observer.h"
#include "broker/replication/partition.h"
#include "broker/replication/replication_config.h"
#include "broker/storage/partition_log.h"
#include "common/metadata/metadata_image.h"
#include "proto/controller.pb.h"

namespace gregor::broker {

// Someone waiting for a partition to change. `wake` must be cheap and thread-safe.
struct PartitionWaiter {
  std::function<void()> wake;
};

// The partitions this broker hosts, and the wake-up point for whoever waits on one.
class PartitionDirectory {
 public:
  virtual ~PartitionDirectory() = default;
  // nullptr if `tp` is not hosted here.
  virtual std::shared_ptr<Partition> GetPartition(const storage::TopicPartition& tp) const = 0;
  virtual std::vector<std::shared_ptr<Partition>> Partitions() const = 0;
  // Registers a waiter on `tp`, woken (once) by the next Notify(tp). Held weakly.
  virtual void AddWaiter(const storage::TopicPartition& tp,
                         const std::shared_ptr<PartitionWaiter>& waiter) = 0;
  // After anything that may satisfy a waiter (an append, a high watermark move).
  virtual void Notify(const storage::TopicPartition& tp) = 0;
};

// This broker's view of the cluster, and its one call to the controller.
class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual std::shared_ptr<const metadata::MetadataImage> image() const = 0;
  virtual int64_t broker_epoch() const = 0;
  virtual absl::StatusOr<controller::AlterPartitionResponse> AlterPartition(
      const controller::AlterPartitionRequest& request, absl::Duration timeout) = 0;
};

}  // namespace gregor::broker
