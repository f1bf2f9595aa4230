// Request and response headers and framing, and which (api, version)s are flexible.
//
// Frames (../../../shared/reference/kafka-wire-protocol.md §2):
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
#include "common/kafka/api_keys.h"
#include "common/kafka/wire.h"

namespace gregor::kafka {

// Whether (key, version) uses the flexible encoding (compact types, tagged fields, request
// header v2, response header v1): FirstFlexibleVersion, from schema/api_keys.txt. Unknown keys:
// false.
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
// InvalidArgument on truncation or a malformed field. Does not check whether the version is served.
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
