#include "broker/kafka/protocol/messages.h"

#include <limits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/strings.h"

namespace gregor::kafka {
namespace {

// Smallest encodings of repeated elements, so that Reader rejects counts that cannot fit.
constexpr size_t kMinString = 2;
constexpr size_t kMinInt32 = 4;

absl::Status UnsupportedVersion(const char* what, int16_t version) {
  return absl::InvalidArgumentError(absl::StrCat(what, " v", version, ": unsupported version"));
}

// Checks that the whole body was consumed and prefixes the first error with the message name.
absl::Status Finish(Reader& r, const char* what, int16_t version) {
  r.ExpectEnd();
  if (r.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " v", version, ": ", r.status().message()));
}

absl::Status Finish(const Writer& w, const char* what, int16_t version) {
  if (w.status().ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " v", version, ": ", w.status().message()));
}

KafkaErrorCode ReadErrorCode(Reader& r, const char* field) {
  return static_cast<KafkaErrorCode>(r.ReadInt16(field));
}

void WriteErrorCode(KafkaErrorCode code, Writer& w) { w.WriteInt16(static_cast<int16_t>(code)); }

std::optional<std::string> ToOptionalString(std::optional<std::string_view> s) {
  if (!s.has_value()) return std::nullopt;
  return std::string(*s);
}

std::optional<std::string_view> ToOptionalView(const std::optional<std::string>& s) {
  if (!s.has_value()) return std::nullopt;
  return std::string_view(*s);
}

std::vector<int32_t> ReadInt32Array(Reader& r, const char* field) {
  std::vector<int32_t> out;
  int32_t n = r.ReadArrayLength(field, kMinInt32);
  out.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) out.push_back(r.ReadInt32(field));
  return out;
}

void WriteInt32Array(const std::vector<int32_t>& values, Writer& w) {
  w.WriteArrayLength(values.size());
  for (int32_t v : values) w.WriteInt32(v);
}

constexpr const char* kApiVersionsRequest = "ApiVersions request";
constexpr const char* kApiVersionsResponse = "ApiVersions response";
constexpr const char* kMetadataRequest = "Metadata request";
constexpr const char* kMetadataResponse = "Metadata response";
constexpr const char* kProduceRequest = "Produce request";
constexpr const char* kProduceResponse = "Produce response";
constexpr const char* kFetchRequest = "Fetch request";
constexpr const char* kFetchResponse = "Fetch response";
constexpr const char* kListOffsetsRequest = "ListOffsets request";
constexpr const char* kListOffsetsResponse = "ListOffsets response";
constexpr const char* kCreateTopicsRequest = "CreateTopics request";
constexpr const char* kCreateTopicsResponse = "CreateTopics response";
constexpr const char* kDeleteTopicsRequest = "DeleteTopics request";
constexpr const char* kDeleteTopicsResponse = "DeleteTopics response";

}  // namespace

// ---------------------------------------------------------------------------------------------
// ApiVersions

ApiVersionsResponse MakeApiVersionsResponse(bool include_group_apis) {
  ApiVersionsResponse response;
  response.api_keys = AdvertisedApiVersions(include_group_apis);
  return response;
}

ApiVersionsResponse MakeUnsupportedApiVersionsResponse() {
  ApiVersionsResponse response;
  response.error_code = KafkaErrorCode::kUnsupportedVersion;
  for (const ApiVersionRange& range : AdvertisedApiVersions()) {
    if (range.api_key == ApiKey::kApiVersions) response.api_keys.push_back(range);
  }
  return response;
}

absl::StatusOr<ApiVersionsRequest> DecodeApiVersionsRequest(std::string_view body,
                                                            int16_t version) {
  if (version < 0 || version > 3) return UnsupportedVersion(kApiVersionsRequest, version);
  Reader r(body);
  ApiVersionsRequest request;
  if (version >= 3) {
    request.client_software_name = std::string(r.ReadCompactString("client_software_name"));
    request.client_software_version =
        std::string(r.ReadCompactString("client_software_version"));
    r.SkipTaggedFields("tagged fields");
  }
  RETURN_IF_ERROR(Finish(r, kApiVersionsRequest, version));
  return request;
}

