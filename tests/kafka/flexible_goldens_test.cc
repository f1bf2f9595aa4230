// Golden bytes of the flexible versions no installed client library has classes for (kafka-python
// 2.0.2 stops before them): laid out by hand from Kafka's message JSONs — compact strings and
// arrays are length+1 varints, every struct ends in a tagged-field count, tagged fields are
// (tag, size, bytes) — and checked both ways (encode to exactly these bytes, decode back).
#include <optional>
#include <string>
#include <vector>

#include "common/kafka/messages.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"

namespace gregor::kafka {
namespace {

using ::gregor::kafka::testing::EncodeToString;
using ::gregor::kafka::testing::ExpectGolden;
using ::gregor::kafka::testing::Hex;
using ::gregor::kafka::testing::ToHex;

MetadataRequestTopic MetadataTopicNamed(std::string name) {
  MetadataRequestTopic t;
  t.name = std::move(name);
  return t;
}

// Metadata v12 (flexible; kafka-python has no class past v5): a topic asked for by name with a
// null-able name and a topic id, and an answer with leader epochs, offline replicas, topic ids
// and authorized operations, bytes laid out by hand from MetadataRequest/Response.json.
TEST(KafkaProtocolMetadataTest, FlexibleGoldensV12) {
  MetadataRequest request;
  request.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("t")};
  request.allow_auto_topic_creation = false;
  request.include_topic_authorized_operations = true;
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, request, 12,
               "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 't' 00 00 01 00");
  MetadataResponse response;
  response.brokers.push_back({1, "h", 9092, std::nullopt});
  response.cluster_id = "c";
  response.controller_id = 1;
  MetadataResponseTopic& t = response.topics.emplace_back();
  t.name = "t";
  t.topic_id.bytes[15] = 1;
  MetadataResponsePartition& p = t.partitions.emplace_back();
  p.leader_id = 1;
  p.leader_epoch = 5;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, response, 12,
               "00 00 00 00 "                                     // throttle
               "02 00 00 00 01 02 'h' 00 00 23 84 00 00 "         // brokers: 1, "h", 9092, null rack
               "02 'c' 00 00 00 01 "                              // cluster id, controller
               "02 00 00 02 't' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 "  // topic
               "02 00 00 00 00 00 00 00 00 00 01 00 00 00 05 02 00 00 00 01 02 00 00 00 01 01 00 "
               "80 00 00 00 00 "                                  // authorized ops (none asked), tags
               "00");
}

// Fetch v12 (flexible): the last fetched epoch in the request; a diverging epoch (tag 0) and the
// current leader (tag 1) in the answer.
TEST(KafkaProtocolFetchTest, FlexibleGoldensV12) {
  FetchRequest request;
  request.max_wait_ms = 500;
  request.min_bytes = 1;
  request.max_bytes = 1000;
  FetchRequestTopic& topic = request.topics.emplace_back();
  topic.topic = "t";
  FetchRequestPartition& fp = topic.partitions.emplace_back();
  fp.fetch_offset = 7;
  fp.last_fetched_epoch = 2;
  fp.partition_max_bytes = 100;
  ExpectGolden(EncodeFetchRequest, DecodeFetchRequest, request, 12,
               "ff ff ff ff 00 00 01 f4 00 00 00 01 00 00 03 e8 00 "   // replica, wait, min, max, isolation
               "00 00 00 00 ff ff ff ff "                              // session id, epoch
               "02 02 't' 02 00 00 00 00 ff ff ff ff 00 00 00 00 00 00 00 07 00 00 00 02 "
               "ff ff ff ff ff ff ff ff 00 00 00 64 00 00 "            // log start, max bytes, tags
               "01 01 00");                                            // no forgotten topics, rack "", tags
  FetchResponse response;
  FetchResponseTopic& rt = response.responses.emplace_back();
  rt.topic = "t";
  FetchResponsePartition& rp = rt.partitions.emplace_back();
  rp.high_watermark = 9;
  rp.last_stable_offset = 9;
  rp.log_start_offset = 0;
  rp.diverging_epoch = FetchDivergingEpoch{1, 5};
  rp.current_leader = FetchCurrentLeader{2, 3};
  // FetchResponse has no operator== (its records may be file slices): encode, then decode and
  // compare the fields.
  const std::string golden = Hex(
               "00 00 00 00 00 00 00 00 00 00 "                        // throttle, error, session
               "02 02 't' 02 00 00 00 00 00 00 "                       // topic, partition 0, no error
               "00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 00 "
               "01 ff ff ff ff 01 "                                    // no aborted txns, no preferred, empty records
               "02 00 0d 00 00 00 01 00 00 00 00 00 00 00 05 00 01 09 00 00 00 02 00 00 00 03 00 "
               "00 00");
  EXPECT_EQ(ToHex(EncodeToString(EncodeFetchResponse, response, 12)), ToHex(golden));
  auto decoded = DecodeFetchResponse(golden, 12);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const FetchResponsePartition& d = decoded->responses.at(0).partitions.at(0);
  EXPECT_EQ(d.diverging_epoch, rp.diverging_epoch);
  EXPECT_EQ(d.current_leader, rp.current_leader);
  EXPECT_FALSE(d.snapshot_id.has_value());
  EXPECT_EQ(d.high_watermark, 9);
}

