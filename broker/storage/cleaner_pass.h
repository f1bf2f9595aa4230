// One clean of one log (Kafka's Cleaner.doClean): build the key -> last offset map over the
// dirty section, then recopy the log from its start to the end of what was mapped in groups of
// segments up to segment.bytes, each written as a `.cleaned` segment and swapped in by
// PartitionLog::ReplaceWithCleaned. Reads the segments' files without the log's lock (they are
// immutable until the log's generation moves, which aborts the swap); appends and reads of the
// partition go on meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "broker/storage/cleaner_core.h"
#include "broker/storage/partition_log.h"
#include "broker/storage/segment_files.h"

namespace gregor::storage {

// Bounds the cleaner's reads and writes to a rate shared by its threads
// (log.cleaner.io.max.bytes.per.second). Thread-safe.
class IoThrottle {
 public:
  explicit IoThrottle(double bytes_per_second) : rate_(bytes_per_second) {}
  // Accounts for `bytes` of I/O, sleeping as long as the rate requires.
  void Charge(int64_t bytes);

 private:
  const double rate_;
  absl::Mutex mu_;
  double next_free_s_ ABSL_GUARDED_BY(mu_) = 0;  // steady seconds when the budget is free again
};

struct CleanPassOptions {
  int64_t now_ms = 0;
  int64_t read_buffer_bytes = 262144;  // grows to fit one batch
  IoThrottle* throttle = nullptr;
  SwapHook hook;
  // Set when the broker stops or the log is deleted: the clean ends (Aborted) at the next
  // chunk or before the next swap.
  const std::atomic<bool>* cancelled = nullptr;
};

struct CleanPassResult {
  int64_t first_dirty = 0;
  int64_t end_offset = 0;  // the next first dirty offset (exclusive end of what was mapped)
  int64_t map_bytes_read = 0;
  double map_seconds = 0;
  double total_seconds = 0;
  double buffer_utilization = 0;  // map entries / map capacity
  int groups = 0;
  cleaner::CleanStats stats;
};

// Cleans `log` from `range.first_dirty` to at most `range.first_uncleanable` with `map` (cleared
// first). Aborted when the log changed underneath; DataLoss on a corrupt batch.
absl::StatusOr<CleanPassResult> CleanLog(PartitionLog& log, const CleanerView& view,
                                         const cleaner::CleanableRange& range,
                                         cleaner::OffsetMap* map, const CleanPassOptions& options);

}  // namespace gregor::storage
