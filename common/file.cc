#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"

namespace gregor {

absl::Status ErrnoError(std::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(ToAbsl(what), " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::shared_ptr<File>> File::Open(const std::string& path, bool create,
                                                 bool truncate) {
  int flags = O_RDWR | O_CLOEXEC;
  if (create) flags |= O_CREAT;
  if (truncate) flags |= O_TRUNC;
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  return std::shared_ptr<File>(new File(fd, path));
}

File::~File() { ::close(fd_); }

absl::StatusOr<int64_t> File::Size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return ErrnoError("cannot stat", path_, errno);
  return static_cast<int64_t>(st.st_size);
}

absl::StatusOr<size_t> File::ReadAt(int64_t position, size_t size, char* out) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out + done, size - done, position + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path_, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

absl::Status File::ReadExactly(int64_t position, size_t size, char* out) const {
  ASSIGN_OR_RETURN(size_t n, ReadAt(position, size, out));
  if (n != size) {
    return absl::DataLossError(absl::StrCat("short read of ", path_, " at ", position, ": wanted ",
                                            size, " bytes, got ", n));
  }
  return absl::OkStatus();
}

absl::Status File::WriteAt(int64_t position, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                         position + static_cast<int64_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status File::Rename(const std::string& new_path) {
  if (::rename(path_.c_str(), new_path.c_str()) != 0) {
    return ErrnoError(absl::StrCat("cannot rename to ", new_path, ":"), path_, errno);
  }
  path_ = new_path;
  return absl::OkStatus();
}

absl::Status File::Truncate(int64_t size) {
  if (::ftruncate(fd_, size) != 0) return ErrnoError("cannot truncate", path_, errno);
  return absl::OkStatus();
}

absl::Status File::Sync() {
  if (::fdatasync(fd_) != 0) return ErrnoError("cannot fsync", path_, errno);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadSlice(const FileSlice& slice) {
  std::string out(static_cast<size_t>(slice.size), '\0');
  RETURN_IF_ERROR(slice.file->ReadExactly(slice.position, out.size(), out.data()));
  return out;
}

absl::Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError("cannot fsync directory", dir, err);
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp";
  {
    ASSIGN_OR_RETURN(auto file, File::Open(tmp, /*create=*/true, /*truncate=*/true));
    RETURN_IF_ERROR(file->WriteAt(0, contents));
    RETURN_IF_ERROR(file->Sync());
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename to", path, errno);
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDirectory(dir.empty() ? "." : dir);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path, errno);
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace gregor
