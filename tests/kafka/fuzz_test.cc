// Fuzz-style robustness of the Kafka codec: random bytes, every valid request and response
// truncated at every length, with random byte flips and with trailing garbage, fed to header
// parsing and to every decoder. Nothing may crash, hang or read out of bounds (this also runs
// under ASan/UBSan), every failure must be a clean InvalidArgument with a message, and whatever
// decodes must survive re-encoding. Seeds are fixed and printed on failure.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka/protocol.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"

namespace gregor::kafka {
namespace {

// A Metadata request topic by name (v10+ also has a topic id, first on the wire).
MetadataRequestTopic MetadataTopicNamed(std::string name) {
  MetadataRequestTopic t;
  t.name = std::move(name);
  return t;
}

using ::gregor::kafka::testing::ToHex;

// Decodes `body` as (key, version) and, if it decodes, re-encodes and decodes it again,
// requiring the second decode to succeed (decode . encode . decode is stable).
template <typename T>
absl::Status DecodeAndReencode(absl::StatusOr<T> (*decode)(std::string_view, int16_t),
                               absl::Status (*encode)(const T&, int16_t, Writer&),
                               std::string_view body, int16_t version) {
  absl::StatusOr<T> decoded = decode(body, version);
  if (!decoded.ok()) return decoded.status();
  Writer w;
  absl::Status s = encode(*decoded, version, w);
  if (!s.ok()) {
    // Anything that decodes must be representable again in the same version.
    ADD_FAILURE() << "re-encode failed: " << s;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> flat = w.Flatten();
  EXPECT_TRUE(flat.ok());
  absl::StatusOr<T> again = decode(*flat, version);
  EXPECT_TRUE(again.ok()) << again.status();
  return absl::OkStatus();
}

absl::Status DecodeRequest(ApiKey key, int16_t version, std::string_view body) {
  switch (key) {
    case ApiKey::kApiVersions:
      return DecodeAndReencode(DecodeApiVersionsRequest, EncodeApiVersionsRequest, body, version);
    case ApiKey::kMetadata:
      return DecodeAndReencode(DecodeMetadataRequest, EncodeMetadataRequest, body, version);
    case ApiKey::kProduce:
      return DecodeAndReencode(DecodeProduceRequest, EncodeProduceRequest, body, version);
    case ApiKey::kFetch:
      return DecodeAndReencode(DecodeFetchRequest, EncodeFetchRequest, body, version);
    case ApiKey::kListOffsets:
      return DecodeAndReencode(DecodeListOffsetsRequest, EncodeListOffsetsRequest, body, version);
    case ApiKey::kCreateTopics:
      return DecodeAndReencode(DecodeCreateTopicsRequest, EncodeCreateTopicsRequest, body,
                               version);
    case ApiKey::kDeleteTopics:
      return DecodeAndReencode(DecodeDeleteTopicsRequest, EncodeDeleteTopicsRequest, body,
                               version);
    case ApiKey::kFindCoordinator:
      return DecodeAndReencode(DecodeFindCoordinatorRequest, EncodeFindCoordinatorRequest, body,
                               version);
    case ApiKey::kJoinGroup:
      return DecodeAndReencode(DecodeJoinGroupRequest, EncodeJoinGroupRequest, body, version);
    case ApiKey::kHeartbeat:
      return DecodeAndReencode(DecodeHeartbeatRequest, EncodeHeartbeatRequest, body, version);
    case ApiKey::kLeaveGroup:
      return DecodeAndReencode(DecodeLeaveGroupRequest, EncodeLeaveGroupRequest, body, version);
    case ApiKey::kSyncGroup:
      return DecodeAndReencode(DecodeSyncGroupRequest, EncodeSyncGroupRequest, body, version);
    case ApiKey::kOffsetCommit:
      return DecodeAndReencode(DecodeOffsetCommitRequest, EncodeOffsetCommitRequest, body, version);
    case ApiKey::kOffsetFetch:
      return DecodeAndReencode(DecodeOffsetFetchRequest, EncodeOffsetFetchRequest, body, version);
    case ApiKey::kDescribeGroups:
      return DecodeAndReencode(DecodeDescribeGroupsRequest, EncodeDescribeGroupsRequest, body,
                               version);
    case ApiKey::kListGroups:
      return DecodeAndReencode(DecodeListGroupsRequest, EncodeListGroupsRequest, body, version);
    case ApiKey::kDeleteGroups:
      return DecodeAndReencode(DecodeDeleteGroupsRequest, EncodeDeleteGroupsRequest, body, version);
    case ApiKey::kDeleteRecords:
      return DecodeAndReencode(DecodeDeleteRecordsRequest, EncodeDeleteRecordsRequest, body, version);
    case ApiKey::kElectLeaders:
      return DecodeAndReencode(DecodeElectLeadersRequest, EncodeElectLeadersRequest, body, version);
    case ApiKey::kOffsetForLeaderEpoch:
      return DecodeAndReencode(DecodeOffsetForLeaderEpochRequest, EncodeOffsetForLeaderEpochRequest, body,
                               version);
    case ApiKey::kDescribeLogDirs:
      return DecodeAndReencode(DecodeDescribeLogDirsRequest, EncodeDescribeLogDirsRequest, body, version);
    case ApiKey::kDescribeConfigs:
      return DecodeAndReencode(DecodeDescribeConfigsRequest, EncodeDescribeConfigsRequest, body, version);
    case ApiKey::kAlterConfigs:
      return DecodeAndReencode(DecodeAlterConfigsRequest, EncodeAlterConfigsRequest, body, version);
    case ApiKey::kIncrementalAlterConfigs:
      return DecodeAndReencode(DecodeIncrementalAlterConfigsRequest, EncodeIncrementalAlterConfigsRequest, body, version);
    case ApiKey::kCreatePartitions:
      return DecodeAndReencode(DecodeCreatePartitionsRequest, EncodeCreatePartitionsRequest, body, version);
    case ApiKey::kDescribeCluster:
      return DecodeAndReencode(DecodeDescribeClusterRequest, EncodeDescribeClusterRequest, body, version);
    case ApiKey::kInitProducerId:
      return DecodeAndReencode(DecodeInitProducerIdRequest, EncodeInitProducerIdRequest, body, version);
    case ApiKey::kDescribeProducers:
      return DecodeAndReencode(DecodeDescribeProducersRequest, EncodeDescribeProducersRequest, body, version);
    case ApiKey::kOffsetDelete:
      return DecodeAndReencode(DecodeOffsetDeleteRequest, EncodeOffsetDeleteRequest, body, version);
    default:
      return absl::InvalidArgumentError("unsupported api");
  }
}

absl::Status DecodeResponse(ApiKey key, int16_t version, std::string_view body) {
  switch (key) {
    case ApiKey::kApiVersions:
      return DecodeAndReencode(DecodeApiVersionsResponse, EncodeApiVersionsResponse, body,
                               version);
    case ApiKey::kMetadata:
      return DecodeAndReencode(DecodeMetadataResponse, EncodeMetadataResponse, body, version);
    case ApiKey::kProduce:
      return DecodeAndReencode(DecodeProduceResponse, EncodeProduceResponse, body, version);
    case ApiKey::kFetch:
      return DecodeAndReencode(DecodeFetchResponse, EncodeFetchResponse, body, version);
    case ApiKey::kListOffsets:
      return DecodeAndReencode(DecodeListOffsetsResponse, EncodeListOffsetsResponse, body,
                               version);
    case ApiKey::kCreateTopics:
      return DecodeAndReencode(DecodeCreateTopicsResponse, EncodeCreateTopicsResponse, body,
                               version);
    case ApiKey::kDeleteTopics:
      return DecodeAndReencode(DecodeDeleteTopicsResponse, EncodeDeleteTopicsResponse, body,
                               version);
    case ApiKey::kFindCoordinator:
      return DecodeAndReencode(DecodeFindCoordinatorResponse, EncodeFindCoordinatorResponse, body,
                               version);
    case ApiKey::kJoinGroup:
      return DecodeAndReencode(DecodeJoinGroupResponse, EncodeJoinGroupResponse, body, version);
    case ApiKey::kHeartbeat:
      return DecodeAndReencode(DecodeHeartbeatResponse, EncodeHeartbeatResponse, body, version);
    case ApiKey::kLeaveGroup:
      return DecodeAndReencode(DecodeLeaveGroupResponse, EncodeLeaveGroupResponse, body, version);
    case ApiKey::kSyncGroup:
      return DecodeAndReencode(DecodeSyncGroupResponse, EncodeSyncGroupResponse, body, version);
    case ApiKey::kOffsetCommit:
      return DecodeAndReencode(DecodeOffsetCommitResponse, EncodeOffsetCommitResponse, body,
                               version);
    case ApiKey::kOffsetFetch:
      return DecodeAndReencode(DecodeOffsetFetchResponse, EncodeOffsetFetchResponse, body, version);
    case ApiKey::kDescribeGroups:
      return DecodeAndReencode(DecodeDescribeGroupsResponse, EncodeDescribeGroupsResponse, body,
                               version);
    case ApiKey::kListGroups:
      return DecodeAndReencode(DecodeListGroupsResponse, EncodeListGroupsResponse, body, version);
    case ApiKey::kDeleteGroups:
      return DecodeAndReencode(DecodeDeleteGroupsResponse, EncodeDeleteGroupsResponse, body,
                               version);
    case ApiKey::kDeleteRecords:
      return DecodeAndReencode(DecodeDeleteRecordsResponse, EncodeDeleteRecordsResponse, body, version);
    case ApiKey::kElectLeaders:
      return DecodeAndReencode(DecodeElectLeadersResponse, EncodeElectLeadersResponse, body, version);
    case ApiKey::kOffsetForLeaderEpoch:
      return DecodeAndReencode(DecodeOffsetForLeaderEpochResponse, EncodeOffsetForLeaderEpochResponse, body,
                               version);
    case ApiKey::kDescribeLogDirs:
      return DecodeAndReencode(DecodeDescribeLogDirsResponse, EncodeDescribeLogDirsResponse, body, version);
    case ApiKey::kDescribeConfigs:
      return DecodeAndReencode(DecodeDescribeConfigsResponse, EncodeDescribeConfigsResponse, body, version);
    case ApiKey::kAlterConfigs:
      return DecodeAndReencode(DecodeAlterConfigsResponse, EncodeAlterConfigsResponse, body, version);
    case ApiKey::kIncrementalAlterConfigs:
      return DecodeAndReencode(DecodeIncrementalAlterConfigsResponse, EncodeIncrementalAlterConfigsResponse, body, version);
    case ApiKey::kCreatePartitions:
      return DecodeAndReencode(DecodeCreatePartitionsResponse, EncodeCreatePartitionsResponse, body, version);
    case ApiKey::kDescribeCluster:
      return DecodeAndReencode(DecodeDescribeClusterResponse, EncodeDescribeClusterResponse, body, version);
    case ApiKey::kInitProducerId:
      return DecodeAndReencode(DecodeInitProducerIdResponse, EncodeInitProducerIdResponse, body, version);
    case ApiKey::kDescribeProducers:
      return DecodeAndReencode(DecodeDescribeProducersResponse, EncodeDescribeProducersResponse, body, version);
    case ApiKey::kOffsetDelete:
      return DecodeAndReencode(DecodeOffsetDeleteResponse, EncodeOffsetDeleteResponse, body,
                               version);
    default:
      return absl::InvalidArgumentError("unsupported api");
  }
}

// Every API with a schema, and the versions the codec reads.
std::vector<std::pair<ApiKey, VersionRange>> SchemaApis() {
  std::vector<std::pair<ApiKey, VersionRange>> apis;
  for (int key = 0; key < 100; ++key) {
    VersionRange versions = CodecVersions(static_cast<ApiKey>(key));
    if (versions.min <= versions.max) apis.emplace_back(static_cast<ApiKey>(key), versions);
  }
  return apis;
}

// A request frame as the server sees it: parse the header, then decode the body if supported.
absl::Status HandleRequestFrame(std::string_view frame) {
  absl::StatusOr<RequestHeader> header = ParseRequestHeader(frame);
  if (!header.ok()) return header.status();
  if (!CodecVersions(header->api_key).contains(header->api_version)) {
    return absl::InvalidArgumentError("unsupported");
  }
  return DecodeRequest(header->api_key, header->api_version, header->body);
}

void ExpectCleanError(const absl::Status& status, std::string_view input) {
  if (status.ok()) return;
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
      << status << " for " << ToHex(input.substr(0, 256));
  EXPECT_FALSE(status.message().empty());
}

struct Sample {
  std::string name;
  ApiKey key;
  int16_t version;
  std::string bytes;  // request: frame without size prefix; response: body
};

template <typename T>
std::string Encode(absl::Status (*encode)(const T&, int16_t, Writer&), const T& m, int16_t v) {
  return testing::EncodeToString(encode, m, v);
}

std::string RequestFrame(ApiKey key, int16_t version, Writer body) {
  RequestHeader header;
  header.api_key = key;
  header.api_version = version;
  header.correlation_id = 12345;
  header.client_id = "fuzz-client";
  Writer frame = FrameRequest(header, std::move(body));
  std::string bytes = *frame.Flatten();
  return bytes.substr(4);  // drop the size prefix
}

template <typename T>
Sample RequestSample(ApiKey key, int16_t version,
                     absl::Status (*encode)(const T&, int16_t, Writer&), const T& m) {
  Writer body;
  EXPECT_TRUE(encode(m, version, body).ok());
  return Sample{absl::StrCat(ApiKeyName(key), " v", version, " request"), key, version,
                RequestFrame(key, version, std::move(body))};
}

template <typename T>
Sample ResponseSample(ApiKey key, int16_t version,
                      absl::Status (*encode)(const T&, int16_t, Writer&), const T& m) {
  return Sample{absl::StrCat(ApiKeyName(key), " v", version, " response"), key, version,
                Encode(encode, m, version)};
}

// A 73-byte stand-in for a record batch: the codec treats records as opaque bytes.
const std::string& FakeRecords() {
  static const std::string* records = new std::string(73, '\x5a');
  return *records;
}

// The consumer-group APIs, each at its highest codec version (every field present).
void GroupRequestSamples(std::vector<Sample>& samples) {
  samples.push_back(RequestSample(ApiKey::kFindCoordinator, 2, EncodeFindCoordinatorRequest,
                                  FindCoordinatorRequest{"group-1", 0}));
  JoinGroupRequest join{"g", 45000, 300000, "", "i1", "consumer", {{"range", "ab"}, {"rr", ""}}};
  samples.push_back(RequestSample(ApiKey::kJoinGroup, 5, EncodeJoinGroupRequest, join));
  samples.push_back(RequestSample(ApiKey::kHeartbeat, 3, EncodeHeartbeatRequest,
                                  HeartbeatRequest{"g", 1, "m1", "i1"}));
  LeaveGroupRequest leave;
  leave.group_id = "g";
  leave.members = {{"m1", std::nullopt}, {"", "i2"}};
  samples.push_back(RequestSample(ApiKey::kLeaveGroup, 3, EncodeLeaveGroupRequest, leave));
  SyncGroupRequest sync{"g", 1, "m1", "i1", {{"m1", "ab"}, {"m2", ""}}};
  samples.push_back(RequestSample(ApiKey::kSyncGroup, 3, EncodeSyncGroupRequest, sync));
  OffsetCommitRequest commit{"g", 1, "m1", "i1", -1, {{"t", {{0, 42, 5, "m"}, {1, 7, -1, {}}}}}};
  samples.push_back(RequestSample(ApiKey::kOffsetCommit, 7, EncodeOffsetCommitRequest, commit));
  commit.group_instance_id.reset();
  samples.push_back(RequestSample(ApiKey::kOffsetCommit, 2, EncodeOffsetCommitRequest, commit));
  OffsetFetchRequest fetch{"g", std::vector<OffsetFetchRequestTopic>{{"t", {0, 1}}, {"u", {}}}};
  samples.push_back(RequestSample(ApiKey::kOffsetFetch, 3, EncodeOffsetFetchRequest, fetch));
  samples.push_back(RequestSample(ApiKey::kOffsetFetch, 3, EncodeOffsetFetchRequest,
                                  OffsetFetchRequest{"g", std::nullopt}));
  samples.push_back(RequestSample(ApiKey::kDescribeGroups, 4, EncodeDescribeGroupsRequest,
                                  DescribeGroupsRequest{{"g", "h"}, true}));
  samples.push_back(
      RequestSample(ApiKey::kListGroups, 2, EncodeListGroupsRequest, ListGroupsRequest{}));
  samples.push_back(RequestSample(ApiKey::kDeleteGroups, 1, EncodeDeleteGroupsRequest,
                                  DeleteGroupsRequest{{"a", "bc"}}));
  samples.push_back(RequestSample(ApiKey::kOffsetDelete, 0, EncodeOffsetDeleteRequest,
                                  OffsetDeleteRequest{"g", {{"t", {{0}, {1}}}}}));
}

void GroupResponseSamples(std::vector<Sample>& samples) {
  samples.push_back(ResponseSample(
      ApiKey::kFindCoordinator, 2, EncodeFindCoordinatorResponse,
      FindCoordinatorResponse{0, KafkaErrorCode::kCoordinatorNotAvailable, "x", -1, "", -1}));
  JoinGroupResponse join{0, KafkaErrorCode::kNone, 1, "range", "m1", "m1",
                         {{"m1", "i1", "ab"}, {"m2", std::nullopt, ""}}};
  samples.push_back(ResponseSample(ApiKey::kJoinGroup, 5, EncodeJoinGroupResponse, join));
  samples.push_back(ResponseSample(ApiKey::kHeartbeat, 3, EncodeHeartbeatResponse,
                                   HeartbeatResponse{0, KafkaErrorCode::kRebalanceInProgress}));
  LeaveGroupResponse leave{0, KafkaErrorCode::kNone,
                           {{"m1", std::nullopt, KafkaErrorCode::kNone},
                            {"", "i2", KafkaErrorCode::kUnknownMemberId}}};
  samples.push_back(ResponseSample(ApiKey::kLeaveGroup, 3, EncodeLeaveGroupResponse, leave));
  samples.push_back(ResponseSample(ApiKey::kSyncGroup, 3, EncodeSyncGroupResponse,
                                   SyncGroupResponse{0, KafkaErrorCode::kNone, "ab"}));
  OffsetCommitResponse commit{
      0, {{"t", {{0, KafkaErrorCode::kNone}, {1, KafkaErrorCode::kIllegalGeneration}}}}};
  samples.push_back(ResponseSample(ApiKey::kOffsetCommit, 7, EncodeOffsetCommitResponse, commit));
  OffsetFetchResponse fetch{0, {{"t", {{0, 42, "m", KafkaErrorCode::kNone}, {1, -1, "", {}}}}},
                            KafkaErrorCode::kNone};
  samples.push_back(ResponseSample(ApiKey::kOffsetFetch, 3, EncodeOffsetFetchResponse, fetch));
  samples.push_back(ResponseSample(ApiKey::kOffsetFetch, 1, EncodeOffsetFetchResponse, fetch));
  DescribedGroup group{KafkaErrorCode::kNone, "g", "Stable", "consumer", "range",
                       {{"m1", "i1", "c", "/127.0.0.1", "ab", "cd"}}, INT32_MIN};
  samples.push_back(ResponseSample(ApiKey::kDescribeGroups, 4, EncodeDescribeGroupsResponse,
                                   DescribeGroupsResponse{0, {group}}));
  samples.push_back(ResponseSample(ApiKey::kListGroups, 2, EncodeListGroupsResponse,
                                   ListGroupsResponse{0, KafkaErrorCode::kNone,
                                                      {{"g", "consumer"}, {"o", ""}}}));
  samples.push_back(ResponseSample(ApiKey::kDeleteGroups, 1, EncodeDeleteGroupsResponse,
                                   DeleteGroupsResponse{0, {{"a", KafkaErrorCode::kNone}}}));
  OffsetDeleteResponse del{KafkaErrorCode::kNone, 0,
                           {{"t", {{0, KafkaErrorCode::kGroupSubscribedToTopic}}}}};
  samples.push_back(ResponseSample(ApiKey::kOffsetDelete, 0, EncodeOffsetDeleteResponse, del));
}

std::vector<Sample> RequestSamples() {
  std::vector<Sample> samples;
  for (int16_t v = 0; v <= 3; ++v) {
    samples.push_back(RequestSample(ApiKey::kApiVersions, v, EncodeApiVersionsRequest,
                                    ApiVersionsRequest{"librdkafka", "2.0.2"}));
  }
  for (int16_t v = 0; v <= 4; ++v) {
    MetadataRequest some;
    some.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("orders"), MetadataTopicNamed("t")};
    some.allow_auto_topic_creation = false;
    if (v < 4) some.allow_auto_topic_creation = true;
    samples.push_back(RequestSample(ApiKey::kMetadata, v, EncodeMetadataRequest, some));
    MetadataRequest all;
    if (v == 0) all.topics.emplace();  // v0 has no null
    samples.push_back(RequestSample(ApiKey::kMetadata, v, EncodeMetadataRequest, all));
  }
  ProduceRequest produce;
  produce.transactional_id = "tx";
  produce.acks = -1;
  produce.timeout_ms = 30000;
  produce.topic_data = {{"t", {{0, std::string_view(FakeRecords())}, {1, std::nullopt}}},
                        {"u", {{3, std::string_view("")}}}};
  samples.push_back(RequestSample(ApiKey::kProduce, 3, EncodeProduceRequest, produce));
  FetchRequest fetch;
  fetch.max_wait_ms = 500;
  fetch.min_bytes = 1;
  fetch.max_bytes = 52428800;
  fetch.isolation_level = kReadCommitted;
  fetch.topics = {{"t", {{0, 5, 1048576}, {1, 0, 10}}}, {"u", {}}};
  samples.push_back(RequestSample(ApiKey::kFetch, 4, EncodeFetchRequest, fetch));
  ListOffsetsRequest list;
  list.topics = {{"t", {{0, kEarliestTimestamp}, {1, kLatestTimestamp}}}};
  samples.push_back(RequestSample(ApiKey::kListOffsets, 1, EncodeListOffsetsRequest, list));
  CreateTopicsRequest create;
  create.topics = {{"t", 3, 1, {}, {{"cleanup.policy", "compact"}, {"x", std::nullopt}}},
                   {"m", -1, -1, {{0, {1, 2}}}, {}}};
  create.timeout_ms = 1000;
  for (int16_t v = 0; v <= 7; ++v) {
    create.validate_only = v >= 1;
    samples.push_back(RequestSample(ApiKey::kCreateTopics, v, EncodeCreateTopicsRequest, create));
  }
  for (int16_t v = 0; v <= 6; ++v) {
    DeleteTopicsRequest del;
    del.timeout_ms = 5000;
    if (v < 6) {
      del.topic_names = {"a", "bc"};
    } else {
      del.topics.push_back({"a", {}});
      del.topics.push_back({std::nullopt, Uuid{{1, 2, 3}}});
    }
    samples.push_back(RequestSample(ApiKey::kDeleteTopics, v, EncodeDeleteTopicsRequest, del));
  }
  for (int16_t v = 0; v <= 4; ++v) {
    DescribeConfigsRequest describe;
    describe.resources.push_back({2, "t", std::nullopt});
    describe.resources.push_back({4, "1", std::vector<std::string>{"log.retention.ms"}});
    describe.include_synonyms = v >= 1;
    samples.push_back(RequestSample(ApiKey::kDescribeConfigs, v, EncodeDescribeConfigsRequest, describe));
  }
  for (int16_t v = 0; v <= 2; ++v) {
    AlterConfigsRequest alter;
    alter.resources.push_back({2, "t", {{"retention.ms", "1000"}, {"x", std::nullopt}}});
    samples.push_back(RequestSample(ApiKey::kAlterConfigs, v, EncodeAlterConfigsRequest, alter));
  }
  for (int16_t v = 0; v <= 1; ++v) {
    IncrementalAlterConfigsRequest alter;
    alter.resources.push_back({2, "t", {{"cleanup.policy", 2, "compact"}, {"x", 1, std::nullopt}}});
    samples.push_back(RequestSample(ApiKey::kIncrementalAlterConfigs, v,
                                    EncodeIncrementalAlterConfigsRequest, alter));
  }
  for (int16_t v = 0; v <= 3; ++v) {
    CreatePartitionsRequest more;
    more.topics.push_back({"t", 4, std::vector<CreatePartitionsAssignment>{{{1, 2}}}});
    more.topics.push_back({"u", 9, std::nullopt});
    more.timeout_ms = 1000;
    samples.push_back(RequestSample(ApiKey::kCreatePartitions, v, EncodeCreatePartitionsRequest, more));
  }
  for (int16_t v = 0; v <= 1; ++v) {
    samples.push_back(RequestSample(ApiKey::kDescribeCluster, v, EncodeDescribeClusterRequest,
                                    DescribeClusterRequest{true, 1}));
  }
  for (int16_t v = 0; v <= 4; ++v) {
    samples.push_back(RequestSample(ApiKey::kInitProducerId, v, EncodeInitProducerIdRequest,
                                    InitProducerIdRequest{std::nullopt, 60000, 7, 2}));
  }
  samples.push_back(RequestSample(ApiKey::kDescribeProducers, 0, EncodeDescribeProducersRequest,
                                  DescribeProducersRequest{{{"t", {0, 1}}}}));
  for (int16_t v = 0; v <= 4; ++v) {
    OffsetForLeaderEpochRequest epochs;
    epochs.replica_id = -1;
    epochs.topics.push_back({"t", {{0, 3, 2}, {1, -1, 0}}});
    samples.push_back(RequestSample(ApiKey::kOffsetForLeaderEpoch, v,
                                    EncodeOffsetForLeaderEpochRequest, epochs));
  }
  {
    FetchRequest v12;
    v12.max_wait_ms = 500;
    v12.cluster_id = "c";
    v12.topics.push_back({"t", {}});
    v12.topics[0].partitions.emplace_back().last_fetched_epoch = 3;
    samples.push_back(RequestSample(ApiKey::kFetch, 12, EncodeFetchRequest, v12));
  }
  for (int16_t v = 0; v <= 2; ++v) {
    ElectLeadersRequest elect;
    elect.election_type = v >= 1 ? 1 : 0;
    elect.topic_partitions.emplace().push_back({"t", {0, 2}});
    samples.push_back(RequestSample(ApiKey::kElectLeaders, v, EncodeElectLeadersRequest, elect));
    elect.topic_partitions.reset();
    samples.push_back(RequestSample(ApiKey::kElectLeaders, v, EncodeElectLeadersRequest, elect));
  }
  for (int16_t v = 0; v <= 2; ++v) {
    DeleteRecordsRequest del;
    del.topics.push_back({"t", {{0, 10}, {1, -1}}});
    del.timeout_ms = 1000;
    samples.push_back(RequestSample(ApiKey::kDeleteRecords, v, EncodeDeleteRecordsRequest, del));
  }
  for (int16_t v = 0; v <= 4; ++v) {
    DescribeLogDirsRequest dirs;
    samples.push_back(RequestSample(ApiKey::kDescribeLogDirs, v, EncodeDescribeLogDirsRequest, dirs));
    dirs.topics.emplace().push_back({"t", {0, 1}});
    samples.push_back(RequestSample(ApiKey::kDescribeLogDirs, v, EncodeDescribeLogDirsRequest, dirs));
  }
  GroupRequestSamples(samples);
  return samples;
}

std::vector<Sample> ResponseSamples() {
  std::vector<Sample> samples;
  for (int16_t v = 0; v <= 3; ++v) {
    ApiVersionsResponse table;
    table.api_keys = {{ApiKey::kProduce, 0, 3}, {ApiKey::kJoinGroup, 0, 2}};
    samples.push_back(ResponseSample(ApiKey::kApiVersions, v, EncodeApiVersionsResponse, table));
  }
  MetadataResponse metadata;
  metadata.brokers = {{1, "h", 9092, "r"}, {2, "h2", 9093, std::nullopt}};
  metadata.cluster_id = "c";
  metadata.controller_id = 1;
  MetadataResponsePartition partition;
  partition.leader_id = 1;
  partition.replica_nodes = {1, 2};
  partition.isr_nodes = {1};
  MetadataResponseTopic t;
  t.name = "t";
  t.partitions = {partition};
  MetadataResponseTopic x;
  x.error_code = KafkaErrorCode::kUnknownTopicOrPartition;
  x.name = "x";
  metadata.topics = {t, x};
  for (int16_t v = 0; v <= 4; ++v) {
    samples.push_back(ResponseSample(ApiKey::kMetadata, v, EncodeMetadataResponse, metadata));
  }
  ProduceResponse produce;
  produce.responses = {{"t", {{0, KafkaErrorCode::kNone, 42, -1, -1, {}, std::nullopt}}}};
  samples.push_back(ResponseSample(ApiKey::kProduce, 3, EncodeProduceResponse, produce));
  FetchResponse fetch;
  FetchResponsePartition p;
  p.high_watermark = 9;
  p.last_stable_offset = 9;
  p.aborted_transactions = {{1, 2}};
  p.records.emplace_back(FakeRecords());
  fetch.responses = {{"t", {p, FetchResponsePartition{}}}};
  samples.push_back(ResponseSample(ApiKey::kFetch, 4, EncodeFetchResponse, fetch));
  p.diverging_epoch = FetchDivergingEpoch{2, 40};
  p.current_leader = FetchCurrentLeader{1, 3};
  fetch.responses = {{"t", {p, FetchResponsePartition{}}}};
  samples.push_back(ResponseSample(ApiKey::kFetch, 12, EncodeFetchResponse, fetch));
  ListOffsetsResponse list;
  list.topics = {{"t", {{0, KafkaErrorCode::kNone, -1, 10}}}};
  samples.push_back(ResponseSample(ApiKey::kListOffsets, 1, EncodeListOffsetsResponse, list));
  CreateTopicsResponse create;
  create.topics.resize(2);
  create.topics[0].name = "t";
  create.topics[0].num_partitions = 3;
  create.topics[0].configs = std::vector<CreatableTopicConfigs>{{"retention.ms", "1", false, 1, false}};
  create.topics[1].name = "u";
  create.topics[1].error_code = KafkaErrorCode::kTopicAlreadyExists;
  create.topics[1].error_message = "x";
  create.topics[1].topic_config_error_code = KafkaErrorCode::kInvalidConfig;
  for (int16_t v = 0; v <= 7; ++v) {
    samples.push_back(ResponseSample(ApiKey::kCreateTopics, v, EncodeCreateTopicsResponse, create));
  }
  DeleteTopicsResponse del;
  del.responses.resize(1);
  del.responses[0].name = "a";
  for (int16_t v = 0; v <= 6; ++v) {
    samples.push_back(ResponseSample(ApiKey::kDeleteTopics, v, EncodeDeleteTopicsResponse, del));
  }
  DescribeConfigsResponse configs;
  configs.results.push_back({KafkaErrorCode::kNone, std::nullopt, 2, "t",
                             {{"retention.ms", "1000", false, false, 1, false,
                               {{"retention.ms", "1000", 1}}, 5, "doc"}}});
  for (int16_t v = 0; v <= 4; ++v) {
    samples.push_back(ResponseSample(ApiKey::kDescribeConfigs, v, EncodeDescribeConfigsResponse, configs));
  }
  AlterConfigsResponse altered;
  altered.responses.push_back({KafkaErrorCode::kInvalidConfig, "no", 2, "t"});
  for (int16_t v = 0; v <= 2; ++v) {
    samples.push_back(ResponseSample(ApiKey::kAlterConfigs, v, EncodeAlterConfigsResponse, altered));
  }
  DescribeClusterResponse cluster;
  cluster.cluster_id = "c";
  cluster.brokers.push_back({1, "h", 9092, "r1"});
  for (int16_t v = 0; v <= 1; ++v) {
    samples.push_back(ResponseSample(ApiKey::kDescribeCluster, v, EncodeDescribeClusterResponse, cluster));
  }
  for (int16_t v = 0; v <= 4; ++v) {
    samples.push_back(ResponseSample(ApiKey::kInitProducerId, v, EncodeInitProducerIdResponse,
                                     InitProducerIdResponse{0, KafkaErrorCode::kNone, 1000, 3}));
  }
  DescribeProducersResponse producers;
  producers.topics = {{"t", {{0, KafkaErrorCode::kNone, std::nullopt, {{1000, 3, 41, 1700, -1, -1}}}}}};
  samples.push_back(ResponseSample(ApiKey::kDescribeProducers, 0, EncodeDescribeProducersResponse,
                                   producers));
  GroupResponseSamples(samples);
  return samples;
}

TEST(KafkaProtocolFuzzTest, ValidRequestsDecode) {
  for (const Sample& s : RequestSamples()) {
    absl::Status status = HandleRequestFrame(s.bytes);
    EXPECT_TRUE(status.ok()) << s.name << ": " << status;
  }
  for (const Sample& s : ResponseSamples()) {
    absl::Status status = DecodeResponse(s.key, s.version, s.bytes);
    EXPECT_TRUE(status.ok()) << s.name << ": " << status;
  }
}

TEST(KafkaProtocolFuzzTest, EveryTruncationIsACleanError) {
  for (const Sample& s : RequestSamples()) {
    for (size_t len = 0; len < s.bytes.size(); ++len) {
      // A fresh heap copy of exactly `len` bytes, so ASan catches any over-read.
      std::string prefix = s.bytes.substr(0, len);
      absl::Status status = HandleRequestFrame(prefix);
      EXPECT_FALSE(status.ok()) << s.name << " cut at " << len;
      ExpectCleanError(status, prefix);
    }
  }
  for (const Sample& s : ResponseSamples()) {
    for (size_t len = 0; len < s.bytes.size(); ++len) {
      std::string prefix = s.bytes.substr(0, len);
      absl::Status status = DecodeResponse(s.key, s.version, prefix);
      EXPECT_FALSE(status.ok()) << s.name << " cut at " << len;
      ExpectCleanError(status, prefix);
    }
  }
}

TEST(KafkaProtocolFuzzTest, TrailingGarbageIsRejected) {
  for (const Sample& s : RequestSamples()) {
    std::string longer = s.bytes + "\x01";
    absl::Status status = HandleRequestFrame(longer);
    EXPECT_FALSE(status.ok()) << s.name;
    EXPECT_NE(status.message().find("trailing"), std::string_view::npos) << status;
  }
  for (const Sample& s : ResponseSamples()) {
    absl::Status status = DecodeResponse(s.key, s.version, s.bytes + std::string(2, '\0'));
    EXPECT_FALSE(status.ok()) << s.name;
  }
}

TEST(KafkaProtocolFuzzTest, RandomByteFlips) {
  constexpr uint64_t kSeed = 20240611;
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  std::mt19937_64 rng(kSeed);
  for (const Sample& s : RequestSamples()) {
    for (int iter = 0; iter < 3000; ++iter) {
      std::string mutated = s.bytes;
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t at = rng() % mutated.size();
        switch (rng() % 3) {
          case 0: mutated[at] = static_cast<char>(rng()); break;           // random byte
          case 1: mutated[at] ^= static_cast<char>(1u << (rng() % 8)); break;  // one bit
          default: mutated[at] = (rng() % 2) ? '\xff' : '\x7f'; break;     // extreme lengths
        }
      }
      if (rng() % 4 == 0) mutated.resize(rng() % (mutated.size() + 1));
      ExpectCleanError(HandleRequestFrame(mutated), mutated);
      // Also decode the body with every other decoder, as if the api key were wrong.
      if (mutated.size() > 8) {
        std::string_view body = std::string_view(mutated).substr(8);
        for (const auto& [key, versions] : SchemaApis()) {
          for (int16_t v = versions.min; v <= versions.max; ++v) {
            std::string copy(body);
            ExpectCleanError(DecodeRequest(key, v, copy), copy);
          }
        }
      }
    }
  }
  for (const Sample& s : ResponseSamples()) {
    for (int iter = 0; iter < 2000; ++iter) {
      std::string mutated = s.bytes;
      size_t at = rng() % mutated.size();
      mutated[at] = static_cast<char>(rng());
      if (rng() % 2) mutated[rng() % mutated.size()] = '\xff';
      ExpectCleanError(DecodeResponse(s.key, s.version, mutated), mutated);
    }
  }
}

TEST(KafkaProtocolFuzzTest, RandomBytes) {
  constexpr uint64_t kSeed = 77;
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  std::mt19937_64 rng(kSeed);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes(rng() % 96, '\0');
    // Bias towards small and extreme values, which are the interesting lengths.
    for (char& c : bytes) {
      switch (rng() % 4) {
        case 0: c = 0; break;
        case 1: c = '\xff'; break;
        default: c = static_cast<char>(rng()); break;
      }
    }
    ExpectCleanError(HandleRequestFrame(bytes), bytes);
    // Same bytes behind a valid header of each supported (key, version).
    for (const auto& [key, versions] : SchemaApis()) {
      for (int16_t v = versions.min; v <= versions.max; ++v) {
        ExpectCleanError(DecodeRequest(key, v, bytes), bytes);
        ExpectCleanError(DecodeResponse(key, v, bytes), bytes);
      }
    }
  }
}

TEST(KafkaProtocolFuzzTest, HugeCountsDoNotAllocate) {
  // A 2^31-1 element array in a tiny frame, at every array position we have: must fail fast.
  for (const auto& [key, versions] : SchemaApis()) {
    for (int16_t v = versions.min; v <= versions.max; ++v) {
      for (size_t at = 0; at < 24; ++at) {
        std::string bytes(32, '\0');
        bytes[at] = '\x7f';
        bytes[at + 1] = '\xff';
        bytes[at + 2] = '\xff';
        bytes[at + 3] = '\xff';
        ExpectCleanError(DecodeRequest(key, v, bytes), bytes);
        ExpectCleanError(DecodeResponse(key, v, bytes), bytes);
      }
    }
  }
}

}  // namespace
}  // namespace gregor::kafka
