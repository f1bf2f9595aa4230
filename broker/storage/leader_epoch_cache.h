// Leader epoch cache of one partition: which leader epoch started at which offset, persisted as
// `leader-epoch-checkpoint` (Kafka's LeaderEpochFileCache and its file format:
// a version line "0", a count line, then "<epoch> <start offset>" lines).
//
// Invariant: epochs and start offsets strictly increase along the entries.
// Owned by a PartitionLog and used under its lock; the pure logic (Assign, EndOffsetFor,
// truncation) does no I/O — Persist() writes the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::storage {

inline constexpr char kLeaderEpochCheckpoint[] = "leader-epoch-checkpoint";

struct EpochEntry {
  int32_t epoch = 0;
  int64_t start_offset = 0;
  bool operator==(const EpochEntry&) const = default;
};

// The answer to "where does my epoch end on your log?" (OffsetsForLeaderEpoch / diverging epoch).
// epoch == -1 and end_offset == -1 mean undefined.
struct EpochEndOffset {
  int32_t epoch = -1;
  int64_t end_offset = -1;
  bool operator==(const EpochEndOffset&) const = default;
};

class LeaderEpochCache {
 public:
  LeaderEpochCache() = default;
  explicit LeaderEpochCache(std::vector<EpochEntry> entries) : entries_(std::move(entries)) {}

  // Records that `epoch` starts at `start_offset`. No-op if it is the latest epoch already
  // starting at or before that offset; otherwise removes conflicting entries (those with an
  // epoch >= `epoch` or a start offset >= `start_offset`) and appends. Returns whether anything
  // changed. Negative arguments are a programming error.
  bool Assign(int32_t epoch, int64_t start_offset);

  std::optional<EpochEntry> Latest() const;
  std::optional<EpochEntry> Earliest() const;
  std::optional<int32_t> LatestEpoch() const;

  // Kafka's endOffsetFor(requestedEpoch, logEndOffset):
  //  - requested == -1 (undefined) or above the latest epoch   -> undefined
  //  - requested == latest epoch                               -> (requested, log_end_offset)
  //  - requested below the earliest epoch                      -> (requested, earliest start)
  //  - else (largest epoch <= requested, start offset of the next higher epoch)
  EpochEndOffset EndOffsetFor(int32_t requested_epoch, int64_t log_end_offset) const;

  // The epoch of the batch at `offset`: the entry with the largest start offset <= offset.
  std::optional<int32_t> EpochForOffset(int64_t offset) const;

  // Removes entries starting at or after `end_offset` (the log was truncated to it).
  // Returns whether anything changed.
  bool TruncateFromEnd(int64_t end_offset);
  // The log now starts at `start_offset`: entries entirely below it are removed and the one
  // covering it is moved up to start there. Returns whether anything changed.
  bool TruncateFromStart(int64_t start_offset);
  void Clear() { entries_.clear(); }

  const std::vector<EpochEntry>& entries() const { return entries_; }

  std::string Format() const;
  static absl::StatusOr<LeaderEpochCache> Parse(std::string_view text, std::string_view source);
  // Writes `<dir>/leader-epoch-checkpoint` atomically.
  absl::Status Persist(const std::string& dir) const;
  // Reads it; NotFound if absent, DataLoss if malformed.
  static absl::StatusOr<LeaderEpochCache> Load(const std::string& dir);

 private:
  std::vector<EpochEntry> entries_;
};

}  // namespace gregor::storage
