// One partition replica hosted by this broker: its log, the controller's view of it (leader,
// leader epoch, replicas, ISR), and — while this broker leads — the followers' state
// (LeaderState) that decides the high watermark and ISR changes.
//
// Thread-safety: all methods are thread-safe (one mutex); the log has its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"
#include "broker/replication/leader_state.h"
#include "broker/storage/partition_log.h"
#include "common/errors.h"
#include "common/metadata/metadata_image.h"

namespace gregor::broker {

// The offsets a read or an append reports back.
struct PartitionOffsets {
  Offset log_start_offset{0};
  Offset high_watermark{0};
  Offset log_end_offset{0};
  // Below it every assigned replica has every record (PartitionLog::RaiseTombstoneFloor).
  int64_t tombstone_floor = 0;
};

// How much one partition of a fetch response may read (KIP-74), for consumer and follower
// fetches alike: up to its own limit and what is left of the response's budget, and at least
// one whole batch while some budget is left or nothing has been read yet (a batch may be
// larger than the limits). So a response exceeds its budget by one batch at most.
struct FetchReadLimit {
  int64_t max_bytes = 0;
  bool min_one_batch = true;
};
FetchReadLimit FetchReadLimitFor(int64_t partition_max_bytes, int64_t budget_left,
                                 bool nothing_read_yet);

// An ISR change the leader asks the controller for (AlterPartition).
struct IsrChange {
  storage::TopicPartition tp;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> new_isr;
};

class Partition {
 public:
  Partition(storage::TopicPartition tp, std::shared_ptr<storage::PartitionLog> log,
            int32_t local_broker, int64_t replica_lag_time_max_ms);

  const storage::TopicPartition& topic_partition() const { return tp_; }
  const std::shared_ptr<storage::PartitionLog>& log() const { return log_; }

  // Applies the controller's view of the partition. Stale states (older leader epoch) are
  // ignored.
  enum class Transition { kNone, kBecameLeader, kBecameFollower, kUpdated };
  Transition ApplyState(const metadata::PartitionState& state, int64_t now_ms);
  void SetMinInsyncReplicas(int32_t n);

  bool is_leader() const;
  int32_t leader() const;
  int32_t leader_epoch() const;
  metadata::PartitionState state() const;
  int32_t min_insync_replicas() const;

  // ---- leader: clients --------------------------------------------------------------------
  // Appends a produce request's batches. NOT_LEADER_OR_FOLLOWER if this broker does not lead;
  // NOT_ENOUGH_REPLICAS for acks=-1 when the ISR is below min.insync.replicas.
  // `leader_epoch` (optional) receives the epoch the batches were appended in.
  absl::StatusOr<storage::LogAppendInfo> AppendAsLeader(absl::Span<char> batches, int16_t acks,
                                                        int32_t* leader_epoch = nullptr);

  // For acks=-1: OK once the high watermark reaches `required_offset`; NOT_ENOUGH_REPLICAS_AFTER_APPEND
  // if the ISR shrank below min.insync.replicas meanwhile; NOT_LEADER_OR_FOLLOWER if the
  // leadership moved since the append (in `append_leader_epoch`); nullopt while still waiting.
  std::optional<KafkaErrorCode> CheckAppendCommitted(int64_t required_offset,
                                                     int32_t append_leader_epoch) const;

  // A consumer's request's leader epoch (-1: none) against ours, as Kafka checks it first:
  // FENCED_LEADER_EPOCH if it is older, UNKNOWN_LEADER_EPOCH if newer (our metadata is behind),
  // then NOT_LEADER_OR_FOLLOWER if this broker does not lead.
  KafkaErrorCode CheckLeaderEpochAsLeader(int32_t current_leader_epoch) const;

  // For consumers: whole batches from `offset` below the high watermark (Fetch v9+ checks the
  // leader epoch; v12+ says where the consumer's log diverges when it gives its last epoch).
  // With `follower_may_serve` (Fetch v11+, KIP-392) an in-sync follower serves too, below its
  // own high watermark; a follower out of the ISR answers NOT_LEADER_OR_FOLLOWER, so the
  // consumer goes back to the leader.
  struct ConsumerRead {
    Offset offset{0};
    int64_t max_bytes = 0;
    bool min_one_batch = true;
    int32_t current_leader_epoch = -1;
    int32_t last_fetched_epoch = -1;
    bool follower_may_serve = false;
  };
  struct ReadResult {
    FileSlice records;
    PartitionOffsets offsets;
    // Set (records empty) when the consumer's last fetched epoch ends below its fetch offset
    // on this log, or the epoch is not in it: truncate to here.
    std::optional<storage::EpochEndOffset> diverging;
    bool as_follower = false;  // served by a follower
  };
  absl::StatusOr<ReadResult> ReadForConsumer(const ConsumerRead& read) const;

