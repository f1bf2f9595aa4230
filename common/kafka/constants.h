// Named values of Kafka message fields (the schema gives their types, this file their meaning).
#pragma once

#include <cstdint>

namespace gregor::kafka {

// FetchRequest.isolation_level.
inline constexpr int8_t kReadUncommitted = 0;
inline constexpr int8_t kReadCommitted = 1;

// ListOffsetsRequestPartition.timestamp.
inline constexpr int64_t kLatestTimestamp = -1;    // the high watermark / log end
inline constexpr int64_t kEarliestTimestamp = -2;  // the log start offset
inline constexpr int64_t kMaxTimestamp = -3;       // the record with the largest timestamp (v7+)

}  // namespace gregor::kafka
