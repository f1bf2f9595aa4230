// The records of __consumer_offsets in Kafka's own formats (the group coordinator's message
// JSONs: OffsetCommitKey/Value, GroupMetadataKey/Value), so Kafka's tools can read our topic.
// Key and value each start with an int16 schema version, then the non-flexible struct.
//
// Written: OffsetCommitKey v1, OffsetCommitValue v3 (v1 when the commit has an explicit expire
// timestamp), GroupMetadataKey v2, GroupMetadataValue v3 — what Kafka 3.x writes. Read: every
// non-flexible version (keys 0-2, offset values 0-3, group values 0-3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor::group {

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

struct OffsetValue {
  int64_t offset = 0;
  int32_t leader_epoch = -1;  // -1: none (v3+)
  std::string metadata;       // never null on disk
  int64_t commit_timestamp = 0;
  std::optional<int64_t> expire_timestamp;  // v1 only (OffsetCommit v2-4 retention_time_ms)
  bool operator==(const OffsetValue&) const = default;
};

struct MemberValue {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;  // v1+ (v0: the session timeout)
  int32_t session_timeout_ms = 0;
  std::string subscription;  // the member's metadata for the chosen protocol
  std::string assignment;
  bool operator==(const MemberValue&) const = default;
};

struct GroupValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp = -1;  // v2+; -1 unknown
  std::vector<MemberValue> members;
  bool operator==(const GroupValue&) const = default;
};

std::string EncodeOffsetKey(const OffsetKey& key);
std::string EncodeOffsetValue(const OffsetValue& value);
std::string EncodeGroupKey(std::string_view group);
std::string EncodeGroupValue(const GroupValue& value);

// A decoded key: an offset commit (versions 0, 1), a group (version 2), or a version this
// coordinator does not know (Kafka logs and skips those).
struct RecordKey {
  enum class Kind { kOffset, kGroup, kUnknown };
  Kind kind = Kind::kUnknown;
  int16_t version = 0;
  OffsetKey offset;   // kOffset
  std::string group;  // kGroup (and kOffset: offset.group)
};
absl::StatusOr<RecordKey> DecodeKey(std::string_view bytes);
absl::StatusOr<OffsetValue> DecodeOffsetValue(std::string_view bytes);
absl::StatusOr<GroupValue> DecodeGroupValue(std::string_view bytes);

}  // namespace gregor::group
