#include "broker/storage/cleaner_core.h"

#include <algorithm>

#include "common/record_batch.h"
#include "common/status.h"

namespace gregor::storage::cleaner {
namespace {

// Two independent 64-bit hashes of the key (FNV-1a with different offset bases, then a
// SplitMix64 finaliser): 128 bits, stable across runs and platforms.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

uint64_t Fnv1a(std::string_view key, uint64_t basis) {
  uint64_t h = basis;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h ^ key.size());
}

std::pair<uint64_t, uint64_t> Hash(std::string_view key) {
  return {Fnv1a(key, 0xcbf29ce484222325ULL), Fnv1a(key, 0x84222325cbf29ce4ULL)};
}

}  // namespace

OffsetMap::OffsetMap(int64_t memory_bytes, double load_factor) {
  const int64_t slots = std::max<int64_t>(memory_bytes / kBytesPerSlot, 2);
  slots_.resize(static_cast<size_t>(slots));
  max_entries_ = static_cast<int64_t>(static_cast<double>(slots) * load_factor);
  // At least one slot stays empty, so a probe always ends.
  max_entries_ = std::clamp<int64_t>(max_entries_, 1, slots - 1);
}

size_t OffsetMap::Find(uint64_t h1, uint64_t h2) const {
  const size_t n = slots_.size();
  size_t i = static_cast<size_t>(h1 % n);
  while (true) {
    const Slot& s = slots_[i];
    if (s.offset < 0 || (s.h1 == h1 && s.h2 == h2)) return i;
    i = i + 1 == n ? 0 : i + 1;  // the map is never full (load factor < 1): this ends
  }
}

bool OffsetMap::Put(std::string_view key, int64_t offset) {
  auto [h1, h2] = Hash(key);
  Slot& s = slots_[Find(h1, h2)];
  if (s.offset < 0) {
    if (size_ >= max_entries_) return false;
    ++size_;
    s.h1 = h1;
    s.h2 = h2;
  }
  s.offset = offset;
  latest_offset_ = std::max(latest_offset_, offset);
  return true;
}

std::optional<int64_t> OffsetMap::Get(std::string_view key) const {
  auto [h1, h2] = Hash(key);
  const Slot& s = slots_[Find(h1, h2)];
  if (s.offset < 0) return std::nullopt;
  return s.offset;
}

void OffsetMap::Clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
  latest_offset_ = -1;
}

bool ShouldRetainRecord(const OffsetMap& map, const RecordView& r, const BatchContext& batch) {
  if (!r.key) return false;
  if (r.offset > map.latest_offset()) return true;  // beyond what this round knows
  const std::optional<int64_t> last = map.Get(*r.key);
  if (last && r.offset < *last) return false;  // a later record of the key exists
  if (r.has_value) return true;
  const bool horizon_passed = batch.delete_horizon_ms && batch.now_ms >= *batch.delete_horizon_ms;
  return !horizon_passed || r.offset >= batch.tombstone_floor_offset;
}

BatchPlan PlanBatch(const OffsetMap& map, const std::vector<RecordView>& records,
                    const BatchContext& batch) {
  BatchPlan plan;
  if (batch.is_control) return plan;  // no transactions here: markers stay as they are
  bool retained_tombstone = false;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!ShouldRetainRecord(map, records[i], batch)) continue;
    plan.retained.push_back(i);
    retained_tombstone |= !records[i].has_value;
  }
  if (plan.retained.empty()) {
    plan.kind = batch.last_offset + 1 == batch.round_end_offset ? BatchPlan::Kind::kEmpty
                                                                 : BatchPlan::Kind::kDrop;
    return plan;
  }
  if (retained_tombstone && !batch.delete_horizon_ms) {
    plan.set_delete_horizon_ms = batch.now_ms + batch.delete_retention_ms;
  }
  if (plan.retained.size() == records.size() && !plan.set_delete_horizon_ms) {
    plan.kind = BatchPlan::Kind::kKeep;
    plan.retained.clear();
  } else {
    plan.kind = BatchPlan::Kind::kRebuild;
  }
  return plan;
}

