// Sparse time index of one segment (`<base>.timeindex`): entries of (timestamp i64, relative
// offset u32), big-endian, 12 bytes each, timestamps strictly increasing. An entry (t, r) says
// the largest timestamp in the segment up to offset base+r is t, reached at that offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "broker/storage/index_file.h"

namespace gregor::storage {

struct TimestampOffset {
  int64_t timestamp = -1;
  int64_t offset = 0;
};

class TimeIndex {
 public:
  static constexpr size_t kEntrySize = 12;
  TimeIndex(std::string path, int64_t base_offset)
      : file_(std::move(path), kEntrySize), base_offset_(base_offset) {}

  // Loads the file and checks that timestamps and offsets never decrease and offsets are below
  // `next_offset_bound` (the next segment's base, or INT64_MAX). DataLoss on failure.
  absl::Status Load(int64_t next_offset_bound);

  // Adds (timestamp, offset) if the timestamp exceeds the last entry's.
  void MaybeAppend(int64_t timestamp, int64_t offset);
  // The last entry whose timestamp is strictly below `target` — every record before its
  // offset has a smaller timestamp, so a search for `target` may start there. nullopt if none.
  std::optional<TimestampOffset> LookupBefore(int64_t target) const;
  std::optional<TimestampOffset> Last() const;
  // Drops entries with offset >= `offset`.
  void TruncateTo(int64_t offset);
  void Clear() { file_.Truncate(0); }

  size_t entries() const { return file_.entries(); }
  TimestampOffset EntryAt(size_t i) const;
  absl::Status Flush(bool sync) { return file_.Flush(sync); }
  absl::Status Delete() { return file_.Delete(); }
  absl::Status Rename(const std::string& new_path) { return file_.Rename(new_path); }
  const std::string& path() const { return file_.path(); }

 private:
  IndexFile file_;
  int64_t base_offset_;
};

}  // namespace gregor::storage
