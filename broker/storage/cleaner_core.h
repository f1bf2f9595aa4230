// The pure decisions of the log cleaner (Kafka's LogCleaner `shouldRetainRecord`,
// MemoryRecords.filterTo, SkimpyOffsetMap): which records of a batch survive a clean, whether the
// batch is kept byte for byte, rebuilt from its survivors (or to stamp a tombstone's delete
// horizon), kept empty or dropped; and the bounded key -> last offset map built over the dirty
// section. No files here: the cleaner that reads segments and writes `.cleaned` ones uses these.
//
// Facts: ../shared/reference/log-compaction.md §1.1, §1.3–§1.5, §2.3.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::storage::cleaner {

// Key -> the last offset it was written at, over the dirty section, in bounded memory: 24 bytes
// per slot (a 128-bit key hash and the offset), open addressing, no removal. Two keys with the same
// 128-bit hash count as one (Kafka accepts the same risk with MD5). Thread-compatible.
//
// Unlike Kafka's, the table in use starts small (1,024 slots) and grows fourfold as keys arrive,
// up to the budget: a clean of few keys touches little memory and stays in the CPU caches (the
// whole budget is reserved, as zero pages the kernel hands out when first written). Growing
// copies the slots in use aside (at most a quarter of the budget) and reinserts them.
class OffsetMap {
 public:
  static constexpr int64_t kBytesPerSlot = 24;
  // `memory_bytes` / 24 slots, of which at most `load_factor` are filled
  // (log.cleaner.dedupe.buffer.size / threads, log.cleaner.io.buffer.load.factor).
  explicit OffsetMap(int64_t memory_bytes, double load_factor = 0.9);
  ~OffsetMap();
  OffsetMap(OffsetMap&& other) noexcept;
  OffsetMap(const OffsetMap&) = delete;
  OffsetMap& operator=(const OffsetMap&) = delete;

  // A key's 128-bit hash: what the map stores of it.
  struct KeyHash {
    uint64_t h1 = 0;
    uint64_t h2 = 0;
  };
  static KeyHash HashOf(std::string_view key);
  // Asks the CPU to fetch the key's slot (a clean looks up keys in a table far larger than the
  // caches: hashing a batch's keys first and prefetching their slots hides most misses).
  void Prefetch(const KeyHash& hash) const;

  // Records that `key` was written at `offset` (later offsets are put later). False, and
  // nothing stored, when the key is new and the map is full: the build stops before this batch.
  bool Put(std::string_view key, int64_t offset) { return Put(HashOf(key), offset); }
  bool Put(const KeyHash& hash, int64_t offset);
  // The last offset of `key`, or nullopt.
  std::optional<int64_t> Get(std::string_view key) const { return Get(HashOf(key)); }
  std::optional<int64_t> Get(const KeyHash& hash) const;
  // Whether a batch with `new_keys` keys not yet in the map would still fit.
  bool HasRoomFor(int64_t new_keys) const { return size_ + new_keys <= max_entries_; }

  int64_t size() const { return size_; }
  int64_t max_entries() const { return max_entries_; }
  // The most memory the table has used since it was made (slots in use x 24 bytes).
  int64_t peak_bytes() const { return peak_slots_ * kBytesPerSlot; }
  // The last offset the map covers (the end of the last fully indexed batch); -1 if none.
  int64_t latest_offset() const { return latest_offset_; }
  void set_latest_offset(int64_t offset) { latest_offset_ = offset; }
  // Empties the map; `expected_keys` (an upper bound, e.g. the records of the dirty section)
  // sizes the table in use up front, so that it need not grow.
  void Clear(int64_t expected_keys = 0);

 private:
  struct Slot {
    uint64_t h1 = 0;
    uint64_t h2 = 0;
    int64_t offset_plus_one = 0;  // 0: empty (so that clearing the map is a memset)
  };
  size_t Find(uint64_t h1, uint64_t h2) const;  // the slot of the hash, or the empty one to use
  void Grow();                                   // the table in use, four times larger

  Slot* slots_ = nullptr;  // calloc'ed: all empty
  int64_t total_slots_ = 0;
  int64_t active_slots_ = 0;  // the table in use: slots_[0, active_slots_)
  int64_t peak_slots_ = 0;
  double load_factor_ = 0.9;
  int64_t max_entries_ = 0;
  int64_t size_ = 0;
  int64_t latest_offset_ = -1;
};

// One record of a batch, as the cleaner sees it.
struct RecordView {
  int64_t offset = 0;
  std::optional<std::string_view> key;  // nullopt: a null key
  bool has_value = true;                // false: a tombstone
  std::optional<OffsetMap::KeyHash> hash;  // the key's, if computed already
};

