// The log of one partition replica: an ordered set of segments in `<log.dir>/<topic>-<n>/`,
// the leader epoch cache, and the offsets that bound it.
//
// Offsets (all exclusive ends):  log_start_offset <= high_watermark <= log_end_offset, and
// recovery_point <= log_end_offset (everything below it is known to be fsynced).
//
// Thread-safety: every method takes the log's mutex; Read() returns FileSlices the caller may
// send after the lock is released (even if the segment is deleted meanwhile).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"
#include "common/file.h"
#include "broker/storage/cleaner_core.h"
#include "broker/storage/leader_epoch_cache.h"
#include "broker/storage/log_config.h"
#include "broker/storage/log_segment.h"
#include "broker/storage/producer_state.h"
#include "broker/storage/segment_files.h"
#include "common/clock.h"
#include "common/types.h"

namespace gregor::storage {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  // "<topic>-<partition>", the directory name.
  std::string DirName() const;
  // Splits a directory name at its last '-'; nullopt if it is not "<topic>-<number>".
  static std::optional<TopicPartition> ParseDirName(std::string_view name);
  auto operator<=>(const TopicPartition&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const TopicPartition& tp) {
    return H::combine(std::move(h), tp.topic, tp.partition);
  }
};

// What an append did.
struct LogAppendInfo {
  Offset first_offset{-1};
  Offset last_offset{-1};
  int64_t max_timestamp = -1;
  // The time the broker stamped on LogAppendTime batches, else -1.
  int64_t log_append_time_ms = -1;
  int32_t num_batches = 0;
  int64_t num_records = 0;
  int64_t size_bytes = 0;
  // The batch was an idempotent producer's retry of one the log holds (producer_state.h):
  // nothing was appended; the offsets and timestamp are those of the original.
  bool duplicate = false;
};

struct SegmentInfo {
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  int64_t size_bytes = 0;
  int64_t max_timestamp = -1;
};

// What the log cleaner needs of a log at the start of a clean (log_cleaner.h).
struct CleanerView {
  uint64_t generation = 0;  // moves when segments are truncated or deleted (not by the cleaner)
  // Every non-active segment, by base offset, and its log file (files[i] is segments[i]'s):
  // immutable until the generation moves.
  std::vector<cleaner::SegmentMeta> segments;
  std::vector<std::shared_ptr<const File>> files;
  int64_t active_base = 0;
  int64_t log_start_offset = 0;
  int64_t high_watermark = 0;
  int64_t log_end_offset = 0;
  int64_t tombstone_floor = 0;
  // The lowest offset the log was truncated to since the previous view; INT64_MAX if none.
  int64_t truncated_to = INT64_MAX;
  LogConfig config;
  bool closed = false;
  // The last offset of each idempotent producer's newest batch (cleaner_core.h keeps them).
  std::set<int64_t> producer_last_offsets;
};

class PartitionLog {
 public:
  struct Options {
    std::string dir;  // the partition directory; created if missing
    TopicPartition topic_partition;
    LogConfig config;
    Clock* clock = nullptr;
    // From the log directory's checkpoint files (absent for a new partition).
    std::optional<int64_t> recovery_point;
    std::optional<int64_t> log_start_offset;
    std::optional<int64_t> high_watermark;
    // False after an unclean stop: segments from the recovery point on are re-validated.
    bool had_clean_shutdown = true;
    // Called once, on the first write that fails (a full or broken disk). From then on the log
    // is offline: appends, truncations, flushes and rolls answer KAFKA_STORAGE_ERROR, Close()
    // writes nothing (the files stay as the failed write left them, for recovery to check).
    std::function<void(const absl::Status&)> on_write_error;
  };

  // Opens (recovering if needed) or creates the log.
  static absl::StatusOr<std::unique_ptr<PartitionLog>> Open(Options options);
  ~PartitionLog();

  // Leader path. Validates every batch of `batches` (a produce request's records for this
  // partition), then assigns offsets from the log end (setting baseOffset), stamps `epoch` as
  // partitionLeaderEpoch (and LogAppendTime if the topic uses it), and appends the bytes.
  // Errors carry Kafka codes: CORRUPT_MESSAGE, MESSAGE_TOO_LARGE, INVALID_RECORD.
  // Batches of idempotent producers are checked against the producer state first:
  // OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, or a duplicate (info.duplicate).
  // `batches` is rewritten in place (the caller's buffer: a produce request's frame).
  absl::StatusOr<LogAppendInfo> AppendAsLeader(absl::Span<char> batches, LeaderEpoch epoch);

