// Golden bytes of the served versions kafka-python 2.0.2 has no classes for (most of them
// flexible): laid out by hand from Kafka's message JSONs — compact strings and arrays are
// length+1 varints, every struct ends in a tagged-field count, tagged fields are (tag, size,
// bytes) — and checked both ways (encode to exactly these bytes, decode back). The versions
// kafka-python has are cross-checked against its classes (kafka_python_schema_crosscheck.py).
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

// One broker (1, "h", 9092), cluster "c" with controller 1, topic "t" with partition 0 led by 1
// at epoch 5 (replicas and ISR {1}): the Metadata answer the goldens below encode.
MetadataResponse MetadataSample() {
  MetadataResponse response;
  response.brokers.push_back({1, "h", 9092, std::nullopt});
  response.cluster_id = "c";
  response.controller_id = 1;
  MetadataResponseTopic& t = response.topics.emplace_back();
  t.name = "t";
  MetadataResponsePartition& p = t.partitions.emplace_back();
  p.leader_id = 1;
  p.leader_epoch = 5;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  return response;
}

// Topic "t" with one config a=1 set on it (source 1), its synonym, type LONG, documentation "d".
DescribeConfigsResponse DescribeConfigsSample() {
  DescribeConfigsResponse response;
  DescribeConfigsResult& r = response.results.emplace_back();
  r.resource_type = 2;
  r.resource_name = "t";
  DescribeConfigsResourceResult& c = r.configs.emplace_back();
  c.name = "a";
  c.value = "1";
  c.config_source = 1;
  c.synonyms.push_back({"a", "1", 1});
  c.config_type = 5;
  c.documentation = "d";
  return response;
}

