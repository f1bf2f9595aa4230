// kafka_codec_tool: drives Gregor's Kafka codec from a script, so that it can be cross-checked
// against other implementations (kafka_python_protocol_crosscheck.py).
//
//   kafka_codec_tool decode-request
//       Reads one request frame (int32 size prefix included) from stdin and prints one JSON
//       object: {"api_key":N,"api_version":N,"correlation_id":N,"client_id":S|null,
//       "request":{...}} with the fields of the decoded request (names as in messages.h; bytes
//       hex-encoded). Exits 1 with the error on stderr if the frame does not decode.
//   kafka_codec_tool encode-response API_KEY VERSION CORRELATION_ID
//       Reads a JSON description of a response from stdin (same field names; error codes as
//       numbers; Fetch records as a list of {"hex":H} owned chunks or {"file_hex":H} chunks that
//       are written to a temporary file and sent as FileSlices) and writes the complete response
//       frame (size, header, body) to stdout. For ApiVersions, {"advertised":true[,
//       "include_group_apis":true]} gives the broker's table and {"unsupported":true} the
//       UNSUPPORTED_VERSION reply, which is always encoded as v0.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "broker/kafka/protocol/protocol.h"
#include "common/file.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::ordered_json;
using namespace gregor::kafka;  // NOLINT: a small tool

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string Unhex(const std::string& hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) throw std::runtime_error("bad hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Json OptString(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

std::optional<std::string> GetOptString(const Json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  return j.at(key).get<std::string>();
}

template <typename T>
T Get(const Json& j, const char* key, T fallback) {
  return j.contains(key) ? j.at(key).get<T>() : fallback;
}

gregor::KafkaErrorCode ErrorCode(const Json& j) {
  return static_cast<gregor::KafkaErrorCode>(Get<int>(j, "error_code", 0));
}

// ---------------------------------------------------------------------------------------------
// Requests -> JSON

Json ToJson(const ApiVersionsRequest& r) {
  return {{"client_software_name", r.client_software_name},
          {"client_software_version", r.client_software_version}};
}

Json ToJson(const MetadataRequest& r) {
  Json j;
  j["topics"] = r.topics ? Json(*r.topics) : Json(nullptr);
  j["allow_auto_topic_creation"] = r.allow_auto_topic_creation;
  return j;
}

Json ToJson(const ProduceRequest& r) {
  Json topics = Json::array();
  for (const auto& t : r.topic_data) {
    Json parts = Json::array();
    for (const auto& p : t.partition_data) {
      parts.push_back({{"index", p.index},
                       {"records", p.records ? Json(Hex(*p.records)) : Json(nullptr)}});
    }
    topics.push_back({{"name", t.name}, {"partition_data", parts}});
  }
  return {{"transactional_id", OptString(r.transactional_id)},
          {"acks", r.acks},
          {"timeout_ms", r.timeout_ms},
          {"topic_data", topics}};
}

Json ToJson(const FetchRequest& r) {
  Json topics = Json::array();
  for (const auto& t : r.topics) {
    Json parts = Json::array();
    for (const auto& p : t.partitions) {
      parts.push_back({{"partition", p.partition},
                       {"fetch_offset", p.fetch_offset},
                       {"partition_max_bytes", p.partition_max_bytes}});
    }
    topics.push_back({{"topic", t.topic}, {"partitions", parts}});
  }
  return {{"replica_id", r.replica_id},   {"max_wait_ms", r.max_wait_ms},
          {"min_bytes", r.min_bytes},     {"max_bytes", r.max_bytes},
          {"isolation_level", r.isolation_level}, {"topics", topics}};
}

Json ToJson(const ListOffsetsRequest& r) {
  Json topics = Json::array();
  for (const auto& t : r.topics) {
    Json parts = Json::array();
    for (const auto& p : t.partitions) {
      parts.push_back({{"partition_index", p.partition_index}, {"timestamp", p.timestamp}});
    }
    topics.push_back({{"name", t.name}, {"partitions", parts}});
  }
  return {{"replica_id", r.replica_id}, {"topics", topics}};
}

Json ToJson(const CreateTopicsRequest& r) {
  Json topics = Json::array();
  for (const auto& t : r.topics) {
    Json assignments = Json::array();
    for (const auto& a : t.assignments) {
      assignments.push_back({{"partition_index", a.partition_index}, {"broker_ids", a.broker_ids}});
    }
    Json configs = Json::array();
    for (const auto& c : t.configs) {
      configs.push_back({{"name", c.name}, {"value", OptString(c.value)}});
    }
    topics.push_back({{"name", t.name},
                      {"num_partitions", t.num_partitions},
                      {"replication_factor", t.replication_factor},
                      {"assignments", assignments},
                      {"configs", configs}});
  }
  return {{"topics", topics}, {"timeout_ms", r.timeout_ms}, {"validate_only", r.validate_only}};
}

Json ToJson(const DeleteTopicsRequest& r) {
  return {{"topic_names", r.topic_names}, {"timeout_ms", r.timeout_ms}};
}

template <typename T>
absl::StatusOr<Json> DecodeToJson(absl::StatusOr<T> (*decode)(std::string_view, int16_t),
                                  std::string_view body, int16_t version) {
  absl::StatusOr<T> decoded = decode(body, version);
  if (!decoded.ok()) return decoded.status();
  return ToJson(*decoded);
}

int DecodeRequestCommand() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  absl::StatusOr<int32_t> size = DecodeFrameSize(input);
  if (!size.ok()) {
    std::cerr << size.status() << "\n";
    return 1;
  }
  if (static_cast<size_t>(*size) != input.size() - 4) {
    std::cerr << "frame size " << *size << " but " << input.size() - 4 << " bytes follow\n";
    return 1;
  }
  absl::StatusOr<RequestHeader> header = ParseRequestHeader(std::string_view(input).substr(4));
  if (!header.ok()) {
    std::cerr << header.status() << "\n";
    return 1;
  }
  if (!IsSupportedForDecoding(header->api_key, header->api_version)) {
    std::cerr << "unsupported: " << ApiKeyName(header->api_key) << " v" << header->api_version
              << "\n";
    return 1;
  }
  const int16_t v = header->api_version;
  absl::StatusOr<Json> body;
  switch (header->api_key) {
    case ApiKey::kApiVersions: body = DecodeToJson(DecodeApiVersionsRequest, header->body, v); break;
    case ApiKey::kMetadata: body = DecodeToJson(DecodeMetadataRequest, header->body, v); break;
    case ApiKey::kProduce: body = DecodeToJson(DecodeProduceRequest, header->body, v); break;
    case ApiKey::kFetch: body = DecodeToJson(DecodeFetchRequest, header->body, v); break;
    case ApiKey::kListOffsets: body = DecodeToJson(DecodeListOffsetsRequest, header->body, v); break;
    case ApiKey::kCreateTopics: body = DecodeToJson(DecodeCreateTopicsRequest, header->body, v); break;
    case ApiKey::kDeleteTopics: body = DecodeToJson(DecodeDeleteTopicsRequest, header->body, v); break;
    default: body = absl::InvalidArgumentError("no decoder"); break;
  }
  if (!body.ok()) {
    std::cerr << body.status() << "\n";
    return 1;
  }
  Json out = {{"api_key", static_cast<int>(header->api_key)},
              {"api_version", header->api_version},
              {"correlation_id", header->correlation_id},
              {"client_id", OptString(header->client_id)},
              {"request", *body}};
  std::cout << out.dump() << "\n";
  return 0;
}

