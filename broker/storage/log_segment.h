// One segment of a partition log: `<20-digit base offset>.log` holding RecordBatch v2 bytes as
// produced (offsets assigned), plus its sparse `.index` and `.timeindex`.
//
// Owned by its PartitionLog and used under the log's lock; readers get FileSlices that stay
// valid after the segment is deleted (the File is shared).
//
// Invariants: batches in the file have strictly increasing offsets, all >= base_offset;
// size_bytes() is the byte length of whole batches in the file; next_offset() is one past the
// last batch's last offset (base_offset when empty).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/file.h"
#include "broker/storage/offset_index.h"
#include "broker/storage/time_index.h"
#include "common/record_batch.h"

namespace gregor::storage {

// What a segment needs to know about each batch it appends.
struct BatchSummary {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  size_t size_bytes = 0;
};

// "<dir>/<20-digit base offset><suffix>"
std::string SegmentFileName(const std::string& dir, int64_t base_offset, const char* suffix);

// The outcome of re-validating a segment's bytes.
struct RecoveryResult {
  int64_t valid_bytes = 0;      // whole valid batches from the start
  int64_t truncated_bytes = 0;  // bytes removed after them
  std::string reason;           // why the first invalid byte was invalid (empty if none)
};

class LogSegment {
 public:
  // A new, empty segment (existing files of that name are truncated). `suffix` is appended to
  // all three file names (".cleaned" for the log cleaner's output, see segment_files.h).
  static absl::StatusOr<std::unique_ptr<LogSegment>> Create(const std::string& dir,
                                                            int64_t base_offset,
                                                            int32_t index_interval_bytes,
                                                            int64_t now_ms,
                                                            const std::string& suffix = "");
  // An existing segment. Loads and sanity-checks its indexes (rebuilding them from the log if
  // missing or corrupt — that rescans and may truncate a corrupt tail) and scans the batches
  // after the last index entry to learn next_offset and max_timestamp. `next_segment_base` is
  // the following segment's base offset (INT64_MAX for the last segment).
  // With `recover`, skips the index files and re-validates the whole segment (Recover()).
  static absl::StatusOr<std::unique_ptr<LogSegment>> Open(const std::string& dir,
                                                          int64_t base_offset,
                                                          int32_t index_interval_bytes,
                                                          int64_t next_segment_base,
                                                          bool recover);

  int64_t base_offset() const { return base_offset_; }
  int64_t size_bytes() const { return size_; }
  int64_t next_offset() const { return next_offset_; }
  bool empty() const { return size_ == 0; }
  // Largest batch max timestamp in the segment, -1 if none.
  int64_t max_timestamp() const { return max_timestamp_; }
  // The last offset of the batch holding max_timestamp (-1 when empty).
  int64_t offset_of_max_timestamp() const { return offset_of_max_timestamp_; }
  // When the segment was created (wall ms; the file's mtime for segments opened from disk).
  int64_t created_ms() const { return created_ms_; }
  const std::shared_ptr<File>& file() const { return log_; }
  // Bytes the last Recover() removed (also when Open ran it).
  int64_t truncated_by_recovery() const { return truncated_by_recovery_; }
  const OffsetIndex& offset_index() const { return offset_index_; }
  const TimeIndex& time_index() const { return time_index_; }

  // Appends whole batches (already validated, offsets assigned) with one write.
  // `batches` describes each batch of `bytes` in order.
  absl::Status Append(std::string_view bytes, const std::vector<BatchSummary>& batches);

  // The first batch whose last offset >= `offset`, with its file position; nullopt if none.
  absl::StatusOr<std::optional<std::pair<int64_t, record::BatchHeader>>> FindBatch(
      int64_t offset) const;

  // Whole batches starting with the one that contains `start_offset`, stopping before a batch
  // whose base offset is >= `max_offset` or that would take the total above `max_bytes`
  // (except that the first batch is always included when `min_one_batch`). nullopt when no
  // batch of this segment reaches `start_offset`; a zero-size slice when the first such batch
  // starts at or after `max_offset` or does not fit.
  absl::StatusOr<std::optional<FileSlice>> Read(int64_t start_offset, int64_t max_bytes,
                                                int64_t max_offset, bool min_one_batch) const;

  // The first record with timestamp >= `timestamp` (reading records, so compressed batches
  // are decompressed), at or after `start_offset`: its offset and timestamp. nullopt if none.
  absl::StatusOr<std::optional<TimestampOffset>> FindOffsetByTimestamp(int64_t timestamp,
                                                                       int64_t start_offset) const;

  // Calls `fn(position, header)` for every batch from the first. DataLoss on a malformed header.
  absl::Status ForEachBatch(
      const std::function<void(int64_t position, const record::BatchHeader&)>& fn) const;

  // Re-validates every batch (header, CRC, increasing offsets from the base), rebuilds both
  // indexes, and truncates the file at the first invalid byte.
  absl::StatusOr<RecoveryResult> Recover();

  // Removes the batch containing `offset` and everything after it. Returns bytes removed.
  absl::StatusOr<int64_t> TruncateTo(int64_t offset);

  // fsync of the log and both indexes.
  absl::Status Flush();
  // Writes index entries to their files without fsync.
  absl::Status FlushIndexes();
  // The segment stops being the active one: records its final max timestamp in the time index.
  void OnBecomeInactive();
  // Deletes the three files. Readers holding slices keep reading the unlinked log.
  absl::Status Delete();
  // Renames the three files to "<base>.log<suffix>" etc. (the cleaner's `.cleaned` -> `.swap`
  // -> final). Only for a segment no reader has yet. `after_first` runs after the log file is
  // renamed and before its indexes are (crash tests stop there).
  absl::Status RenameTo(const std::string& suffix,
                        const std::function<void()>& after_first = nullptr);
  // Sets the log file's mtime (and created_ms()) - a cleaned segment takes its last source's.
  absl::Status SetModifiedTime(int64_t ms);

 private:
  LogSegment(const std::string& dir, int64_t base_offset, int32_t index_interval_bytes,
             const std::string& suffix = "");
  // Rescans batch headers from the position of the last offset-index entry to the end,
  // updating next_offset_ and max_timestamp_. A malformed header is DataLoss.
  absl::Status ScanTail();
  void IndexBatch(const BatchSummary& batch, int64_t position);

  std::string dir_;
  int64_t base_offset_;
  int32_t index_interval_bytes_;
  std::shared_ptr<File> log_;
  OffsetIndex offset_index_;
  TimeIndex time_index_;
  int64_t size_ = 0;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_ = -1;
  int64_t bytes_since_last_index_entry_ = 0;
  int64_t created_ms_ = 0;
  int64_t truncated_by_recovery_ = 0;
};

}  // namespace gregor::storage