absl::Status EncodeApiVersionsRequest(const ApiVersionsRequest& request, int16_t version,
                                      Writer& out) {
  if (version < 0 || version > 3) return UnsupportedVersion(kApiVersionsRequest, version);
  if (version >= 3) {
    out.WriteCompactString(request.client_software_name);
    out.WriteCompactString(request.client_software_version);
    out.WriteEmptyTaggedFields();
  }
  return Finish(out, kApiVersionsRequest, version);
}

absl::StatusOr<ApiVersionsResponse> DecodeApiVersionsResponse(std::string_view body,
                                                              int16_t version) {
  if (version < 0 || version > 3) return UnsupportedVersion(kApiVersionsResponse, version);
  const bool flexible = version >= 3;
  Reader r(body);
  ApiVersionsResponse response;
  response.error_code = ReadErrorCode(r, "error_code");
  int32_t n = flexible ? r.ReadCompactArrayLength("api_keys", 7) : r.ReadArrayLength("api_keys", 6);
  response.api_keys.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ApiVersionRange range;
    range.api_key = static_cast<ApiKey>(r.ReadInt16("api_keys[].api_key"));
    range.min_version = r.ReadInt16("api_keys[].min_version");
    range.max_version = r.ReadInt16("api_keys[].max_version");
    if (flexible) r.SkipTaggedFields("api_keys[] tagged fields");
    response.api_keys.push_back(range);
  }
  if (version >= 1) response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  if (flexible) r.SkipTaggedFields("tagged fields");
  RETURN_IF_ERROR(Finish(r, kApiVersionsResponse, version));
  return response;
}

absl::Status EncodeApiVersionsResponse(const ApiVersionsResponse& response, int16_t version,
                                       Writer& out) {
  if (version < 0 || version > 3) return UnsupportedVersion(kApiVersionsResponse, version);
  const bool flexible = version >= 3;
  WriteErrorCode(response.error_code, out);
  if (flexible) {
    out.WriteCompactArrayLength(response.api_keys.size());
  } else {
    out.WriteArrayLength(response.api_keys.size());
  }
  for (const ApiVersionRange& range : response.api_keys) {
    out.WriteInt16(static_cast<int16_t>(range.api_key));
    out.WriteInt16(range.min_version);
    out.WriteInt16(range.max_version);
    if (flexible) out.WriteEmptyTaggedFields();
  }
  if (version >= 1) out.WriteInt32(response.throttle_time_ms);
  if (flexible) out.WriteEmptyTaggedFields();
  return Finish(out, kApiVersionsResponse, version);
}

// ---------------------------------------------------------------------------------------------
// Metadata

absl::StatusOr<MetadataRequest> DecodeMetadataRequest(std::string_view body, int16_t version) {
  if (version < 0 || version > 4) return UnsupportedVersion(kMetadataRequest, version);
  Reader r(body);
  MetadataRequest request;
  int32_t n = version == 0 ? r.ReadArrayLength("topics", kMinString)
                           : r.ReadNullableArrayLength("topics", kMinString);
  if (n >= 0 && !(version == 0 && n == 0)) {
    request.topics.emplace();
    request.topics->reserve(n);
    for (int32_t i = 0; i < n && r.ok(); ++i) {
      request.topics->emplace_back(r.ReadString("topics[].name"));
    }
  }
  if (version >= 4) request.allow_auto_topic_creation = r.ReadBool("allow_auto_topic_creation");
  RETURN_IF_ERROR(Finish(r, kMetadataRequest, version));
  return request;
}

