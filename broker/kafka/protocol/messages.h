// Typed Kafka requests and responses for the versions the broker supports, with their codecs.
//
// Field names follow Kafka's message JSONs (clients/src/main/resources/common/message/*.json)
// in snake_case. Layouts: ../../../../shared/reference/kafka-wire-protocol.md §2.1.
//
// Every message has four functions:
//   absl::StatusOr<X> DecodeX(std::string_view body, int16_t version);
//   absl::Status EncodeX(const X& message, int16_t version, Writer& out);
// for X in {ApiVersions, Metadata, Produce, Fetch, ListOffsets, CreateTopics, DeleteTopics} x
// {Request, Response}. The broker decodes requests and encodes responses; the other two
// directions exist for tests, tools and round trips.
//
// `body` is the message after the header (RequestHeader::body / ResponseHeader::body).
// Decode fails with InvalidArgument ("Metadata v4 request: topics[]: ...") on an unsupported
// version, truncation, malformed or impossible values, or trailing bytes; it never crashes on
// any input. Encode appends to `out` and fails with InvalidArgument on an unsupported version
// or a value the version cannot carry (e.g. a string longer than 32767 bytes); `out` is then
// unusable.
//
// Integers are raw wire values (this is the wire boundary; convert to Offset/BrokerId in the
// handlers). Fields marked "vN+" are ignored when encoding older versions and left at their
// defaults when decoding them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "broker/kafka/protocol/api.h"
#include "broker/kafka/protocol/wire.h"
#include "common/errors.h"

