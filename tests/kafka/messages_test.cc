// Typed Kafka messages: golden bytes written by hand from the spec (§2.1 of the reference and
// Kafka's message JSONs), round trips, and the client pitfalls of §6.
#include "common/kafka/messages.h"

#include "broker/kafka/served_apis.h"
#include "common/kafka/api.h"
#include "common/kafka/constants.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/record_batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"
#include "tests/storage/test_util.h"

namespace gregor::kafka {
namespace {

// A Metadata request topic by name (v10+ also has a topic id, first on the wire).
MetadataRequestTopic MetadataTopicNamed(std::string name) {
  MetadataRequestTopic t;
  t.name = std::move(name);
  return t;
}

using ::gregor::broker::MakeApiVersionsResponse;
using ::gregor::broker::MakeUnsupportedApiVersionsResponse;
using ::gregor::kafka::testing::EncodeToString;
using ::gregor::kafka::testing::ExpectGolden;
using ::gregor::kafka::testing::Hex;
using ::gregor::kafka::testing::ToHex;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// ApiVersions

constexpr char kAdvertisedEntries[] =
    "00 00 00 00 00 03 | 00 01 00 04 00 04 | 00 02 00 01 00 01 | 00 03 00 00 00 04 |"
    "00 12 00 00 00 03 | 00 13 00 00 00 03 | 00 14 00 00 00 01";

TEST(KafkaProtocolApiVersionsTest, RequestV0ToV2HaveAnEmptyBody) {
  for (int16_t v = 0; v <= 2; ++v) {
    ExpectGolden(EncodeApiVersionsRequest, DecodeApiVersionsRequest, ApiVersionsRequest{}, v, "");
    absl::StatusOr<ApiVersionsRequest> bad = DecodeApiVersionsRequest(Hex("00"), v);
    EXPECT_FALSE(bad.ok());
    EXPECT_THAT(bad.status().message(), HasSubstr("1 trailing bytes"));
  }
}

TEST(KafkaProtocolApiVersionsTest, RequestV3IsFlexible) {
  ApiVersionsRequest request{"librdkafka", "2.0.2"};
  ExpectGolden(EncodeApiVersionsRequest, DecodeApiVersionsRequest, request, 3,
               "0b 'librdkafka' 06 '2.0.2' 00");
  // Unknown tagged fields are skipped.
  absl::StatusOr<ApiVersionsRequest> tagged =
      DecodeApiVersionsRequest(Hex("02 'a' 02 'b' 01 05 01 ff"), 3);
  ASSERT_TRUE(tagged.ok()) << tagged.status();
  EXPECT_EQ(tagged->client_software_name, "a");
  // A missing tag section is truncation.
  EXPECT_FALSE(DecodeApiVersionsRequest(Hex("02 'a' 02 'b'"), 3).ok());
  // A null compact string is not allowed.
  EXPECT_FALSE(DecodeApiVersionsRequest(Hex("00 02 'b' 00"), 3).ok());
}

TEST(KafkaProtocolApiVersionsTest, ResponseGoldenAllVersions) {
  // A fixed table (the served one is tested in tests/broker/served_apis_test.cc).
  ApiVersionsResponse response;
  response.api_keys = {{ApiKey::kProduce, 0, 3},      {ApiKey::kFetch, 4, 4},
                       {ApiKey::kListOffsets, 1, 1},  {ApiKey::kMetadata, 0, 4},
                       {ApiKey::kApiVersions, 0, 3},  {ApiKey::kCreateTopics, 0, 3},
                       {ApiKey::kDeleteTopics, 0, 1}};
  ExpectGolden(EncodeApiVersionsResponse, DecodeApiVersionsResponse, response, 0,
               absl::StrCat("00 00 | 00 00 00 07 |", kAdvertisedEntries));
  ExpectGolden(EncodeApiVersionsResponse, DecodeApiVersionsResponse, response, 1,
               absl::StrCat("00 00 | 00 00 00 07 |", kAdvertisedEntries, "| 00 00 00 00"));
  ExpectGolden(EncodeApiVersionsResponse, DecodeApiVersionsResponse, response, 2,
               absl::StrCat("00 00 | 00 00 00 07 |", kAdvertisedEntries, "| 00 00 00 00"));
  // v3: compact array (N+1 = 8), a tag byte per entry, throttle, body tag byte.
  ExpectGolden(EncodeApiVersionsResponse, DecodeApiVersionsResponse, response, 3,
               "00 00 | 08 |"
               "00 00 00 00 00 03 00 | 00 01 00 04 00 04 00 | 00 02 00 01 00 01 00 |"
               "00 03 00 00 00 04 00 | 00 12 00 00 00 03 00 | 00 13 00 00 00 03 00 |"
               "00 14 00 00 00 01 00 | 00 00 00 00 | 00");
}

TEST(KafkaProtocolApiVersionsTest, V3TaggedFieldsWhenSet) {
  // KIP-584's feature fields are tagged: absent at their defaults (the golden above), written
  // in tag order when set, and skipped by older versions.
  ApiVersionsResponse response;
  response.api_keys = {{ApiKey::kApiVersions, 0, 3}};
  response.supported_features = {{"x", 1, 2}};
  response.finalized_features_epoch = 5;
  response.zk_migration_ready = true;
  ExpectGolden(EncodeApiVersionsResponse, DecodeApiVersionsResponse, response, 3,
               "00 00 | 02 | 00 12 00 00 00 03 00 | 00 00 00 00 | 03 |"
               "00 08 | 02 02 'x' 00 01 00 02 00 |"
               "01 08 | 00 00 00 00 00 00 00 05 |"
               "03 01 | 01");
  // v2 has no tagged fields: the same message encodes without them.
  ApiVersionsResponse v2 = response;
  v2.supported_features.clear();
  v2.finalized_features_epoch = -1;
  v2.zk_migration_ready = false;
  EXPECT_EQ(ToHex(EncodeToString(EncodeApiVersionsResponse, response, 2)),
            ToHex(EncodeToString(EncodeApiVersionsResponse, v2, 2)));
  // A tagged field whose size does not match its type is an error naming it.
  absl::StatusOr<ApiVersionsResponse> bad = DecodeApiVersionsResponse(
      Hex("00 00 | 01 | 00 00 00 00 | 01 | 01 04 | 00 00 00 05"), 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("finalized_features_epoch: truncated"));
  // Unknown tags are skipped.
  absl::StatusOr<ApiVersionsResponse> unknown =
      DecodeApiVersionsResponse(Hex("00 00 | 01 | 00 00 00 00 | 01 | 09 02 | ab cd"), 3);
  ASSERT_TRUE(unknown.ok()) << unknown.status();
}

TEST(KafkaProtocolApiVersionsTest, V3ResponseFrameHasAV0Header) {
  // Pitfall 4: the ApiVersions response header never has a tag section, even for v3.
  Writer body;
  ApiVersionsResponse response;
  response.api_keys = {{ApiKey::kApiVersions, 0, 3}};
  response.throttle_time_ms = 0;
  ASSERT_TRUE(EncodeApiVersionsResponse(response, 3, body).ok());
  Writer frame = FrameResponse(ApiKey::kApiVersions, 3, 1, std::move(body));
  EXPECT_EQ(ToHex(*frame.Flatten()),
            ToHex(Hex("00 00 00 13 | 00 00 00 01 | 00 00 02 00 12 00 00 00 03 00 00 00 00 00 00")));
}

TEST(KafkaProtocolApiVersionsTest, UnsupportedVersionReplyIsV0WithOnlyApiVersions) {
  // KIP-511: a v4 request gets a v0-format body with error 35 and the ApiVersions entry, under
  // a v0 response header. librdkafka then retries with v3 (or v0).
  ApiVersionsResponse response = MakeUnsupportedApiVersionsResponse();
  EXPECT_EQ(response.error_code, KafkaErrorCode::kUnsupportedVersion);
  Writer body;
  ASSERT_TRUE(EncodeApiVersionsResponse(response, 0, body).ok());
  Writer frame = FrameResponse(ApiKey::kApiVersions, 0, 7, std::move(body));
  EXPECT_EQ(ToHex(*frame.Flatten()),
            ToHex(Hex("00 00 00 10 | 00 00 00 07 | 00 23 | 00 00 00 01 | 00 12 00 00 00 03")));
}

TEST(KafkaProtocolApiVersionsTest, LongerTablesRoundTrip) {
  ApiVersionsResponse response = MakeApiVersionsResponse();
  response.api_keys.push_back({ApiKey::kJoinGroup, 0, 2});
  response.api_keys.push_back({static_cast<ApiKey>(1000), 0, 7});  // a key we do not name
  for (int16_t v = 0; v <= 3; ++v) {
    std::string bytes = EncodeToString(EncodeApiVersionsResponse, response, v);
    absl::StatusOr<ApiVersionsResponse> decoded = DecodeApiVersionsResponse(bytes, v);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, response);
  }
}

TEST(KafkaProtocolApiVersionsTest, UnsupportedVersions) {
  Writer w;
  EXPECT_FALSE(EncodeApiVersionsResponse(MakeApiVersionsResponse(), 4, w).ok());
  absl::StatusOr<ApiVersionsRequest> r = DecodeApiVersionsRequest("", 4);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("ApiVersions request v4: unsupported version"));
}

