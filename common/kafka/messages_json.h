// JSON views of every generated message, for tools and tests that drive the codec from a script
// (tests/kafka/kafka_codec_tool, the kafka-python cross-checks). Not linked into the broker.
//
// A message becomes an object with exactly the fields of its version, in wire order and with
// the schema's field names; error codes and api keys are numbers; bytes, records and uuids are
// hex strings; chunked records are a hex string (from a decode) or, to encode, a hex string or
// a list of {"hex": H} owned chunks and {"file_hex": H} chunks written to a temporary file and
// sent as FileSlices. Reading JSON, a missing field keeps its default; a value of the wrong type
// throws nlohmann::json::exception.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/kafka/api_keys.h"
#include "common/kafka/wire.h"
#include "nlohmann/json.hpp"

namespace gregor::kafka::json {

using Json = nlohmann::ordered_json;

// One message type: "MetadataRequest", its api key, request or response, versions, codec.
struct MessageCodec {
  const char* name;
  ApiKey api_key;
  bool is_request;
  int16_t min_version;
  int16_t max_version;
  absl::StatusOr<Json> (*decode)(std::string_view body, int16_t version);
  absl::Status (*encode)(const Json& message, int16_t version, Writer& out);
};

// Every message of schema/*.api (generated in messages_json.cc).
const std::vector<MessageCodec>& MessageCodecs();
// nullptr if there is no such message.
const MessageCodec* FindMessageCodec(std::string_view name);

// Helpers of the generated code.
std::string HexOf(std::string_view bytes);
// Throws std::invalid_argument on a malformed hex string.
std::string Unhex(std::string_view hex);
Uuid UuidFromHex(std::string_view hex);
Json ChunksToJson(const std::vector<Chunk>& chunks);
std::vector<Chunk> ChunksFromJson(const Json& j);
// The bytes live until the process exits (records fields are views).
std::optional<std::string_view> RecordsFromJson(const Json& j);

}  // namespace gregor::kafka::json
