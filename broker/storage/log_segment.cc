#include "broker/storage/log_segment.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::storage {
namespace {

// Reads batch headers one after another through a small buffer, so walking a segment costs one
// read per few batches rather than one per batch.
class HeaderScanner {
 public:
  HeaderScanner(const File& file, int64_t position, int64_t end)
      : file_(file), position_(position), end_(end) {}

  // Sets the next batch's position and header; false at the end. A malformed header, or a
  // batch running past `end`, is DataLoss.
  absl::StatusOr<bool> Next(int64_t* position, record::BatchHeader* header) {
    if (position_ >= end_) return false;
    if (end_ - position_ < static_cast<int64_t>(record::kBatchHeaderSize)) {
      return absl::DataLossError(absl::StrCat("partial batch header at position ", position_,
                                              " of ", file_.path()));
    }
    if (position_ < buffer_start_ ||
        position_ + static_cast<int64_t>(record::kBatchHeaderSize) >
            buffer_start_ + static_cast<int64_t>(buffer_.size())) {
      size_t want = static_cast<size_t>(std::min<int64_t>(kBufferBytes, end_ - position_));
      buffer_.resize(want);
      ASSIGN_OR_RETURN(size_t got, file_.ReadAt(position_, want, buffer_.data()));
      buffer_.resize(got);
      buffer_start_ = position_;
      if (got < record::kBatchHeaderSize) {
        return absl::DataLossError(absl::StrCat("short read at position ", position_, " of ",
                                                file_.path()));
      }
    }
    std::string_view bytes(buffer_.data() + (position_ - buffer_start_), record::kBatchHeaderSize);
    auto parsed = record::ParseBatchHeader(bytes);
    if (!parsed.ok()) {
      return absl::DataLossError(absl::StrCat("bad batch header at position ", position_, " of ",
                                              file_.path(), ": ", parsed.status().message()));
    }
    if (static_cast<int64_t>(parsed->size_bytes()) > end_ - position_) {
      return absl::DataLossError(absl::StrCat("batch at position ", position_, " of ",
                                              file_.path(), " runs past the end"));
    }
    *header = *parsed;
    *position = position_;
    position_ += static_cast<int64_t>(parsed->size_bytes());
    return true;
  }

