#include "broker/storage/index_file.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace gregor::storage {

absl::Status IndexFile::Load() {
  ASSIGN_OR_RETURN(bytes_, ReadWholeFile(path_));
  persisted_bytes_ = file_bytes_ = bytes_.size();
  if (bytes_.size() % entry_size_ != 0) {
    return absl::DataLossError(absl::StrCat("index ", path_, " has size ", bytes_.size(),
                                            ", not a multiple of ", entry_size_));
  }
  return absl::OkStatus();
}

void IndexFile::Truncate(size_t n) {
  if (n * entry_size_ >= bytes_.size()) return;
  bytes_.resize(n * entry_size_);
  if (persisted_bytes_ > bytes_.size()) persisted_bytes_ = bytes_.size();
}

absl::Status IndexFile::Flush(bool sync) {
  if (!file_) {
    ASSIGN_OR_RETURN(file_, File::Open(path_, /*create=*/true));
    ASSIGN_OR_RETURN(int64_t size, file_->Size());
    file_bytes_ = static_cast<size_t>(size);
    if (file_bytes_ != persisted_bytes_) persisted_bytes_ = 0;  // unknown content: rewrite all
  }
  if (file_bytes_ != persisted_bytes_) {
    RETURN_IF_ERROR(file_->Truncate(static_cast<int64_t>(persisted_bytes_)));
    file_bytes_ = persisted_bytes_;
  }
  if (persisted_bytes_ < bytes_.size()) {
    RETURN_IF_ERROR(file_->WriteAt(static_cast<int64_t>(persisted_bytes_),
                                   std::string_view(bytes_).substr(persisted_bytes_)));
    persisted_bytes_ = file_bytes_ = bytes_.size();
  }
  if (sync) RETURN_IF_ERROR(file_->Sync());
  return absl::OkStatus();
}

absl::Status IndexFile::Delete() {
  file_.reset();
  bytes_.clear();
  persisted_bytes_ = file_bytes_ = 0;
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("cannot delete", path_, errno);
  }
  return absl::OkStatus();
}

absl::Status IndexFile::Rename(const std::string& new_path) {
  if (file_) {
    RETURN_IF_ERROR(file_->Rename(new_path));
  } else if (::rename(path_.c_str(), new_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(absl::StrCat("cannot rename to ", new_path, ":"), path_, errno);
  }
  path_ = new_path;
  return absl::OkStatus();
}

}  // namespace gregor::storage
