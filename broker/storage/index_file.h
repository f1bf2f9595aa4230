// The fixed-size-entry file behind the offset and time indexes.
//
// Entries live in memory (a sparse index is small: one entry per index.interval.bytes of log)
// and are written to the file on Flush(), appending only what is new. After an unclean stop,
// segments past the recovery point get their indexes rebuilt from the log, so an index tail that
// never reached the disk costs nothing. Owned by one LogSegment; not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/file.h"

namespace gregor::storage {

class IndexFile {
 public:
  IndexFile(std::string path, size_t entry_size) : path_(std::move(path)), entry_size_(entry_size) {}

  // Reads the whole file into memory. A missing file is NotFound; a size that is not a multiple
  // of the entry size is DataLoss.
  absl::Status Load();

  size_t entries() const { return bytes_.size() / entry_size_; }
  const char* entry(size_t i) const { return bytes_.data() + i * entry_size_; }
  void Append(const char* entry) { bytes_.append(entry, entry_size_); }
  // Keeps the first `n` entries.
  void Truncate(size_t n);

  // Makes the file match memory (writing the new tail, shrinking after a Truncate), then
  // fsyncs if `sync`.
  absl::Status Flush(bool sync);
  // Removes the file (missing is fine).
  absl::Status Delete();
  // Renames the file (if it exists yet) and remembers the new path.
  absl::Status Rename(const std::string& new_path);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  size_t entry_size_;
  std::string bytes_;
  size_t persisted_bytes_ = 0;  // bytes_[0, persisted_bytes_) match the file
  size_t file_bytes_ = 0;       // current size of the file
  std::shared_ptr<File> file_;  // opened on first Flush
};

}  // namespace gregor::storage