// ---------------------------------------------------------------------------------------------
// Metadata

TEST(KafkaProtocolMetadataTest, RequestV0HasNoNull) {
  // v0's [] means all topics; the codec keeps it as [] (the Metadata handler reads it so).
  MetadataRequest all;
  all.topics.emplace();
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, 0, "00 00 00 00");
  MetadataRequest some;
  some.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("a"), MetadataTopicNamed("bc")};
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, some, 0,
               "00 00 00 02 00 01 'a' 00 02 'bc'");
  // v0 cannot encode null ...
  MetadataRequest null;
  Writer w;
  absl::Status s = EncodeMetadataRequest(null, 0, w);
  EXPECT_THAT(s.message(), HasSubstr("Metadata request v0: topics: null is not allowed"));
  // ... nor decode it.
  EXPECT_FALSE(DecodeMetadataRequest(Hex("ff ff ff ff"), 0).ok());
}

TEST(KafkaProtocolMetadataTest, RequestV1NullMeansAllAndEmptyMeansNone) {
  // Pitfall 5. kcat -L sends [] (brokers only) and then null (all topics).
  for (int16_t v = 1; v <= 3; ++v) {
    MetadataRequest all;
    ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, v, "ff ff ff ff");
    MetadataRequest none;
    none.topics.emplace();
    ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, none, v, "00 00 00 00");
    absl::StatusOr<MetadataRequest> decoded = DecodeMetadataRequest(Hex("00 00 00 00"), v);
    ASSERT_TRUE(decoded.ok());
    ASSERT_TRUE(decoded->topics.has_value());
    EXPECT_TRUE(decoded->topics->empty());
    EXPECT_TRUE(decoded->allow_auto_topic_creation);
  }
}

