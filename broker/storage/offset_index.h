// Sparse offset index of one segment (`<base>.index`): entries of (relative offset u32,
// file position u32), big-endian, 8 bytes each, strictly increasing in both fields. An entry
// (r, p) says the batch containing offset base+r starts at byte p (Kafka's OffsetIndex).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "broker/storage/index_file.h"

namespace gregor::storage {

struct OffsetPosition {
  int64_t offset = 0;
  int64_t position = 0;
};

class OffsetIndex {
 public:
  static constexpr size_t kEntrySize = 8;
  OffsetIndex(std::string path, int64_t base_offset)
      : file_(std::move(path), kEntrySize), base_offset_(base_offset) {}

  // Loads the file and checks it against the log: entries increasing, offsets at or after the
  // base, positions below `log_size_bytes`. DataLoss if any check fails (caller rebuilds).
  absl::Status Load(int64_t log_size_bytes);

  // Adds an entry; `offset` and `position` must exceed the last entry's.
  void Append(int64_t offset, int64_t position);
  // The entry with the largest offset <= `target`, or {base_offset, 0} if none.
  OffsetPosition Lookup(int64_t target) const;
  // Drops entries with offset >= `offset`.
  void TruncateTo(int64_t offset);
  void Clear() { file_.Truncate(0); }

  size_t entries() const { return file_.entries(); }
  OffsetPosition EntryAt(size_t i) const;
  absl::Status Flush(bool sync) { return file_.Flush(sync); }
  absl::Status Delete() { return file_.Delete(); }
  absl::Status Rename(const std::string& new_path) { return file_.Rename(new_path); }
  const std::string& path() const { return file_.path(); }

 private:
  IndexFile file_;
  int64_t base_offset_;
};

}  // namespace gregor::storage
