// Kafka API keys, the versions the broker advertises and decodes, and request/response headers.
//
// Frames (../../../../shared/reference/kafka-wire-protocol.md §2):
//   Request  = int32 Size | int16 api_key | int16 api_version | int32 correlation_id
//              | client_id (nullable int16-length string, even in header v2)
//              | [tagged fields, header v2 only] | body
//   Response = int32 Size | int32 correlation_id | [tagged fields, header v1 only] | body
// Size counts the bytes after itself. Header v2 / v1 are used for flexible (api, version)s,
// except that ApiVersions responses ALWAYS use header v0 (KIP-511).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/kafka/protocol/wire.h"

namespace gregor::kafka {

// Kafka's api keys (only those this codebase names; other values may appear in a parsed
// header and are simply not supported).
enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kDescribeGroups = 15,
  kListGroups = 16,
  kSaslHandshake = 17,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
  kDeleteRecords = 21,
  kInitProducerId = 22,
  kOffsetForLeaderEpoch = 23,
  kDescribeConfigs = 32,
  kSaslAuthenticate = 36,
  kCreatePartitions = 37,
  kDeleteGroups = 42,
};

// "Produce", "Metadata", ...; "ApiKey(<n>)" for keys without a name here.
std::string ApiKeyName(ApiKey key);

// One entry of the ApiVersions response.
struct ApiVersionRange {
  ApiKey api_key = ApiKey::kProduce;
  int16_t min_version = 0;
  int16_t max_version = 0;
  bool operator==(const ApiVersionRange&) const = default;
};

// The table the broker advertises in ApiVersions, sorted by key: exactly §1.6 of the reference
// (Produce 0-3, Fetch 4-4, ListOffsets 1-1, Metadata 0-4, ApiVersions 0-3, CreateTopics 0-3,
// DeleteTopics 0-1) plus, when `include_group_apis`, the group APIs of GroupApiVersions().
// Do not change these ranges without re-reading §1 (clients infer features from them).
std::vector<ApiVersionRange> AdvertisedApiVersions(bool include_group_apis = false);
// The group APIs' ranges from §1.6: OffsetCommit 2-2, OffsetFetch 1-1, FindCoordinator 0-0,
// JoinGroup 0-2, Heartbeat 0-1, LeaveGroup 0-1, SyncGroup 0-1. Advertised only once the
// broker implements groups.
std::vector<ApiVersionRange> GroupApiVersions();

// Whether this codec can decode requests of (key, version): ApiVersions 0-3, Metadata 0-4,
// Produce 3 (0-2 are advertised only to keep librdkafka's compression on, and are rejected),
// Fetch 4, ListOffsets 1, CreateTopics 0-3, DeleteTopics 0-1. Group APIs: not yet.
bool IsSupportedForDecoding(ApiKey key, int16_t version);

// Whether (key, version) uses the flexible encoding (compact types, tagged fields, request
// header v2, response header v1), from Kafka's message JSONs (§1.5). Unknown keys: false.
bool IsFlexible(ApiKey key, int16_t version);
// 1 or 2 (ControlledShutdown v0's header v0 is not supported).
int RequestHeaderVersion(ApiKey key, int16_t version);
// 0 or 1; always 0 for ApiVersions.
int ResponseHeaderVersion(ApiKey key, int16_t version);

// Largest request frame accepted by default (Kafka's socket.request.max.bytes, 100 MiB).
inline constexpr int32_t kDefaultMaxRequestBytes = 100 * 1024 * 1024;

// Decodes the int32 size prefix in the first 4 bytes of `prefix` (which must hold >= 4 bytes).
// InvalidArgument if negative or above `max_frame_bytes`; the caller closes the connection.
absl::StatusOr<int32_t> DecodeFrameSize(std::string_view prefix,
                                        int32_t max_frame_bytes = kDefaultMaxRequestBytes);

struct RequestHeader {
  // May hold a value that is not a named enumerator (an API we do not know).
  ApiKey api_key = ApiKey::kApiVersions;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  // nullopt for a null client id (Kafka treats it as "").
  std::optional<std::string> client_id;
  // The request body: a view into the frame given to ParseRequestHeader (not owned).
  std::string_view body;
};

// Parses the request header at the start of `frame` (the bytes after the size prefix): header
// v1, or v2 (with tagged fields) when IsFlexible(api_key, api_version). Unknown api keys are
// parsed as v1, so that the caller can still read the correlation id and reject the request.
// InvalidArgument on truncation or a malformed field. Does not check IsSupportedForDecoding.
absl::StatusOr<RequestHeader> ParseRequestHeader(std::string_view frame);

// Writes a request header (v1 or v2, per api_key/api_version). For clients, tests and tools.
void WriteRequestHeader(const RequestHeader& header, Writer& out);

// Writes the response header for (key, version): correlation id, plus an empty tagged-field
// section for header v1.
void WriteResponseHeader(ApiKey key, int16_t version, int32_t correlation_id, Writer& out);

struct ResponseHeader {
  int32_t correlation_id = 0;
  // The response body: a view into the frame given to ParseResponseHeader (not owned).
  std::string_view body;
};

// Parses the response header (v0, or v1 per ResponseHeaderVersion) at the start of `frame`
// (the bytes after the size prefix). For clients, tests and tools.
absl::StatusOr<ResponseHeader> ParseResponseHeader(std::string_view frame, ApiKey key,
                                                   int16_t version);

// A complete response frame: int32 size | response header | `body`. The result's size() is the
// number of bytes to send; its status() carries body's error, or InvalidArgument if the frame
// would exceed 2^31-1 bytes.
Writer FrameResponse(ApiKey key, int16_t version, int32_t correlation_id, Writer body);
// A complete request frame: int32 size | request header | `body` (header.body is ignored).
Writer FrameRequest(const RequestHeader& header, Writer body);

}  // namespace gregor::kafka
