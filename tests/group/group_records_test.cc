// The __consumer_offsets formats against the bytes in consumer-groups.md §5.2, the group -> partition
// hash against OpenJDK's String.hashCode (§5.1), the consumer protocol payloads and the loader.
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "broker/group/consumer_protocol.h"
#include "broker/group/group_hash.h"
#include "broker/group/group_loader.h"
#include "broker/group/offsets_records.h"

namespace gregor::group {
namespace {

std::string Hex(std::string_view bytes) { return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size())); }
std::string Unhex(std::string_view hex) {
  std::string compact;
  for (char c : hex) if (c != ' ') compact.push_back(c);
  return absl::HexStringToBytes(compact);
}

TEST(GroupHashTest, MatchesJavaStringHashCode) {
  EXPECT_EQ(JavaStringHashCode(""), 0);
  EXPECT_EQ(JavaStringHashCode("my-group"), -1906497762);
  EXPECT_EQ(JavaStringHashCode("test-group"), 627841412);
  EXPECT_EQ(JavaStringHashCode("console-consumer-1"), 35782224);
  EXPECT_EQ(JavaStringHashCode("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(JavaStringHashCode("gr\xC3\xBCppe"), -1233264812);       // grüppe
  EXPECT_EQ(JavaStringHashCode("\xF0\x9F\x98\x80"), 1772899);        // U+1F600, two surrogates
}

TEST(GroupHashTest, PartitionForUsesKafkasAbs) {
  EXPECT_EQ(OffsetsPartitionFor("", 50), 0);
  EXPECT_EQ(OffsetsPartitionFor("my-group", 50), 12);
  EXPECT_EQ(OffsetsPartitionFor("test-group", 50), 12);
  EXPECT_EQ(OffsetsPartitionFor("console-consumer-1", 50), 24);
  EXPECT_EQ(OffsetsPartitionFor("polygenelubricants", 50), 0);  // abs(INT32_MIN) is 0
  EXPECT_EQ(OffsetsPartitionFor("gr\xC3\xBCppe", 50), 12);
  EXPECT_EQ(OffsetsPartitionFor("\xF0\x9F\x98\x80", 50), 49);
}

TEST(OffsetsRecordsTest, KafkaBytes) {
  EXPECT_EQ(Hex(EncodeOffsetKey({"my-group", "orders", 3})),
            "00010008" "6d792d67726f7570" "0006" "6f7264657273" "00000003");
  OffsetValue v;
  v.offset = 42;
  v.commit_timestamp = 1700000000000;
  EXPECT_EQ(Hex(EncodeOffsetValue(v)), "0003" "000000000000002a" "ffffffff" "0000" "0000018bcfe56800");
  EXPECT_EQ(Hex(EncodeGroupKey("my-group")), "0002" "0008" "6d792d67726f7570");
  GroupValue g;
  g.protocol_type = "consumer";
  g.generation = 2;
  g.current_state_timestamp = 1700000000000;
  EXPECT_EQ(Hex(EncodeGroupValue(g)),
            "0003" "0008636f6e73756d6572" "00000002" "ffff" "ffff" "0000018bcfe56800" "00000000");
}

TEST(OffsetsRecordsTest, RoundTripsEveryWrittenVersion) {
  OffsetValue v{7, 3, "meta", 1234, std::nullopt};
  EXPECT_EQ(*DecodeOffsetValue(EncodeOffsetValue(v)), v);
  v.expire_timestamp = 99999;  // written as v1 (no leader epoch in v1)
  v.leader_epoch = -1;
  EXPECT_EQ(Unhex(Hex(EncodeOffsetValue(v))).substr(0, 2), std::string("\0\1", 2));
  EXPECT_EQ(*DecodeOffsetValue(EncodeOffsetValue(v)), v);

  GroupValue g;
  g.protocol_type = "consumer";
  g.generation = 5;
  g.protocol = "range";
  g.leader = "m1";
  g.current_state_timestamp = 77;
  g.members.push_back({"m1", "i1", "client", "/127.0.0.1", 300000, 45000, "sub", "asg"});
  g.members.push_back({"m2", std::nullopt, "client", "/127.0.0.2", 60000, 30000, "", ""});
  EXPECT_EQ(*DecodeGroupValue(EncodeGroupValue(g)), g);

  auto key = DecodeKey(EncodeOffsetKey({"g", "t", 9}));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->kind, RecordKey::Kind::kOffset);
  EXPECT_EQ(key->offset, (OffsetKey{"g", "t", 9}));
  key = DecodeKey(EncodeGroupKey("g"));
  EXPECT_EQ(key->kind, RecordKey::Kind::kGroup);
  EXPECT_EQ(key->group, "g");
}

TEST(OffsetsRecordsTest, ReadsOlderVersions) {
  // OffsetCommitValue v0: offset, metadata, commit timestamp.
  auto v0 = DecodeOffsetValue(Unhex("0000 0000000000000005 0001 78 00000000000003e8"));
  ASSERT_TRUE(v0.ok()) << v0.status();
  EXPECT_EQ(v0->offset, 5);
  EXPECT_EQ(v0->metadata, "x");
  EXPECT_EQ(v0->commit_timestamp, 1000);
  EXPECT_EQ(v0->leader_epoch, -1);
  // GroupMetadataValue v0: no state timestamp, members without rebalance timeout.
  auto g0 = DecodeGroupValue(Unhex("0000 0001 63 00000001 0001 72 0002 6d31 00000001"
                                   "0002 6d31 0001 63 0001 68 00002710 00000000 00000000"));
  ASSERT_TRUE(g0.ok()) << g0.status();
  ASSERT_EQ(g0->members.size(), 1u);
  EXPECT_EQ(g0->members[0].session_timeout_ms, 10000);
  EXPECT_EQ(g0->members[0].rebalance_timeout_ms, 10000);
  EXPECT_EQ(g0->current_state_timestamp, -1);
  // A key version this coordinator does not know is reported as such, not as an error.
  auto unknown = DecodeKey(Unhex("0007 0001 61"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->kind, RecordKey::Kind::kUnknown);
  EXPECT_FALSE(DecodeOffsetValue(Unhex("0009 00")).ok());
  EXPECT_FALSE(DecodeGroupValue(Unhex("0003 0008 636f")).ok());  // truncated
}

TEST(ConsumerProtocolTest, ParsesWhatClientsSend) {
  // librdkafka's subscription v1 for [t1] (consumer-groups.md §6).
  auto topics = ParseSubscriptionTopics(Unhex("0001 00000001 0002 7431 00000000 00000000"));
  ASSERT_TRUE(topics.has_value());
  EXPECT_EQ(*topics, std::vector<std::string>{"t1"});
  auto assignment = ParseAssignment(EncodeAssignmentV0({{"t1", {0, 2}}, {"t2", {1}}}));
  ASSERT_TRUE(assignment.has_value());
  EXPECT_EQ((*assignment)["t1"], (std::vector<int32_t>{0, 2}));
  EXPECT_EQ((*assignment)["t2"], (std::vector<int32_t>{1}));
  EXPECT_TRUE(ParseAssignment("")->empty());
  EXPECT_FALSE(ParseSubscriptionTopics("\x00").has_value());
  EXPECT_FALSE(ParseAssignment(Unhex("0000 00000005")).has_value());
}

TEST(GroupLoaderTest, LaterRecordsWinAndTombstonesRemove) {
  GroupLoader loader;
  OffsetValue v1{10, -1, "", 1, std::nullopt}, v2{20, -1, "", 2, std::nullopt};
  loader.Apply(EncodeOffsetKey({"g", "t", 0}), EncodeOffsetValue(v1));
  loader.Apply(EncodeOffsetKey({"g", "t", 0}), EncodeOffsetValue(v2));
  loader.Apply(EncodeOffsetKey({"g", "t", 1}), EncodeOffsetValue(v1));
  loader.Apply(EncodeOffsetKey({"g", "t", 1}), std::nullopt);
  GroupValue gv;
  gv.protocol_type = "consumer";
  gv.generation = 3;
  loader.Apply(EncodeGroupKey("g"), EncodeGroupValue(gv));
  loader.Apply(EncodeGroupKey("gone"), EncodeGroupValue(gv));
  loader.Apply(EncodeGroupKey("gone"), std::nullopt);
  loader.Apply(std::string("\x00\x07\x00\x01\x61", 5), std::string("zz"));  // unknown key version
  loader.Apply(std::nullopt, std::string("v"));                            // null key
  loader.Apply(EncodeOffsetKey({"h", "t", 0}), std::string("\x00\x09"));    // bad value
  LoadedPartition out = std::move(loader).Finish();
  EXPECT_EQ(out.records, 10);
  EXPECT_EQ(out.skipped, 3);
  ASSERT_EQ(out.groups.size(), 1u);
  const LoadedGroup& g = out.groups.at("g");
  ASSERT_TRUE(g.metadata.has_value());
  EXPECT_EQ(g.metadata->generation, 3);
  ASSERT_EQ(g.offsets.size(), 1u);
  EXPECT_EQ(g.offsets.at({"t", 0}).offset, 20);
}

}  // namespace
}  // namespace gregor::group