// v5+ (flexible) answers what the topic got (KIP-525), v7 its id; kafka-python has neither.
TEST(KafkaProtocolCreateTopicsTest, FlexibleResponseGolden) {
  CreateTopicsResponse response;
  response.throttle_time_ms = 9;
  CreatableTopicResult& t = response.topics.emplace_back();
  t.name = "t";
  t.topic_id.bytes[15] = 7;
  t.num_partitions = 3;
  t.replication_factor = 1;
  t.configs = std::vector<CreatableTopicConfigs>{{"a", "b", false, 1, false}};
  ExpectGolden(EncodeCreateTopicsResponse, DecodeCreateTopicsResponse, response, 7,
               "00 00 00 09 02 02 't' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 07 00 00 00 "
               "00 00 00 03 00 01 02 02 'a' 02 'b' 00 01 00 00 00 00");
  t.topic_config_error_code = KafkaErrorCode::kInvalidConfig;  // tag 0
  t.configs = std::nullopt;
  t.topic_id = {};  // v7+
  ExpectGolden(EncodeCreateTopicsResponse, DecodeCreateTopicsResponse, response, 5,
               "00 00 00 09 02 02 't' 00 00 00 00 00 00 03 00 01 00 01 00 02 00 28 00");
}

// Flexible versions no installed client library has classes for: bytes laid out by hand from
// Kafka's message JSONs (compact strings and arrays are length+1 varints; every struct ends in
// a tagged-field count).
TEST(KafkaProtocolFlexibleGoldensTest, ProduceV9Request) {
  ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 1000;
  request.topic_data = {{"t", {{0, std::string_view("ab")}}}};
  ExpectGolden(EncodeProduceRequest, DecodeProduceRequest, request, 9,
               "00 ff ff 00 00 03 e8 02 02 't' 02 00 00 00 00 03 'ab' 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, ListOffsetsV7Response) {
  ListOffsetsResponse response;
  response.topics = {{"t", {{0, KafkaErrorCode::kNone, 1000, 5, 2}}}};
  ExpectGolden(EncodeListOffsetsResponse, DecodeListOffsetsResponse, response, 7,
               "00 00 00 00 02 02 't' 02 00 00 00 00 00 00 00 00 00 00 00 00 03 e8 "
               "00 00 00 00 00 00 00 05 00 00 00 02 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, OffsetForLeaderEpochV4) {
  OffsetForLeaderEpochRequest request;
  request.replica_id = -1;
  request.topics = {{"t", {{0, 3, 1}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochRequest, DecodeOffsetForLeaderEpochRequest, request, 4,
               "ff ff ff ff 02 02 't' 02 00 00 00 00 00 00 00 03 00 00 00 01 00 00 00");
  OffsetForLeaderEpochResponse response;
  response.topics = {{"t", {{KafkaErrorCode::kNone, 0, 1, 5}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochResponse, DecodeOffsetForLeaderEpochResponse, response, 4,
               "00 00 00 00 02 02 't' 02 00 00 00 00 00 00 00 00 00 01 "
               "00 00 00 00 00 00 00 05 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DescribeClusterV1Response) {
  DescribeClusterResponse response;
  response.cluster_id = "c";
  response.controller_id = 1;
  response.brokers = {{1, "h", 9092, "r"}};
  response.cluster_authorized_operations = 8096;
  ExpectGolden(EncodeDescribeClusterResponse, DecodeDescribeClusterResponse, response, 1,
               "00 00 00 00 00 00 00 01 02 'c' 00 00 00 01 "
               "02 00 00 00 01 02 'h' 00 00 23 84 02 'r' 00 00 00 1f a0 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DeleteTopicsV6Request) {
  DeleteTopicsRequest request;
  DeleteTopicState& t = request.topics.emplace_back();
  t.topic_id.bytes[15] = 1;
  request.timeout_ms = 1000;
  ExpectGolden(EncodeDeleteTopicsRequest, DecodeDeleteTopicsRequest, request, 6,
               "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 03 e8 00");
}

}  // namespace
}  // namespace gregor::kafka
