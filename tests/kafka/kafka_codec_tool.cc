// kafka_codec_tool: drives Gregor's Kafka codec from a script, so that it can be cross-checked
// against other implementations (kafka_python_protocol_crosscheck.py,
// kafka_python_schema_crosscheck.py). Messages are JSON as common/kafka/messages_json.h makes
// them (the schema's field names, only the fields of the version, bytes as hex).
//
//   kafka_codec_tool list
//       One line per message: NAME API_KEY request|response MIN_VERSION MAX_VERSION.
//   kafka_codec_tool decode NAME VERSION          (hex body on stdin)
//       Prints the decoded message as JSON; exits 1 with the error on stderr.
//   kafka_codec_tool encode NAME VERSION          (JSON on stdin)
//       Prints the encoded body as hex; exits 1 with the error on stderr.
//   kafka_codec_tool decode-request
//       Reads one request frame (int32 size prefix included) from stdin and prints
//       {"api_key":N,"api_version":N,"correlation_id":N,"client_id":S|null,"request":{...}}.
//       Exits 1 if the frame does not decode or the broker does not serve that version.
//   kafka_codec_tool encode-response API_KEY VERSION CORRELATION_ID   (JSON on stdin)
//       Writes the complete response frame (size, header, body) to stdout. For ApiVersions,
//       {"advertised":true} gives the broker's table and {"unsupported":true} the
//       UNSUPPORTED_VERSION reply, which is always encoded as v0.
#include <cstdint>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/kafka/served_apis.h"
#include "common/kafka/api.h"
#include "common/kafka/messages.h"
#include "common/kafka/messages_json.h"

namespace {

using namespace gregor::kafka;        // NOLINT: a small tool
using namespace gregor::kafka::json;  // NOLINT

std::string ReadStdin() {
  return std::string((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
}

const MessageCodec* FindCodec(ApiKey key, bool is_request) {
  for (const MessageCodec& codec : MessageCodecs()) {
    if (codec.api_key == key && codec.is_request == is_request) return &codec;
  }
  return nullptr;
}

int Fail(std::string_view what) {
  std::cerr << what << "\n";
  return 1;
}

int ListCommand() {
  for (const MessageCodec& c : MessageCodecs()) {
    std::cout << c.name << " " << static_cast<int>(c.api_key) << " "
              << (c.is_request ? "request" : "response") << " " << c.min_version << " "
              << c.max_version << "\n";
  }
  return 0;
}

int DecodeCommand(const MessageCodec& codec, int16_t version) {
  std::string input = ReadStdin();
  while (!input.empty() && (input.back() == '\n' || input.back() == ' ')) input.pop_back();
  absl::StatusOr<Json> message = codec.decode(Unhex(input), version);
  if (!message.ok()) return Fail(message.status().ToString());
  std::cout << message->dump() << "\n";
  return 0;
}

int EncodeCommand(const MessageCodec& codec, int16_t version) {
  Json j = Json::parse(std::cin);
  Writer body;
  absl::Status status = codec.encode(j, version, body);
  if (!status.ok()) return Fail(status.ToString());
  absl::StatusOr<std::string> bytes = body.Flatten();
  if (!bytes.ok()) return Fail(bytes.status().ToString());
  std::cout << HexOf(*bytes) << "\n";
  return 0;
}

int DecodeRequestCommand() {
  std::string input = ReadStdin();
  absl::StatusOr<int32_t> size = DecodeFrameSize(input);
  if (!size.ok()) return Fail(size.status().ToString());
  if (static_cast<size_t>(*size) != input.size() - 4) {
    return Fail(absl::StrCat("frame size ", *size, " but ", input.size() - 4, " bytes follow"));
  }
  absl::StatusOr<RequestHeader> header = ParseRequestHeader(std::string_view(input).substr(4));
  if (!header.ok()) return Fail(header.status().ToString());
  const MessageCodec* codec = FindCodec(header->api_key, /*is_request=*/true);
  if (codec == nullptr || !gregor::broker::IsServed(header->api_key, header->api_version)) {
    return Fail(absl::StrCat("unsupported: ", ApiKeyName(header->api_key), " v",
                             header->api_version));
  }
  absl::StatusOr<Json> body = codec->decode(header->body, header->api_version);
  if (!body.ok()) return Fail(body.status().ToString());
  Json out = {{"api_key", static_cast<int>(header->api_key)},
              {"api_version", header->api_version},
              {"correlation_id", header->correlation_id},
              {"client_id", header->client_id ? Json(*header->client_id) : Json(nullptr)},
              {"request", *body}};
  std::cout << out.dump() << "\n";
  return 0;
}

int EncodeResponseCommand(ApiKey key, int16_t version, int32_t correlation_id) {
  Json j = Json::parse(std::cin);
  Writer body;
  absl::Status status;
  if (key == ApiKey::kApiVersions && j.value("unsupported", false)) {
    version = 0;  // what the server does for any unsupported version
    status = EncodeApiVersionsResponse(gregor::broker::MakeUnsupportedApiVersionsResponse(),
                                       version, body);
  } else if (key == ApiKey::kApiVersions && j.value("advertised", false)) {
    ApiVersionsResponse r = gregor::broker::MakeApiVersionsResponse();
    r.throttle_time_ms = j.value("throttle_time_ms", 0);
    status = EncodeApiVersionsResponse(r, version, body);
  } else {
    const MessageCodec* codec = FindCodec(key, /*is_request=*/false);
    if (codec == nullptr) return Fail("no encoder for this api key");
    status = codec->encode(j, version, body);
  }
  if (!status.ok()) return Fail(status.ToString());
  Writer frame = FrameResponse(key, version, correlation_id, std::move(body));
  absl::StatusOr<std::string> bytes = frame.Flatten();
  if (!bytes.ok()) return Fail(bytes.status().ToString());
  std::cout.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  std::cout.flush();
  return 0;
}

int Usage() {
  std::cerr << "usage: kafka_codec_tool list\n"
               "       kafka_codec_tool decode NAME VERSION < hex\n"
               "       kafka_codec_tool encode NAME VERSION < json\n"
               "       kafka_codec_tool decode-request < frame\n"
               "       kafka_codec_tool encode-response API_KEY VERSION CORRELATION_ID < json\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string command = argv[1];
  try {
    if (command == "list" && argc == 2) return ListCommand();
    if (command == "decode-request" && argc == 2) return DecodeRequestCommand();
    int a = 0, b = 0, c = 0;
    if ((command == "decode" || command == "encode") && argc == 4 &&
        absl::SimpleAtoi(argv[3], &a)) {
      const MessageCodec* codec = FindMessageCodec(argv[2]);
      if (codec == nullptr) return Fail(absl::StrCat("no message named ", argv[2]));
      const auto version = static_cast<int16_t>(a);
      return command == "decode" ? DecodeCommand(*codec, version) : EncodeCommand(*codec, version);
    }
    if (command == "encode-response" && argc == 5 && absl::SimpleAtoi(argv[2], &a) &&
        absl::SimpleAtoi(argv[3], &b) && absl::SimpleAtoi(argv[4], &c)) {
      return EncodeResponseCommand(static_cast<ApiKey>(a), static_cast<int16_t>(b), c);
    }
  } catch (const std::exception& e) {  // JSON and hex errors in a test tool
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return Usage();
}
