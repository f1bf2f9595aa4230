// PartitionLog's side of the log cleaner: the snapshot it cleans from and the segment swap.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "broker/storage/partition_log.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::storage {

CleanerView PartitionLog::TakeCleanerView() {
  absl::MutexLock lock(&mu_);
  CleanerView view;
  view.generation = generation_;
  view.active_base = active().base_offset();
  view.log_start_offset = log_start_offset_;
  view.high_watermark = high_watermark_;
  view.log_end_offset = active().next_offset();
  view.tombstone_floor = std::min(tombstone_floor_, high_watermark_);
  view.truncated_to = truncated_to_;
  truncated_to_ = INT64_MAX;
  view.config = config_;
  view.closed = closed_;
  for (const auto& [pid, entry] : producers_.entries()) {
    if (!entry.batches.empty()) view.producer_last_offsets.insert(entry.batches.back().last_offset);
  }
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {
    const LogSegment& s = *it->second;
    view.segments.push_back({s.base_offset(), s.next_offset(), std::next(it)->first, s.size_bytes(),
                             s.max_timestamp(), s.created_ms()});
    view.files.push_back(s.file());
  }
  return view;
}

void PartitionLog::RaiseTombstoneFloor(int64_t offset) {
  absl::MutexLock lock(&mu_);
  tombstone_floor_ = std::max(tombstone_floor_, offset);
}

int64_t PartitionLog::tombstone_floor() const {
  absl::MutexLock lock(&mu_);
  return tombstone_floor_;
}

absl::Status PartitionLog::ReplaceWithCleaned(const std::vector<int64_t>& old_bases,
                                              uint64_t generation,
                                              std::unique_ptr<LogSegment> cleaned,
                                              const SwapHook& hook) {
  auto step = [&](std::string_view name) {
    if (hook) hook(name);
  };
  const int64_t base = cleaned->base_offset();
  std::vector<std::unique_ptr<LogSegment>> replaced;
  {
    // Only renames and the segment map change under the lock: appends and reads of the
    // partition wait for no fsync or unlink of the cleaner.
    absl::MutexLock lock(&mu_);
    bool current = !closed_ && generation == generation_ && !old_bases.empty() &&
                   base == old_bases.front();
    for (int64_t old : old_bases) {
      current = current && segments_.count(old) && old != active().base_offset();
    }
    if (!current) {
      RETURN_IF_ERROR(cleaned->Delete());
      return absl::AbortedError(absl::StrCat("log ", topic_partition_.DirName(),
                                             " changed during the clean (truncated, segments "
                                             "deleted, or closed): cleaned segments discarded"));
    }
    Logger("storage")->info("Cleaner: swapping in cleaned segment {} for segment(s) {} in log {}",
                            base, absl::StrJoin(old_bases, ","), topic_partition_.DirName());
    // Step 2: .cleaned -> .swap. A crash before the last rename undoes the clean on load.
    RETURN_IF_ERROR(cleaned->RenameTo(kSwapSuffix, [&] { step("swap-renaming"); }));
    step("swapped");
    // Step 3: the replaced segments' files -> .deleted. Their objects (and open files) live on
    // until the last reader's slice is gone.
    for (int64_t old : old_bases) {
      RETURN_IF_ERROR(RenameSegmentFiles(dir_, old, "", kDeletedSuffix));
      step("deleting");
      replaced.push_back(std::move(segments_[old]));
      segments_.erase(old);
    }
    // Step 4: .swap -> final name.
    RETURN_IF_ERROR(cleaned->RenameTo("", [&] { step("finalizing"); }));
    segments_[base] = std::move(cleaned);
    CheckInvariants();
  }
  // Durable renames, then step 5: the old files go (readers keep their open descriptors).
  RETURN_IF_ERROR(SyncDirectory(dir_));
  step("finalized");
  for (int64_t old : old_bases) RETURN_IF_ERROR(RemoveSegmentFiles(dir_, old, kDeletedSuffix));
  return absl::OkStatus();
}

}  // namespace gregor::storage
