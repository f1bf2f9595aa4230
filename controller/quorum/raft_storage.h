// Durable state of one quorum member, in its `metadata.log.dir`:
//
//   quorum-state    "term <t>\nvoted_for <id>\ncommit <c>\n", written atomically
//   raft-log        records of [u32 length][u32 crc32c of the bytes][RaftEntry proto bytes]
//   raft-snapshot   a RaftSnapshot proto, written atomically
//
// The log is append-only; truncation (a follower dropping a conflicting suffix) cuts the file at
// the recorded position of the first dropped entry. Compaction after a snapshot rewrites the file
// with the remaining entries (temp file + rename). Load() stops at a torn or corrupt record and
// cuts the file there — those entries were never acknowledged as durable.
//
// Used only by the quorum driver's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/file.h"
#include "controller/quorum/raft.h"

namespace gregor::quorum {

class RaftStorage {
 public:
  // Opens (creating the directory if needed) and reads everything back.
  static absl::StatusOr<std::unique_ptr<RaftStorage>> Open(const std::string& dir);

  // What the node restarts with.
  const PersistentState& restored() const { return restored_; }

  // Persists one Ready's durable parts (snapshot, truncation, entries, hard state) with fsync.
  absl::Status Persist(const Ready& ready);
  // The application took a snapshot: store it, then drop entries it covers.
  absl::Status SaveSnapshotAndCompact(const Snapshot& snapshot);

  int64_t log_bytes() const { return log_bytes_; }

 private:
  explicit RaftStorage(std::string dir) : dir_(std::move(dir)) {}
  absl::Status LoadHardState();
  absl::Status LoadSnapshot();
  absl::Status LoadLog();
  absl::Status WriteHardState(const HardState& state);
  absl::Status WriteSnapshot(const Snapshot& snapshot);
  absl::Status TruncateFrom(int64_t index);
  absl::Status Append(const std::vector<Entry>& entries);
  // Rewrites the log keeping entries after `last_index`.
  absl::Status CompactThrough(int64_t last_index);

  std::string dir_;
  PersistentState restored_;
  HardState hard_state_;
  std::shared_ptr<File> log_;
  int64_t log_bytes_ = 0;
  int64_t first_index_ = 1;  // index of the first entry in the file
  // positions_[i] = file position of entry first_index_ + i
  std::vector<int64_t> positions_;
};

}  // namespace gregor::quorum