 private:
  static constexpr int64_t kBufferBytes = 8192;
  const File& file_;
  int64_t position_;
  int64_t end_;
  std::string buffer_;
  int64_t buffer_start_ = 0;
};

int64_t FileMtimeMs(const File& file) {
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

}  // namespace

std::string SegmentFileName(const std::string& dir, int64_t base_offset, const char* suffix) {
  return absl::StrFormat("%s/%020d%s", dir, base_offset, suffix);
}

LogSegment::LogSegment(const std::string& dir, int64_t base_offset, int32_t index_interval_bytes,
                       const std::string& suffix)
    : dir_(dir),
      base_offset_(base_offset),
      index_interval_bytes_(index_interval_bytes),
      offset_index_(SegmentFileName(dir, base_offset, ".index") + suffix, base_offset),
      time_index_(SegmentFileName(dir, base_offset, ".timeindex") + suffix, base_offset),
      next_offset_(base_offset) {}

absl::StatusOr<std::unique_ptr<LogSegment>> LogSegment::Create(const std::string& dir,
                                                               int64_t base_offset,
                                                               int32_t index_interval_bytes,
                                                               int64_t now_ms,
                                                               const std::string& suffix) {
  std::unique_ptr<LogSegment> segment(
      new LogSegment(dir, base_offset, index_interval_bytes, suffix));
  ASSIGN_OR_RETURN(segment->log_, File::Open(SegmentFileName(dir, base_offset, ".log") + suffix,
                                             /*create=*/true, /*truncate=*/true));
  RETURN_IF_ERROR(segment->offset_index_.Delete());
  RETURN_IF_ERROR(segment->time_index_.Delete());
  segment->created_ms_ = now_ms;
  return segment;
}

absl::StatusOr<std::unique_ptr<LogSegment>> LogSegment::Open(const std::string& dir,
                                                             int64_t base_offset,
                                                             int32_t index_interval_bytes,
                                                             int64_t next_segment_base,
                                                             bool recover) {
  std::unique_ptr<LogSegment> segment(new LogSegment(dir, base_offset, index_interval_bytes));
  ASSIGN_OR_RETURN(segment->log_,
                   File::Open(SegmentFileName(dir, base_offset, ".log"), /*create=*/false));
  ASSIGN_OR_RETURN(segment->size_, segment->log_->Size());
  segment->created_ms_ = FileMtimeMs(*segment->log_);

  if (recover) {
    ASSIGN_OR_RETURN(RecoveryResult result, segment->Recover());
    (void)result;
    return segment;
  }
  absl::Status loaded = segment->offset_index_.Load(segment->size_);
  if (loaded.ok()) loaded = segment->time_index_.Load(next_segment_base);
  if (loaded.ok()) loaded = segment->ScanTail();
  if (!loaded.ok()) {
    Logger("storage")->warn("rebuilding indexes of segment {}: {}",
                            SegmentFileName(dir, base_offset, ".log"), loaded.message());
    ASSIGN_OR_RETURN(RecoveryResult result, segment->Recover());
    (void)result;
    // Write the rebuilt indexes now: a clean open puts this segment below the recovery point,
    // so nothing would flush it later and every start would rebuild it again.
    RETURN_IF_ERROR(segment->Flush());
  }
  return segment;
}

absl::Status LogSegment::ScanTail() {
  int64_t start = 0;
  if (offset_index_.entries() > 0) {
    start = offset_index_.EntryAt(offset_index_.entries() - 1).position;
  }
  if (auto last = time_index_.Last()) {
    max_timestamp_ = last->timestamp;
    offset_of_max_timestamp_ = last->offset;
  }
  next_offset_ = base_offset_;
  if (start > 0) {
    // The indexed batch's last offset is the entry's key; it is re-read by the scan below.
    next_offset_ = offset_index_.EntryAt(offset_index_.entries() - 1).offset + 1;
  }
  HeaderScanner scanner(*log_, start, size_);
  int64_t position = 0;
  record::BatchHeader header;
  int64_t last_position = start;
  while (true) {
    ASSIGN_OR_RETURN(bool more, scanner.Next(&position, &header));
    if (!more) break;
    if (header.base_offset < base_offset_) {
      return absl::DataLossError(absl::StrCat("batch offset ", header.base_offset,
                                              " below segment base ", base_offset_));
    }
    next_offset_ = header.next_offset();
    if (header.max_timestamp > max_timestamp_) {
      max_timestamp_ = header.max_timestamp;
      offset_of_max_timestamp_ = header.last_offset();
    }
    last_position = position + static_cast<int64_t>(header.size_bytes());
  }
  bytes_since_last_index_entry_ = last_position - start;
  return absl::OkStatus();
}

void LogSegment::IndexBatch(const BatchSummary& batch, int64_t position) {
  if (batch.max_timestamp > max_timestamp_) {
    max_timestamp_ = batch.max_timestamp;
    offset_of_max_timestamp_ = batch.last_offset;
  }
  if (bytes_since_last_index_entry_ > index_interval_bytes_) {
    offset_index_.Append(batch.last_offset, position);
    // No entry until a batch had a timestamp (-1: none; the leader fixes a client's -1).
    if (offset_of_max_timestamp_ >= 0) {
      time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
    }
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += static_cast<int64_t>(batch.size_bytes);
  next_offset_ = batch.last_offset + 1;
}

absl::Status LogSegment::Append(std::string_view bytes, const std::vector<BatchSummary>& batches) {
  GREGOR_CHECK(!batches.empty());
  GREGOR_CHECK_MSG(batches.front().base_offset >= next_offset_, "append at ",
                   batches.front().base_offset, " below segment end ", next_offset_);
  GREGOR_CHECK_MSG(batches.back().last_offset - base_offset_ <= INT32_MAX,
                   "relative offset overflow");
  RETURN_IF_ERROR(log_->WriteAt(size_, bytes));
  int64_t position = size_;
  for (const BatchSummary& batch : batches) {
    IndexBatch(batch, position);
    position += static_cast<int64_t>(batch.size_bytes);
  }
  GREGOR_CHECK(position == size_ + static_cast<int64_t>(bytes.size()));
  size_ = position;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::pair<int64_t, record::BatchHeader>>> LogSegment::FindBatch(
    int64_t offset) const {
  HeaderScanner scanner(*log_, offset_index_.Lookup(offset).position, size_);
  int64_t position = 0;
  record::BatchHeader header;
  while (true) {
    ASSIGN_OR_RETURN(bool more, scanner.Next(&position, &header));
    if (!more) return std::nullopt;
    if (header.last_offset() >= offset) return std::make_pair(position, header);
  }
}

absl::StatusOr<std::optional<FileSlice>> LogSegment::Read(int64_t start_offset, int64_t max_bytes,
                                                          int64_t max_offset,
                                                          bool min_one_batch) const {
  ASSIGN_OR_RETURN(auto first, FindBatch(start_offset));
  if (!first) return std::nullopt;
  int64_t start = first->first;
  HeaderScanner scanner(*log_, start, size_);
  int64_t total = 0;
  int64_t position = 0;
  record::BatchHeader header;
  while (true) {
    ASSIGN_OR_RETURN(bool more, scanner.Next(&position, &header));
    if (!more || header.base_offset >= max_offset) break;
    int64_t size = static_cast<int64_t>(header.size_bytes());
    if (total + size > max_bytes && !(total == 0 && min_one_batch)) break;
    total += size;
  }
  return FileSlice{log_, start, total};
}

absl::StatusOr<std::optional<TimestampOffset>> LogSegment::FindOffsetByTimestamp(
    int64_t timestamp, int64_t start_offset) const {
  int64_t from_offset = start_offset;
  if (auto entry = time_index_.LookupBefore(timestamp)) {
    from_offset = std::max(from_offset, entry->offset);
  }
  HeaderScanner scanner(*log_, offset_index_.Lookup(from_offset).position, size_);
  int64_t position = 0;
  record::BatchHeader header;
  while (true) {
    ASSIGN_OR_RETURN(bool more, scanner.Next(&position, &header));
    if (!more) return std::nullopt;
    if (header.last_offset() < start_offset || header.max_timestamp < timestamp) continue;
    std::string bytes(header.size_bytes(), '\0');
    RETURN_IF_ERROR(log_->ReadExactly(position, bytes.size(), bytes.data()));
    ASSIGN_OR_RETURN(std::vector<record::Record> records, record::DecodeRecords(bytes));
    for (const record::Record& r : records) {
      if (r.offset >= start_offset && r.timestamp >= timestamp) {
        return TimestampOffset{r.timestamp, r.offset};
      }
    }
  }
}

absl::Status LogSegment::ForEachBatch(
    const std::function<void(int64_t position, const record::BatchHeader&)>& fn) const {
  HeaderScanner scanner(*log_, 0, size_);
  int64_t position = 0;
  record::BatchHeader header;
  while (true) {
    ASSIGN_OR_RETURN(bool more, scanner.Next(&position, &header));
    if (!more) return absl::OkStatus();
    fn(position, header);
  }
}

absl::StatusOr<RecoveryResult> LogSegment::Recover() {
  offset_index_.Clear();
  time_index_.Clear();
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  bytes_since_last_index_entry_ = 0;
  next_offset_ = base_offset_;

  ASSIGN_OR_RETURN(int64_t file_size, log_->Size());
  constexpr int64_t kChunkBytes = 4 << 20;
  std::string buffer;
  int64_t buffer_start = 0;
  // Makes [from, to) available in `buffer`; false if the file ends before `to`.
  auto ensure = [&](int64_t from, int64_t to) -> absl::StatusOr<bool> {
    if (to > file_size) return false;
    if (from >= buffer_start && to <= buffer_start + static_cast<int64_t>(buffer.size())) {
      return true;
    }
    size_t want = static_cast<size_t>(std::min(file_size - from, std::max(kChunkBytes, to - from)));
    buffer.resize(want);
    RETURN_IF_ERROR(log_->ReadExactly(from, want, buffer.data()));
    buffer_start = from;
    return true;
  };

  RecoveryResult result;
  int64_t position = 0;
  while (position < file_size) {
    ASSIGN_OR_RETURN(bool have_prefix, ensure(position, position + 12));
    if (!have_prefix) {
      result.reason = "partial batch at the end of the file";
      break;
    }
    auto size = record::PeekBatchSize(
        std::string_view(buffer.data() + (position - buffer_start), 12));
    if (!size.ok()) {
      result.reason = std::string(size.status().message());
      break;
    }
    ASSIGN_OR_RETURN(bool have_batch, ensure(position, position + static_cast<int64_t>(*size)));
    if (!have_batch) {
      result.reason = "partial batch at the end of the file";
      break;
    }
    std::string_view batch(buffer.data() + (position - buffer_start), *size);
    auto header = record::ParseBatchHeader(batch);
    if (!header.ok()) {
      result.reason = std::string(header.status().message());
      break;
    }
    if (record::ComputeBatchCrc(batch) != header->crc) {
      result.reason = "CRC mismatch";
      break;
    }
    if (header->base_offset < next_offset_) {
      result.reason = absl::StrCat("offset ", header->base_offset, " does not follow ",
                                   next_offset_ - 1);
      break;
    }
    if (header->last_offset() - base_offset_ > INT32_MAX) {
      result.reason = "offset too far from the segment base";
      break;
    }
    IndexBatch({header->base_offset, header->last_offset(), header->max_timestamp, *size},
               position);
    position += static_cast<int64_t>(*size);
  }
  result.valid_bytes = position;
  truncated_by_recovery_ = file_size - position;
  result.truncated_bytes = file_size - position;
  if (result.truncated_bytes > 0) {
    Logger("storage")->warn("truncating {} bytes at position {} of {}: {}",
                            result.truncated_bytes, position, log_->path(), result.reason);
    RETURN_IF_ERROR(log_->Truncate(position));
  }
  size_ = position;
  return result;
}

absl::StatusOr<int64_t> LogSegment::TruncateTo(int64_t offset) {
  ASSIGN_OR_RETURN(auto found, FindBatch(offset));
  if (!found) return 0;
  int64_t position = found->first;
  int64_t removed = size_ - position;
  RETURN_IF_ERROR(log_->Truncate(position));
  size_ = position;
  offset_index_.TruncateTo(offset);
  time_index_.TruncateTo(offset);
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = -1;
  RETURN_IF_ERROR(ScanTail());
  return removed;
}

absl::Status LogSegment::FlushIndexes() {
  RETURN_IF_ERROR(offset_index_.Flush(/*sync=*/false));
  return time_index_.Flush(/*sync=*/false);
}

absl::Status LogSegment::Flush() {
  RETURN_IF_ERROR(log_->Sync());
  RETURN_IF_ERROR(offset_index_.Flush(/*sync=*/true));
  return time_index_.Flush(/*sync=*/true);
}

void LogSegment::OnBecomeInactive() {
  if (max_timestamp_ >= 0) time_index_.MaybeAppend(max_timestamp_, offset_of_max_timestamp_);
}

absl::Status LogSegment::RenameTo(const std::string& suffix,
                                  const std::function<void()>& after_first) {
  RETURN_IF_ERROR(log_->Rename(SegmentFileName(dir_, base_offset_, ".log") + suffix));
  if (after_first) after_first();
  RETURN_IF_ERROR(offset_index_.Rename(SegmentFileName(dir_, base_offset_, ".index") + suffix));
  return time_index_.Rename(SegmentFileName(dir_, base_offset_, ".timeindex") + suffix);
}

absl::Status LogSegment::SetModifiedTime(int64_t ms) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = ms / 1000;
  times[1].tv_nsec = (ms % 1000) * 1000000;
  if (::futimens(log_->fd(), times) != 0) return ErrnoError("cannot set mtime of", log_->path(), errno);
  created_ms_ = ms;
  return absl::OkStatus();
}

absl::Status LogSegment::Delete() {
  RETURN_IF_ERROR(offset_index_.Delete());
  RETURN_IF_ERROR(time_index_.Delete());
  if (::unlink(log_->path().c_str()) != 0 && errno != ENOENT) {
    return ErrnoError("cannot delete", log_->path(), errno);
  }
  return SyncDirectory(dir_);
}

}  // namespace gregor::storage