// ---------------------------------------------------------------------------------------------
// JSON -> responses

// Owns the temporary file behind Fetch FileSlices.
class SliceFile {
 public:
  ~SliceFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  gregor::FileSlice Add(const std::string& bytes) {
    if (file_ == nullptr) {
      char tmpl[] = "/tmp/kafka_codec_tool.XXXXXX";
      int fd = ::mkstemp(tmpl);
      if (fd < 0) throw std::runtime_error("mkstemp failed");
      ::close(fd);
      path_ = tmpl;
      auto file = gregor::File::Open(path_, /*create=*/false);
      if (!file.ok()) throw std::runtime_error(std::string(file.status().message()));
      file_ = *file;
    }
    if (!file_->WriteAt(end_, bytes).ok()) throw std::runtime_error("write failed");
    gregor::FileSlice slice{file_, end_, static_cast<int64_t>(bytes.size())};
    end_ += static_cast<int64_t>(bytes.size());
    return slice;
  }

 private:
  std::string path_;
  std::shared_ptr<gregor::File> file_;
  int64_t end_ = 0;
};

absl::Status EncodeFromJson(ApiKey key, int16_t& version, const Json& j, SliceFile& slices,
                            Writer& out) {
  switch (key) {
    case ApiKey::kApiVersions: {
      ApiVersionsResponse r;
      if (Get<bool>(j, "unsupported", false)) {
        r = MakeUnsupportedApiVersionsResponse();
        version = 0;  // what the server does for any unsupported version
      } else if (Get<bool>(j, "advertised", false)) {
        r = MakeApiVersionsResponse(Get<bool>(j, "include_group_apis", false));
      } else {
        r.error_code = ErrorCode(j);
        for (const Json& k : j.at("api_keys")) {
          r.api_keys.push_back({static_cast<ApiKey>(k.at("api_key").get<int>()),
                                k.at("min_version").get<int16_t>(),
                                k.at("max_version").get<int16_t>()});
        }
      }
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      return EncodeApiVersionsResponse(r, version, out);
    }
    case ApiKey::kMetadata: {
      MetadataResponse r;
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      for (const Json& b : j.at("brokers")) {
        r.brokers.push_back({b.at("node_id").get<int32_t>(), b.at("host").get<std::string>(),
                             b.at("port").get<int32_t>(), GetOptString(b, "rack")});
      }
      r.cluster_id = GetOptString(j, "cluster_id");
      r.controller_id = Get<int32_t>(j, "controller_id", -1);
      for (const Json& t : j.at("topics")) {
        MetadataResponseTopic topic;
        topic.error_code = ErrorCode(t);
        topic.name = t.at("name").get<std::string>();
        topic.is_internal = Get<bool>(t, "is_internal", false);
        for (const Json& p : t.at("partitions")) {
          topic.partitions.push_back({ErrorCode(p), p.at("partition_index").get<int32_t>(),
                                      p.at("leader_id").get<int32_t>(),
                                      p.at("replica_nodes").get<std::vector<int32_t>>(),
                                      p.at("isr_nodes").get<std::vector<int32_t>>()});
        }
        r.topics.push_back(std::move(topic));
      }
      return EncodeMetadataResponse(r, version, out);
    }
    case ApiKey::kProduce: {
      ProduceResponse r;
      for (const Json& t : j.at("responses")) {
        ProduceTopicResponse topic;
        topic.name = t.at("name").get<std::string>();
        for (const Json& p : t.at("partition_responses")) {
          topic.partition_responses.push_back({p.at("index").get<int32_t>(), ErrorCode(p),
                                               p.at("base_offset").get<int64_t>(),
                                               Get<int64_t>(p, "log_append_time_ms", -1)});
        }
        r.responses.push_back(std::move(topic));
      }
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      return EncodeProduceResponse(r, version, out);
    }
    case ApiKey::kFetch: {
      FetchResponse r;
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      for (const Json& t : j.at("responses")) {
        FetchResponseTopic topic;
        topic.topic = t.at("topic").get<std::string>();
        for (const Json& p : t.at("partitions")) {
          FetchResponsePartition part;
          part.partition_index = p.at("partition_index").get<int32_t>();
          part.error_code = ErrorCode(p);
          part.high_watermark = p.at("high_watermark").get<int64_t>();
          part.last_stable_offset = p.at("last_stable_offset").get<int64_t>();
          if (p.contains("aborted_transactions")) {
            for (const Json& a : p.at("aborted_transactions")) {
              part.aborted_transactions.push_back(
                  {a.at("producer_id").get<int64_t>(), a.at("first_offset").get<int64_t>()});
            }
          }
          if (p.contains("records")) {
            for (const Json& c : p.at("records")) {
              if (c.contains("file_hex")) {
                part.records.emplace_back(slices.Add(Unhex(c.at("file_hex").get<std::string>())));
              } else {
                part.records.emplace_back(Unhex(c.at("hex").get<std::string>()));
              }
            }
          }
          topic.partitions.push_back(std::move(part));
        }
        r.responses.push_back(std::move(topic));
      }
      return EncodeFetchResponse(r, version, out);
    }
    case ApiKey::kListOffsets: {
      ListOffsetsResponse r;
      for (const Json& t : j.at("topics")) {
        ListOffsetsResponseTopic topic;
        topic.name = t.at("name").get<std::string>();
        for (const Json& p : t.at("partitions")) {
          topic.partitions.push_back({p.at("partition_index").get<int32_t>(), ErrorCode(p),
                                      p.at("timestamp").get<int64_t>(),
                                      p.at("offset").get<int64_t>()});
        }
        r.topics.push_back(std::move(topic));
      }
      return EncodeListOffsetsResponse(r, version, out);
    }
    case ApiKey::kCreateTopics: {
      CreateTopicsResponse r;
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      for (const Json& t : j.at("topics")) {
        r.topics.push_back({t.at("name").get<std::string>(), ErrorCode(t),
                            GetOptString(t, "error_message")});
      }
      return EncodeCreateTopicsResponse(r, version, out);
    }
    case ApiKey::kDeleteTopics: {
      DeleteTopicsResponse r;
      r.throttle_time_ms = Get<int32_t>(j, "throttle_time_ms", 0);
      for (const Json& t : j.at("responses")) {
        r.responses.push_back({t.at("name").get<std::string>(), ErrorCode(t)});
      }
      return EncodeDeleteTopicsResponse(r, version, out);
    }
    default:
      return absl::InvalidArgumentError("no encoder for this api key");
  }
}