absl::Status EncodeMetadataRequest(const MetadataRequest& request, int16_t version,
                                   Writer& out) {
  if (version < 0 || version > 4) return UnsupportedVersion(kMetadataRequest, version);
  if (!request.topics.has_value()) {
    if (version == 0) {
      out.WriteArrayLength(0);  // v0: [] = all topics
    } else {
      out.WriteNullArray();
    }
  } else {
    if (version == 0 && request.topics->empty()) {
      return absl::InvalidArgumentError(
          "Metadata request v0: cannot ask for no topics ([] means all topics in v0)");
    }
    out.WriteArrayLength(request.topics->size());
    for (const std::string& name : *request.topics) out.WriteString(name);
  }
  if (version >= 4) out.WriteBool(request.allow_auto_topic_creation);
  return Finish(out, kMetadataRequest, version);
}

absl::StatusOr<MetadataResponse> DecodeMetadataResponse(std::string_view body, int16_t version) {
  if (version < 0 || version > 4) return UnsupportedVersion(kMetadataResponse, version);
  Reader r(body);
  MetadataResponse response;
  if (version >= 3) response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  int32_t n = r.ReadArrayLength("brokers", version >= 1 ? 12 : 10);
  response.brokers.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    MetadataResponseBroker broker;
    broker.node_id = r.ReadInt32("brokers[].node_id");
    broker.host = std::string(r.ReadString("brokers[].host"));
    broker.port = r.ReadInt32("brokers[].port");
    if (version >= 1) broker.rack = ToOptionalString(r.ReadNullableString("brokers[].rack"));
    response.brokers.push_back(std::move(broker));
  }
  if (version >= 2) response.cluster_id = ToOptionalString(r.ReadNullableString("cluster_id"));
  if (version >= 1) response.controller_id = r.ReadInt32("controller_id");
  n = r.ReadArrayLength("topics", version >= 1 ? 9 : 8);
  response.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    MetadataResponseTopic topic;
    topic.error_code = ReadErrorCode(r, "topics[].error_code");
    topic.name = std::string(r.ReadString("topics[].name"));
    if (version >= 1) topic.is_internal = r.ReadBool("topics[].is_internal");
    int32_t np = r.ReadArrayLength("topics[].partitions", 18);
    topic.partitions.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      MetadataResponsePartition p;
      p.error_code = ReadErrorCode(r, "partitions[].error_code");
      p.partition_index = r.ReadInt32("partitions[].partition_index");
      p.leader_id = r.ReadInt32("partitions[].leader_id");
      p.replica_nodes = ReadInt32Array(r, "partitions[].replica_nodes");
      p.isr_nodes = ReadInt32Array(r, "partitions[].isr_nodes");
      topic.partitions.push_back(std::move(p));
    }
    response.topics.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kMetadataResponse, version));
  return response;
}

absl::Status EncodeMetadataResponse(const MetadataResponse& response, int16_t version,
                                    Writer& out) {
  if (version < 0 || version > 4) return UnsupportedVersion(kMetadataResponse, version);
  if (version >= 3) out.WriteInt32(response.throttle_time_ms);
  out.WriteArrayLength(response.brokers.size());
  for (const MetadataResponseBroker& broker : response.brokers) {
    out.WriteInt32(broker.node_id);
    out.WriteString(broker.host);
    out.WriteInt32(broker.port);
    if (version >= 1) out.WriteNullableString(ToOptionalView(broker.rack));
  }
  if (version >= 2) out.WriteNullableString(ToOptionalView(response.cluster_id));
  if (version >= 1) out.WriteInt32(response.controller_id);
  out.WriteArrayLength(response.topics.size());
  for (const MetadataResponseTopic& topic : response.topics) {
    WriteErrorCode(topic.error_code, out);
    out.WriteString(topic.name);
    if (version >= 1) out.WriteBool(topic.is_internal);
    out.WriteArrayLength(topic.partitions.size());
    for (const MetadataResponsePartition& p : topic.partitions) {
      WriteErrorCode(p.error_code, out);
      out.WriteInt32(p.partition_index);
      out.WriteInt32(p.leader_id);
      WriteInt32Array(p.replica_nodes, out);
      WriteInt32Array(p.isr_nodes, out);
    }
  }
  return Finish(out, kMetadataResponse, version);
}

// ---------------------------------------------------------------------------------------------
// Produce

