#include "broker/storage/cleaner_pass.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/record_batch.h"
#include "common/status.h"

namespace gregor::storage {
namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Reads whole batches of a segment file from `*position` (at most `buffer_bytes`, or one batch
// if it is larger), advancing the position. Empty at the end. A batch running past `size` or a
// malformed length is DataLoss naming the file.
class SegmentReader {
 public:
  SegmentReader(const File& file, int64_t size, int64_t buffer_bytes, IoThrottle* throttle)
      : file_(file), size_(size), buffer_bytes_(buffer_bytes), throttle_(throttle) {}

  absl::StatusOr<std::string_view> Next() {
    if (position_ >= size_) return std::string_view();
    int64_t want = std::min(buffer_bytes_, size_ - position_);
    while (true) {
      buffer_.resize(static_cast<size_t>(want));
      RETURN_IF_ERROR(file_.ReadExactly(position_, buffer_.size(), buffer_.data()));
      if (throttle_) throttle_->Charge(want);
      // Whole batches only.
      size_t end = 0;
      while (end + record::kLogOverhead <= buffer_.size()) {
        auto batch_size = record::PeekBatchSize(std::string_view(buffer_).substr(end));
        if (!batch_size.ok()) {
          return absl::DataLossError(absl::StrCat("corrupt batch at position ", position_ + end,
                                                  " of ", file_.path(), ": ",
                                                  batch_size.status().message()));
        }
        if (position_ + static_cast<int64_t>(end + *batch_size) > size_) {
          return absl::DataLossError(absl::StrCat("batch at position ", position_ + end, " of ",
                                                  file_.path(), " runs past the segment end"));
        }
        if (end + *batch_size > buffer_.size()) {
          if (end == 0) want = static_cast<int64_t>(*batch_size);  // one big batch: grow
          break;
        }
        end += *batch_size;
      }
      if (end == 0 && position_ + want <= size_ && static_cast<size_t>(want) > buffer_.size()) {
        continue;  // read again with the grown buffer
      }
      if (end == 0) {
        return absl::DataLossError(absl::StrCat("partial batch at position ", position_, " of ",
                                                file_.path()));
      }
      position_ += static_cast<int64_t>(end);
      return std::string_view(buffer_.data(), end);
    }
  }

 private:
  const File& file_;
  int64_t size_;
  int64_t buffer_bytes_;
  IoThrottle* throttle_;
  int64_t position_ = 0;
  std::string buffer_;
};

// Consecutive segments from the log start up to `end` (exclusive; the segment holding it
// included), grouped while their total size stays within segment.bytes and relative offsets
// fit 32 bits (Kafka's groupSegmentsBySize).
// Each group holds indexes into view.segments.
std::vector<std::vector<size_t>> GroupSegments(const CleanerView& view, int64_t end) {
  std::vector<std::vector<size_t>> groups;
  int64_t group_bytes = 0;
  for (size_t i = 0; i < view.segments.size(); ++i) {
    const cleaner::SegmentMeta& s = view.segments[i];
    if (s.base_offset >= end) break;
    bool fits = !groups.empty() && group_bytes + s.size_bytes <= view.config.segment_bytes &&
                (s.size_bytes == 0 ||
                 s.next_offset - 1 - view.segments[groups.back().front()].base_offset <= INT32_MAX);
    if (!fits) {
      groups.emplace_back();
      group_bytes = 0;
    }
    groups.back().push_back(i);
    group_bytes += s.size_bytes;
  }
  return groups;
}

absl::Status CheckCancelled(const CleanPassOptions& options) {
  if (options.cancelled && options.cancelled->load()) {
    return absl::AbortedError("the clean was abandoned: the broker stops or the log is being deleted");
  }
  return absl::OkStatus();
}

}  // namespace

void IoThrottle::Charge(int64_t bytes) {
  if (!(rate_ > 0) || rate_ >= 1e300) return;
  double wait = 0;
  {
    absl::MutexLock lock(&mu_);
    double now = SteadySeconds();
    next_free_s_ = std::max(next_free_s_, now) + static_cast<double>(bytes) / rate_;
    wait = next_free_s_ - now;
  }
  if (wait > 0.001) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
}

absl::StatusOr<CleanPassResult> CleanLog(PartitionLog& log, const CleanerView& view,
                                         const cleaner::CleanableRange& range,
                                         cleaner::OffsetMap* map, const CleanPassOptions& options) {
  const double start_s = SteadySeconds();
  CleanPassResult result;
  result.first_dirty = range.first_dirty;
  map->Clear();
  map->set_latest_offset(range.first_dirty - 1);

  // Pass 1: the map over [first_dirty, first_uncleanable), stopping early when it fills.
  int64_t end = range.first_dirty;
  bool full = false;
  for (size_t i = 0; i < view.segments.size(); ++i) {
    const cleaner::SegmentMeta& s = view.segments[i];
    if (s.end_offset <= range.first_dirty) continue;
    if (s.base_offset >= range.first_uncleanable || full) break;
    SegmentReader reader(*view.files[i], s.size_bytes, options.read_buffer_bytes, options.throttle);
    while (true) {
      RETURN_IF_ERROR(CheckCancelled(options));
      ASSIGN_OR_RETURN(std::string_view chunk, reader.Next());
      if (chunk.empty()) break;
      result.map_bytes_read += static_cast<int64_t>(chunk.size());
      // Batches wholly below the first dirty offset were mapped by an earlier clean.
      record::BatchIterator it(chunk);
      record::BatchHeader header;
      std::string_view batch;
      size_t skip = 0;
      int64_t chunk_next = end;
      while (it.Next(&header, &batch)) {
        if (header.last_offset() < range.first_dirty) skip = it.position();
        chunk_next = header.next_offset();
      }
      if (skip == chunk.size()) continue;
      ASSIGN_OR_RETURN(int64_t next, cleaner::IndexBatches(chunk.substr(skip), map));
      if (next < chunk_next) {  // the map is full: this round ends at `next`
        full = true;
        end = std::max(end, next);
        break;
      }
      end = chunk_next;
    }
    if (!full) {
      // The whole segment is mapped: the map covers up to the next segment's base.
      end = s.end_offset;
      map->set_latest_offset(std::max(map->latest_offset(), s.end_offset - 1));
    }
  }
  if (end <= range.first_dirty) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the dedupe buffer (", map->max_entries(),
        " keys) cannot hold the keys of one batch at offset ", range.first_dirty,
        "; raise log.cleaner.dedupe.buffer.size"));
  }
  result.end_offset = end;
  result.map_seconds = SteadySeconds() - start_s;
  result.buffer_utilization =
      static_cast<double>(map->size()) / static_cast<double>(std::max<int64_t>(1, map->max_entries()));

  // Pass 2: recopy from the log start to `end`, group by group.
  cleaner::BatchContext context;
  context.now_ms = options.now_ms;
  context.delete_retention_ms = view.config.delete_retention_ms;
  context.round_end_offset = end;
  context.tombstone_floor_offset = view.tombstone_floor;
  context.producer_last_offsets = &view.producer_last_offsets;
  for (const std::vector<size_t>& group : GroupSegments(view, end)) {
    const cleaner::SegmentMeta& first = view.segments[group.front()];
    const cleaner::SegmentMeta& last = view.segments[group.back()];
    ASSIGN_OR_RETURN(auto cleaned,
                     LogSegment::Create(log.dir(), first.base_offset,
                                        view.config.index_interval_bytes, last.created_ms,
                                        kCleanedSuffix));
    absl::Status written = [&]() -> absl::Status {
      for (size_t i : group) {
        SegmentReader reader(*view.files[i], view.segments[i].size_bytes, options.read_buffer_bytes, options.throttle);
        while (true) {
          RETURN_IF_ERROR(CheckCancelled(options));
          ASSIGN_OR_RETURN(std::string_view chunk, reader.Next());
          if (chunk.empty()) break;
          ASSIGN_OR_RETURN(std::string out, cleaner::CleanBatches(chunk, *map, context, &result.stats));
          if (out.empty()) continue;
          std::vector<BatchSummary> summaries;
          record::BatchIterator it(out);
          record::BatchHeader h;
          std::string_view b;
          while (it.Next(&h, &b)) {
            summaries.push_back({h.base_offset, h.last_offset(), h.max_timestamp, b.size()});
          }
          RETURN_IF_ERROR(cleaned->Append(out, summaries));
          if (options.throttle) options.throttle->Charge(static_cast<int64_t>(out.size()));
        }
      }
      cleaned->OnBecomeInactive();
      RETURN_IF_ERROR(cleaned->Flush());
      return cleaned->SetModifiedTime(last.created_ms);
    }();
    if (!written.ok()) {
      (void)cleaned->Delete();
      return written;
    }
    if (absl::Status s = CheckCancelled(options); !s.ok()) {
      (void)cleaned->Delete();
      return s;
    }
    if (options.hook) options.hook("cleaned");
    std::vector<int64_t> bases;
    for (size_t i : group) bases.push_back(view.segments[i].base_offset);
    RETURN_IF_ERROR(log.ReplaceWithCleaned(bases, view.generation, std::move(cleaned), options.hook));
    ++result.groups;
  }
  result.total_seconds = SteadySeconds() - start_s;
  return result;
}

}  // namespace gregor::storage
