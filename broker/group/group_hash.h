// Where a group's state lives: the partition of __consumer_offsets that Kafka picks for it
// (abs(groupId.hashCode()) % partitions), so a group keeps its partition across Kafka and Gregor.
#pragma once

#include <cstdint>
#include <string_view>

namespace gregor::group {

// Java's String.hashCode of `utf8` decoded to UTF-16 code units (a character outside the BMP
// is two surrogates): h = 31 * h + unit, wrapping. Invalid UTF-8 bytes count as U+FFFD, as
// Java's decoder replaces them.
int32_t JavaStringHashCode(std::string_view utf8);

// Kafka's Utils.abs(groupId.hashCode()) % partitions (abs(INT32_MIN) is 0).
int32_t OffsetsPartitionFor(std::string_view group_id, int32_t partitions);

}  // namespace gregor::group
