// Rebuilds the groups of one __consumer_offsets partition from its records, oldest first (what
// a broker does when it becomes the partition's leader). A later record for a key replaces an
// earlier one, a tombstone removes it; keys of unknown versions and values that do not parse
// are skipped and counted (Kafka logs and skips them). Copes with a compacted log: any subset
// of older records may be missing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "broker/group/group.h"
#include "broker/group/offsets_records.h"

namespace gregor::group {

struct LoadedGroup {
  std::optional<GroupValue> metadata;  // the last group record, unless tombstoned
  std::map<TopicPartitionKey, OffsetValue> offsets;
};

struct LoadedPartition {
  std::map<std::string, LoadedGroup> groups;
  int64_t records = 0;
  int64_t skipped = 0;  // unknown key versions, undecodable keys or values
};

class GroupLoader {
 public:
  // One record of the log; `value` nullopt is a tombstone. A null key is skipped.
  void Apply(std::optional<std::string_view> key, std::optional<std::string_view> value);
  LoadedPartition Finish() &&;

 private:
  LoadedPartition out_;
};

}  // namespace gregor::group