absl::StatusOr<ProduceRequest> DecodeProduceRequest(std::string_view body, int16_t version) {
  if (version != 3) return UnsupportedVersion(kProduceRequest, version);
  Reader r(body);
  ProduceRequest request;
  request.transactional_id = ToOptionalString(r.ReadNullableString("transactional_id"));
  request.acks = r.ReadInt16("acks");
  request.timeout_ms = r.ReadInt32("timeout_ms");
  int32_t n = r.ReadArrayLength("topic_data", 6);
  request.topic_data.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ProduceRequestTopic topic;
    topic.name = std::string(r.ReadString("topic_data[].name"));
    int32_t np = r.ReadArrayLength("topic_data[].partition_data", 8);
    topic.partition_data.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      ProduceRequestPartition p;
      p.index = r.ReadInt32("partition_data[].index");
      p.records = r.ReadNullableBytes("partition_data[].records");
      topic.partition_data.push_back(p);
    }
    request.topic_data.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kProduceRequest, version));
  return request;
}

absl::Status EncodeProduceRequest(const ProduceRequest& request, int16_t version, Writer& out) {
  if (version != 3) return UnsupportedVersion(kProduceRequest, version);
  out.WriteNullableString(ToOptionalView(request.transactional_id));
  out.WriteInt16(request.acks);
  out.WriteInt32(request.timeout_ms);
  out.WriteArrayLength(request.topic_data.size());
  for (const ProduceRequestTopic& topic : request.topic_data) {
    out.WriteString(topic.name);
    out.WriteArrayLength(topic.partition_data.size());
    for (const ProduceRequestPartition& p : topic.partition_data) {
      out.WriteInt32(p.index);
      out.WriteNullableBytes(p.records);
    }
  }
  return Finish(out, kProduceRequest, version);
}

absl::StatusOr<ProduceResponse> DecodeProduceResponse(std::string_view body, int16_t version) {
  if (version != 3) return UnsupportedVersion(kProduceResponse, version);
  Reader r(body);
  ProduceResponse response;
  int32_t n = r.ReadArrayLength("responses", 6);
  response.responses.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ProduceTopicResponse topic;
    topic.name = std::string(r.ReadString("responses[].name"));
    int32_t np = r.ReadArrayLength("responses[].partition_responses", 22);
    topic.partition_responses.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      ProducePartitionResponse p;
      p.index = r.ReadInt32("partition_responses[].index");
      p.error_code = ReadErrorCode(r, "partition_responses[].error_code");
      p.base_offset = r.ReadInt64("partition_responses[].base_offset");
      p.log_append_time_ms = r.ReadInt64("partition_responses[].log_append_time_ms");
      topic.partition_responses.push_back(p);
    }
    response.responses.push_back(std::move(topic));
  }
  response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  RETURN_IF_ERROR(Finish(r, kProduceResponse, version));
  return response;
}

absl::Status EncodeProduceResponse(const ProduceResponse& response, int16_t version,
                                   Writer& out) {
  if (version != 3) return UnsupportedVersion(kProduceResponse, version);
  out.WriteArrayLength(response.responses.size());
  for (const ProduceTopicResponse& topic : response.responses) {
    out.WriteString(topic.name);
    out.WriteArrayLength(topic.partition_responses.size());
    for (const ProducePartitionResponse& p : topic.partition_responses) {
      out.WriteInt32(p.index);
      WriteErrorCode(p.error_code, out);
      out.WriteInt64(p.base_offset);
      out.WriteInt64(p.log_append_time_ms);
    }
  }
  out.WriteInt32(response.throttle_time_ms);
  return Finish(out, kProduceResponse, version);
}

// ---------------------------------------------------------------------------------------------
// Fetch

size_t FetchResponsePartition::records_size() const {
  size_t total = 0;
  for (const Chunk& chunk : records) {
    if (const auto* bytes = std::get_if<std::string>(&chunk)) {
      total += bytes->size();
    } else {
      int64_t size = std::get<FileSlice>(chunk).size;
      if (size > 0) total += static_cast<size_t>(size);
    }
  }
  return total;
}