namespace gregor::kafka {

// ---------------------------------------------------------------------------------------------
// ApiVersions (key 18), v0-v3. v3 is flexible; its response still uses response header v0.

struct ApiVersionsRequest {
  // v3+ (empty strings are sent as "" by clients that have nothing to say).
  std::string client_software_name;
  std::string client_software_version;
  bool operator==(const ApiVersionsRequest&) const = default;
};

struct ApiVersionsResponse {
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  std::vector<ApiVersionRange> api_keys;
  int32_t throttle_time_ms = 0;  // v1+
  bool operator==(const ApiVersionsResponse&) const = default;
};

// error_code 0 and AdvertisedApiVersions(include_group_apis).
ApiVersionsResponse MakeApiVersionsResponse(bool include_group_apis = false);
// The answer to an ApiVersions request of a version we do not support (KIP-511): error 35
// (UNSUPPORTED_VERSION) and only the ApiVersions entry. Encode it with version 0 (and
// response header v0), whatever version the client asked for.
ApiVersionsResponse MakeUnsupportedApiVersionsResponse();

absl::StatusOr<ApiVersionsRequest> DecodeApiVersionsRequest(std::string_view body,
                                                            int16_t version);
absl::Status EncodeApiVersionsRequest(const ApiVersionsRequest& request, int16_t version,
                                      Writer& out);
absl::StatusOr<ApiVersionsResponse> DecodeApiVersionsResponse(std::string_view body,
                                                              int16_t version);
absl::Status EncodeApiVersionsResponse(const ApiVersionsResponse& response, int16_t version,
                                       Writer& out);

// ---------------------------------------------------------------------------------------------
// Metadata (key 3), v0-v4.

struct MetadataRequest {
  // nullopt = all topics. v0 has no null: it sends [] for "all" (decoded as nullopt, and
  // nullopt is encoded as []), so v0 cannot ask for "no topics". v1+: [] = no topics.
  std::optional<std::vector<std::string>> topics;
  // v4+; older versions always allow auto-creation, so it decodes as true for them.
  bool allow_auto_topic_creation = true;
  bool operator==(const MetadataRequest&) const = default;
};

struct MetadataResponseBroker {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;  // v1+
  bool operator==(const MetadataResponseBroker&) const = default;
};

struct MetadataResponsePartition {
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  int32_t partition_index = 0;
  int32_t leader_id = -1;
  std::vector<int32_t> replica_nodes;
  std::vector<int32_t> isr_nodes;
  bool operator==(const MetadataResponsePartition&) const = default;
};

struct MetadataResponseTopic {
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  std::string name;
  bool is_internal = false;  // v1+
  std::vector<MetadataResponsePartition> partitions;
  bool operator==(const MetadataResponseTopic&) const = default;
};

struct MetadataResponse {
  int32_t throttle_time_ms = 0;  // v3+
  std::vector<MetadataResponseBroker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  // v1+; must be one of `brokers` (kafka-python's admin client sends CreateTopics there).
  int32_t controller_id = -1;
  std::vector<MetadataResponseTopic> topics;
  bool operator==(const MetadataResponse&) const = default;
};

absl::StatusOr<MetadataRequest> DecodeMetadataRequest(std::string_view body, int16_t version);
absl::Status EncodeMetadataRequest(const MetadataRequest& request, int16_t version, Writer& out);
absl::StatusOr<MetadataResponse> DecodeMetadataResponse(std::string_view body, int16_t version);
absl::Status EncodeMetadataResponse(const MetadataResponse& response, int16_t version,
                                    Writer& out);

// ---------------------------------------------------------------------------------------------
// Produce (key 0), v3 only (v0-v2 are advertised but rejected, see IsSupportedForDecoding).
// With acks == 0 the broker must send no response at all.

struct ProduceRequestPartition {
  int32_t index = 0;
  // The RecordBatch bytes as sent: a view into the request frame (no copy), so the frame must
  // outlive the request. nullopt for a null records field.
  std::optional<std::string_view> records;
  bool operator==(const ProduceRequestPartition&) const = default;
};

struct ProduceRequestTopic {
  std::string name;
  std::vector<ProduceRequestPartition> partition_data;
  bool operator==(const ProduceRequestTopic&) const = default;
};

struct ProduceRequest {
  std::optional<std::string> transactional_id;
  int16_t acks = -1;  // -1 all, 0 none, 1 leader; other values: INVALID_REQUIRED_ACKS
  int32_t timeout_ms = 0;
  std::vector<ProduceRequestTopic> topic_data;
  bool operator==(const ProduceRequest&) const = default;
};

struct ProducePartitionResponse {
  int32_t index = 0;
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  int64_t base_offset = -1;
  int64_t log_append_time_ms = -1;  // -1 unless the topic uses LogAppendTime
  bool operator==(const ProducePartitionResponse&) const = default;
};

struct ProduceTopicResponse {
  std::string name;
  std::vector<ProducePartitionResponse> partition_responses;
  bool operator==(const ProduceTopicResponse&) const = default;
};

struct ProduceResponse {
  std::vector<ProduceTopicResponse> responses;
  int32_t throttle_time_ms = 0;
  bool operator==(const ProduceResponse&) const = default;
};

absl::StatusOr<ProduceRequest> DecodeProduceRequest(std::string_view body, int16_t version);
absl::Status EncodeProduceRequest(const ProduceRequest& request, int16_t version, Writer& out);
absl::StatusOr<ProduceResponse> DecodeProduceResponse(std::string_view body, int16_t version);
absl::Status EncodeProduceResponse(const ProduceResponse& response, int16_t version,
                                   Writer& out);

// ---------------------------------------------------------------------------------------------
// Fetch (key 1), v4 only.

inline constexpr int8_t kReadUncommitted = 0;
inline constexpr int8_t kReadCommitted = 1;

struct FetchRequestPartition {
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
  bool operator==(const FetchRequestPartition&) const = default;
};

struct FetchRequestTopic {
  std::string topic;
  std::vector<FetchRequestPartition> partitions;
  bool operator==(const FetchRequestTopic&) const = default;
};

struct FetchRequest {
  int32_t replica_id = -1;  // -1 for consumers
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;
  int8_t isolation_level = kReadUncommitted;  // 0 or 1; other values are rejected
  std::vector<FetchRequestTopic> topics;
  bool operator==(const FetchRequest&) const = default;
};

struct AbortedTransaction {
  int64_t producer_id = 0;
  int64_t first_offset = 0;
  bool operator==(const AbortedTransaction&) const = default;
};

struct FetchResponsePartition {
  int32_t partition_index = 0;
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  int64_t high_watermark = -1;
  // Without transactions this is the high watermark (read_committed librdkafka uses it as the
  // end of the log).
  int64_t last_stable_offset = -1;
  // Always encoded as an array (empty, never null); null decodes as empty.
  std::vector<AbortedTransaction> aborted_transactions;
  // The record batches, in order: FileSlices straight from the log and/or owned bytes. Encoded
  // as one int32-length `records` field holding their concatenation, length 0 when empty
  // (never null: librdkafka 2.0.2 fails to parse a null records field). Decoding yields one
  // std::string chunk (or none when empty).
  std::vector<Chunk> records;

