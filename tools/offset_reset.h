// The pure part of `gregor group reset-offsets`: parsing --topic, --to-datetime and
// --by-duration, and computing each partition's new offset as kafka-consumer-groups.sh does
// (explicit offsets clamped to the partition's range with a warning; a time past the end falls
// back to the log end).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::tools {

struct ResetSpec {
  enum class Kind { kEarliest, kLatest, kOffset, kShiftBy, kTimestamp, kCurrent };
  Kind kind = Kind::kLatest;
  int64_t value = 0;  // kOffset: the offset; kShiftBy: the shift; kTimestamp: ms since the epoch
};

// What is known about one partition when computing its new offset.
struct PartitionState {
  int64_t log_start = 0;
  int64_t log_end = 0;                 // the high watermark
  std::optional<int64_t> committed;    // the group's committed offset
  std::optional<int64_t> by_time;      // kTimestamp: the first offset at or after it (-1: none)
};

struct NewOffset {
  int64_t offset = 0;
  std::string warning;  // "" or what kafka-consumer-groups.sh would print
};

absl::StatusOr<NewOffset> ComputeNewOffset(const ResetSpec& spec, const std::string& topic,
                                           int32_t partition, const PartitionState& state);

// "topic" (every partition: empty list) or "topic:0,2,5".
absl::StatusOr<std::pair<std::string, std::vector<int32_t>>> ParseTopicSpec(const std::string& text);

// 'YYYY-MM-DDTHH:mm:SS.sss' with an optional zone (Z or +HH:MM / -HH:MM; local time without
// one), seconds and milliseconds optional. Milliseconds since the Unix epoch.
absl::StatusOr<int64_t> ParseDatetime(const std::string& text);

// An ISO-8601 duration as kafka-consumer-groups.sh takes it: PnDTnHnMnS (e.g. PT15M, P1DT2H).
absl::StatusOr<int64_t> ParseDurationMs(const std::string& text);

}  // namespace gregor::tools