TEST(KafkaProtocolMetadataTest, RequestV4AllowAutoTopicCreation) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("t")};
  request.allow_auto_topic_creation = true;
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, request, 4,
               "00 00 00 01 00 01 't' 01");
  MetadataRequest all;
  all.allow_auto_topic_creation = false;
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, 4, "ff ff ff ff 00");
  // v3 has no such field: the byte is trailing garbage.
  absl::StatusOr<MetadataRequest> v3 = DecodeMetadataRequest(Hex("ff ff ff ff 00"), 3);
  EXPECT_FALSE(v3.ok());
  EXPECT_THAT(v3.status().message(), HasSubstr("Metadata request v3: 1 trailing bytes"));
}

TEST(KafkaProtocolMetadataTest, RequestErrorsNameTheField) {
  absl::StatusOr<MetadataRequest> r = DecodeMetadataRequest(Hex("00 00 00 01 00 05 'ab'"), 4);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Metadata request v4: topics[].name: truncated"));
  r = DecodeMetadataRequest(Hex("00 00 00 01 ff ff 01"), 4);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("topics[].name: null string"));
}

MetadataResponse SampleMetadataResponse() {
  MetadataResponse response;
  response.throttle_time_ms = 5;
  response.brokers = {{1, "h", 9092, std::nullopt}, {2, "h2", 9093, "r"}};
  response.cluster_id = "c";
  response.controller_id = 1;
  MetadataResponseTopic t;
  t.name = "t";
  MetadataResponsePartition partition;
  partition.leader_id = 1;
  partition.replica_nodes = {1, 2};
  partition.isr_nodes = {1};
  t.partitions = {partition};
  MetadataResponseTopic missing;
  missing.error_code = KafkaErrorCode::kUnknownTopicOrPartition;
  missing.name = "missing";
  MetadataResponseTopic internal;
  internal.name = "__i";
  internal.is_internal = true;
  response.topics = {t, missing, internal};
  return response;
}

// What a version can carry of `response` (the rest decodes to defaults).
MetadataResponse MetadataForVersion(const MetadataResponse& full, int16_t version) {
  MetadataResponse response = full;
  if (version < 3) response.throttle_time_ms = 0;
  if (version < 2) response.cluster_id.reset();
  if (version < 1) {
    response.controller_id = -1;
    for (auto& b : response.brokers) b.rack.reset();
    for (auto& t : response.topics) t.is_internal = false;
  }
  return response;
}