absl::StatusOr<int64_t> IndexBatches(std::string_view batches, OffsetMap* map) {
  record::BatchIterator it(batches);
  record::BatchHeader header;
  std::string_view batch;
  int64_t next = map->latest_offset() + 1;
  while (it.Next(&header, &batch)) {
    if (!header.is_control()) {
      ASSIGN_OR_RETURN(std::vector<record::Record> records, record::DecodeRecords(batch));
      int64_t fresh = 0;
      for (const record::Record& r : records) fresh += r.key && !map->Get(*r.key) ? 1 : 0;
      if (!map->HasRoomFor(fresh)) return next;  // the map is full: the round ends before it
      for (const record::Record& r : records) {
        if (r.key) map->Put(*r.key, r.offset);
      }
    }
    map->set_latest_offset(std::max(map->latest_offset(), header.last_offset()));
    next = header.next_offset();
  }
  RETURN_IF_ERROR(it.status());
  return next;
}

absl::StatusOr<std::string> CleanBatches(std::string_view batches, const OffsetMap& map,
                                         const BatchContext& context, CleanStats* stats) {
  std::string out;
  record::BatchIterator it(batches);
  record::BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    ++stats->batches_read;
    stats->bytes_read += static_cast<int64_t>(batch.size());
    BatchContext c = context;
    c.last_offset = header.last_offset();
    c.is_control = header.is_control();
    c.delete_horizon_ms.reset();
    if (header.attributes & record::kDeleteHorizonBit) c.delete_horizon_ms = header.base_timestamp;
    std::vector<record::Record> records;
    std::vector<RecordView> views;
    if (!c.is_control) {
      ASSIGN_OR_RETURN(records, record::DecodeRecords(batch));
      for (const record::Record& r : records) {
        RecordView v{r.offset, std::nullopt, r.value.has_value()};
        if (r.key) v.key = *r.key;
        views.push_back(v);
      }
    }
    stats->records_read += header.records_count;
    BatchPlan plan = PlanBatch(map, views, c);
    switch (plan.kind) {
      case BatchPlan::Kind::kKeep:
        stats->records_kept += header.records_count;
        out.append(batch);
        break;
      case BatchPlan::Kind::kDrop:
        break;
      case BatchPlan::Kind::kEmpty:
      case BatchPlan::Kind::kRebuild: {
        std::vector<record::Record> keep;
        for (size_t i : plan.retained) keep.push_back(std::move(records[i]));
        stats->records_kept += static_cast<int64_t>(keep.size());
        ASSIGN_OR_RETURN(std::string rebuilt, record::RebuildBatch(batch, keep, plan.set_delete_horizon_ms));
        out.append(rebuilt);
        break;
      }
    }
  }
  RETURN_IF_ERROR(it.status());
  stats->bytes_written += static_cast<int64_t>(out.size());
  return out;
}

CleanableRange ComputeCleanableRange(const std::vector<SegmentMeta>& segments,
                                     int64_t log_start_offset, int64_t log_end_offset,
                                     int64_t high_watermark, int64_t checkpoint, int64_t now_ms,
                                     int64_t min_compaction_lag_ms) {
  CleanableRange range;
  range.first_dirty = checkpoint;
  if (checkpoint < log_start_offset || checkpoint > log_end_offset) {
    range.first_dirty = log_start_offset;  // missing, below the start, or past the end
  }
  range.first_uncleanable = range.first_dirty;
  bool stopped = false;
  for (const SegmentMeta& s : segments) {
    if (s.end_offset <= range.first_dirty) {
      range.clean_bytes += s.size_bytes;
      continue;
    }
    stopped = stopped || s.next_offset > high_watermark ||
              (min_compaction_lag_ms > 0 && s.max_timestamp > now_ms - min_compaction_lag_ms);
    if (stopped) continue;
    range.cleanable_bytes += s.size_bytes;
    range.first_uncleanable = s.end_offset;
    if (range.oldest_dirty_created_ms < 0 || s.created_ms < range.oldest_dirty_created_ms) {
      range.oldest_dirty_created_ms = s.created_ms;
    }
  }
  int64_t total = range.clean_bytes + range.cleanable_bytes;
  range.dirty_ratio = total > 0 ? static_cast<double>(range.cleanable_bytes) / total : 0;
  return range;
}

bool ShouldClean(const CleanableRange& range, double min_cleanable_dirty_ratio,
                 int64_t max_compaction_lag_ms, int64_t now_ms) {
  if (range.first_uncleanable <= range.first_dirty || range.cleanable_bytes <= 0) return false;
  if (range.dirty_ratio > min_cleanable_dirty_ratio) return true;
  return range.oldest_dirty_created_ms >= 0 &&
         now_ms - range.oldest_dirty_created_ms > max_compaction_lag_ms;
}

}  // namespace gregor::storage::cleaner