absl::StatusOr<FetchRequest> DecodeFetchRequest(std::string_view body, int16_t version) {
  if (version != 4) return UnsupportedVersion(kFetchRequest, version);
  Reader r(body);
  FetchRequest request;
  request.replica_id = r.ReadInt32("replica_id");
  request.max_wait_ms = r.ReadInt32("max_wait_ms");
  request.min_bytes = r.ReadInt32("min_bytes");
  request.max_bytes = r.ReadInt32("max_bytes");
  request.isolation_level = r.ReadInt8("isolation_level");
  if (r.ok() && request.isolation_level != kReadUncommitted &&
      request.isolation_level != kReadCommitted) {
    r.Fail(absl::StrCat("isolation_level: unknown value ", request.isolation_level));
  }
  int32_t n = r.ReadArrayLength("topics", 6);
  request.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    FetchRequestTopic topic;
    topic.topic = std::string(r.ReadString("topics[].topic"));
    int32_t np = r.ReadArrayLength("topics[].partitions", 16);
    topic.partitions.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      FetchRequestPartition p;
      p.partition = r.ReadInt32("partitions[].partition");
      p.fetch_offset = r.ReadInt64("partitions[].fetch_offset");
      p.partition_max_bytes = r.ReadInt32("partitions[].partition_max_bytes");
      topic.partitions.push_back(p);
    }
    request.topics.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kFetchRequest, version));
  return request;
}

absl::Status EncodeFetchRequest(const FetchRequest& request, int16_t version, Writer& out) {
  if (version != 4) return UnsupportedVersion(kFetchRequest, version);
  out.WriteInt32(request.replica_id);
  out.WriteInt32(request.max_wait_ms);
  out.WriteInt32(request.min_bytes);
  out.WriteInt32(request.max_bytes);
  out.WriteInt8(request.isolation_level);
  out.WriteArrayLength(request.topics.size());
  for (const FetchRequestTopic& topic : request.topics) {
    out.WriteString(topic.topic);
    out.WriteArrayLength(topic.partitions.size());
    for (const FetchRequestPartition& p : topic.partitions) {
      out.WriteInt32(p.partition);
      out.WriteInt64(p.fetch_offset);
      out.WriteInt32(p.partition_max_bytes);
    }
  }
  return Finish(out, kFetchRequest, version);
}

absl::StatusOr<FetchResponse> DecodeFetchResponse(std::string_view body, int16_t version) {
  if (version != 4) return UnsupportedVersion(kFetchResponse, version);
  Reader r(body);
  FetchResponse response;
  response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  int32_t n = r.ReadArrayLength("responses", 6);
  response.responses.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    FetchResponseTopic topic;
    topic.topic = std::string(r.ReadString("responses[].topic"));
    int32_t np = r.ReadArrayLength("responses[].partitions", 30);
    topic.partitions.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      FetchResponsePartition p;
      p.partition_index = r.ReadInt32("partitions[].partition_index");
      p.error_code = ReadErrorCode(r, "partitions[].error_code");
      p.high_watermark = r.ReadInt64("partitions[].high_watermark");
      p.last_stable_offset = r.ReadInt64("partitions[].last_stable_offset");
      int32_t na = r.ReadNullableArrayLength("partitions[].aborted_transactions", 16);
      if (na > 0) p.aborted_transactions.reserve(na);
      for (int32_t k = 0; k < na && r.ok(); ++k) {
        AbortedTransaction t;
        t.producer_id = r.ReadInt64("aborted_transactions[].producer_id");
        t.first_offset = r.ReadInt64("aborted_transactions[].first_offset");
        p.aborted_transactions.push_back(t);
      }
      std::optional<std::string_view> records = r.ReadNullableBytes("partitions[].records");
      if (records.has_value() && !records->empty()) p.records.emplace_back(std::string(*records));
      topic.partitions.push_back(std::move(p));
    }
    response.responses.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kFetchResponse, version));
  return response;
}