TEST(KafkaProtocolMetadataTest, ResponseGoldenV0) {
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse,
               MetadataForVersion(SampleMetadataResponse(), 0), 0,
               "00 00 00 02 | 00 00 00 01 00 01 'h' 00 00 23 84 | 00 00 00 02 00 02 'h2' 00 00 23 85 |"
               "00 00 00 03 |"
               "  00 00 00 01 't' 00 00 00 01 |"
               "    00 00 00 00 00 00 00 00 00 01 | 00 00 00 02 00 00 00 01 00 00 00 02 |"
               "    00 00 00 01 00 00 00 01 |"
               "  00 03 00 07 'missing' 00 00 00 00 |"
               "  00 00 00 03 '__i' 00 00 00 00");
}

TEST(KafkaProtocolMetadataTest, ResponseGoldenV1) {
  // + rack (nullable) per broker, controller_id, is_internal per topic.
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse,
               MetadataForVersion(SampleMetadataResponse(), 1), 1,
               "00 00 00 02 | 00 00 00 01 00 01 'h' 00 00 23 84 ff ff |"
               "00 00 00 02 00 02 'h2' 00 00 23 85 00 01 'r' |"
               "00 00 00 01 |"
               "00 00 00 03 |"
               "  00 00 00 01 't' 00 00 00 00 01 |"
               "    00 00 00 00 00 00 00 00 00 01 | 00 00 00 02 00 00 00 01 00 00 00 02 |"
               "    00 00 00 01 00 00 00 01 |"
               "  00 03 00 07 'missing' 00 00 00 00 00 |"
               "  00 00 00 03 '__i' 01 00 00 00 00");
}

TEST(KafkaProtocolMetadataTest, ResponseGoldenV2ToV4) {
  const std::string brokers =
      "00 00 00 02 | 00 00 00 01 00 01 'h' 00 00 23 84 ff ff |"
      "00 00 00 02 00 02 'h2' 00 00 23 85 00 01 'r' |";
  const std::string rest =
      "00 00 00 01 |"
      "00 00 00 03 |"
      "  00 00 00 01 't' 00 00 00 00 01 |"
      "    00 00 00 00 00 00 00 00 00 01 | 00 00 00 02 00 00 00 01 00 00 00 02 |"
      "    00 00 00 01 00 00 00 01 |"
      "  00 03 00 07 'missing' 00 00 00 00 00 |"
      "  00 00 00 03 '__i' 01 00 00 00 00";
  // v2: + cluster_id between brokers and controller_id.
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse,
               MetadataForVersion(SampleMetadataResponse(), 2), 2,
               absl::StrCat(brokers, "00 01 'c' |", rest));
  // v3, v4: + throttle_time_ms first.
  for (int16_t v = 3; v <= 4; ++v) {
    ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, SampleMetadataResponse(), v,
                 absl::StrCat("00 00 00 05 |", brokers, "00 01 'c' |", rest));
  }
  // A null cluster id.
  MetadataResponse no_cluster;
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, no_cluster, 2,
               "00 00 00 00 ff ff ff ff ff ff 00 00 00 00");
}

TEST(KafkaProtocolMetadataTest, RequestV9IsFlexible) {
  // Compact array of structs, each with its tag section; v8's authorized-operations flags.
  MetadataRequest request;
  request.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("t")};
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, request, 9,
               "02 | 02 't' 00 | 01 | 00 | 00 | 00");
  MetadataRequest all;
  all.include_topic_authorized_operations = true;
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, 9, "00 | 01 | 00 | 01 | 00");
}

TEST(KafkaProtocolMetadataTest, ResponseV5ToV9Fields) {
  MetadataResponse response;
  response.throttle_time_ms = 5;
  response.brokers = {{1, "h", 9092, std::nullopt}};
  response.cluster_id = "c";
  response.controller_id = 1;
  MetadataResponseTopic t;
  t.name = "t";
  t.partitions = {{.partition_index = 0, .leader_id = 1, .leader_epoch = 7,
                   .replica_nodes = {1, 2}, .isr_nodes = {1}, .offline_replicas = {2}}};
  response.topics = {t};
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, response, 9,
               "00 00 00 05 | 02 | 00 00 00 01 02 'h' 00 00 23 84 00 00 | 02 'c' | 00 00 00 01 |"
               "02 | 00 00 02 't' 00 | 02 |"
               "00 00 | 00 00 00 00 | 00 00 00 01 | 00 00 00 07 | 03 00 00 00 01 00 00 00 02 |"
               "02 00 00 00 01 | 02 00 00 00 02 | 00 |"
               "80 00 00 00 | 00 | 80 00 00 00 | 00");
  // v5: offline replicas, no leader epoch; v7 adds it.
  MetadataResponse v5 = response;
  v5.topics[0].partitions[0].leader_epoch = -1;
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, v5, 5,
               "00 00 00 05 | 00 00 00 01 | 00 00 00 01 00 01 'h' 00 00 23 84 ff ff |"
               "00 01 'c' | 00 00 00 01 | 00 00 00 01 | 00 00 00 01 't' 00 | 00 00 00 01 |"
               "00 00 00 00 00 00 00 00 00 01 | 00 00 00 02 00 00 00 01 00 00 00 02 |"
               "00 00 00 01 00 00 00 01 | 00 00 00 01 00 00 00 02");
}