// What is known about the batch and the clean it is in.
struct BatchContext {
  int64_t last_offset = 0;                  // the batch's last offset (kept even if records go)
  bool is_control = false;                  // transaction markers: kept as they are
  std::optional<int64_t> delete_horizon_ms;  // set when the batch carries bit 6
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 86400000;   // delete.retention.ms
  // The end (exclusive) of this cleaning round: a batch ending there is kept even when empty,
  // so the log keeps its last offset (§1.4).
  int64_t round_end_offset = 0;
  // Beyond Kafka: a tombstone at or above this offset is kept whatever its horizon, because some
  // assigned replica has not reached it yet (a replica away longer than delete.retention.ms must
  // not bring a deleted key back). INT64_MAX: no such bound.
  int64_t tombstone_floor_offset = INT64_MAX;
  // The last offsets of every idempotent producer's newest batch (the log's producer state when
  // the round started), or null: such a batch is kept even when emptied, so a producer state
  // rebuilt from the log still knows the producer's last sequence (Kafka's cleaner does the same).
  const std::set<int64_t>* producer_last_offsets = nullptr;
  bool last_of_producer = false;  // set per batch from producer_last_offsets
};

// Kafka's shouldRetainRecord: the record is the last of its key seen by the map (or beyond what
// the map covers), and either holds a value or is a tombstone whose time has not come. Records
// with a null key are dropped (they cannot be compacted; Kafka counts them "invalid").
bool ShouldRetainRecord(const OffsetMap& map, const RecordView& record, const BatchContext& batch);

struct BatchPlan {
  enum class Kind {
    kKeep,     // byte for byte
    kRebuild,  // from the `retained` records (same base and last offset, codec, producer fields)
    kEmpty,    // no record survives but the batch ends the round or is a producer's last: keep
               // its header, 0 records
    kDrop,     // no record survives
  };
  Kind kind = Kind::kKeep;
  std::vector<size_t> retained;  // indices into the batch's records (kRebuild)
  // Stamp bit 6 with this horizon (a retained tombstone seen for the first time): forces a rebuild.
  std::optional<int64_t> set_delete_horizon_ms;
};

BatchPlan PlanBatch(const OffsetMap& map, const std::vector<RecordView>& records,
                    const BatchContext& batch);

// The first pass over a run of whole batches (a segment's bytes, in offset order): puts every
// keyed record of each batch into `map`, batch by batch, and stops before a batch whose new keys
// do not fit (partial progress: the clean then ends there). Returns the offset after the last
// batch indexed; advances map->latest_offset() to it - 1.
absl::StatusOr<int64_t> IndexBatches(std::string_view batches, OffsetMap* map);

// The second pass over a run of whole batches: what survives, as bytes to append to the cleaned
// segment (untouched batches byte for byte), and what was counted.
struct CleanStats {
  int64_t batches_read = 0;
  int64_t records_read = 0;
  int64_t records_kept = 0;
  int64_t bytes_read = 0;
  int64_t bytes_written = 0;
};
// `context` gives now, delete.retention.ms, the round's end and the tombstone floor; each batch's
// last offset, control flag and delete horizon come from the batch itself.
absl::StatusOr<std::string> CleanBatches(std::string_view batches, const OffsetMap& map,
                                         const BatchContext& context, CleanStats* stats);

// ---- choosing what to clean (LogCleanerManager.cleanableOffsets, LogToClean) ----

// A non-active segment: its base, one past its last batch, the next segment's base, its size,
// its largest timestamp and when it was created (wall ms).
struct SegmentMeta {
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  int64_t end_offset = 0;
  int64_t size_bytes = 0;
  int64_t max_timestamp = -1;
  int64_t created_ms = 0;
};

struct CleanableRange {
  int64_t first_dirty = 0;        // the checkpoint, reset to the log start when outside the log
  int64_t first_uncleanable = 0;  // exclusive end of the dirty section (a segment boundary)
  int64_t clean_bytes = 0;        // segments entirely below first_dirty
  int64_t cleanable_bytes = 0;    // segments in [first_dirty, first_uncleanable)
  double dirty_ratio = 0;         // cleanable / (clean + cleanable)
  // The creation time of the oldest cleanable segment (for max.compaction.lag.ms); -1 if none.
  int64_t oldest_dirty_created_ms = -1;
};

// `segments` are the non-active ones, in order. The dirty section ends before the first segment
// that reaches the high watermark or (with min.compaction.lag.ms > 0) holds a record newer than
// now - lag; the active segment is never included.
CleanableRange ComputeCleanableRange(const std::vector<SegmentMeta>& segments,
                                     int64_t log_start_offset, int64_t log_end_offset,
                                     int64_t high_watermark, int64_t checkpoint, int64_t now_ms,
                                     int64_t min_compaction_lag_ms);

// Whether a log with this range is due: ratio strictly above min.cleanable.dirty.ratio, or
// dirty data older than max.compaction.lag.ms; in both cases only with something cleanable.
bool ShouldClean(const CleanableRange& range, double min_cleanable_dirty_ratio,
                 int64_t max_compaction_lag_ms, int64_t now_ms);

}  // namespace gregor::storage::cleaner
