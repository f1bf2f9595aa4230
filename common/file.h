// A POSIX file opened for reading and writing, shared by its writer (e.g. a log segment) and the
// readers holding FileSlices of it (a deleted segment's bytes stay readable until the last
// slice is gone). All I/O is positional (pread/pwrite), so concurrent readers need no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gregor {

class File {
 public:
  // Opens `path` read-write; creates it if `create` (and truncates it if `truncate`).
  static absl::StatusOr<std::shared_ptr<File>> Open(const std::string& path, bool create,
                                                    bool truncate = false);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  absl::StatusOr<int64_t> Size() const;
  // Reads up to `size` bytes at `position`; fewer only at end of file.
  absl::StatusOr<size_t> ReadAt(int64_t position, size_t size, char* out) const;
  // Reads exactly `size` bytes or fails with DataLoss.
  absl::Status ReadExactly(int64_t position, size_t size, char* out) const;
  absl::Status WriteAt(int64_t position, std::string_view data);
  absl::Status Truncate(int64_t size);
  absl::Status Sync();
  // rename(2) to `new_path` (same directory); the descriptor stays valid. Not safe while other
  // threads may call path(): rename only a file no reader has yet (the log cleaner's output).
  absl::Status Rename(const std::string& new_path);

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// A byte range of a file: what a read hands to the network layer, which can sendfile() it.
struct FileSlice {
  std::shared_ptr<const File> file;
  int64_t position = 0;
  int64_t size = 0;
};

// Copies a slice into memory (for tools, tests and transports that cannot sendfile).
absl::StatusOr<std::string> ReadSlice(const FileSlice& slice);

// Error helper: "<what> <path>: <strerror(errno)>".
absl::Status ErrnoError(std::string_view what, const std::string& path, int err);

// fsync of a directory, so renames and creations in it are durable.
absl::Status SyncDirectory(const std::string& dir);

// Writes `contents` to `path` atomically: temp file, fsync, rename, fsync the directory.
absl::Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Reads a whole (small) file. NotFound if it does not exist.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace gregor
