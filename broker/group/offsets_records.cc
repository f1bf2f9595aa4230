#include "broker/group/offsets_records.h"

#include "absl/strings/str_cat.h"
#include "common/kafka/wire.h"

namespace gregor::group {
namespace {

std::string Bytes(const kafka::Writer& w) {
  auto flat = w.Flatten();  // owned chunks only: cannot fail
  return flat.ok() ? *flat : std::string();
}

// Bytes after the fields of the version are ignored, as Kafka's readers do.
absl::Status Finish(kafka::Reader& r, const char* what) {
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", r.status().message()));
  return absl::OkStatus();
}

std::optional<std::string> OptionalString(std::optional<std::string_view> s) {
  if (!s) return std::nullopt;
  return std::string(*s);
}

}  // namespace

std::string EncodeOffsetKey(const OffsetKey& key) {
  kafka::Writer w;
  w.WriteInt16(1);
  w.WriteString(key.group);
  w.WriteString(key.topic);
  w.WriteInt32(key.partition);
  return Bytes(w);
}

std::string EncodeOffsetValue(const OffsetValue& value) {
  kafka::Writer w;
  if (value.expire_timestamp) {
    w.WriteInt16(1);
    w.WriteInt64(value.offset);
    w.WriteString(value.metadata);
    w.WriteInt64(value.commit_timestamp);
    w.WriteInt64(*value.expire_timestamp);
  } else {
    w.WriteInt16(3);
    w.WriteInt64(value.offset);
    w.WriteInt32(value.leader_epoch);
    w.WriteString(value.metadata);
    w.WriteInt64(value.commit_timestamp);
  }
  return Bytes(w);
}

std::string EncodeGroupKey(std::string_view group) {
  kafka::Writer w;
  w.WriteInt16(2);
  w.WriteString(group);
  return Bytes(w);
}

std::string EncodeGroupValue(const GroupValue& value) {
  kafka::Writer w;
  w.WriteInt16(3);
  w.WriteString(value.protocol_type);
  w.WriteInt32(value.generation);
  w.WriteNullableString(value.protocol);
  w.WriteNullableString(value.leader);
  w.WriteInt64(value.current_state_timestamp);
  w.WriteArrayLength(value.members.size());
  for (const MemberValue& m : value.members) {
    w.WriteString(m.member_id);
    w.WriteNullableString(m.group_instance_id);
    w.WriteString(m.client_id);
    w.WriteString(m.client_host);
    w.WriteInt32(m.rebalance_timeout_ms);
    w.WriteInt32(m.session_timeout_ms);
    w.WriteBytes(m.subscription);
    w.WriteBytes(m.assignment);
  }
  return Bytes(w);
}

absl::StatusOr<RecordKey> DecodeKey(std::string_view bytes) {
  kafka::Reader r(bytes);
  RecordKey key;
  key.version = r.ReadInt16("version");
  if (!r.ok()) return absl::InvalidArgumentError(absl::StrCat("offsets key: ", r.status().message()));
  if (key.version == 0 || key.version == 1) {
    key.kind = RecordKey::Kind::kOffset;
    key.offset.group = std::string(r.ReadString("group"));
    key.offset.topic = std::string(r.ReadString("topic"));
    key.offset.partition = r.ReadInt32("partition");
    key.group = key.offset.group;
  } else if (key.version == 2) {
    key.kind = RecordKey::Kind::kGroup;
    key.group = std::string(r.ReadString("group"));
  } else {
    key.kind = RecordKey::Kind::kUnknown;
    return key;
  }
  if (absl::Status s = Finish(r, "offsets key"); !s.ok()) return s;
  return key;
}

absl::StatusOr<OffsetValue> DecodeOffsetValue(std::string_view bytes) {
  kafka::Reader r(bytes);
  OffsetValue v;
  const int16_t version = r.ReadInt16("version");
  if (r.ok() && (version < 0 || version > 3)) {
    return absl::InvalidArgumentError(absl::StrCat("offset commit value: unknown version ", version));
  }
  v.offset = r.ReadInt64("offset");
  if (version >= 3) v.leader_epoch = r.ReadInt32("leader_epoch");
  v.metadata = std::string(r.ReadString("metadata"));
  v.commit_timestamp = r.ReadInt64("commit_timestamp");
  if (version == 1) v.expire_timestamp = r.ReadInt64("expire_timestamp");
  if (absl::Status s = Finish(r, "offset commit value"); !s.ok()) return s;
  return v;
}

absl::StatusOr<GroupValue> DecodeGroupValue(std::string_view bytes) {
  kafka::Reader r(bytes);
  GroupValue v;
  const int16_t version = r.ReadInt16("version");
  if (r.ok() && (version < 0 || version > 3)) {
    return absl::InvalidArgumentError(absl::StrCat("group metadata value: unknown version ", version));
  }
  v.protocol_type = std::string(r.ReadString("protocol_type"));
  v.generation = r.ReadInt32("generation");
  v.protocol = OptionalString(r.ReadNullableString("protocol"));
  v.leader = OptionalString(r.ReadNullableString("leader"));
  if (version >= 2) v.current_state_timestamp = r.ReadInt64("current_state_timestamp");
  const int32_t n = r.ReadArrayLength("members", 20);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    MemberValue m;
    m.member_id = std::string(r.ReadString("member_id"));
    if (version >= 3) m.group_instance_id = OptionalString(r.ReadNullableString("group_instance_id"));
    m.client_id = std::string(r.ReadString("client_id"));
    m.client_host = std::string(r.ReadString("client_host"));
    if (version >= 1) m.rebalance_timeout_ms = r.ReadInt32("rebalance_timeout");
    m.session_timeout_ms = r.ReadInt32("session_timeout");
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    m.subscription = std::string(r.ReadBytes("subscription"));
    m.assignment = std::string(r.ReadBytes("assignment"));
    v.members.push_back(std::move(m));
  }
  if (absl::Status s = Finish(r, "group metadata value"); !s.ok()) return s;
  return v;
}

}  // namespace gregor::group
