// One partition replica hosted by this broker: its log plus the leadership state the
// controller's metadata gives it (leader, leader epoch, replicas, ISR).
//
// Thread-safety: all methods are thread-safe (one mutex); the log has its own.
//
// High watermark: the leader's HW is the smallest log end offset over the ISR; with the leader
// alone in the ISR it is the leader's log end offset. Followers' offsets arrive with replication
// (ReplicaFetch); until then the HW only covers what every ISR member is known to have.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/storage/partition_log.h"
#include "common/metadata/metadata_image.h"

namespace gregor::broker {

// The offsets a read or an append reports back.
struct PartitionOffsets {
  Offset log_start_offset{0};
  Offset high_watermark{0};
  Offset log_end_offset{0};
};

class Partition {
 public:
  Partition(storage::TopicPartition tp, std::shared_ptr<storage::PartitionLog> log, int32_t local_broker);

  const storage::TopicPartition& topic_partition() const { return tp_; }
  const std::shared_ptr<storage::PartitionLog>& log() const { return log_; }

  // Applies the controller's view of the partition. Returns what changed for this broker:
  // became leader, became follower, or nothing. Stale states (older leader epoch) are ignored.
  enum class Transition { kNone, kBecameLeader, kBecameFollower, kUpdated };
  Transition ApplyState(const metadata::PartitionState& state);

  bool is_leader() const;
  int32_t leader() const;
  int32_t leader_epoch() const;
  metadata::PartitionState state() const;

  // Appends a produce request's batches as the leader. NOT_LEADER_OR_FOLLOWER if this broker
  // does not lead; NOT_ENOUGH_REPLICAS for acks=-1 when the ISR is below `min_insync_replicas`.
  absl::StatusOr<storage::LogAppendInfo> AppendAsLeader(std::string* batches, int16_t acks,
                                                        int32_t min_insync_replicas);

  // For consumers: whole batches from `offset` below the high watermark.
  struct ReadResult {
    FileSlice records;
    PartitionOffsets offsets;
  };
  absl::StatusOr<ReadResult> ReadAsLeader(Offset offset, int64_t max_bytes) const;
  PartitionOffsets Offsets() const;

  // Recomputes the high watermark from the ISR members' known log end offsets. Returns true if
  // it moved.
  bool MaybeAdvanceHighWatermark();

 private:
  const storage::TopicPartition tp_;
  const std::shared_ptr<storage::PartitionLog> log_;
  const int32_t local_broker_;

  mutable absl::Mutex mu_;
  metadata::PartitionState state_ ABSL_GUARDED_BY(mu_);
  bool have_state_ ABSL_GUARDED_BY(mu_) = false;
  // Log end offsets of the other replicas, as learned from their fetches (replication).
  std::map<int32_t, int64_t> replica_leo_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gregor::broker