TEST(KafkaProtocolMetadataTest, ResponseErrors) {
  EXPECT_FALSE(DecodeMetadataResponse(Hex("00 00 00 00 00 00"), 1).ok());      // no topics
  EXPECT_FALSE(DecodeMetadataResponse(Hex("00 00 00 00 00 00 00 00 00"), 0).ok());  // trailing
  Writer w;
  EXPECT_FALSE(EncodeMetadataResponse(MetadataResponse{}, 13, w).ok());
  MetadataResponse long_name;
  long_name.topics.push_back(MetadataResponseTopic{});
  long_name.topics[0].name = std::string(40000, 'x');
  Writer w2;
  absl::Status s = EncodeMetadataResponse(long_name, 4, w2);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("Metadata response v4: string of 40000 bytes"));
}

// ---------------------------------------------------------------------------------------------
// Produce

TEST(KafkaProtocolProduceTest, RequestV3Golden) {
  std::string body = Hex(
      "ff ff | ff ff | 00 00 75 30 | 00 00 00 01 | 00 01 't' | 00 00 00 02 |"
      "00 00 00 00 00 00 00 05 'batch' | 00 00 00 01 ff ff ff ff");
  absl::StatusOr<ProduceRequest> r = DecodeProduceRequest(body, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->transactional_id, std::nullopt);
  EXPECT_EQ(r->acks, -1);
  EXPECT_EQ(r->timeout_ms, 30000);
  ASSERT_EQ(r->topic_data.size(), 1u);
  EXPECT_EQ(r->topic_data[0].name, "t");
  ASSERT_EQ(r->topic_data[0].partition_data.size(), 2u);
  const ProduceRequestPartition& p0 = r->topic_data[0].partition_data[0];
  EXPECT_EQ(p0.index, 0);
  ASSERT_TRUE(p0.records.has_value());
  EXPECT_EQ(*p0.records, "batch");
  // Zero copy: the records view points into the request body.
  EXPECT_EQ(p0.records->data(), body.data() + body.size() - 8 - 5);
  EXPECT_EQ(r->topic_data[0].partition_data[1].index, 1);
  EXPECT_EQ(r->topic_data[0].partition_data[1].records, std::nullopt);
  EXPECT_EQ(ToHex(EncodeToString(EncodeProduceRequest, *r, 3)), ToHex(body));
}

TEST(KafkaProtocolProduceTest, RequestWithARealBatch) {
  std::string batch = storage::testing::MakeBatch(3, 1700000000000);
  ProduceRequest request;
  request.transactional_id = "tx";
  request.acks = 1;
  request.timeout_ms = 1500;
  request.topic_data = {{"orders", {{4, std::string_view(batch)}}}};
  std::string body = EncodeToString(EncodeProduceRequest, request, 3);
  absl::StatusOr<ProduceRequest> decoded = DecodeProduceRequest(body, 3);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, request);
  absl::StatusOr<record::BatchHeader> header =
      record::ValidateBatch(*decoded->topic_data[0].partition_data[0].records);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->records_count, 3);
}

TEST(KafkaProtocolProduceTest, OlderVersionsAreRejected) {
  for (int16_t v : {0, 1, 2, 10}) {
    absl::StatusOr<ProduceRequest> r = DecodeProduceRequest(Hex("00 00 00 00 00 00 00 00"), v);
    EXPECT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("unsupported version"));
  }
}

TEST(KafkaProtocolProduceTest, ResponseV3Golden) {
  ProduceResponse response;
  response.responses = {{"t",
                         {{0, KafkaErrorCode::kNone, 42, -1, -1, {}, std::nullopt},
                          {1, KafkaErrorCode::kNotLeaderOrFollower, -1, 1700000000000, -1, {},
                           std::nullopt}}}};
  response.throttle_time_ms = 0;
  ExpectGolden(EncodeProduceResponse, DecodeProduceResponse, response, 3,
               "00 00 00 01 | 00 01 't' | 00 00 00 02 |"
               "00 00 00 00 00 00 | 00 00 00 00 00 00 00 2a | ff ff ff ff ff ff ff ff |"
               "00 00 00 01 00 06 | ff ff ff ff ff ff ff ff | 00 00 01 8b cf e5 68 00 |"
               "00 00 00 00");
}

