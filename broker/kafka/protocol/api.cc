#include "broker/kafka/protocol/api.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace gregor::kafka {
namespace {

// §1.6 of the reference, without the group APIs. Sorted by key.
constexpr ApiVersionRange kBaseApis[] = {
    {ApiKey::kProduce, 0, 3},       // implement 3 only; min 0 keeps librdkafka compression on
    {ApiKey::kFetch, 4, 4},         // v4: first version that requires magic-2 support
    {ApiKey::kListOffsets, 1, 1},   // librdkafka's OffsetTime feature needs 1
    {ApiKey::kMetadata, 0, 4},      // max exactly 4: kafka-python infers (0,11) -> magic 2
    {ApiKey::kApiVersions, 0, 3},   // v3 is the only flexible message
    {ApiKey::kCreateTopics, 0, 3},
    {ApiKey::kDeleteTopics, 0, 1},
};

// §1.6's group APIs; switched on once groups are implemented.
constexpr ApiVersionRange kGroupApis[] = {
    {ApiKey::kOffsetCommit, 2, 2},
    {ApiKey::kOffsetFetch, 1, 1},
    {ApiKey::kFindCoordinator, 0, 0},  // min must be 0 (librdkafka BrokerGroupCoordinator)
    {ApiKey::kJoinGroup, 0, 2},        // <= 3: no MEMBER_ID_REQUIRED, no static membership
    {ApiKey::kHeartbeat, 0, 1},
    {ApiKey::kLeaveGroup, 0, 1},
    {ApiKey::kSyncGroup, 0, 1},
};

// First flexible version per api key (§1.5, from Kafka's message JSONs); -1 = never.
int16_t FirstFlexibleVersion(ApiKey key) {
  switch (key) {
    case ApiKey::kProduce: return 9;
    case ApiKey::kFetch: return 12;
    case ApiKey::kListOffsets: return 6;
    case ApiKey::kMetadata: return 9;
    case ApiKey::kOffsetCommit: return 8;
    case ApiKey::kOffsetFetch: return 6;
    case ApiKey::kFindCoordinator: return 3;
    case ApiKey::kJoinGroup: return 6;
    case ApiKey::kHeartbeat: return 4;
    case ApiKey::kLeaveGroup: return 4;
    case ApiKey::kSyncGroup: return 4;
    case ApiKey::kDescribeGroups: return 5;
    case ApiKey::kListGroups: return 3;
    case ApiKey::kSaslHandshake: return -1;
    case ApiKey::kApiVersions: return 3;
    case ApiKey::kCreateTopics: return 5;
    case ApiKey::kDeleteTopics: return 4;
    case ApiKey::kDeleteRecords: return 2;
    case ApiKey::kInitProducerId: return 2;
    case ApiKey::kOffsetForLeaderEpoch: return 4;
    case ApiKey::kDescribeConfigs: return 4;
    case ApiKey::kSaslAuthenticate: return 2;
    case ApiKey::kCreatePartitions: return 2;
    case ApiKey::kDeleteGroups: return 2;
  }
  return -1;
}

}  // namespace

std::string ApiKeyName(ApiKey key) {
  switch (key) {
    case ApiKey::kProduce: return "Produce";
    case ApiKey::kFetch: return "Fetch";
    case ApiKey::kListOffsets: return "ListOffsets";
    case ApiKey::kMetadata: return "Metadata";
    case ApiKey::kOffsetCommit: return "OffsetCommit";
    case ApiKey::kOffsetFetch: return "OffsetFetch";
    case ApiKey::kFindCoordinator: return "FindCoordinator";
    case ApiKey::kJoinGroup: return "JoinGroup";
    case ApiKey::kHeartbeat: return "Heartbeat";
    case ApiKey::kLeaveGroup: return "LeaveGroup";
    case ApiKey::kSyncGroup: return "SyncGroup";
    case ApiKey::kDescribeGroups: return "DescribeGroups";
    case ApiKey::kListGroups: return "ListGroups";
    case ApiKey::kSaslHandshake: return "SaslHandshake";
    case ApiKey::kApiVersions: return "ApiVersions";
    case ApiKey::kCreateTopics: return "CreateTopics";
    case ApiKey::kDeleteTopics: return "DeleteTopics";
    case ApiKey::kDeleteRecords: return "DeleteRecords";
    case ApiKey::kInitProducerId: return "InitProducerId";
    case ApiKey::kOffsetForLeaderEpoch: return "OffsetForLeaderEpoch";
    case ApiKey::kDescribeConfigs: return "DescribeConfigs";
    case ApiKey::kSaslAuthenticate: return "SaslAuthenticate";
    case ApiKey::kCreatePartitions: return "CreatePartitions";
    case ApiKey::kDeleteGroups: return "DeleteGroups";
  }
  return absl::StrCat("ApiKey(", static_cast<int16_t>(key), ")");
}