// Log dir "/d" holding partition t-0 (100 bytes, no lag).
DescribeLogDirsResponse LogDirsSample() {
  DescribeLogDirsResponse response;
  DescribeLogDirsResult& d = response.results.emplace_back();
  d.log_dir = "/d";
  DescribeLogDirsTopic& t = d.topics.emplace_back();
  t.name = "t";
  t.partitions.push_back({0, 100, 0, false});
  return response;
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
  MetadataResponse response = MetadataSample();
  response.topics[0].topic_id.bytes[15] = 1;
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

// InitProducerId: v0-1 classic, v2+ flexible, v3+ with the current id and epoch (KIP-360).
TEST(KafkaProtocolFlexibleGoldensTest, InitProducerId) {
  ExpectGolden(EncodeInitProducerIdRequest, DecodeInitProducerIdRequest,
               InitProducerIdRequest{std::nullopt, 60000, -1, -1}, 0, "ff ff 00 00 ea 60");
  ExpectGolden(EncodeInitProducerIdRequest, DecodeInitProducerIdRequest,
               InitProducerIdRequest{std::nullopt, 60000, -1, -1}, 2, "00 00 00 ea 60 00");
  ExpectGolden(EncodeInitProducerIdRequest, DecodeInitProducerIdRequest,
               InitProducerIdRequest{"x", 60000, 1000, 3}, 4,
               "02 'x' 00 00 ea 60 00 00 00 00 00 00 03 e8 00 03 00");
  ExpectGolden(EncodeInitProducerIdResponse, DecodeInitProducerIdResponse,
               InitProducerIdResponse{0, KafkaErrorCode::kNone, 1000, 0}, 1,
               "00 00 00 00 00 00 00 00 00 00 00 00 03 e8 00 00");
  ExpectGolden(EncodeInitProducerIdResponse, DecodeInitProducerIdResponse,
               InitProducerIdResponse{0, KafkaErrorCode::kNone, 1000, 1}, 4,
               "00 00 00 00 00 00 00 00 00 00 00 00 03 e8 00 01 00");
}

// DescribeProducers v0 (KIP-664, flexible).
TEST(KafkaProtocolFlexibleGoldensTest, DescribeProducersV0) {
  ExpectGolden(EncodeDescribeProducersRequest, DecodeDescribeProducersRequest,
               DescribeProducersRequest{{{"t", {0}}}}, 0, "02 02 't' 02 00 00 00 00 00 00");
  DescribeProducersResponse response;
  response.topics = {{"t", {{0, KafkaErrorCode::kNone, std::nullopt, {{1000, 3, 41, 1700, -1, -1}}}}}};
  ExpectGolden(EncodeDescribeProducersResponse, DecodeDescribeProducersResponse, response, 0,
               "00 00 00 00 02 02 't' 02 00 00 00 00 00 00 00 "  // throttle, topic, partition 0, error, null message
               "02 00 00 00 00 00 00 03 e8 00 00 00 03 00 00 00 29 "  // producer 1000, epoch 3, seq 41
               "00 00 00 00 00 00 06 a4 ff ff ff ff ff ff ff ff ff ff ff ff 00 "  // timestamp, -1, -1
               "00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DeleteTopicsV6Request) {
  DeleteTopicsRequest request;
  DeleteTopicState& t = request.topics.emplace_back();
  t.topic_id.bytes[15] = 1;
  request.timeout_ms = 1000;
  ExpectGolden(EncodeDeleteTopicsRequest, DecodeDeleteTopicsRequest, request, 6,
               "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 03 e8 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, ListOffsetsV6Request) {
  ListOffsetsRequest request;
  request.isolation_level = 1;
  ListOffsetsRequestTopic& t = request.topics.emplace_back();
  t.name = "t";
  t.partitions.push_back({0, 2, -1});
  ExpectGolden(EncodeListOffsetsRequest, DecodeListOffsetsRequest, request, 6,
               "ff ff ff ff 01 02 02 't' 02 00 00 00 00 00 00 00 02 "
               "ff ff ff ff ff ff ff ff 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, MetadataV8AndV9Responses) {
  MetadataResponse response = MetadataSample();
  response.topics[0].topic_authorized_operations = 3576;
  response.cluster_authorized_operations = 8096;
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, response, 8,
               "00 00 00 00 00 00 00 01 00 00 00 01 00 01 'h' 00 00 23 84 ff ff "  // brokers
               "00 01 'c' 00 00 00 01 "                                             // cluster, controller
               "00 00 00 01 00 00 00 01 't' 00 "                                    // topic t
               "00 00 00 01 00 00 00 00 00 00 00 00 00 01 00 00 00 05 "             // partition 0, leader 1, epoch 5
               "00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 00 "       // replicas, isr, offline
               "00 00 0d f8 00 00 1f a0");                                          // topic ops, cluster ops
  MetadataResponse empty;
  empty.cluster_authorized_operations = 8096;
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, empty, 9,
               "00 00 00 00 01 00 ff ff ff ff 01 00 00 1f a0 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, CreateTopicsV5Request) {
  CreateTopicsRequest request;
  CreatableTopic& t = request.topics.emplace_back();
  t.name = "t";
  t.configs.push_back({"a", "b"});
  request.timeout_ms = 1000;
  ExpectGolden(EncodeCreateTopicsRequest, DecodeCreateTopicsRequest, request, 5,
               "02 02 't' ff ff ff ff ff ff 01 02 02 'a' 02 'b' 00 00 00 00 03 e8 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DeleteTopicsV4ToV6Responses) {
  DeleteTopicsResponse response;
  response.responses.resize(1);
  response.responses[0].name = "a";
  ExpectGolden(EncodeDeleteTopicsResponse, DecodeDeleteTopicsResponse, response, 4,
               "00 00 00 00 02 02 'a' 00 00 00 00");
  ExpectGolden(EncodeDeleteTopicsResponse, DecodeDeleteTopicsResponse, response, 5,
               "00 00 00 00 02 02 'a' 00 00 00 00 00");
  response.responses[0].topic_id.bytes[15] = 1;
  ExpectGolden(EncodeDeleteTopicsResponse, DecodeDeleteTopicsResponse, response, 6,
               "00 00 00 00 02 02 'a' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 "
               "00 00 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DescribeConfigsV3AndV4) {
  DescribeConfigsRequest v3;
  v3.resources.push_back({4, "1", std::vector<std::string>{"x"}});
  v3.include_documentation = true;
  ExpectGolden(EncodeDescribeConfigsRequest, DecodeDescribeConfigsRequest, v3, 3,
               "00 00 00 01 04 00 01 '1' 00 00 00 01 00 01 'x' 00 01");
  DescribeConfigsRequest v4;
  v4.resources.push_back({2, "t", std::nullopt});
  v4.include_synonyms = true;
  v4.include_documentation = true;
  ExpectGolden(EncodeDescribeConfigsRequest, DecodeDescribeConfigsRequest, v4, 4,
               "02 02 02 't' 00 00 01 01 00");
  DescribeConfigsResponse response = DescribeConfigsSample();
  ExpectGolden(EncodeDescribeConfigsResponse, DecodeDescribeConfigsResponse, response, 4,
               "00 00 00 00 02 00 00 00 02 02 't' "                  // result: no error, topic t
               "02 02 'a' 02 '1' 00 01 00 02 02 'a' 02 '1' 01 00 05 02 'd' 00 "
               "00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, AlterConfigsV2AndIncrementalAlterConfigs) {
  AlterConfigsRequest alter;
  alter.resources.push_back({2, "t", {{"a", "1"}}});
  ExpectGolden(EncodeAlterConfigsRequest, DecodeAlterConfigsRequest, alter, 2,
               "02 02 02 't' 02 02 'a' 02 '1' 00 00 00 00");
  AlterConfigsResponse altered;
  altered.responses.push_back({KafkaErrorCode::kInvalidConfig, "x", 2, "t"});
  ExpectGolden(EncodeAlterConfigsResponse, DecodeAlterConfigsResponse, altered, 2,
               "00 00 00 00 02 00 28 02 'x' 02 02 't' 00 00");
  IncrementalAlterConfigsRequest incremental;
  incremental.resources.push_back({2, "t", {{"a", 2, "b"}}});
  ExpectGolden(EncodeIncrementalAlterConfigsRequest, DecodeIncrementalAlterConfigsRequest,
               incremental, 0, "00 00 00 01 02 00 01 't' 00 00 00 01 00 01 'a' 02 00 01 'b' 00");
  ExpectGolden(EncodeIncrementalAlterConfigsRequest, DecodeIncrementalAlterConfigsRequest,
               incremental, 1, "02 02 02 't' 02 02 'a' 02 02 'b' 00 00 00 00");
  IncrementalAlterConfigsResponse done;
  done.responses.push_back({KafkaErrorCode::kNone, std::nullopt, 2, "t"});
  ExpectGolden(EncodeIncrementalAlterConfigsResponse, DecodeIncrementalAlterConfigsResponse, done,
               1, "00 00 00 00 02 00 00 00 02 02 't' 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, CreatePartitionsV2AndV3) {
  CreatePartitionsRequest request;
  request.topics.push_back({"t", 3, std::vector<CreatePartitionsAssignment>{{{1, 2}}}});
  request.timeout_ms = 1000;
  ExpectGolden(EncodeCreatePartitionsRequest, DecodeCreatePartitionsRequest, request, 2,
               "02 02 't' 00 00 00 03 02 03 00 00 00 01 00 00 00 02 00 00 00 00 03 e8 00 00");
  CreatePartitionsResponse response;
  response.results.push_back({"t", KafkaErrorCode::kInvalidPartitions, "x"});
  ExpectGolden(EncodeCreatePartitionsResponse, DecodeCreatePartitionsResponse, response, 3,
               "00 00 00 00 02 02 't' 00 25 02 'x' 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DeleteRecordsV0AndV2) {
  DeleteRecordsRequest request;
  request.topics.push_back({"t", {{0, 10}}});
  request.timeout_ms = 1000;
  ExpectGolden(EncodeDeleteRecordsRequest, DecodeDeleteRecordsRequest, request, 0,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 03 e8");
  DeleteRecordsResponse response;
  response.topics.push_back({"t", {{0, 10, KafkaErrorCode::kNone}}});
  ExpectGolden(EncodeDeleteRecordsResponse, DecodeDeleteRecordsResponse, response, 2,
               "00 00 00 00 02 02 't' 02 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, DescribeLogDirsV0AndV4) {
  DescribeLogDirsRequest all;
  ExpectGolden(EncodeDescribeLogDirsRequest, DecodeDescribeLogDirsRequest, all, 0, "ff ff ff ff");
  DescribeLogDirsResponse response = LogDirsSample();
  response.results[0].total_bytes = 1000;
  response.results[0].usable_bytes = 500;
  ExpectGolden(EncodeDescribeLogDirsResponse, DecodeDescribeLogDirsResponse, response, 4,
               "00 00 00 00 00 00 "                                  // throttle, error
               "02 00 00 03 '/d' 02 02 't' 02 "                      // dir, topic t
               "00 00 00 00 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00 00 00 "
               "00 00 00 00 00 00 03 e8 00 00 00 00 00 00 01 f4 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, OffsetForLeaderEpochV0) {
  OffsetForLeaderEpochRequest request;
  request.topics = {{"t", {{0, -1, 3}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochRequest, DecodeOffsetForLeaderEpochRequest, request, 0,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 03");
  OffsetForLeaderEpochResponse response;
  response.topics = {{"t", {{KafkaErrorCode::kNone, 0, -1, 5}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochResponse, DecodeOffsetForLeaderEpochResponse, response, 0,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 05");
}

TEST(KafkaProtocolFlexibleGoldensTest, ElectLeadersV0AndV2) {
  ElectLeadersRequest v0;
  v0.topic_partitions.emplace().push_back({"t", {0}});
  v0.timeout_ms = 1000;
  ExpectGolden(EncodeElectLeadersRequest, DecodeElectLeadersRequest, v0, 0,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 03 e8");
  ElectLeadersRequest v2;
  v2.election_type = 1;
  v2.timeout_ms = 1000;
  ExpectGolden(EncodeElectLeadersRequest, DecodeElectLeadersRequest, v2, 2, "01 00 00 00 03 e8 00");
  ElectLeadersResponse response;
  response.replica_election_results.push_back({"t", {{0, KafkaErrorCode::kElectionNotNeeded, "x"}}});
  ExpectGolden(EncodeElectLeadersResponse, DecodeElectLeadersResponse, response, 2,
               "00 00 00 00 00 00 02 02 't' 02 00 00 00 00 00 54 02 'x' 00 00 00");
}

TEST(KafkaProtocolFlexibleGoldensTest, ProduceV9Response) {
  ProduceResponse response;
  ProduceTopicResponse& t = response.responses.emplace_back();
  t.name = "t";
  ProducePartitionResponse& p = t.partition_responses.emplace_back();
  p.error_code = KafkaErrorCode::kInvalidRecord;
  p.log_start_offset = 0;
  p.record_errors.push_back({1, "k"});
  p.error_message = "m";
  ExpectGolden(EncodeProduceResponse, DecodeProduceResponse, response, 9,
               "02 02 't' 02 00 00 00 00 00 57 "                     // partition 0, INVALID_RECORD
               "ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff "    // base offset, append time: -1
               "00 00 00 00 00 00 00 00 "                            // log start
               "02 00 00 00 01 02 'k' 00 02 'm' 00 00 "              // record errors, message
               "00 00 00 00 00");                                    // throttle, tags
}

// Versions whose layout is exactly that of a neighbour (Kafka bumped them for behaviour only:
// throttling, a new error code): their bytes must be the neighbour's, which has a golden here or
// a kafka-python class.
template <typename T>
void ExpectSameBytes(absl::Status (*encode)(const T&, int16_t, Writer&), const T& message,
                     int16_t version, int16_t neighbour) {
  EXPECT_EQ(ToHex(EncodeToString(encode, message, version)),
            ToHex(EncodeToString(encode, message, neighbour)))
      << "v" << version << " vs v" << neighbour;
}

TEST(KafkaProtocolFlexibleGoldensTest, VersionsThatOnlyChangedBehaviour) {
  CreateTopicsRequest create;
  create.topics.push_back({"t", 3, 1, {}, {{"a", "b"}}});
  create.timeout_ms = 1000;
  ExpectSameBytes(EncodeCreateTopicsRequest, create, 4, 3);
  ExpectSameBytes(EncodeCreateTopicsRequest, create, 6, 5);
  ExpectSameBytes(EncodeCreateTopicsRequest, create, 7, 5);
  CreateTopicsResponse created;
  created.topics.resize(1);
  created.topics[0].name = "t";
  ExpectSameBytes(EncodeCreateTopicsResponse, created, 4, 3);
  ExpectSameBytes(EncodeCreateTopicsResponse, created, 6, 5);
  CreatePartitionsRequest more;
  more.topics.push_back({"t", 3, std::nullopt});
  ExpectSameBytes(EncodeCreatePartitionsRequest, more, 3, 2);
  CreatePartitionsResponse grown;
  grown.results.push_back({"t", KafkaErrorCode::kNone, std::nullopt});
  ExpectSameBytes(EncodeCreatePartitionsResponse, grown, 2, 3);
  DeleteRecordsRequest del;
  del.topics.push_back({"t", {{0, 10}}});
  ExpectSameBytes(EncodeDeleteRecordsRequest, del, 1, 0);
  DeleteRecordsResponse deleted;
  deleted.topics.push_back({"t", {{0, 10, KafkaErrorCode::kNone}}});
  ExpectSameBytes(EncodeDeleteRecordsResponse, deleted, 1, 0);
  ListOffsetsRequest list;
  list.topics.push_back({"t", {{0, -1, -2}}});
  ExpectSameBytes(EncodeListOffsetsRequest, list, 7, 6);
  ListOffsetsResponse listed;
  listed.topics.push_back({"t", {{0, KafkaErrorCode::kNone, -1, 4, 1}}});
  ExpectSameBytes(EncodeListOffsetsResponse, listed, 6, 7);
  DescribeLogDirsRequest dirs;
  dirs.topics.emplace().push_back({"t", {0}});
  ExpectSameBytes(EncodeDescribeLogDirsRequest, dirs, 1, 0);
  ExpectSameBytes(EncodeDescribeLogDirsRequest, dirs, 3, 2);
  ExpectSameBytes(EncodeDescribeLogDirsRequest, dirs, 4, 2);
  DescribeLogDirsResponse described;
  described.results.push_back({KafkaErrorCode::kNone, "/d", {}, -1, -1});
  ExpectSameBytes(EncodeDescribeLogDirsResponse, described, 1, 0);
  MetadataRequest md;
  md.topics = std::vector<MetadataRequestTopic>{MetadataTopicNamed("t")};
  ExpectSameBytes(EncodeMetadataRequest, md, 6, 5);
  ExpectSameBytes(EncodeMetadataRequest, md, 7, 5);
  MetadataResponse mr;
  mr.brokers.push_back({1, "h", 9092, std::nullopt});
  ExpectSameBytes(EncodeMetadataResponse, mr, 6, 5);
  OffsetForLeaderEpochResponse epochs;
  epochs.topics = {{"t", {{KafkaErrorCode::kNone, 0, 1, 5}}}};
  ExpectSameBytes(EncodeOffsetForLeaderEpochResponse, epochs, 3, 2);
  OffsetForLeaderEpochRequest asks;
  asks.topics = {{"t", {{0, -1, 3}}}};
  ExpectSameBytes(EncodeOffsetForLeaderEpochRequest, asks, 1, 0);
  DeleteTopicsRequest names;
  names.topic_names = {"a"};
  ExpectSameBytes(EncodeDeleteTopicsRequest, names, 5, 4);
}

TEST(KafkaProtocolFlexibleGoldensTest, RemainingDistinctVersions) {
  DeleteRecordsResponse deleted;
  deleted.topics.push_back({"t", {{0, 10, KafkaErrorCode::kNone}}});
  ExpectGolden(EncodeDeleteRecordsResponse, DecodeDeleteRecordsResponse, deleted, 0,
               "00 00 00 00 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 "
               "00 00 00 00 00 00 00 0a 00 00");
  DeleteRecordsRequest del;
  del.topics.push_back({"t", {{0, 10}}});
  del.timeout_ms = 1000;
  ExpectGolden(EncodeDeleteRecordsRequest, DecodeDeleteRecordsRequest, del, 2,
               "02 02 't' 02 00 00 00 00 00 00 00 00 00 00 00 0a 00 00 00 00 03 e8 00");
  DeleteTopicsRequest names;
  names.topic_names = {"a"};
  names.timeout_ms = 1000;
  ExpectGolden(EncodeDeleteTopicsRequest, DecodeDeleteTopicsRequest, names, 4, "02 02 'a' 00 00 03 e8 00");
  ExpectGolden(EncodeDescribeClusterRequest, DecodeDescribeClusterRequest, DescribeClusterRequest{false, 1},
               0, "00 00");
  ExpectGolden(EncodeDescribeClusterRequest, DecodeDescribeClusterRequest, DescribeClusterRequest{false, 1},
               1, "00 01 00");
  DescribeClusterResponse cluster;
  cluster.cluster_id = "c";
  cluster.controller_id = 1;
  ExpectGolden(EncodeDescribeClusterResponse, DecodeDescribeClusterResponse, cluster, 0,
               "00 00 00 00 00 00 00 02 'c' 00 00 00 01 01 80 00 00 00 00");
  DescribeConfigsResponse configs = DescribeConfigsSample();
  ExpectGolden(EncodeDescribeConfigsResponse, DecodeDescribeConfigsResponse, configs, 3,
               "00 00 00 00 00 00 00 01 00 00 ff ff 02 00 01 't' 00 00 00 01 00 01 'a' 00 01 '1' "
               "00 01 00 00 00 00 01 00 01 'a' 00 01 '1' 01 05 00 01 'd'");
  DescribeLogDirsRequest all;
  ExpectGolden(EncodeDescribeLogDirsRequest, DecodeDescribeLogDirsRequest, all, 2, "00 00");
  DescribeLogDirsResponse dirs = LogDirsSample();
  ExpectGolden(EncodeDescribeLogDirsResponse, DecodeDescribeLogDirsResponse, dirs, 0,
               "00 00 00 00 00 00 00 01 00 00 00 02 '/d' 00 00 00 01 00 01 't' 00 00 00 01 "
               "00 00 00 00 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00");
  ExpectGolden(EncodeDescribeLogDirsResponse, DecodeDescribeLogDirsResponse, dirs, 2,
               "00 00 00 00 02 00 00 03 '/d' 02 02 't' 02 "
               "00 00 00 00 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00 00 00 00 00");
  ExpectGolden(EncodeDescribeLogDirsResponse, DecodeDescribeLogDirsResponse, dirs, 3,
               "00 00 00 00 00 00 02 00 00 03 '/d' 02 02 't' 02 "
               "00 00 00 00 00 00 00 00 00 00 00 64 00 00 00 00 00 00 00 00 00 00 00 00 00");
  IncrementalAlterConfigsResponse done;
  done.responses.push_back({KafkaErrorCode::kNone, std::nullopt, 2, "t"});
  ExpectGolden(EncodeIncrementalAlterConfigsResponse, DecodeIncrementalAlterConfigsResponse, done,
               0, "00 00 00 00 00 00 00 01 00 00 ff ff 02 00 01 't'");
}

TEST(KafkaProtocolFlexibleGoldensTest, MetadataV7ToV11) {
  MetadataRequest all;
  all.allow_auto_topic_creation = false;
  all.include_cluster_authorized_operations = true;
  all.include_topic_authorized_operations = true;
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, 8, "ff ff ff ff 00 01 01");
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, all, 9, "00 00 01 01 00");
  MetadataRequest by_id;
  MetadataRequestTopic& topic = by_id.topics.emplace().emplace_back();
  topic.topic_id.bytes[15] = 1;
  topic.name = "t";
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, by_id, 10,
               "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 02 't' 00 01 00 00 00");
  ExpectGolden(EncodeMetadataRequest, DecodeMetadataRequest, by_id, 11,  // no cluster operations
               "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 02 't' 00 01 00 00");
  MetadataResponse v7 = MetadataSample();
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, v7, 7,
               "00 00 00 00 00 00 00 01 00 00 00 01 00 01 'h' 00 00 23 84 ff ff "
               "00 01 'c' 00 00 00 01 "
               "00 00 00 01 00 00 00 01 't' 00 "
               "00 00 00 01 00 00 00 00 00 00 00 00 00 01 00 00 00 05 "
               "00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 01 00 00 00 00");
  MetadataResponse v10;
  v10.controller_id = -1;
  MetadataResponseTopic& t = v10.topics.emplace_back();
  t.name = "t";
  t.topic_id.bytes[15] = 1;
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, v10, 10,
               "00 00 00 00 01 00 ff ff ff ff "
               "02 00 00 02 't' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 01 80 00 00 00 00 "
               "80 00 00 00 00");
  ExpectGolden(EncodeMetadataResponse, DecodeMetadataResponse, v10, 11,
               "00 00 00 00 01 00 ff ff ff ff "
               "02 00 00 02 't' 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 01 80 00 00 00 00 "
               "00");
}

TEST(KafkaProtocolFlexibleGoldensTest, OffsetForLeaderEpochV1ToV3AndElectLeadersV0V1) {
  OffsetForLeaderEpochResponse epochs;
  epochs.topics = {{"t", {{KafkaErrorCode::kNone, 0, 1, 5}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochResponse, DecodeOffsetForLeaderEpochResponse, epochs, 1,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 00 00 01 "
               "00 00 00 00 00 00 00 05");
  ExpectGolden(EncodeOffsetForLeaderEpochResponse, DecodeOffsetForLeaderEpochResponse, epochs, 2,
               "00 00 00 00 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 00 00 01 "
               "00 00 00 00 00 00 00 05");
  OffsetForLeaderEpochRequest asks;
  asks.topics = {{"t", {{0, 3, 1}}}};
  ExpectGolden(EncodeOffsetForLeaderEpochRequest, DecodeOffsetForLeaderEpochRequest, asks, 2,
               "00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 03 00 00 00 01");
  asks.replica_id = -1;
  ExpectGolden(EncodeOffsetForLeaderEpochRequest, DecodeOffsetForLeaderEpochRequest, asks, 3,
               "ff ff ff ff 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 00 03 00 00 00 01");
  ElectLeadersRequest v1;
  v1.topic_partitions.emplace().push_back({"t", {0}});
  v1.timeout_ms = 1000;
  ExpectGolden(EncodeElectLeadersRequest, DecodeElectLeadersRequest, v1, 1,
               "00 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 00 03 e8");
  ElectLeadersResponse elected;
  elected.replica_election_results.push_back({"t", {{0, KafkaErrorCode::kElectionNotNeeded, "x"}}});
  ExpectGolden(EncodeElectLeadersResponse, DecodeElectLeadersResponse, elected, 0,
               "00 00 00 00 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 54 00 01 'x'");
  ExpectGolden(EncodeElectLeadersResponse, DecodeElectLeadersResponse, elected, 1,
               "00 00 00 00 00 00 00 00 00 01 00 01 't' 00 00 00 01 00 00 00 00 00 54 00 01 'x'");
}

}  // namespace
}  // namespace gregor::kafka