  // KIP-392 (leader): the in-sync replica a consumer in `client_rack` should read from, if not
  // the leader: one on a broker of that rack (`rack_of`) that is `alive` and has `fetch_offset`,
  // the most caught-up if several. nullopt: read from the leader (it is in that rack, or no
  // replica is).
  std::optional<int32_t> PreferredReadReplica(const std::string& client_rack, int64_t fetch_offset,
                                              const std::function<std::string(int32_t)>& rack_of,
                                              const std::function<bool(int32_t)>& alive) const;
  PartitionOffsets Offsets() const;

  // DeleteRecords (leader): moves the log start offset to `offset` (-1: the high watermark).
  // OFFSET_OUT_OF_RANGE outside [0, HW]; POLICY_VIOLATION on a log without the delete policy.
  // Returns the offset the log now starts at.
  absl::StatusOr<int64_t> DeleteRecordsAsLeader(int64_t offset);
  // The smallest log start offset over the leader and the ISR (-1 while unknown); DeleteRecords
  // is done when it reaches the requested offset. NOT_LEADER_OR_FOLLOWER when not the leader.
  absl::StatusOr<int64_t> LowWatermark() const;

  // ---- leader: followers --------------------------------------------------------------------
  struct FollowerFetch {
    int32_t replica = -1;
    int32_t current_leader_epoch = -1;
    int64_t fetch_offset = 0;
    int32_t last_fetched_epoch = -1;
    int64_t log_start_offset = -1;  // the follower's
    int32_t max_bytes = 0;
    // At least one whole batch even past max_bytes (KIP-74). The service sets it while the
    // response's byte budget is not spent, so a response exceeds it by one batch at most.
    bool min_one_batch = true;
  };
  struct FollowerFetchResult {
    KafkaErrorCode error = KafkaErrorCode::kNone;
    std::optional<storage::EpochEndOffset> diverging;
    FileSlice records;
    PartitionOffsets offsets;
    bool high_watermark_moved = false;
    bool low_watermark_moved = false;  // a DeleteRecords may be waiting for it
    std::optional<IsrChange> isr_change;  // to send to the controller
  };
  // Records the follower's position, moves the high watermark, maybe proposes adding it to the
  // ISR, and reads what it should fetch next (or says where its log diverges).
  FollowerFetchResult HandleFollowerFetch(const FollowerFetch& fetch, int64_t now_ms,
                                          const std::function<bool(int32_t)>& eligible);
  // Periodic: an ISR shrink to propose, if a follower lags beyond replica.lag.time.max.ms.
  std::optional<IsrChange> MaybeShrinkIsr(int64_t now_ms);
  // The controller answered the AlterPartition for `change` (ok: `state` is the new state).
  void OnIsrChangeResult(const IsrChange& change, bool ok,
                         const std::optional<metadata::PartitionState>& state, int64_t now_ms);

  // ---- follower -------------------------------------------------------------------------------
  // Each acts on the answer to a fetch sent while following at `leader_epoch`, and only if this
  // broker still follows at that epoch (checked under the partition's lock, so a partition that
  // became leader meanwhile is never truncated or appended to by its old fetch): else
  // FAILED_PRECONDITION and nothing changes.
  //
  // The leader said our log diverges at (epoch, end_offset): truncate by leader epoch. A leader
  // that knows no epoch at or below ours (epoch -1: it is behind us, a deposed leader that has
  // not heard yet) proves nothing: no truncation, UNAVAILABLE. Returns the new log end offset.
  absl::StatusOr<int64_t> TruncateOnDivergence(const storage::EpochEndOffset& diverging,
                                               int32_t leader_epoch);
  // Appends replicated batches and applies the leader's high watermark, log start offset and
  // tombstone floor.
  absl::Status AppendFromLeader(int32_t leader_epoch, std::string_view records,
                                int64_t leader_high_watermark, int64_t leader_log_start_offset,
                                int64_t leader_tombstone_floor = 0);
  // OFFSET_OUT_OF_RANGE from the leader: a log end below the leader's log start starts over
  // there; one past the leader's log end (an unclean election) is cut back to it.
  absl::Status TruncateToLeaderRange(int32_t leader_epoch, int64_t leader_log_start_offset,
                                     int64_t leader_log_end_offset);

 private:
  bool MaybeAdvanceHighWatermarkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckFollowingLocked(int32_t leader_epoch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<IsrChange> MakeIsrChangeLocked(std::vector<int32_t> isr) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const storage::TopicPartition tp_;
  const std::shared_ptr<storage::PartitionLog> log_;
  const int32_t local_broker_;

  mutable absl::Mutex mu_;
  metadata::PartitionState state_ ABSL_GUARDED_BY(mu_);
  bool have_state_ ABSL_GUARDED_BY(mu_) = false;
  int32_t min_isr_ ABSL_GUARDED_BY(mu_) = 1;
  LeaderState leader_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gregor::broker