std::vector<ApiVersionRange> AdvertisedApiVersions(bool include_group_apis) {
  std::vector<ApiVersionRange> table(std::begin(kBaseApis), std::end(kBaseApis));
  if (include_group_apis) {
    table.insert(table.end(), std::begin(kGroupApis), std::end(kGroupApis));
    std::sort(table.begin(), table.end(), [](const ApiVersionRange& a, const ApiVersionRange& b) {
      return a.api_key < b.api_key;
    });
  }
  return table;
}

std::vector<ApiVersionRange> GroupApiVersions() {
  return std::vector<ApiVersionRange>(std::begin(kGroupApis), std::end(kGroupApis));
}

bool IsSupportedForDecoding(ApiKey key, int16_t version) {
  switch (key) {
    case ApiKey::kApiVersions: return version >= 0 && version <= 3;
    case ApiKey::kMetadata: return version >= 0 && version <= 4;
    case ApiKey::kProduce: return version == 3;
    case ApiKey::kFetch: return version == 4;
    case ApiKey::kListOffsets: return version == 1;
    case ApiKey::kCreateTopics: return version >= 0 && version <= 3;
    case ApiKey::kDeleteTopics: return version >= 0 && version <= 1;
    default: return false;
  }
}

bool IsFlexible(ApiKey key, int16_t version) {
  int16_t first = FirstFlexibleVersion(key);
  return first >= 0 && version >= first;
}

int RequestHeaderVersion(ApiKey key, int16_t version) { return IsFlexible(key, version) ? 2 : 1; }

int ResponseHeaderVersion(ApiKey key, int16_t version) {
  // KIP-511: ApiVersionsResponse always includes a v0 header, so that a client can parse the
  // reply of a broker that does not know the version it asked for.
  if (key == ApiKey::kApiVersions) return 0;
  return IsFlexible(key, version) ? 1 : 0;
}

absl::StatusOr<int32_t> DecodeFrameSize(std::string_view prefix, int32_t max_frame_bytes) {
  Reader r(prefix);
  int32_t size = r.ReadInt32("frame size");
  if (!r.ok()) return r.status();
  if (size < 0) return absl::InvalidArgumentError(absl::StrCat("negative frame size ", size));
  if (size > max_frame_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame size ", size, " exceeds the limit of ", max_frame_bytes, " bytes"));
  }
  return size;
}

absl::StatusOr<RequestHeader> ParseRequestHeader(std::string_view frame) {
  Reader r(frame);
  RequestHeader h;
  h.api_key = static_cast<ApiKey>(r.ReadInt16("api_key"));
  h.api_version = r.ReadInt16("api_version");
  h.correlation_id = r.ReadInt32("correlation_id");
  std::optional<std::string_view> client_id = r.ReadNullableString("client_id");
  if (r.ok() && IsFlexible(h.api_key, h.api_version)) r.SkipTaggedFields("header tagged fields");
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("request header: ", r.status().message()));
  }
  if (client_id.has_value()) h.client_id = std::string(*client_id);
  h.body = frame.substr(r.position());
  return h;
}

void WriteRequestHeader(const RequestHeader& header, Writer& out) {
  out.WriteInt16(static_cast<int16_t>(header.api_key));
  out.WriteInt16(header.api_version);
  out.WriteInt32(header.correlation_id);
  if (header.client_id.has_value()) {
    out.WriteNullableString(std::string_view(*header.client_id));
  } else {
    out.WriteNullableString(std::nullopt);
  }
  if (IsFlexible(header.api_key, header.api_version)) out.WriteEmptyTaggedFields();
}

void WriteResponseHeader(ApiKey key, int16_t version, int32_t correlation_id, Writer& out) {
  out.WriteInt32(correlation_id);
  if (ResponseHeaderVersion(key, version) == 1) out.WriteEmptyTaggedFields();
}

absl::StatusOr<ResponseHeader> ParseResponseHeader(std::string_view frame, ApiKey key,
                                                   int16_t version) {
  Reader r(frame);
  ResponseHeader h;
  h.correlation_id = r.ReadInt32("correlation_id");
  if (ResponseHeaderVersion(key, version) == 1) r.SkipTaggedFields("header tagged fields");
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("response header: ", r.status().message()));
  }
  h.body = frame.substr(r.position());
  return h;
}

namespace {

Writer Frame(Writer header, Writer body) {
  Writer frame;
  const size_t size = header.size() + body.size();
  if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    frame.Fail(absl::StrCat("frame of ", size, " bytes exceeds 2^31-1"));
  }
  frame.WriteInt32(static_cast<int32_t>(size));
  frame.Append(std::move(header));
  frame.Append(std::move(body));
  return frame;
}

}  // namespace

Writer FrameResponse(ApiKey key, int16_t version, int32_t correlation_id, Writer body) {
  Writer header;
  WriteResponseHeader(key, version, correlation_id, header);
  return Frame(std::move(header), std::move(body));
}

Writer FrameRequest(const RequestHeader& header, Writer body) {
  Writer h;
  WriteRequestHeader(header, h);
  return Frame(std::move(h), std::move(body));
}

}  // namespace gregor::kafka