// ---------------------------------------------------------------------------------------------
// Fetch

TEST(KafkaProtocolFetchTest, RequestV4Golden) {
  // What kcat -C sends: read_committed, max_wait 500, min_bytes 1, max_bytes 52428800.
  FetchRequest request;
  request.replica_id = -1;
  request.max_wait_ms = 500;
  request.min_bytes = 1;
  request.max_bytes = 52428800;
  request.isolation_level = kReadCommitted;
  auto partition = [](int32_t index, int64_t offset, int32_t max_bytes) {
    FetchRequestPartition p;
    p.partition = index;
    p.fetch_offset = offset;
    p.partition_max_bytes = max_bytes;
    return p;
  };
  request.topics = {{"t", {partition(0, 5, 1048576), partition(2, 0, 100)}}};
  ExpectGolden(EncodeFetchRequest, DecodeFetchRequest, request, 4,
               "ff ff ff ff | 00 00 01 f4 | 00 00 00 01 | 03 20 00 00 | 01 |"
               "00 00 00 01 | 00 01 't' | 00 00 00 02 |"
               "00 00 00 00 | 00 00 00 00 00 00 00 05 | 00 10 00 00 |"
               "00 00 00 02 | 00 00 00 00 00 00 00 00 | 00 00 00 64");
}

TEST(KafkaProtocolFetchTest, RequestRejectsUnknownIsolationLevel) {
  absl::StatusOr<FetchRequest> r =
      DecodeFetchRequest(Hex("ff ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00"), 4);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("isolation_level: unknown value 2"));
  EXPECT_FALSE(DecodeFetchRequest("", 3).ok());
  EXPECT_FALSE(DecodeFetchRequest("", 5).ok());
}

TEST(KafkaProtocolFetchTest, EmptyRecordsAreLengthZeroNeverNull) {
  // Pitfall 6: librdkafka fails on a null records field; aborted_transactions is [], not null.
  FetchResponse response;
  FetchResponsePartition p;
  p.partition_index = 0;
  p.high_watermark = 5;
  p.last_stable_offset = 5;
  response.responses = {{"t", {p}}};
  Writer w;
  ASSERT_TRUE(EncodeFetchResponse(response, 4, w).ok());
  EXPECT_EQ(ToHex(*w.Flatten()),
            ToHex(Hex("00 00 00 00 | 00 00 00 01 00 01 't' 00 00 00 01 |"
                      "00 00 00 00 | 00 00 | 00 00 00 00 00 00 00 05 | 00 00 00 00 00 00 00 05 |"
                      "00 00 00 00 | 00 00 00 00")));
}

TEST(KafkaProtocolFetchTest, ResponseWithFileSlicesAndOwnedBytes) {
  storage::testing::TempDir dir;
  absl::StatusOr<std::shared_ptr<File>> file = File::Open(dir.Sub("00000.log"), true);
  ASSERT_TRUE(file.ok()) << file.status();
  std::string batch1 = storage::testing::MakeBatch(2, 1000);
  std::string batch2 = storage::testing::MakeBatch(1, 2000);
  ASSERT_TRUE((*file)->WriteAt(0, "junk" + batch1).ok());

  FetchResponse response;
  response.throttle_time_ms = 3;
  FetchResponsePartition p;
  p.partition_index = 7;
  p.error_code = KafkaErrorCode::kNone;
  p.high_watermark = 10;
  p.last_stable_offset = 10;
  p.records.emplace_back(FileSlice{*file, 4, static_cast<int64_t>(batch1.size())});
  p.records.emplace_back(batch2);
  EXPECT_EQ(p.records_size(), batch1.size() + batch2.size());
  FetchResponsePartition error;
  error.partition_index = 8;
  error.error_code = KafkaErrorCode::kOffsetOutOfRange;
  response.responses = {{"t", {p, error}}};

  Writer w;
  ASSERT_TRUE(EncodeFetchResponse(response, 4, w).ok());
  EXPECT_TRUE(w.has_file_slices());
  // bytes before the slice, the slice itself, then batch2 and the rest as owned bytes.
  ASSERT_EQ(w.chunks().size(), 3u);
  ASSERT_TRUE(std::holds_alternative<FileSlice>(w.chunks()[1]));
  EXPECT_EQ(std::get<FileSlice>(w.chunks()[1]).position, 4);

  absl::StatusOr<std::string> flat = w.Flatten();
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->size(), w.size());
  absl::StatusOr<FetchResponse> decoded = DecodeFetchResponse(*flat, 4);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->throttle_time_ms, 3);
  ASSERT_EQ(decoded->responses.size(), 1u);
  ASSERT_EQ(decoded->responses[0].partitions.size(), 2u);
  const FetchResponsePartition& d = decoded->responses[0].partitions[0];
  EXPECT_EQ(d.partition_index, 7);
  EXPECT_EQ(d.high_watermark, 10);
  EXPECT_EQ(d.last_stable_offset, 10);
  EXPECT_TRUE(d.aborted_transactions.empty());
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(std::get<std::string>(d.records[0]), batch1 + batch2);
  const FetchResponsePartition& e = decoded->responses[0].partitions[1];
  EXPECT_EQ(e.error_code, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(e.records.empty());
  // Two whole batches, as a consumer would read them.
  std::string_view records = std::get<std::string>(d.records[0]);
  absl::StatusOr<size_t> first = record::PeekBatchSize(records);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(record::ValidateBatch(records.substr(0, *first)).ok());
  EXPECT_TRUE(record::ValidateBatch(records.substr(*first)).ok());
}

