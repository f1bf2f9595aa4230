// The frames of the replication protocol (proto/replication.proto messages over TCP).
//
// Follower → leader (request frames):
//   u32 size (of what follows) | u8 type | payload
//   type 1 FETCH: payload = ReplicaFetchRequest (protobuf)
//   type 2 WAKE:  no payload; answer the outstanding fetch now (its partition set is stale)
//
// Leader → follower (response frames, one per FETCH, in order):
//   u32 size (of what follows) | u32 header size | header | records
//   header = ReplicaFetchResponse (protobuf) whose partitions carry records_size; the records of
//   the partitions follow the header back to back, in the header's partition order, so the
//   leader can send them straight from its segment files (sendfile) and the follower can append
//   them from its receive buffer without another copy.
//
// Integers are big-endian, like Kafka's. Pure encoding and decoding: no sockets here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/replication.pb.h"

namespace gregor::broker::replica_wire {

enum class RequestType : uint8_t { kFetch = 1, kWake = 2 };

// A request frame's size is small (partition lists); anything larger is a broken peer.
inline constexpr uint32_t kMaxRequestBytes = 64u << 20;
// Responses are bounded by replica.fetch.response.max.bytes plus one batch per partition; this
// is the hard limit a follower accepts (as gRPC's 256 MiB message limit was).
inline constexpr uint32_t kMaxResponseBytes = 1u << 30;

void PutU32(char* out, uint32_t v);
uint32_t GetU32(const char* in);

std::string EncodeFetch(const replication::ReplicaFetchRequest& request);
std::string EncodeWake();

struct Request {
  RequestType type = RequestType::kWake;
  replication::ReplicaFetchRequest fetch;  // kFetch only
};
// `body` is the frame after its size prefix. InvalidArgument on an unknown type or a payload
// that does not parse.
absl::StatusOr<Request> DecodeRequest(std::string_view body);

// The start of a response frame: size prefix, header size, header. `records_bytes` is the total
// of the header's records_size fields, which the caller sends right after.
std::string EncodeResponseHead(const replication::ReplicaFetchResponse& header,
                               uint64_t records_bytes);

struct Response {
  replication::ReplicaFetchResponse header;
  // One view per header partition (empty when records_size is 0), into the decoded body.
  std::vector<std::string_view> records;
};
// `body` is the frame after its size prefix; the views point into it. InvalidArgument when the
// header does not parse or the records sizes do not add up to the frame.
absl::StatusOr<Response> DecodeResponse(std::string_view body);

}  // namespace gregor::broker::replica_wire