  // Total bytes of `records`.
  size_t records_size() const;
};

struct FetchResponseTopic {
  std::string topic;
  std::vector<FetchResponsePartition> partitions;
};

struct FetchResponse {
  int32_t throttle_time_ms = 0;
  std::vector<FetchResponseTopic> responses;
};

absl::StatusOr<FetchRequest> DecodeFetchRequest(std::string_view body, int16_t version);
absl::Status EncodeFetchRequest(const FetchRequest& request, int16_t version, Writer& out);
absl::StatusOr<FetchResponse> DecodeFetchResponse(std::string_view body, int16_t version);
// FileSlice chunks of `records` become zero-copy chunks of `out`.
absl::Status EncodeFetchResponse(const FetchResponse& response, int16_t version, Writer& out);

// ---------------------------------------------------------------------------------------------
// ListOffsets (key 2), v1 only.

inline constexpr int64_t kLatestTimestamp = -1;    // the high watermark / log end
inline constexpr int64_t kEarliestTimestamp = -2;  // the log start offset

struct ListOffsetsRequestPartition {
  int32_t partition_index = 0;
  int64_t timestamp = kLatestTimestamp;
  bool operator==(const ListOffsetsRequestPartition&) const = default;
};

struct ListOffsetsRequestTopic {
  std::string name;
  std::vector<ListOffsetsRequestPartition> partitions;
  bool operator==(const ListOffsetsRequestTopic&) const = default;
};

struct ListOffsetsRequest {
  int32_t replica_id = -1;
  std::vector<ListOffsetsRequestTopic> topics;
  bool operator==(const ListOffsetsRequest&) const = default;
};

struct ListOffsetsResponsePartition {
  int32_t partition_index = 0;
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  int64_t timestamp = -1;
  int64_t offset = -1;
  bool operator==(const ListOffsetsResponsePartition&) const = default;
};

struct ListOffsetsResponseTopic {
  std::string name;
  std::vector<ListOffsetsResponsePartition> partitions;
  bool operator==(const ListOffsetsResponseTopic&) const = default;
};

struct ListOffsetsResponse {
  std::vector<ListOffsetsResponseTopic> topics;
  bool operator==(const ListOffsetsResponse&) const = default;
};

absl::StatusOr<ListOffsetsRequest> DecodeListOffsetsRequest(std::string_view body,
                                                            int16_t version);
absl::Status EncodeListOffsetsRequest(const ListOffsetsRequest& request, int16_t version,
                                      Writer& out);
absl::StatusOr<ListOffsetsResponse> DecodeListOffsetsResponse(std::string_view body,
                                                              int16_t version);
absl::Status EncodeListOffsetsResponse(const ListOffsetsResponse& response, int16_t version,
                                       Writer& out);

// ---------------------------------------------------------------------------------------------
// CreateTopics (key 19), v0-v3.

struct CreatableReplicaAssignment {
  int32_t partition_index = 0;
  std::vector<int32_t> broker_ids;
  bool operator==(const CreatableReplicaAssignment&) const = default;
};

struct CreatableTopicConfig {
  std::string name;
  std::optional<std::string> value;
  bool operator==(const CreatableTopicConfig&) const = default;
};

struct CreatableTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1 (v4+ only): broker default; clients here send > 0
  int16_t replication_factor = -1;  // idem
  std::vector<CreatableReplicaAssignment> assignments;
  std::vector<CreatableTopicConfig> configs;
  bool operator==(const CreatableTopic&) const = default;
};

struct CreateTopicsRequest {
  std::vector<CreatableTopic> topics;
  int32_t timeout_ms = 0;
  bool validate_only = false;  // v1+
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreatableTopicResult {
  std::string name;
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  std::optional<std::string> error_message;  // v1+
  bool operator==(const CreatableTopicResult&) const = default;
};

struct CreateTopicsResponse {
  int32_t throttle_time_ms = 0;  // v2+
  std::vector<CreatableTopicResult> topics;
  bool operator==(const CreateTopicsResponse&) const = default;
};

absl::StatusOr<CreateTopicsRequest> DecodeCreateTopicsRequest(std::string_view body,
                                                              int16_t version);
absl::Status EncodeCreateTopicsRequest(const CreateTopicsRequest& request, int16_t version,
                                       Writer& out);
absl::StatusOr<CreateTopicsResponse> DecodeCreateTopicsResponse(std::string_view body,
                                                                int16_t version);
absl::Status EncodeCreateTopicsResponse(const CreateTopicsResponse& response, int16_t version,
                                        Writer& out);

// ---------------------------------------------------------------------------------------------
// DeleteTopics (key 20), v0-v1.

struct DeleteTopicsRequest {
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;
  bool operator==(const DeleteTopicsRequest&) const = default;
};

struct DeletableTopicResult {
  std::string name;
  KafkaErrorCode error_code = KafkaErrorCode::kNone;
  bool operator==(const DeletableTopicResult&) const = default;
};

struct DeleteTopicsResponse {
  int32_t throttle_time_ms = 0;  // v1+
  std::vector<DeletableTopicResult> responses;
  bool operator==(const DeleteTopicsResponse&) const = default;
};

absl::StatusOr<DeleteTopicsRequest> DecodeDeleteTopicsRequest(std::string_view body,
                                                              int16_t version);
absl::Status EncodeDeleteTopicsRequest(const DeleteTopicsRequest& request, int16_t version,
                                       Writer& out);
absl::StatusOr<DeleteTopicsResponse> DecodeDeleteTopicsResponse(std::string_view body,
                                                                int16_t version);
absl::Status EncodeDeleteTopicsResponse(const DeleteTopicsResponse& response, int16_t version,
                                        Writer& out);

}  // namespace gregor::kafka
