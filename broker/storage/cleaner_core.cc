#include "broker/storage/cleaner_core.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/check.h"
#include "common/record_batch.h"
#include "common/status.h"

namespace gregor::storage::cleaner {
namespace {

// Two independent 64-bit hashes of the key, 8 bytes at a time (multiply-xorshift rounds with
// different seeds, then a SplitMix64 finaliser). The map lives in memory only, so the hash need
// not be stable across versions.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

OffsetMap::KeyHash HashKey(std::string_view key) {
  uint64_t a = 0x9e3779b97f4a7c15ULL ^ key.size();
  uint64_t b = 0xc2b2ae3d27d4eb4fULL + key.size();
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    a = (a ^ w) * 0xff51afd7ed558ccdULL;
    a ^= a >> 32;
    b = (b ^ w) * 0xc4ceb9fe1a85ec53ULL;
    b ^= b >> 29;
  }
  if (i < key.size()) {
    uint64_t w = 0;
    std::memcpy(&w, key.data() + i, key.size() - i);
    a = (a ^ w) * 0xff51afd7ed558ccdULL;
    b = (b ^ w) * 0xc4ceb9fe1a85ec53ULL;
  }
  return {Mix(a), Mix(b ^ (a >> 17))};
}

}  // namespace

constexpr int64_t kInitialSlots = 1024;

OffsetMap::OffsetMap(int64_t memory_bytes, double load_factor) : load_factor_(load_factor) {
  total_slots_ = std::max<int64_t>(memory_bytes / kBytesPerSlot, 2);
  slots_ = static_cast<Slot*>(std::calloc(static_cast<size_t>(total_slots_), sizeof(Slot)));
  GREGOR_CHECK_MSG(slots_ != nullptr, "cannot allocate the cleaner's key map of ", total_slots_,
                   " slots");
  max_entries_ = static_cast<int64_t>(static_cast<double>(total_slots_) * load_factor);
  // At least one slot stays empty, so a probe always ends.
  max_entries_ = std::clamp<int64_t>(max_entries_, 1, total_slots_ - 1);
  active_slots_ = peak_slots_ = std::min(total_slots_, kInitialSlots);
}

OffsetMap::OffsetMap(OffsetMap&& other) noexcept
    : slots_(std::exchange(other.slots_, nullptr)),
      total_slots_(other.total_slots_),
      active_slots_(other.active_slots_),
      peak_slots_(other.peak_slots_),
      load_factor_(other.load_factor_),
      max_entries_(other.max_entries_),
      size_(other.size_),
      latest_offset_(other.latest_offset_) {}

OffsetMap::~OffsetMap() { std::free(slots_); }

size_t OffsetMap::Find(uint64_t h1, uint64_t h2) const {
  const size_t n = static_cast<size_t>(active_slots_);
  size_t i = static_cast<size_t>(h1 % n);
  while (true) {
    const Slot& s = slots_[i];
    if (s.offset_plus_one == 0 || (s.h1 == h1 && s.h2 == h2)) return i;
    i = i + 1 == n ? 0 : i + 1;  // the table is never full (load factor < 1): this ends
  }
}

void OffsetMap::Grow() {
  std::vector<Slot> used;
  used.reserve(static_cast<size_t>(size_));
  for (int64_t i = 0; i < active_slots_; ++i) {
    if (slots_[i].offset_plus_one != 0) used.push_back(slots_[i]);
  }
  std::memset(static_cast<void*>(slots_), 0, static_cast<size_t>(active_slots_) * sizeof(Slot));
  active_slots_ = std::min(total_slots_, active_slots_ * 4);
  peak_slots_ = std::max(peak_slots_, active_slots_);
  for (const Slot& s : used) slots_[Find(s.h1, s.h2)] = s;
}

OffsetMap::KeyHash OffsetMap::HashOf(std::string_view key) { return HashKey(key); }

void OffsetMap::Prefetch(const KeyHash& hash) const {
  __builtin_prefetch(&slots_[hash.h1 % static_cast<uint64_t>(active_slots_)]);
}

bool OffsetMap::Put(const KeyHash& hash, int64_t offset) {
  const uint64_t h1 = hash.h1, h2 = hash.h2;
  Slot* s = &slots_[Find(h1, h2)];
  if (s->offset_plus_one == 0) {
    if (size_ >= max_entries_) return false;
    if (size_ >= static_cast<int64_t>(static_cast<double>(active_slots_) * load_factor_) &&
        active_slots_ < total_slots_) {
      Grow();
      s = &slots_[Find(h1, h2)];
    }
    ++size_;
    s->h1 = h1;
    s->h2 = h2;
  }
  s->offset_plus_one = offset + 1;
  latest_offset_ = std::max(latest_offset_, offset);
  return true;
}

