#include "broker/storage/log_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace gregor::storage {
namespace {

absl::Status ParseLong(const std::string& key, const std::string& value, int64_t* out) {
  if (!absl::SimpleAtoi(value, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value '", value, "' for topic config '", key, "': expected an integer"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LogConfig::Validate() const {
  if (segment_bytes < 14 || segment_bytes > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("segment.bytes must be between 14 and 2147483647, got ", segment_bytes));
  }
  if (segment_ms < 1) return absl::InvalidArgumentError("segment.ms must be at least 1");
  if (index_interval_bytes < 0) {
    return absl::InvalidArgumentError("index.interval.bytes must not be negative");
  }
  if (retention_ms < -1) return absl::InvalidArgumentError("retention.ms must be >= -1");
  if (retention_bytes < -1) return absl::InvalidArgumentError("retention.bytes must be >= -1");
  if (flush_messages < 1) return absl::InvalidArgumentError("flush.messages must be at least 1");
  if (flush_ms < 0) return absl::InvalidArgumentError("flush.ms must not be negative");
  if (max_message_bytes < 0) {
    return absl::InvalidArgumentError("max.message.bytes must not be negative");
  }
  if (cleanup_policy != "delete" && cleanup_policy != "compact" &&
      cleanup_policy != "delete,compact" && cleanup_policy != "compact,delete") {
    return absl::InvalidArgumentError(absl::StrCat(
        "cleanup.policy must be delete, compact or delete,compact, got '", cleanup_policy, "'"));
  }
  if (delete_retention_ms < 0) {
    return absl::InvalidArgumentError("delete.retention.ms must not be negative");
  }
  if (!(min_cleanable_dirty_ratio >= 0 && min_cleanable_dirty_ratio <= 1)) {
    return absl::InvalidArgumentError("min.cleanable.dirty.ratio must be between 0 and 1");
  }
  if (min_compaction_lag_ms < 0) {
    return absl::InvalidArgumentError("min.compaction.lag.ms must not be negative");
  }
  if (max_compaction_lag_ms < 1) {
    return absl::InvalidArgumentError("max.compaction.lag.ms must be at least 1");
  }
  if (min_compaction_lag_ms > max_compaction_lag_ms) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min.compaction.lag.ms (", min_compaction_lag_ms,
        ") must not be greater than max.compaction.lag.ms (", max_compaction_lag_ms, ")"));
  }
  return absl::OkStatus();
}

absl::Status LogConfig::ApplyTopicConfig(const std::map<std::string, std::string>& configs) {
  for (const auto& [key, value] : configs) {
    int64_t n = 0;
    if (key == "segment.bytes") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      segment_bytes = n;
    } else if (key == "segment.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      segment_ms = n;
    } else if (key == "index.interval.bytes") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      index_interval_bytes = static_cast<int32_t>(n);
    } else if (key == "retention.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      retention_ms = n;
    } else if (key == "retention.bytes") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      retention_bytes = n;
    } else if (key == "flush.messages") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      flush_messages = n;
    } else if (key == "flush.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      flush_ms = n;
    } else if (key == "max.message.bytes") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      max_message_bytes = static_cast<int32_t>(n);
    } else if (key == "message.timestamp.type") {
      if (value == "CreateTime") {
        timestamp_type = TimestampType::kCreateTime;
      } else if (value == "LogAppendTime") {
        timestamp_type = TimestampType::kLogAppendTime;
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            "message.timestamp.type must be CreateTime or LogAppendTime, got '", value, "'"));
      }
    } else if (key == "cleanup.policy") {
      cleanup_policy = value;
    } else if (key == "delete.retention.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      delete_retention_ms = n;
    } else if (key == "min.compaction.lag.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      min_compaction_lag_ms = n;
    } else if (key == "max.compaction.lag.ms") {
      if (auto s = ParseLong(key, value, &n); !s.ok()) return s;
      max_compaction_lag_ms = n;
    } else if (key == "min.cleanable.dirty.ratio") {
      if (!absl::SimpleAtod(value, &min_cleanable_dirty_ratio)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid value '", value, "' for topic config '", key, "': expected a number"));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown topic config '", key, "'"));
    }
  }
  return Validate();
}

}  // namespace gregor::storage