absl::Status EncodeFetchResponse(const FetchResponse& response, int16_t version, Writer& out) {
  if (version != 4) return UnsupportedVersion(kFetchResponse, version);
  out.WriteInt32(response.throttle_time_ms);
  out.WriteArrayLength(response.responses.size());
  for (const FetchResponseTopic& topic : response.responses) {
    out.WriteString(topic.topic);
    out.WriteArrayLength(topic.partitions.size());
    for (const FetchResponsePartition& p : topic.partitions) {
      out.WriteInt32(p.partition_index);
      WriteErrorCode(p.error_code, out);
      out.WriteInt64(p.high_watermark);
      out.WriteInt64(p.last_stable_offset);
      // Empty, never null.
      out.WriteArrayLength(p.aborted_transactions.size());
      for (const AbortedTransaction& t : p.aborted_transactions) {
        out.WriteInt64(t.producer_id);
        out.WriteInt64(t.first_offset);
      }
      // Never null: librdkafka 2.0.2 cannot parse a -1 MessageSetSize.
      const size_t records_size = p.records_size();
      if (records_size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        out.Fail(absl::StrCat("records of ", records_size, " bytes exceed 2^31-1"));
        break;
      }
      out.WriteInt32(static_cast<int32_t>(records_size));
      for (const Chunk& chunk : p.records) {
        if (const auto* bytes = std::get_if<std::string>(&chunk)) {
          out.WriteRaw(*bytes);
        } else {
          out.AppendFileSlice(std::get<FileSlice>(chunk));
        }
      }
    }
  }
  return Finish(out, kFetchResponse, version);
}

// ---------------------------------------------------------------------------------------------
// ListOffsets

absl::StatusOr<ListOffsetsRequest> DecodeListOffsetsRequest(std::string_view body,
                                                            int16_t version) {
  if (version != 1) return UnsupportedVersion(kListOffsetsRequest, version);
  Reader r(body);
  ListOffsetsRequest request;
  request.replica_id = r.ReadInt32("replica_id");
  int32_t n = r.ReadArrayLength("topics", 6);
  request.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ListOffsetsRequestTopic topic;
    topic.name = std::string(r.ReadString("topics[].name"));
    int32_t np = r.ReadArrayLength("topics[].partitions", 12);
    topic.partitions.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      ListOffsetsRequestPartition p;
      p.partition_index = r.ReadInt32("partitions[].partition_index");
      p.timestamp = r.ReadInt64("partitions[].timestamp");
      topic.partitions.push_back(p);
    }
    request.topics.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kListOffsetsRequest, version));
  return request;
}

absl::Status EncodeListOffsetsRequest(const ListOffsetsRequest& request, int16_t version,
                                      Writer& out) {
  if (version != 1) return UnsupportedVersion(kListOffsetsRequest, version);
  out.WriteInt32(request.replica_id);
  out.WriteArrayLength(request.topics.size());
  for (const ListOffsetsRequestTopic& topic : request.topics) {
    out.WriteString(topic.name);
    out.WriteArrayLength(topic.partitions.size());
    for (const ListOffsetsRequestPartition& p : topic.partitions) {
      out.WriteInt32(p.partition_index);
      out.WriteInt64(p.timestamp);
    }
  }
  return Finish(out, kListOffsetsRequest, version);
}

absl::StatusOr<ListOffsetsResponse> DecodeListOffsetsResponse(std::string_view body,
                                                              int16_t version) {
  if (version != 1) return UnsupportedVersion(kListOffsetsResponse, version);
  Reader r(body);
  ListOffsetsResponse response;
  int32_t n = r.ReadArrayLength("topics", 6);
  response.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ListOffsetsResponseTopic topic;
    topic.name = std::string(r.ReadString("topics[].name"));
    int32_t np = r.ReadArrayLength("topics[].partitions", 22);
    topic.partitions.reserve(np);
    for (int32_t j = 0; j < np && r.ok(); ++j) {
      ListOffsetsResponsePartition p;
      p.partition_index = r.ReadInt32("partitions[].partition_index");
      p.error_code = ReadErrorCode(r, "partitions[].error_code");
      p.timestamp = r.ReadInt64("partitions[].timestamp");
      p.offset = r.ReadInt64("partitions[].offset");
      topic.partitions.push_back(p);
    }
    response.topics.push_back(std::move(topic));
  }
  RETURN_IF_ERROR(Finish(r, kListOffsetsResponse, version));
  return response;
}

