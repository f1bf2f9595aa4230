#include "broker/replication/replica_wire.h"

#include "absl/strings/str_cat.h"

namespace gregor::broker::replica_wire {

void PutU32(char* out, uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

uint32_t GetU32(const char* in) {
  const auto* u = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

namespace {
std::string RequestFrame(RequestType type, const std::string& payload) {
  std::string frame(5, '\0');
  PutU32(frame.data(), static_cast<uint32_t>(1 + payload.size()));
  frame[4] = static_cast<char>(type);
  frame += payload;
  return frame;
}
}  // namespace

std::string EncodeFetch(const replication::ReplicaFetchRequest& request) {
  return RequestFrame(RequestType::kFetch, request.SerializeAsString());
}

std::string EncodeWake() { return RequestFrame(RequestType::kWake, ""); }

absl::StatusOr<Request> DecodeRequest(std::string_view body) {
  if (body.empty()) return absl::InvalidArgumentError("empty replication request frame");
  Request request;
  request.type = static_cast<RequestType>(static_cast<uint8_t>(body[0]));
  std::string_view payload = body.substr(1);
  switch (request.type) {
    case RequestType::kFetch:
      if (!request.fetch.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return absl::InvalidArgumentError("replication fetch request does not parse");
      }
      return request;
    case RequestType::kWake:
      if (!payload.empty()) return absl::InvalidArgumentError("replication wake frame has a payload");
      return request;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown replication request type ", static_cast<int>(body[0])));
}

std::string EncodeResponseHead(const replication::ReplicaFetchResponse& header,
                               uint64_t records_bytes) {
  std::string head(8, '\0');
  std::string encoded = header.SerializeAsString();
  PutU32(head.data(), static_cast<uint32_t>(4 + encoded.size() + records_bytes));
  PutU32(head.data() + 4, static_cast<uint32_t>(encoded.size()));
  head += encoded;
  return head;
}

absl::StatusOr<Response> DecodeResponse(std::string_view body) {
  if (body.size() < 4) return absl::InvalidArgumentError("replication response frame too short");
  uint32_t header_size = GetU32(body.data());
  if (header_size > body.size() - 4) {
    return absl::InvalidArgumentError(absl::StrCat("replication response header of ", header_size,
                                                   " bytes in a frame of ", body.size()));
  }
  Response response;
  if (!response.header.ParseFromArray(body.data() + 4, static_cast<int>(header_size))) {
    return absl::InvalidArgumentError("replication response header does not parse");
  }
  std::string_view records = body.substr(4 + header_size);
  size_t at = 0;
  for (const auto& p : response.header.partitions()) {
    if (p.records_size() < 0 || static_cast<uint64_t>(p.records_size()) > records.size() - at) {
      return absl::InvalidArgumentError(absl::StrCat(
          "replication response: ", p.topic(), "-", p.partition(), " claims ", p.records_size(),
          " bytes of records, ", records.size() - at, " left in the frame"));
    }
    response.records.push_back(records.substr(at, static_cast<size_t>(p.records_size())));
    at += static_cast<size_t>(p.records_size());
  }
  if (at != records.size()) {
    return absl::InvalidArgumentError(absl::StrCat("replication response: ", records.size() - at,
                                                   " bytes after the last partition's records"));
  }
  return response;
}

}  // namespace gregor::broker::replica_wire