  // Follower path: batches whose offsets the leader assigned. The first must start at or after
  // the log end offset and offsets must increase; each batch is CRC-checked.
  absl::StatusOr<LogAppendInfo> AppendAsFollower(std::string_view batches);

  // Whole batches from the one containing `start`, up to `max_bytes` (at least one batch if
  // `min_one_batch`), none starting at or after `max_offset` (pass the high watermark for
  // consumers, the log end offset for followers). An empty slice when nothing is readable yet.
  // OFFSET_OUT_OF_RANGE if `start` is below the log start or above the log end.
  absl::StatusOr<FileSlice> Read(Offset start, int64_t max_bytes, Offset max_offset,
                                 bool min_one_batch = true) const;

  // The first record whose timestamp is >= `timestamp` (its timestamp and offset); nullopt if
  // none.
  absl::StatusOr<std::optional<TimestampOffset>> FetchOffsetByTimestamp(int64_t timestamp) const;
  // The largest timestamp in the log and the last offset of its batch (ListOffsets -3, KIP-734);
  // nullopt if the log holds no batch.
  std::optional<TimestampOffset> MaxTimestampOffset() const;

  // Moves the high watermark, clamped to [log_start_offset, log_end_offset]. Returns the new one.
  Offset UpdateHighWatermark(Offset hw);

  // Removes everything at and after `offset` (follower divergence). At or past the log end only
  // epoch-cache entries starting at or after `offset` go.
  // Lowers the high watermark and recovery point if they were above, and truncates the epoch
  // cache.
  absl::Status TruncateTo(Offset offset);
  // Deletes every segment and starts an empty log at `offset`.
  absl::Status TruncateFullyAndStartAt(Offset offset);
  // Raises the log start offset (prefix deletion) and deletes segments entirely below it.
  absl::Status MaybeIncrementLogStartOffset(Offset offset);

  // Retention: deletes the oldest non-active segments, entirely below the high watermark, that
  // breach retention.ms (by their largest timestamp) or retention.bytes. Returns how many.
  absl::StatusOr<int> DeleteOldSegments();

  // Leader epochs.
  // Records that `epoch` starts at `offset` (a new leader records (epoch, LEO) at once).
  absl::Status AssignEpochStartOffset(LeaderEpoch epoch, Offset offset);
  EpochEndOffset EndOffsetForEpoch(LeaderEpoch epoch) const;
  std::optional<LeaderEpoch> LatestEpoch() const;
  std::vector<EpochEntry> EpochEntries() const;

  // fsync of everything up to the log end; the recovery point becomes the log end offset.
  absl::Status Flush();
  // Flushes if flush.ms has passed since the last flush.
  absl::Status MaybeFlush();
  // Starts a new active segment at the log end offset (no-op if the active one is empty).
  absl::Status Roll();
  // Clean close: flushes data and indexes. The log must not be used afterwards.
  absl::Status Close();
  // Whether a write failed (Options::on_write_error).
  bool offline() const;
  // Takes the log offline without a failed write of its own (another log of its dir failed).
  void SetOffline();
  // Closes and removes the partition directory.
  absl::Status Delete();

  // ---- idempotent producers (producer_state.h, producer_snapshot.h; partition_log_producers.cc)
  // The producer state as of the log end: rebuilt at open from the newest snapshot and the
  // batches after it, kept by every append (leader or follower), rebuilt after a truncation,
  // trimmed by retention. Snapshots (`<offset>.snapshot`) are written at each roll and at close.
  ProducerStateTable ProducerStates() const;
  // producer.id.expiration.ms: forgets producers whose newest batch is older than that.
  void ExpireProducers(int64_t expiration_ms);
  // Writes a snapshot at the log end now (the log does it at roll and close).
  absl::Status TakeProducerSnapshot();
  // The offset of the snapshot the last load started from; nullopt if it replayed the whole log.
  std::optional<int64_t> loaded_producer_snapshot() const;