std::optional<int64_t> OffsetMap::Get(const KeyHash& hash) const {
  const Slot& s = slots_[Find(hash.h1, hash.h2)];
  if (s.offset_plus_one == 0) return std::nullopt;
  return s.offset_plus_one - 1;
}

void OffsetMap::Clear(int64_t expected_keys) {
  std::memset(static_cast<void*>(slots_), 0, static_cast<size_t>(active_slots_) * sizeof(Slot));
  int64_t want = kInitialSlots;
  while (want < total_slots_ && static_cast<double>(want) * load_factor_ < expected_keys) want *= 2;
  active_slots_ = std::min(total_slots_, want);
  peak_slots_ = std::max(peak_slots_, active_slots_);
  size_ = 0;
  latest_offset_ = -1;
}

bool ShouldRetainRecord(const OffsetMap& map, const RecordView& r, const BatchContext& batch) {
  if (!r.key) return false;
  if (r.offset > map.latest_offset()) return true;  // beyond what this round knows
  const std::optional<int64_t> last = r.hash ? map.Get(*r.hash) : map.Get(*r.key);
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
    plan.kind = batch.last_offset + 1 == batch.round_end_offset || batch.last_of_producer
                    ? BatchPlan::Kind::kEmpty
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
  std::string scratch;
  std::vector<std::pair<OffsetMap::KeyHash, int64_t>> keyed;
  int64_t next = map->latest_offset() + 1;
  while (it.Next(&header, &batch)) {
    if (!header.is_control()) {
      // Room for every record being a new key: the batch is mapped whole or not at all.
      if (!map->HasRoomFor(header.records_count)) return next;
      keyed.clear();
      RETURN_IF_ERROR(record::ScanRecordKeys(
          batch, &scratch, [&](int64_t offset, const std::string_view* key, bool) {
            if (key) keyed.emplace_back(OffsetMap::HashOf(*key), offset);
          }));
      constexpr size_t kAhead = 16;  // slots being fetched while earlier keys go in
      for (size_t i = 0; i < keyed.size() && i < kAhead; ++i) map->Prefetch(keyed[i].first);
      for (size_t i = 0; i < keyed.size(); ++i) {
        if (i + kAhead < keyed.size()) map->Prefetch(keyed[i + kAhead].first);
        if (!map->Put(keyed[i].first, keyed[i].second)) {
          return absl::InternalError("the key map overflowed within a batch");
        }
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
  std::string scratch;
  std::vector<RecordView> views;
  while (it.Next(&header, &batch)) {
    ++stats->batches_read;
    stats->bytes_read += static_cast<int64_t>(batch.size());
    BatchContext c = context;
    c.last_offset = header.last_offset();
    c.is_control = header.is_control();
    c.last_of_producer = header.producer_id >= 0 && c.producer_last_offsets != nullptr &&
                         c.producer_last_offsets->count(header.last_offset()) > 0;
    c.delete_horizon_ms.reset();
    if (header.attributes & record::kDeleteHorizonBit) c.delete_horizon_ms = header.base_timestamp;
    views.clear();
    if (!c.is_control) {
      // Keys are views into the batch (or `scratch`): valid until the next batch.
      RETURN_IF_ERROR(record::ScanRecordKeys(
          batch, &scratch, [&](int64_t offset, const std::string_view* key, bool has_value) {
            RecordView v{offset, std::nullopt, has_value, std::nullopt};
            if (key) {
              v.key = *key;
              v.hash = OffsetMap::HashOf(*key);
              map.Prefetch(*v.hash);
            }
            views.push_back(v);
          }));
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
      case BatchPlan::Kind::kRebuild:
        if (!plan.set_delete_horizon_ms) {  // the common case: copy the kept records' bytes
          stats->records_kept += static_cast<int64_t>(plan.retained.size());
          ASSIGN_OR_RETURN(std::string rebuilt, record::RetainRecords(batch, plan.retained));
          out.append(rebuilt);
          break;
        }
        [[fallthrough]];
      case BatchPlan::Kind::kEmpty: {
        std::vector<record::Record> keep;
        if (!plan.retained.empty()) {
          ASSIGN_OR_RETURN(std::vector<record::Record> records, record::DecodeRecords(batch));
          for (size_t i : plan.retained) keep.push_back(std::move(records[i]));
        }
        stats->records_kept += static_cast<int64_t>(keep.size());
        ASSIGN_OR_RETURN(std::string rebuilt,
                         record::RebuildBatch(batch, keep, plan.set_delete_horizon_ms));
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