TEST(KafkaProtocolFetchTest, ResponseDecodesNullRecordsAndAbortedTransactions) {
  std::string body = Hex(
      "00 00 00 00 | 00 00 00 01 00 01 't' 00 00 00 01 |"
      "00 00 00 00 | 00 00 | 00 00 00 00 00 00 00 05 | 00 00 00 00 00 00 00 03 |"
      "00 00 00 01 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 02 | ff ff ff ff");
  absl::StatusOr<FetchResponse> r = DecodeFetchResponse(body, 4);
  ASSERT_TRUE(r.ok()) << r.status();
  const FetchResponsePartition& p = r->responses[0].partitions[0];
  ASSERT_EQ(p.aborted_transactions.size(), 1u);
  EXPECT_EQ(p.aborted_transactions[0], (AbortedTransaction{9, 2}));
  EXPECT_TRUE(p.records.empty());
  // Re-encoding writes length 0, not -1.
  Writer w;
  ASSERT_TRUE(EncodeFetchResponse(*r, 4, w).ok());
  std::string out = *w.Flatten();
  EXPECT_EQ(out.substr(out.size() - 4), Hex("00 00 00 00"));
}

// ---------------------------------------------------------------------------------------------
// ListOffsets

TEST(KafkaProtocolListOffsetsTest, RequestV1Golden) {
  ListOffsetsRequest request;
  request.replica_id = -1;
  auto partition = [](int32_t index, int64_t timestamp) {
    ListOffsetsRequestPartition p;
    p.partition_index = index;
    p.timestamp = timestamp;
    return p;
  };
  request.topics = {{"t", {partition(0, kEarliestTimestamp), partition(1, kLatestTimestamp)}}};
  ExpectGolden(EncodeListOffsetsRequest, DecodeListOffsetsRequest, request, 1,
               "ff ff ff ff | 00 00 00 01 | 00 01 't' | 00 00 00 02 |"
               "00 00 00 00 ff ff ff ff ff ff ff fe | 00 00 00 01 ff ff ff ff ff ff ff ff");
  EXPECT_FALSE(DecodeListOffsetsRequest(Hex("ff ff ff ff 00 00 00 00"), 0).ok());
  EXPECT_FALSE(DecodeListOffsetsRequest(Hex("ff ff ff ff 00 00 00 00"), 8).ok());
}