absl::Status EncodeListOffsetsResponse(const ListOffsetsResponse& response, int16_t version,
                                       Writer& out) {
  if (version != 1) return UnsupportedVersion(kListOffsetsResponse, version);
  out.WriteArrayLength(response.topics.size());
  for (const ListOffsetsResponseTopic& topic : response.topics) {
    out.WriteString(topic.name);
    out.WriteArrayLength(topic.partitions.size());
    for (const ListOffsetsResponsePartition& p : topic.partitions) {
      out.WriteInt32(p.partition_index);
      WriteErrorCode(p.error_code, out);
      out.WriteInt64(p.timestamp);
      out.WriteInt64(p.offset);
    }
  }
  return Finish(out, kListOffsetsResponse, version);
}

// ---------------------------------------------------------------------------------------------
// CreateTopics

absl::StatusOr<CreateTopicsRequest> DecodeCreateTopicsRequest(std::string_view body,
                                                              int16_t version) {
  if (version < 0 || version > 3) return UnsupportedVersion(kCreateTopicsRequest, version);
  Reader r(body);
  CreateTopicsRequest request;
  int32_t n = r.ReadArrayLength("topics", 16);
  request.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    CreatableTopic topic;
    topic.name = std::string(r.ReadString("topics[].name"));
    topic.num_partitions = r.ReadInt32("topics[].num_partitions");
    topic.replication_factor = r.ReadInt16("topics[].replication_factor");
    int32_t na = r.ReadArrayLength("topics[].assignments", 8);
    topic.assignments.reserve(na);
    for (int32_t j = 0; j < na && r.ok(); ++j) {
      CreatableReplicaAssignment a;
      a.partition_index = r.ReadInt32("assignments[].partition_index");
      a.broker_ids = ReadInt32Array(r, "assignments[].broker_ids");
      topic.assignments.push_back(std::move(a));
    }
    int32_t nc = r.ReadArrayLength("topics[].configs", 4);
    topic.configs.reserve(nc);
    for (int32_t j = 0; j < nc && r.ok(); ++j) {
      CreatableTopicConfig c;
      c.name = std::string(r.ReadString("configs[].name"));
      c.value = ToOptionalString(r.ReadNullableString("configs[].value"));
      topic.configs.push_back(std::move(c));
    }
    request.topics.push_back(std::move(topic));
  }
  request.timeout_ms = r.ReadInt32("timeout_ms");
  if (version >= 1) request.validate_only = r.ReadBool("validate_only");
  RETURN_IF_ERROR(Finish(r, kCreateTopicsRequest, version));
  return request;
}

absl::Status EncodeCreateTopicsRequest(const CreateTopicsRequest& request, int16_t version,
                                       Writer& out) {
  if (version < 0 || version > 3) return UnsupportedVersion(kCreateTopicsRequest, version);
  out.WriteArrayLength(request.topics.size());
  for (const CreatableTopic& topic : request.topics) {
    out.WriteString(topic.name);
    out.WriteInt32(topic.num_partitions);
    out.WriteInt16(topic.replication_factor);
    out.WriteArrayLength(topic.assignments.size());
    for (const CreatableReplicaAssignment& a : topic.assignments) {
      out.WriteInt32(a.partition_index);
      WriteInt32Array(a.broker_ids, out);
    }
    out.WriteArrayLength(topic.configs.size());
    for (const CreatableTopicConfig& c : topic.configs) {
      out.WriteString(c.name);
      out.WriteNullableString(ToOptionalView(c.value));
    }
  }
  out.WriteInt32(request.timeout_ms);
  if (version >= 1) out.WriteBool(request.validate_only);
  return Finish(out, kCreateTopicsRequest, version);
}

