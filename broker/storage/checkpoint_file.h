// Kafka's offset checkpoint files at the top of a log directory:
//   recovery-point-offset-checkpoint, replication-offset-checkpoint (high watermarks),
//   log-start-offset-checkpoint
// Format (text): a version line "0", a count line, then "<topic> <partition> <offset>" lines.
// Written atomically (temp file, fsync, rename, fsync directory).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::storage {

inline constexpr char kRecoveryPointCheckpoint[] = "recovery-point-offset-checkpoint";
inline constexpr char kHighWatermarkCheckpoint[] = "replication-offset-checkpoint";
inline constexpr char kLogStartOffsetCheckpoint[] = "log-start-offset-checkpoint";

using TopicPartitionKey = std::pair<std::string, int32_t>;
using OffsetMap = std::map<TopicPartitionKey, int64_t>;

// The non-blank lines of a checkpoint file with their 1-based line numbers.
std::vector<std::pair<size_t, std::string>> CheckpointLines(std::string_view text);

std::string FormatOffsetCheckpoint(const OffsetMap& offsets);
// DataLoss naming the file and line on malformed content.
absl::StatusOr<OffsetMap> ParseOffsetCheckpoint(std::string_view text, std::string_view source);

absl::Status WriteOffsetCheckpoint(const std::string& path, const OffsetMap& offsets);
// A missing file is an empty map.
absl::StatusOr<OffsetMap> ReadOffsetCheckpoint(const std::string& path);

}  // namespace gregor::storage
