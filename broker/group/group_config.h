// The group coordinator's settings (Kafka's group.* and offsets.* broker configs that the state
// machine uses). A small header of its own, so the broker's config can hold it.
#pragma once

#include <cstdint>

namespace gregor::group {

struct GroupConfig {
  int32_t min_session_timeout_ms = 6000;       // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;    // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;   // group.initial.rebalance.delay.ms
  int32_t max_size = INT32_MAX;                // group.max.size
  int64_t new_member_join_timeout_ms = 300000; // Kafka's fixed 5 min (KAFKA-7610)
  int32_t offset_metadata_max_bytes = 4096;    // offset.metadata.max.bytes
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;  // offsets.retention.minutes
};

}  // namespace gregor::group