int EncodeResponseCommand(const char* key_arg, const char* version_arg, const char* cid_arg) {
  int key = 0, version = 0, correlation_id = 0;
  if (!absl::SimpleAtoi(key_arg, &key) || !absl::SimpleAtoi(version_arg, &version) ||
      !absl::SimpleAtoi(cid_arg, &correlation_id)) {
    std::cerr << "bad number\n";
    return 2;
  }
  Json j = Json::parse(std::cin);
  SliceFile slices;
  Writer body;
  int16_t v = static_cast<int16_t>(version);
  absl::Status status = EncodeFromJson(static_cast<ApiKey>(key), v, j, slices, body);
  if (!status.ok()) {
    std::cerr << status << "\n";
    return 1;
  }
  Writer frame = FrameResponse(static_cast<ApiKey>(key), v, correlation_id, std::move(body));
  absl::StatusOr<std::string> bytes = frame.Flatten();
  if (!bytes.ok()) {
    std::cerr << bytes.status() << "\n";
    return 1;
  }
  std::cout.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  std::cout.flush();
  return 0;
}

int Usage() {
  std::cerr << "usage: kafka_codec_tool decode-request < frame\n"
               "       kafka_codec_tool encode-response API_KEY VERSION CORRELATION_ID < json\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string command = argv[1];
  try {
    if (command == "decode-request" && argc == 2) return DecodeRequestCommand();
    if (command == "encode-response" && argc == 5) {
      return EncodeResponseCommand(argv[2], argv[3], argv[4]);
    }
  } catch (const std::exception& e) {  // JSON errors in a test tool
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return Usage();
}
