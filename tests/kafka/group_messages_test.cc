// Consumer-group messages: golden bytes written by hand from the layouts of
// shared/reference/consumer-groups.md §2 and the wire doc's §2.1 (and Kafka's message JSONs),
// above all for the versions kafka-python 2.0.2 cannot cross-check (static membership, v3+).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka/messages.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"

namespace gregor::kafka {
namespace {

using ::gregor::kafka::testing::EncodeToString;
using ::gregor::kafka::testing::ExpectGolden;
using ::gregor::kafka::testing::Hex;
using ::gregor::kafka::testing::ToHex;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// FindCoordinator

TEST(KafkaProtocolFindCoordinatorTest, RequestGoldens) {
  // v0: the group id only; key_type stays 0 (group).
  ExpectGolden(EncodeFindCoordinatorRequest, DecodeFindCoordinatorRequest,
               FindCoordinatorRequest{.key = "g1"}, 0, "00 02 'g1'");
  // v1 = v2: + key_type int8 (1 = transaction).
  for (int16_t v = 1; v <= 2; ++v) {
    ExpectGolden(EncodeFindCoordinatorRequest, DecodeFindCoordinatorRequest,
                 FindCoordinatorRequest{.key = "tx", .key_type = 1}, v, "00 02 'tx' 01");
  }
  EXPECT_FALSE(DecodeFindCoordinatorRequest(Hex("00 02 'tx'"), 1).ok());  // no key_type
  EXPECT_FALSE(DecodeFindCoordinatorRequest(Hex("00 02 'tx' 01"), 3).ok());  // flexible
}

TEST(KafkaProtocolFindCoordinatorTest, ResponseV0Golden) {
  FindCoordinatorResponse response;
  response.node_id = 1;
  response.host = "h";
  response.port = 9092;
  ExpectGolden(EncodeFindCoordinatorResponse, DecodeFindCoordinatorResponse, response, 0,
               "00 00 | 00 00 00 01 | 00 01 'h' | 00 00 23 84");
}

TEST(KafkaProtocolFindCoordinatorTest, ResponseV1WithAnError) {
  // What Kafka sends when no coordinator is ready: node -1, host "", port -1, and the error's
  // message (v1+ only).
  FindCoordinatorResponse response;
  response.error_code = KafkaErrorCode::kCoordinatorNotAvailable;
  response.error_message = "The coordinator is not available.";
  response.node_id = -1;
  response.host = "";
  response.port = -1;
  ExpectGolden(EncodeFindCoordinatorResponse, DecodeFindCoordinatorResponse, response, 1,
               "00 00 00 00 | 00 0f | 00 21 'The coordinator is not available.' |"
               "ff ff ff ff | 00 00 | ff ff ff ff");
  // v2: the same layout; a null message on success, a throttle time first.
  FindCoordinatorResponse ok;
  ok.throttle_time_ms = 3;
  ok.node_id = 1;
  ok.host = "h";
  ok.port = 9092;
  ExpectGolden(EncodeFindCoordinatorResponse, DecodeFindCoordinatorResponse, ok, 2,
               "00 00 00 03 | 00 00 | ff ff | 00 00 00 01 | 00 01 'h' | 00 00 23 84");
}

// ---------------------------------------------------------------------------------------------
// JoinGroup

JoinGroupResponse LeaderJoinResponse() {
  JoinGroupResponse response;
  response.generation_id = 1;
  response.protocol_name = "range";
  response.leader = "m1";
  response.member_id = "m1";
  response.members = {{.member_id = "m1", .group_instance_id = std::nullopt, .metadata = "ab"},
                      {.member_id = "m2", .group_instance_id = std::nullopt, .metadata = ""}};
  return response;
}

TEST(KafkaProtocolJoinGroupTest, ResponseV2ToTheLeader) {
  const std::string rest =
      "00 00 | 00 00 00 01 | 00 05 'range' | 00 02 'm1' | 00 02 'm1' |"
      "00 00 00 02 | 00 02 'm1' 00 00 00 02 'ab' | 00 02 'm2' 00 00 00 00";
  // v2: throttle_time_ms first.
  ExpectGolden(EncodeJoinGroupResponse, DecodeJoinGroupResponse, LeaderJoinResponse(), 2,
               absl::StrCat("00 00 00 00 |", rest));
  // v0 = v1: no throttle time.
  for (int16_t v = 0; v <= 1; ++v) {
    ExpectGolden(EncodeJoinGroupResponse, DecodeJoinGroupResponse, LeaderJoinResponse(), v, rest);
  }
  // Below v5 a member's group_instance_id is not written (KAFKA-14422: a static member and a
  // v2 leader).
  JoinGroupResponse with_instance = LeaderJoinResponse();
  with_instance.members[0].group_instance_id = "i1";
  EXPECT_EQ(ToHex(EncodeToString(EncodeJoinGroupResponse, with_instance, 2)),
            ToHex(EncodeToString(EncodeJoinGroupResponse, LeaderJoinResponse(), 2)));
}

TEST(KafkaProtocolJoinGroupTest, ResponseV5MembersCarryInstanceIds) {
  JoinGroupResponse response;
  response.generation_id = 3;
  response.protocol_name = "range";
  response.leader = "m1";
  response.member_id = "m1";
  response.members = {{.member_id = "m1", .group_instance_id = "i1", .metadata = "ab"},
                      {.member_id = "m2", .group_instance_id = std::nullopt, .metadata = ""}};
  ExpectGolden(EncodeJoinGroupResponse, DecodeJoinGroupResponse, response, 5,
               "00 00 00 00 | 00 00 | 00 00 00 03 | 00 05 'range' | 00 02 'm1' | 00 02 'm1' |"
               "00 00 00 02 | 00 02 'm1' 00 02 'i1' 00 00 00 02 'ab' |"
               "              00 02 'm2' ff ff 00 00 00 00");
  // A failed join: generation -1 and an empty (never null) protocol name.
  JoinGroupResponse failed;
  failed.error_code = KafkaErrorCode::kMemberIdRequired;
  failed.member_id = "m9";
  ExpectGolden(EncodeJoinGroupResponse, DecodeJoinGroupResponse, failed, 5,
               "00 00 00 00 | 00 4f | ff ff ff ff | 00 00 | 00 00 | 00 02 'm9' | 00 00 00 00");
}

TEST(KafkaProtocolJoinGroupTest, RequestV5WithGroupInstanceId) {
  // librdkafka with group.instance.id: 45 s session, 300 s rebalance (max.poll.interval.ms).
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 45000;
  request.rebalance_timeout_ms = 300000;
  request.member_id = "";
  request.group_instance_id = "i1";
  request.protocol_type = "consumer";
  request.protocols = {{"range", "x"}};
  ExpectGolden(EncodeJoinGroupRequest, DecodeJoinGroupRequest, request, 5,
               "00 01 'g' | 00 00 af c8 | 00 04 93 e0 | 00 00 | 00 02 'i1' |"
               "00 08 'consumer' | 00 00 00 01 | 00 05 'range' 00 00 00 01 'x'");
  // Without an instance id: null.
  JoinGroupRequest dynamic = request;
  dynamic.group_instance_id.reset();
  ExpectGolden(EncodeJoinGroupRequest, DecodeJoinGroupRequest, dynamic, 5,
               "00 01 'g' | 00 00 af c8 | 00 04 93 e0 | 00 00 | ff ff |"
               "00 08 'consumer' | 00 00 00 01 | 00 05 'range' 00 00 00 01 'x'");
  // v1-v4 have the same layout without the instance id.
  for (int16_t v = 1; v <= 4; ++v) {
    ExpectGolden(EncodeJoinGroupRequest, DecodeJoinGroupRequest, dynamic, v,
                 "00 01 'g' | 00 00 af c8 | 00 04 93 e0 | 00 00 |"
                 "00 08 'consumer' | 00 00 00 01 | 00 05 'range' 00 00 00 01 'x'");
  }
}

TEST(KafkaProtocolJoinGroupTest, RequestV0HasNoRebalanceTimeout) {
  JoinGroupRequest request;
  request.group_id = "g";
  request.session_timeout_ms = 10000;
  request.protocol_type = "consumer";
  ExpectGolden(EncodeJoinGroupRequest, DecodeJoinGroupRequest, request, 0,
               "00 01 'g' | 00 00 27 10 | 00 00 | 00 08 'consumer' | 00 00 00 00");
  absl::StatusOr<JoinGroupRequest> decoded =
      DecodeJoinGroupRequest(Hex("00 01 'g' 00 00 27 10 00 00 00 08 'consumer' 00 00 00 00"), 0);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->rebalance_timeout_ms, -1);  // absent: the coordinator uses the session
}

// ---------------------------------------------------------------------------------------------
// SyncGroup, Heartbeat, LeaveGroup

TEST(KafkaProtocolSyncGroupTest, V3RequestAndV0Response) {
  SyncGroupRequest request;
  request.group_id = "g";
  request.generation_id = 1;
  request.member_id = "m1";
  request.group_instance_id = "i1";
  request.assignments = {{"m1", "ab"}};
  ExpectGolden(EncodeSyncGroupRequest, DecodeSyncGroupRequest, request, 3,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1' | 00 02 'i1' |"
               "00 00 00 01 | 00 02 'm1' 00 00 00 02 'ab'");
  SyncGroupResponse response;
  ExpectGolden(EncodeSyncGroupResponse, DecodeSyncGroupResponse, response, 0,
               "00 00 | 00 00 00 00");
  response.throttle_time_ms = 2;
  response.assignment = "ab";
  ExpectGolden(EncodeSyncGroupResponse, DecodeSyncGroupResponse, response, 3,
               "00 00 00 02 | 00 00 | 00 00 00 02 'ab'");
}

TEST(KafkaProtocolHeartbeatTest, V3RequestAndV0Response) {
  HeartbeatRequest request{"g", 1, "m1", std::nullopt};
  ExpectGolden(EncodeHeartbeatRequest, DecodeHeartbeatRequest, request, 3,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1' | ff ff");
  ExpectGolden(EncodeHeartbeatRequest, DecodeHeartbeatRequest, request, 2,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1'");
  HeartbeatResponse response;
  response.error_code = KafkaErrorCode::kRebalanceInProgress;
  ExpectGolden(EncodeHeartbeatResponse, DecodeHeartbeatResponse, response, 0, "00 1b");
  ExpectGolden(EncodeHeartbeatResponse, DecodeHeartbeatResponse, response, 1, "00 00 00 00 00 1b");
}

TEST(KafkaProtocolLeaveGroupTest, V3IsABatch) {
  LeaveGroupRequest one;
  one.group_id = "g";
  one.member_id = "m1";
  ExpectGolden(EncodeLeaveGroupRequest, DecodeLeaveGroupRequest, one, 1, "00 01 'g' | 00 02 'm1'");
  LeaveGroupRequest batch;
  batch.group_id = "g";
  batch.members = {{"m1", std::nullopt}, {"", "i2"}};
  ExpectGolden(EncodeLeaveGroupRequest, DecodeLeaveGroupRequest, batch, 3,
               "00 01 'g' | 00 00 00 02 | 00 02 'm1' ff ff | 00 00 00 02 'i2'");
  LeaveGroupResponse response;
  response.members = {{"m1", std::nullopt, KafkaErrorCode::kNone},
                      {"", "i2", KafkaErrorCode::kUnknownMemberId}};
  ExpectGolden(EncodeLeaveGroupResponse, DecodeLeaveGroupResponse, response, 3,
               "00 00 00 00 | 00 00 | 00 00 00 02 | 00 02 'm1' ff ff 00 00 |"
               "00 00 00 02 'i2' 00 19");
  LeaveGroupResponse v0;
  v0.error_code = KafkaErrorCode::kRebalanceInProgress;
  ExpectGolden(EncodeLeaveGroupResponse, DecodeLeaveGroupResponse, v0, 0, "00 1b");
}

// ---------------------------------------------------------------------------------------------
// OffsetCommit

TEST(KafkaProtocolOffsetCommitTest, RequestV2AndV7) {
  OffsetCommitRequest v2;
  v2.group_id = "g";
  v2.generation_id = 1;
  v2.member_id = "m1";
  v2.topics = {{"t", {{.partition_index = 0, .committed_offset = 42, .committed_metadata = ""}}}};
  ExpectGolden(EncodeOffsetCommitRequest, DecodeOffsetCommitRequest, v2, 2,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1' | ff ff ff ff ff ff ff ff |"
               "00 00 00 01 | 00 01 't' | 00 00 00 01 |"
               "00 00 00 00 | 00 00 00 00 00 00 00 2a | 00 00");
  // v7: no retention time (v5), the leader epoch after the offset (v6), the instance id after
  // the member id (v7).
  OffsetCommitRequest v7;
  v7.group_id = "g";
  v7.generation_id = 1;
  v7.member_id = "m1";
  v7.group_instance_id = "i1";
  v7.topics = {{"t",
                {{.partition_index = 0, .committed_offset = 42, .committed_leader_epoch = 5,
                  .committed_metadata = std::nullopt}}}};
  ExpectGolden(EncodeOffsetCommitRequest, DecodeOffsetCommitRequest, v7, 7,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1' | 00 02 'i1' |"
               "00 00 00 01 | 00 01 't' | 00 00 00 01 |"
               "00 00 00 00 | 00 00 00 00 00 00 00 2a | 00 00 00 05 | ff ff");
  OffsetCommitRequest v5 = v7;
  v5.group_instance_id.reset();
  v5.topics[0].partitions[0].committed_leader_epoch = -1;
  ExpectGolden(EncodeOffsetCommitRequest, DecodeOffsetCommitRequest, v5, 5,
               "00 01 'g' | 00 00 00 01 | 00 02 'm1' |"
               "00 00 00 01 | 00 01 't' | 00 00 00 01 |"
               "00 00 00 00 | 00 00 00 00 00 00 00 2a | ff ff");
}

TEST(KafkaProtocolOffsetCommitTest, ResponseV2AndV3) {
  OffsetCommitResponse response;
  response.topics = {{"t", {{0, KafkaErrorCode::kNone}, {1, KafkaErrorCode::kIllegalGeneration}}}};
  const std::string topics =
      "00 00 00 01 | 00 01 't' | 00 00 00 02 | 00 00 00 00 00 00 | 00 00 00 01 00 16";
  ExpectGolden(EncodeOffsetCommitResponse, DecodeOffsetCommitResponse, response, 2, topics);
  ExpectGolden(EncodeOffsetCommitResponse, DecodeOffsetCommitResponse, response, 3,
               absl::StrCat("00 00 00 00 |", topics));
}

// ---------------------------------------------------------------------------------------------
// OffsetFetch

OffsetFetchResponse SampleOffsetFetchResponse() {
  OffsetFetchResponse response;
  response.topics = {{"t",
                      {{0, 42, "m", KafkaErrorCode::kNone},
                       // Nothing committed: offset -1, metadata "", no error.
                       {1, -1, "", KafkaErrorCode::kNone}}}};
  return response;
}

constexpr char kOffsetFetchTopics[] =
    "00 00 00 01 | 00 01 't' | 00 00 00 02 |"
    "00 00 00 00 | 00 00 00 00 00 00 00 2a | 00 01 'm' | 00 00 |"
    "00 00 00 01 | ff ff ff ff ff ff ff ff | 00 00 | 00 00";

TEST(KafkaProtocolOffsetFetchTest, ResponseV1HasNoTopLevelError) {
  ExpectGolden(EncodeOffsetFetchResponse, DecodeOffsetFetchResponse, SampleOffsetFetchResponse(),
               1, kOffsetFetchTopics);
}

TEST(KafkaProtocolOffsetFetchTest, ResponseV3) {
  // v3: throttle_time_ms first, the top-level error_code (v2+) last.
  ExpectGolden(EncodeOffsetFetchResponse, DecodeOffsetFetchResponse, SampleOffsetFetchResponse(),
               3, absl::StrCat("00 00 00 00 |", kOffsetFetchTopics, "| 00 00"));
  ExpectGolden(EncodeOffsetFetchResponse, DecodeOffsetFetchResponse, SampleOffsetFetchResponse(),
               2, absl::StrCat(kOffsetFetchTopics, "| 00 00"));
  // A group-level error (the coordinator is still loading): no topics.
  OffsetFetchResponse loading;
  loading.throttle_time_ms = 1;
  loading.error_code = KafkaErrorCode::kCoordinatorLoadInProgress;
  ExpectGolden(EncodeOffsetFetchResponse, DecodeOffsetFetchResponse, loading, 3,
               "00 00 00 01 | 00 00 00 00 | 00 0e");
}

TEST(KafkaProtocolOffsetFetchTest, RequestNullTopicsFromV2) {
  OffsetFetchRequest some;
  some.group_id = "g";
  some.topics = std::vector<OffsetFetchRequestTopic>{{"t", {0, 1}}};
  for (int16_t v = 1; v <= 3; ++v) {
    ExpectGolden(EncodeOffsetFetchRequest, DecodeOffsetFetchRequest, some, v,
                 "00 01 'g' | 00 00 00 01 | 00 01 't' | 00 00 00 02 00 00 00 00 00 00 00 01");
  }
  // v2+: null = every committed partition.
  OffsetFetchRequest all;
  all.group_id = "g";
  for (int16_t v = 2; v <= 3; ++v) {
    ExpectGolden(EncodeOffsetFetchRequest, DecodeOffsetFetchRequest, all, v,
                 "00 01 'g' ff ff ff ff");
  }
  // v1 has no null, either way.
  Writer w;
  EXPECT_THAT(EncodeOffsetFetchRequest(all, 1, w).message(),
              HasSubstr("OffsetFetch request v1: topics: null is not allowed"));
  EXPECT_FALSE(DecodeOffsetFetchRequest(Hex("00 01 'g' ff ff ff ff"), 1).ok());
}

// ---------------------------------------------------------------------------------------------
// OffsetDelete

TEST(KafkaProtocolOffsetDeleteTest, ResponseErrorComesBeforeThrottle) {
  OffsetDeleteResponse response;
  response.throttle_time_ms = 7;
  response.topics = {{"t", {{0, KafkaErrorCode::kNone},
                            {1, KafkaErrorCode::kGroupSubscribedToTopic}}}};
  ExpectGolden(EncodeOffsetDeleteResponse, DecodeOffsetDeleteResponse, response, 0,
               "00 00 | 00 00 00 07 | 00 00 00 01 | 00 01 't' | 00 00 00 02 |"
               "00 00 00 00 00 00 | 00 00 00 01 00 56");
  OffsetDeleteResponse missing;
  missing.error_code = KafkaErrorCode::kGroupIdNotFound;
  missing.throttle_time_ms = 5;
  ExpectGolden(EncodeOffsetDeleteResponse, DecodeOffsetDeleteResponse, missing, 0,
               "00 45 | 00 00 00 05 | 00 00 00 00");
}

TEST(KafkaProtocolOffsetDeleteTest, Request) {
  OffsetDeleteRequest request{"g", {{"t", {{0}, {1}}}}};
  ExpectGolden(EncodeOffsetDeleteRequest, DecodeOffsetDeleteRequest, request, 0,
               "00 01 'g' | 00 00 00 01 | 00 01 't' | 00 00 00 02 | 00 00 00 00 | 00 00 00 01");
  EXPECT_FALSE(DecodeOffsetDeleteRequest(Hex("00 01 'g' 00 00 00 00"), 1).ok());
}

// ---------------------------------------------------------------------------------------------
// DescribeGroups, ListGroups, DeleteGroups

DescribeGroupsResponse SampleDescribeGroupsResponse() {
  DescribeGroupsResponse response;
  DescribedGroup group;
  group.group_id = "g";
  group.group_state = "Stable";
  group.protocol_type = "consumer";
  group.protocol_data = "range";
  group.members = {{.member_id = "m1", .group_instance_id = "i1", .client_id = "c",
                    .client_host = "/127.0.0.1", .member_metadata = "ab", .member_assignment = ""}};
  response.groups = {group};
  return response;
}

TEST(KafkaProtocolDescribeGroupsTest, ResponseV3AndV4) {
  // kafka-python 2.0.2 has no usable v3 schema (the schema cross-check skips it), nor a v4.
  const std::string group =
      "00 00 00 01 | 00 00 | 00 01 'g' | 00 06 'Stable' | 00 08 'consumer' | 00 05 'range' |"
      "00 00 00 01 | 00 02 'm1' |";
  const std::string member_rest =
      "00 01 'c' | 00 0a '/127.0.0.1' | 00 00 00 02 'ab' | 00 00 00 00 |";
  // v4: the member's instance id; authorized_operations INT32_MIN (not asked for).
  ExpectGolden(EncodeDescribeGroupsResponse, DecodeDescribeGroupsResponse,
               SampleDescribeGroupsResponse(), 4,
               absl::StrCat("00 00 00 00 |", group, "00 02 'i1' |", member_rest, "80 00 00 00"));
  DescribeGroupsResponse v3 = SampleDescribeGroupsResponse();
  v3.groups[0].members[0].group_instance_id.reset();
  v3.groups[0].authorized_operations = 0x0f;
  ExpectGolden(EncodeDescribeGroupsResponse, DecodeDescribeGroupsResponse, v3, 3,
               absl::StrCat("00 00 00 00 |", group, member_rest, "00 00 00 0f"));
  // v1 = v2: neither.
  v3.groups[0].authorized_operations = INT32_MIN;
  ExpectGolden(EncodeDescribeGroupsResponse, DecodeDescribeGroupsResponse, v3, 2,
               absl::StrCat("00 00 00 00 |", group, member_rest));
}

TEST(KafkaProtocolDescribeGroupsTest, RequestV3) {
  DescribeGroupsRequest request{{"g"}, true};
  ExpectGolden(EncodeDescribeGroupsRequest, DecodeDescribeGroupsRequest, request, 3,
               "00 00 00 01 00 01 'g' 01");
  request.include_authorized_operations = false;
  ExpectGolden(EncodeDescribeGroupsRequest, DecodeDescribeGroupsRequest, request, 0,
               "00 00 00 01 00 01 'g'");
}

TEST(KafkaProtocolListGroupsTest, Goldens) {
  for (int16_t v = 0; v <= 2; ++v) {
    ExpectGolden(EncodeListGroupsRequest, DecodeListGroupsRequest, ListGroupsRequest{}, v, "");
  }
  ListGroupsResponse response;
  // An offsets-only group has protocol type "".
  response.groups = {{"g", "consumer"}, {"o", ""}};
  const std::string body = "00 00 | 00 00 00 02 | 00 01 'g' 00 08 'consumer' | 00 01 'o' 00 00";
  ExpectGolden(EncodeListGroupsResponse, DecodeListGroupsResponse, response, 0, body);
  ExpectGolden(EncodeListGroupsResponse, DecodeListGroupsResponse, response, 2,
               absl::StrCat("00 00 00 00 |", body));
}

TEST(KafkaProtocolDeleteGroupsTest, Goldens) {
  for (int16_t v = 0; v <= 1; ++v) {
    ExpectGolden(EncodeDeleteGroupsRequest, DecodeDeleteGroupsRequest,
                 DeleteGroupsRequest{{"a", "b"}}, v, "00 00 00 02 00 01 'a' 00 01 'b'");
    DeleteGroupsResponse response;
    response.results = {{"a", KafkaErrorCode::kNone}, {"b", KafkaErrorCode::kNonEmptyGroup}};
    ExpectGolden(EncodeDeleteGroupsResponse, DecodeDeleteGroupsResponse, response, v,
                 "00 00 00 00 | 00 00 00 02 | 00 01 'a' 00 00 | 00 01 'b' 00 44");
  }
}

}  // namespace
}  // namespace gregor::kafka