absl::StatusOr<CreateTopicsResponse> DecodeCreateTopicsResponse(std::string_view body,
                                                                int16_t version) {
  if (version < 0 || version > 3) return UnsupportedVersion(kCreateTopicsResponse, version);
  Reader r(body);
  CreateTopicsResponse response;
  if (version >= 2) response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  int32_t n = r.ReadArrayLength("topics", version >= 1 ? 6 : 4);
  response.topics.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    CreatableTopicResult result;
    result.name = std::string(r.ReadString("topics[].name"));
    result.error_code = ReadErrorCode(r, "topics[].error_code");
    if (version >= 1) {
      result.error_message = ToOptionalString(r.ReadNullableString("topics[].error_message"));
    }
    response.topics.push_back(std::move(result));
  }
  RETURN_IF_ERROR(Finish(r, kCreateTopicsResponse, version));
  return response;
}

absl::Status EncodeCreateTopicsResponse(const CreateTopicsResponse& response, int16_t version,
                                        Writer& out) {
  if (version < 0 || version > 3) return UnsupportedVersion(kCreateTopicsResponse, version);
  if (version >= 2) out.WriteInt32(response.throttle_time_ms);
  out.WriteArrayLength(response.topics.size());
  for (const CreatableTopicResult& result : response.topics) {
    out.WriteString(result.name);
    WriteErrorCode(result.error_code, out);
    if (version >= 1) out.WriteNullableString(ToOptionalView(result.error_message));
  }
  return Finish(out, kCreateTopicsResponse, version);
}

// ---------------------------------------------------------------------------------------------
// DeleteTopics

absl::StatusOr<DeleteTopicsRequest> DecodeDeleteTopicsRequest(std::string_view body,
                                                              int16_t version) {
  if (version < 0 || version > 1) return UnsupportedVersion(kDeleteTopicsRequest, version);
  Reader r(body);
  DeleteTopicsRequest request;
  int32_t n = r.ReadArrayLength("topic_names", kMinString);
  request.topic_names.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    request.topic_names.emplace_back(r.ReadString("topic_names[]"));
  }
  request.timeout_ms = r.ReadInt32("timeout_ms");
  RETURN_IF_ERROR(Finish(r, kDeleteTopicsRequest, version));
  return request;
}

absl::Status EncodeDeleteTopicsRequest(const DeleteTopicsRequest& request, int16_t version,
                                       Writer& out) {
  if (version < 0 || version > 1) return UnsupportedVersion(kDeleteTopicsRequest, version);
  out.WriteArrayLength(request.topic_names.size());
  for (const std::string& name : request.topic_names) out.WriteString(name);
  out.WriteInt32(request.timeout_ms);
  return Finish(out, kDeleteTopicsRequest, version);
}

absl::StatusOr<DeleteTopicsResponse> DecodeDeleteTopicsResponse(std::string_view body,
                                                                int16_t version) {
  if (version < 0 || version > 1) return UnsupportedVersion(kDeleteTopicsResponse, version);
  Reader r(body);
  DeleteTopicsResponse response;
  if (version >= 1) response.throttle_time_ms = r.ReadInt32("throttle_time_ms");
  int32_t n = r.ReadArrayLength("responses", 4);
  response.responses.reserve(n);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    DeletableTopicResult result;
    result.name = std::string(r.ReadString("responses[].name"));
    result.error_code = ReadErrorCode(r, "responses[].error_code");
    response.responses.push_back(std::move(result));
  }
  RETURN_IF_ERROR(Finish(r, kDeleteTopicsResponse, version));
  return response;
}

absl::Status EncodeDeleteTopicsResponse(const DeleteTopicsResponse& response, int16_t version,
                                        Writer& out) {
  if (version < 0 || version > 1) return UnsupportedVersion(kDeleteTopicsResponse, version);
  if (version >= 1) out.WriteInt32(response.throttle_time_ms);
  out.WriteArrayLength(response.responses.size());
  for (const DeletableTopicResult& result : response.responses) {
    out.WriteString(result.name);
    WriteErrorCode(result.error_code, out);
  }
  return Finish(out, kDeleteTopicsResponse, version);
}

}  // namespace gregor::kafka
