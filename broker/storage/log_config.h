// Per-partition log settings, with Kafka's topic-level key names and defaults.
//
// A plain struct: the broker fills it once from its config (log.* keys) and topic overrides,
// calls Validate(), and passes it down. Nothing in storage reads global config.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "absl/status/status.h"

namespace gregor::storage {

enum class TimestampType { kCreateTime, kLogAppendTime };

struct LogConfig {
  int64_t segment_bytes = 1073741824;               // segment.bytes (1 GiB)
  int64_t segment_ms = 604800000;                   // segment.ms (7 days)
  int32_t index_interval_bytes = 4096;              // index.interval.bytes
  int64_t retention_ms = 604800000;                 // retention.ms (7 days; -1 = forever)
  int64_t retention_bytes = -1;                     // retention.bytes (-1 = no limit)
  int64_t flush_messages = std::numeric_limits<int64_t>::max();  // flush.messages
  int64_t flush_ms = std::numeric_limits<int64_t>::max();        // flush.ms
  int32_t max_message_bytes = 1048588;              // max.message.bytes (1 MiB + 12)
  TimestampType timestamp_type = TimestampType::kCreateTime;  // message.timestamp.type
  std::string cleanup_policy = "delete";            // cleanup.policy
  // The log cleaner (cleanup.policy contains "compact").
  int64_t delete_retention_ms = 86400000;           // delete.retention.ms (tombstone life)
  double min_cleanable_dirty_ratio = 0.5;           // min.cleanable.dirty.ratio
  int64_t min_compaction_lag_ms = 0;                // min.compaction.lag.ms
  int64_t max_compaction_lag_ms = std::numeric_limits<int64_t>::max();  // max.compaction.lag.ms

  bool compact() const { return cleanup_policy.find("compact") != std::string::npos; }
  bool delete_retention() const { return cleanup_policy.find("delete") != std::string::npos; }

  absl::Status Validate() const;

  // Applies topic-level overrides given as Kafka topic config keys (segment.bytes=...,
  // retention.ms=..., message.timestamp.type=LogAppendTime, ...). Unknown keys and bad values
  // are InvalidArgument naming the key.
  absl::Status ApplyTopicConfig(const std::map<std::string, std::string>& configs);
};

// The broker's log cleaner settings (log.cleaner.*; log_cleaner.h).
struct CleanerConfig {
  bool enable = true;                                  // log.cleaner.enable
  int threads = 1;                                     // log.cleaner.threads
  int64_t dedupe_buffer_size = 134217728;              // log.cleaner.dedupe.buffer.size (all threads)
  double dedupe_load_factor = 0.9;                     // log.cleaner.io.buffer.load.factor
  int64_t io_buffer_size = 524288;                     // log.cleaner.io.buffer.size (all threads)
  double io_max_bytes_per_second = std::numeric_limits<double>::max();  // ...io.max.bytes.per.second
  int64_t backoff_ms = 15000;                          // log.cleaner.backoff.ms
};

}  // namespace gregor::storage
