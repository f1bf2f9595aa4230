#include "common/kafka/api.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace gregor::kafka {

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