TEST(KafkaProtocolListOffsetsTest, ResponseV1Golden) {
  ListOffsetsResponse response;
  response.topics = {{"t",
                      {{0, KafkaErrorCode::kNone, -1, 10},
                       {1, KafkaErrorCode::kUnknownTopicOrPartition, -1, -1}}}};
  ExpectGolden(EncodeListOffsetsResponse, DecodeListOffsetsResponse, response, 1,
               "00 00 00 01 | 00 01 't' | 00 00 00 02 |"
               "00 00 00 00 00 00 ff ff ff ff ff ff ff ff 00 00 00 00 00 00 00 0a |"
               "00 00 00 01 00 03 ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
}

// ---------------------------------------------------------------------------------------------
// CreateTopics

CreateTopicsRequest SampleCreateTopicsRequest() {
  CreateTopicsRequest request;
  CreatableTopic t;
  t.name = "t";
  t.num_partitions = 3;
  t.replication_factor = 1;
  t.configs = {{"cleanup.policy", "compact"}, {"x", std::nullopt}};
  CreatableTopic manual;
  manual.name = "m";
  manual.num_partitions = -1;
  manual.replication_factor = -1;
  manual.assignments = {{0, {1, 2}}, {1, {2, 3}}};
  request.topics = {t, manual};
  request.timeout_ms = 30000;
  request.validate_only = true;
  return request;
}

TEST(KafkaProtocolCreateTopicsTest, RequestGoldens) {
  const std::string topics =
      "00 00 00 02 |"
      "  00 01 't' 00 00 00 03 00 01 | 00 00 00 00 |"
      "  00 00 00 02 00 0e 'cleanup.policy' 00 07 'compact' 00 01 'x' ff ff |"
      "  00 01 'm' ff ff ff ff ff ff |"
      "  00 00 00 02 00 00 00 00 00 00 00 02 00 00 00 01 00 00 00 02 |"
      "              00 00 00 01 00 00 00 02 00 00 00 02 00 00 00 03 |"
      "  00 00 00 00 |"
      "00 00 75 30";
  CreateTopicsRequest v0 = SampleCreateTopicsRequest();
  v0.validate_only = false;  // not in v0
  ExpectGolden(EncodeCreateTopicsRequest, DecodeCreateTopicsRequest, v0, 0, topics);
  for (int16_t v = 1; v <= 3; ++v) {
    ExpectGolden(EncodeCreateTopicsRequest, DecodeCreateTopicsRequest,
                 SampleCreateTopicsRequest(), v, absl::StrCat(topics, "| 01"));
  }
  EXPECT_FALSE(DecodeCreateTopicsRequest(Hex("00 00 00 00 00 00 75 30"), 4).ok());
  // v1 without validate_only is truncated.
  EXPECT_FALSE(DecodeCreateTopicsRequest(Hex("00 00 00 00 00 00 75 30"), 1).ok());
}

TEST(KafkaProtocolCreateTopicsTest, ResponseGoldens) {
  CreateTopicsResponse response;
  response.throttle_time_ms = 9;
  response.topics.resize(2);
  response.topics[0].name = "t";
  response.topics[1].name = "u";
  response.topics[1].error_code = KafkaErrorCode::kTopicAlreadyExists;
  response.topics[1].error_message = "taken";
  CreateTopicsResponse v0 = response;
  v0.throttle_time_ms = 0;
  for (auto& t : v0.topics) t.error_message = std::nullopt;
  ExpectGolden(EncodeCreateTopicsResponse, DecodeCreateTopicsResponse, v0, 0,
               "00 00 00 02 00 01 't' 00 00 00 01 'u' 00 24");
  CreateTopicsResponse v1 = response;
  v1.throttle_time_ms = 0;
  ExpectGolden(EncodeCreateTopicsResponse, DecodeCreateTopicsResponse, v1, 1,
               "00 00 00 02 00 01 't' 00 00 ff ff 00 01 'u' 00 24 00 05 'taken'");
  for (int16_t v = 2; v <= 3; ++v) {
    ExpectGolden(EncodeCreateTopicsResponse, DecodeCreateTopicsResponse, response, v,
                 "00 00 00 09 00 00 00 02 00 01 't' 00 00 ff ff 00 01 'u' 00 24 00 05 'taken'");
  }
}


// ---------------------------------------------------------------------------------------------
// DeleteTopics

TEST(KafkaProtocolDeleteTopicsTest, Goldens) {
  DeleteTopicsRequest request;
  request.topic_names = {"a", "b"};
  request.timeout_ms = 30000;
  for (int16_t v = 0; v <= 1; ++v) {
    ExpectGolden(EncodeDeleteTopicsRequest, DecodeDeleteTopicsRequest, request, v,
                 "00 00 00 02 00 01 'a' 00 01 'b' 00 00 75 30");
  }
  DeleteTopicsResponse response;
  response.responses = {{"a", {}, KafkaErrorCode::kNone, std::nullopt},
                        {"b", {}, KafkaErrorCode::kNotController, std::nullopt}};
  ExpectGolden(EncodeDeleteTopicsResponse, DecodeDeleteTopicsResponse, response, 0,
               "00 00 00 02 00 01 'a' 00 00 00 01 'b' 00 29");
  response.throttle_time_ms = 1;
  ExpectGolden(EncodeDeleteTopicsResponse, DecodeDeleteTopicsResponse, response, 1,
               "00 00 00 01 00 00 00 02 00 01 'a' 00 00 00 01 'b' 00 29");
  EXPECT_FALSE(DecodeDeleteTopicsRequest(Hex("00 00 00 00 00 00 00 00"), 7).ok());
}

}  // namespace
}  // namespace gregor::kafka