  // Applies new topic configs (takes effect from the next append / retention check).
  void SetConfig(const LogConfig& config);
  LogConfig config() const;

  // ---- the log cleaner (log_cleaner.h; partition_log_clean.cc) ----
  // The cleaner's snapshot of the log; resets truncated_to.
  CleanerView TakeCleanerView();
  // Swaps `cleaned` (a flushed segment written as "<base>.*.cleaned", base = old_bases[0]) in
  // for the consecutive non-active segments `old_bases`, by the protocol of segment_files.h.
  // Aborted, with the .cleaned files removed, if the log's generation is no longer
  // `generation` (truncated, segments deleted, closed) or a segment is missing.
  // Readers holding slices of the old segments keep reading them.
  absl::Status ReplaceWithCleaned(const std::vector<int64_t>& old_bases, uint64_t generation,
                                  std::unique_ptr<LogSegment> cleaned, const SwapHook& hook);
  // Tombstones at or above this offset are kept by the cleaner: not every assigned replica has
  // it yet. Only raised; starts at 0 (keep every tombstone) until replication sets it.
  void RaiseTombstoneFloor(int64_t offset);
  int64_t tombstone_floor() const;

  const TopicPartition& topic_partition() const { return topic_partition_; }
  const std::string& dir() const { return dir_; }
  Offset log_start_offset() const;
  Offset log_end_offset() const;
  Offset high_watermark() const;
  Offset recovery_point() const;
  int64_t size_bytes() const;
  std::vector<SegmentInfo> Segments() const;

 private:
  explicit PartitionLog(Options options);
  absl::Status LoadSegments(const Options& options) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadEpochCache() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<LogAppendInfo> AppendLocked(std::string_view bytes,
                                             const std::vector<BatchSummary>& batches,
                                             LogAppendInfo info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MaybeRoll(int64_t incoming_bytes, int64_t last_offset)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status FlushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status TruncateToLocked(int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status TruncateFullyLocked(int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DeleteSegmentsBelow(int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MaybeAssignEpoch(int32_t epoch, int64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status PersistEpochCache() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Producer state: the newest readable snapshot at or below the log end (at or above the log
  // start), then the batches after it; snapshots above the log end or below the start go.
  absl::Status LoadProducerStateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReplayProducersLocked(int64_t from) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SnapshotProducersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The idempotence checks of a leader append's batches, in order; a duplicate's offsets, if any.
  absl::StatusOr<std::optional<ProducerBatch>> CheckProducersLocked(
      const std::vector<record::BatchHeader>& headers) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordProducersLocked(const std::vector<record::BatchHeader>& headers,
                             const std::vector<BatchSummary>& summaries)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TrimProducersBelowStartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearProducersLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);  // and every snapshot
  LogSegment& active() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return *segments_.rbegin()->second; }
  void CheckInvariants() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A failed write: the log goes offline (on_write_error, once). Returns KAFKA_STORAGE_ERROR.
  absl::Status WriteFailedLocked(const absl::Status& cause) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // KAFKA_STORAGE_ERROR if the log is offline after a failed write.
  absl::Status OfflineErrorLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `write` (a writing operation) run unless the log is offline; its failure takes it offline.
  template <typename F>
  std::invoke_result_t<F&> GuardedWriteLocked(F write) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const std::function<void(const absl::Status&)> on_write_error_;
  const TopicPartition topic_partition_;
  Clock* const clock_;

  mutable absl::Mutex mu_;
  LogConfig config_ ABSL_GUARDED_BY(mu_);
  // By base offset; never empty; the last one is the active segment.
  std::map<int64_t, std::unique_ptr<LogSegment>> segments_ ABSL_GUARDED_BY(mu_);
  LeaderEpochCache epochs_ ABSL_GUARDED_BY(mu_);
  int64_t log_start_offset_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t high_watermark_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t recovery_point_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unflushed_records_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_flush_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool offline_ ABSL_GUARDED_BY(mu_) = false;  // a write failed
  // The cleaner's view (TakeCleanerView).
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t truncated_to_ ABSL_GUARDED_BY(mu_) = INT64_MAX;
  int64_t tombstone_floor_ ABSL_GUARDED_BY(mu_) = 0;
  ProducerStateTable producers_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> loaded_producer_snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gregor::storage
