// The controller's decisions about topics: names, CreateTopics, placement, DeleteTopics,
// CreatePartitions, AlterConfigs.
#include "controller/control.h"
#include "common/metadata/topic_configs.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/metadata/topic_names.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controller/control_test_util.h"

namespace gregor::controller {
namespace {

using namespace ::gregor::controller::control_testing;  // NOLINT: the shared helpers

// =================================================================================================
// CreateTopics
// =================================================================================================

TEST(ControlTopicNameTest, KafkaNameRules) {
  MetadataImage image;
  EXPECT_FALSE(ValidateTopicName(image, "").ok());
  EXPECT_FALSE(ValidateTopicName(image, ".").ok());
  EXPECT_FALSE(ValidateTopicName(image, "..").ok());
  EXPECT_TRUE(ValidateTopicName(image, "...").ok());
  EXPECT_TRUE(ValidateTopicName(image, std::string(249, 'a')).ok());
  absl::Status too_long = ValidateTopicName(image, std::string(250, 'a'));
  EXPECT_FALSE(too_long.ok());
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("249"));
  EXPECT_TRUE(ValidateTopicName(image, "Orders-2024_v1.0").ok());
  for (const std::string& bad : std::vector<std::string>{"a b", "a/b", "a:b", "a*", "a\\b", "t\xc3\xa4", "a\nb", "a+b",
                          "a,b", std::string("a\0b", 3)}) {
    EXPECT_FALSE(ValidateTopicName(image, bad).ok()) << bad;
  }
}

TEST(ControlTopicNameTest, DotAndUnderscoreCollide) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("metrics.cpu", 1, 1);
  absl::Status s = ValidateTopicName(c.image, "metrics_cpu");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("metrics.cpu"));
  EXPECT_TRUE(ValidateTopicName(c.image, "metrics.cpu").ok());  // the same name is no collision
  EXPECT_TRUE(ValidateTopicName(c.image, "metrics-cpu").ok());

  auto result = c.Create({Cluster::Spec("metrics_cpu", 1, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidTopicException));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidNamesAreInvalidTopicException) {
  Cluster c;
  c.AddBroker(1);
  auto result = c.Create({Cluster::Spec("", 1, 1), Cluster::Spec(".", 1, 1),
                          Cluster::Spec("..", 1, 1), Cluster::Spec(std::string(250, 'x'), 1, 1),
                          Cluster::Spec("bad name", 1, 1), Cluster::Spec("ok", 1, 1)});
  ASSERT_EQ(result.reply.results_size(), 6);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(result.reply.results(i).error().code(), Code(KafkaErrorCode::kInvalidTopicException))
        << i;
    EXPECT_FALSE(result.reply.results(i).error().message().empty());
  }
  EXPECT_EQ(result.reply.results(5).error().code(), kNone);
  c.Commit(result.records);
  EXPECT_EQ(c.image.topics().size(), 1u);
  EXPECT_NE(c.image.FindTopic("ok"), nullptr);
}

TEST(ControlCreateTopicsTest, CreatesTopicRecordsPartitionsAndConfigs) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("orders", 4, 2, {{"retention.ms", "60000"},
                                                         {"cleanup.policy", "compact"}})});
  ASSERT_EQ(result.reply.results_size(), 1);
  const TopicResult& r = result.reply.results(0);
  EXPECT_EQ(r.error().code(), kNone);
  EXPECT_EQ(r.name(), "orders");
  EXPECT_EQ(r.partitions(), 4);
  EXPECT_EQ(r.replication_factor(), 2);
  EXPECT_EQ(r.topic_id().size(), 16u);

  ASSERT_FALSE(result.records.empty());
  ASSERT_TRUE(result.records[0].has_topic());
  EXPECT_EQ(result.records[0].topic().name(), "orders");
  EXPECT_EQ(result.records[0].topic().topic_id(), r.topic_id());
  auto parts = PartitionRecords(result.records);
  ASSERT_EQ(parts.size(), 4u);
  for (int32_t p = 0; p < 4; ++p) {
    EXPECT_EQ(parts[p].topic(), "orders");
    EXPECT_EQ(parts[p].partition(), p);
    EXPECT_EQ(parts[p].replicas_size(), 2);
    EXPECT_THAT(parts[p].isr(), ElementsAre(parts[p].replicas(0), parts[p].replicas(1)));
    EXPECT_EQ(parts[p].leader(), parts[p].replicas(0));
    EXPECT_EQ(parts[p].leader_epoch(), 0);
    EXPECT_EQ(parts[p].partition_epoch(), 0);
  }
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kConfig), 2);

  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("orders")->topic_id, r.topic_id());
  EXPECT_EQ(c.image.TopicConfig("orders", "retention.ms"), "60000");
  EXPECT_EQ(c.image.TopicConfig("orders", "cleanup.policy"), "compact");
  EXPECT_EQ(c.image.PartitionCount(), 4u);
}

TEST(ControlCreateTopicsTest, TopicAlreadyExists) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  auto result = c.Create({Cluster::Spec("t", 2, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kTopicAlreadyExists));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidPartitions) {
  Cluster c;
  c.AddBroker(1);
  c.settings.max_partitions_per_request = 50;
  for (int32_t n : {0, -2, 51}) {
    auto result = c.Create({Cluster::Spec("t", n, 1)});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidPartitions)) << n;
    EXPECT_THAT(result.records, IsEmpty());
  }
  EXPECT_EQ(c.Create({Cluster::Spec("t", 50, 1)}).reply.results(0).error().code(), kNone);
}

// The limit holds for the request as a whole (it is one committed batch), not per topic.
TEST(ControlCreateTopicsTest, PartitionLimitCountsTheWholeRequest) {
  Cluster c;
  c.AddBroker(1);
  c.settings.max_partitions_per_request = 50;
  auto result = c.Create({Cluster::Spec("a", 30, 1), Cluster::Spec("b", 30, 1),
                          Cluster::Spec("c", 20, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kInvalidPartitions));
  EXPECT_THAT(result.reply.results(1).error().message(), HasSubstr("in all"));
  EXPECT_EQ(result.reply.results(2).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, InvalidReplicationFactor) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.Register(4);  // fenced: does not count
  c.Shutdown(3);  // shutting down: does not count
  for (int32_t rf : {0, -3}) {
    auto result = c.Create({Cluster::Spec("t", 1, rf)});
    EXPECT_EQ(result.reply.results(0).error().code(),
              Code(KafkaErrorCode::kInvalidReplicationFactor)) << rf;
  }
  auto result = c.Create({Cluster::Spec("t", 1, 3)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr("only 2 broker"));
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(c.Create({Cluster::Spec("t", 1, 2)}).reply.results(0).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, NoBrokersAtAll) {
  Cluster c;
  auto result = c.Create({Cluster::Spec("t", 1, 1)});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr("only 0 broker"));
}

TEST(ControlCreateTopicsTest, DefaultsForMinusOne) {
  Cluster c;
  c.settings.default_partitions = 5;
  c.settings.default_replication_factor = 2;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("t", -1, -1)});
  ASSERT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).partitions(), 5);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("t")->partitions.size(), 5u);
  EXPECT_EQ(c.P("t", 4).replicas.size(), 2u);

  // Defaults are validated like explicit values.
  c.settings.default_replication_factor = 4;
  EXPECT_EQ(c.Create({Cluster::Spec("u", -1, -1)}).reply.results(0).error().code(),
            Code(KafkaErrorCode::kInvalidReplicationFactor));
}

TEST(ControlCreateTopicsTest, ValidateOnlyProducesNoRecords) {
  Cluster c;
  c.AddBrokers({1, 2});
  auto result = c.Create({Cluster::Spec("t", 3, 2), Cluster::Spec("bad", 0, 1)}, true);
  ASSERT_EQ(result.reply.results_size(), 2);
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).partitions(), 3);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kInvalidPartitions));
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(c.image.FindTopic("t"), nullptr);
}

TEST(ControlCreateTopicsTest, InvalidConfigs) {
  Cluster c;
  c.AddBroker(1);
  std::vector<std::pair<std::string, std::string>> bad = {
      {"no.such.config", "1"},
      {"retention.ms", "abc"},
      {"retention.ms", "-2"},
      {"retention.ms", "1.5"},
      {"retention.ms", ""},
      {"cleanup.policy", "shred"},
      {"unclean.leader.election.enable", "yes"},
      {"min.insync.replicas", "0"},
      {"segment.bytes", "13"},
      {"compression.type", "brotli"},
      {"message.timestamp.type", "Now"},
      {"min.cleanable.dirty.ratio", "1.5"},
      {"min.cleanable.dirty.ratio", "-0.1"},
  };
  for (const auto& [key, value] : bad) {
    auto result = c.Create({Cluster::Spec("t", 1, 1, {{key, value}})});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidConfig))
        << key << "=" << value;
    EXPECT_THAT(result.reply.results(0).error().message(), HasSubstr(key));
    EXPECT_THAT(result.records, IsEmpty());
  }
}

TEST(ControlTopicConfigTest, ValidValues) {
  std::vector<std::pair<std::string, std::string>> good = {
      {"cleanup.policy", "delete"},
      {"cleanup.policy", "compact"},
      {"cleanup.policy", "delete,compact"},
      {"cleanup.policy", "compact,delete"},
      {"retention.ms", "-1"},
      {"retention.ms", "604800000"},
      {"retention.bytes", "-1"},
      {"segment.bytes", "14"},
      {"segment.bytes", "1073741824"},
      {"segment.ms", "1"},
      {"min.insync.replicas", "2"},
      {"flush.messages", "1"},
      {"flush.ms", "0"},
      {"max.message.bytes", "1048588"},
      {"unclean.leader.election.enable", "true"},
      {"unclean.leader.election.enable", "false"},
      {"preallocate", "false"},
      {"message.timestamp.type", "CreateTime"},
      {"message.timestamp.type", "LogAppendTime"},
      {"compression.type", "producer"},
      {"compression.type", "zstd"},
      {"min.cleanable.dirty.ratio", "0"},
      {"min.cleanable.dirty.ratio", "0.5"},
      {"min.cleanable.dirty.ratio", "1"},
      {"delete.retention.ms", "86400000"},
      {"index.interval.bytes", "4096"},
  };
  for (const auto& [key, value] : good) {
    EXPECT_TRUE(metadata::ValidateTopicConfig(key, value).ok()) << key << "=" << value;
  }
}

TEST(ControlTopicConfigTest, InvalidValues) {
  EXPECT_FALSE(metadata::ValidateTopicConfig("segment.ms", "0").ok());
  EXPECT_FALSE(metadata::ValidateTopicConfig("flush.ms", "-1").ok());
  EXPECT_FALSE(metadata::ValidateTopicConfig("retention.bytes", "lots").ok());
  EXPECT_FALSE(metadata::ValidateTopicConfig("retention.ms", "99999999999999999999999").ok());
  EXPECT_FALSE(metadata::ValidateTopicConfig("compression.type", "GZIP").ok());
  EXPECT_FALSE(metadata::ValidateTopicConfig("Retention.ms", "1").ok());
  absl::Status unknown = metadata::ValidateTopicConfig("log.retention.ms", "1");  // a broker key
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(std::string(unknown.message()), HasSubstr("unknown"));
}

// "nan" parses as a double but is not a ratio between 0 and 1.
TEST(ControlTopicConfigTest, NanDirtyRatioIsInvalid) {
  EXPECT_FALSE(metadata::ValidateTopicConfig("min.cleanable.dirty.ratio", "nan").ok());
}

TEST(ControlCreateTopicsTest, ManualAssignment) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  TopicSpec spec;
  spec.set_name("m");
  spec.set_partitions(-1);
  spec.set_replication_factor(-1);
  // Listed out of order.
  for (auto [p, replicas] : std::vector<std::pair<int32_t, std::vector<int32_t>>>{
           {2, {1, 3}}, {0, {3, 2}}, {1, {2, 1}}}) {
    ReplicaAssignment* a = spec.add_assignments();
    a->set_partition(p);
    for (int32_t b : replicas) a->add_replicas(b);
  }
  auto result = c.Create({spec});
  ASSERT_EQ(result.reply.results(0).error().code(), kNone) << result.reply.results(0).error().message();
  EXPECT_EQ(result.reply.results(0).partitions(), 3);
  EXPECT_EQ(result.reply.results(0).replication_factor(), 2);
  c.Commit(result.records);
  EXPECT_THAT(c.P("m", 0).replicas, ElementsAre(3, 2));
  EXPECT_THAT(c.P("m", 1).replicas, ElementsAre(2, 1));
  EXPECT_THAT(c.P("m", 2).replicas, ElementsAre(1, 3));
  EXPECT_EQ(c.P("m", 0).leader, 3);
  EXPECT_THAT(c.P("m", 0).isr, ElementsAre(3, 2));

  // Partitions/replication factor of 0 (unset) are fine alongside an assignment.
  TopicSpec zero = Cluster::ManualSpec("z", {{1}});
  zero.set_partitions(0);
  zero.set_replication_factor(0);
  EXPECT_EQ(c.Create({zero}).reply.results(0).error().code(), kNone);
}

TEST(ControlCreateTopicsTest, ManualAssignmentOnFencedBrokers) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.Register(3);  // registered, fenced
  c.Register(4);
  // Fenced replicas stay out of the ISR; a partition needs at least one live replica.
  c.CreateManual("m", {{3, 1}, {1, 3}});
  EXPECT_EQ(c.P("m", 0).leader, 1);
  EXPECT_THAT(c.P("m", 0).isr, ElementsAre(1));
  EXPECT_THAT(c.P("m", 1).isr, ElementsAre(1));
  auto result = c.Create({Cluster::ManualSpec("n", {{4, 3}})});
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidReplicaAssignment));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreateTopicsTest, InvalidManualAssignments) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto expect_invalid = [&](TopicSpec spec, KafkaErrorCode code) {
    auto result = c.Create({spec});
    EXPECT_EQ(result.reply.results(0).error().code(), Code(code)) << spec.DebugString();
    EXPECT_THAT(result.records, IsEmpty());
  };
  expect_invalid(Cluster::ManualSpec("m", {{1, 1}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{1, 9}}), KafkaErrorCode::kInvalidReplicaAssignment);
  expect_invalid(Cluster::ManualSpec("m", {{1, 2}, {3}}), KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec gap = Cluster::ManualSpec("m", {{1}, {2}});
  gap.mutable_assignments(1)->set_partition(2);
  expect_invalid(gap, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec from_one = Cluster::ManualSpec("m", {{1}, {2}});
  from_one.mutable_assignments(0)->set_partition(2);
  from_one.mutable_assignments(1)->set_partition(1);
  expect_invalid(from_one, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec twice = Cluster::ManualSpec("m", {{1}, {2}});
  twice.mutable_assignments(1)->set_partition(0);
  expect_invalid(twice, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec negative = Cluster::ManualSpec("m", {{1}});
  negative.mutable_assignments(0)->set_partition(-1);
  expect_invalid(negative, KafkaErrorCode::kInvalidReplicaAssignment);
  TopicSpec both = Cluster::ManualSpec("m", {{1}});
  both.set_partitions(1);
  expect_invalid(both, KafkaErrorCode::kInvalidRequest);
  TopicSpec both_rf = Cluster::ManualSpec("m", {{1}});
  both_rf.set_replication_factor(1);
  expect_invalid(both_rf, KafkaErrorCode::kInvalidRequest);
}

// Counts per broker: how many partitions it is preferred leader of, and how many replicas it holds.
struct Spread {
  std::map<int32_t, int> leaders;
  std::map<int32_t, int> replicas;
};

Spread SpreadOf(const MetadataImage& image, const std::string& topic) {
  Spread s;
  for (const PartitionState& p : image.FindTopic(topic)->partitions) {
    s.leaders[p.replicas[0]]++;
    for (int32_t r : p.replicas) s.replicas[r]++;
  }
  return s;
}

TEST(ControlCreateTopicsTest, PlacementSpreadsReplicasAndPreferredLeadersEvenly) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("a", 6, 3);
  Spread a = SpreadOf(c.image, "a");
  EXPECT_EQ(a.leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  EXPECT_EQ(a.replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}}));
  for (const PartitionState& p : c.image.FindTopic("a")->partitions) {
    EXPECT_EQ(std::set<int32_t>(p.replicas.begin(), p.replicas.end()).size(), 3u);
    EXPECT_EQ(p.leader, p.replicas[0]);  // the preferred replica leads at creation
  }

  Cluster d;
  d.AddBrokers({1, 2, 3, 4});
  d.CreateTopic("x", 5, 1);  // something already there: placement must still be even
  d.CreateTopic("b", 12, 2);
  Spread b = SpreadOf(d.image, "b");
  EXPECT_EQ(b.leaders, (std::map<int32_t, int>{{1, 3}, {2, 3}, {3, 3}, {4, 3}}));
  EXPECT_EQ(b.replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}, {4, 6}}));
  for (const PartitionState& p : d.image.FindTopic("b")->partitions) {
    EXPECT_NE(p.replicas[0], p.replicas[1]);
  }
}

TEST(ControlCreateTopicsTest, PlacementUsesOnlyUsableBrokers) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4, 5});
  c.Fence(2);
  c.Shutdown(4);
  c.CreateTopic("t", 10, 2);
  Spread s = SpreadOf(c.image, "t");
  EXPECT_EQ(s.replicas.count(2), 0u);
  EXPECT_EQ(s.replicas.count(4), 0u);
  EXPECT_EQ(s.leaders.size(), 3u);
}

// As Kafka: every entry of a name given twice fails with INVALID_REQUEST; none is created.
TEST(ControlCreateTopicsTest, DuplicateNamesInOneRequestAreAllRejected) {
  Cluster c;
  c.AddBrokers({1, 2});
  auto result = c.Create({Cluster::Spec("dup", 1, 1), Cluster::Spec("fine", 1, 1),
                          Cluster::Spec("dup", 4, 2)});
  ASSERT_EQ(result.reply.results_size(), 3);
  EXPECT_EQ(result.reply.results(1).error().code(), kNone);
  EXPECT_EQ(result.reply.results(2).error().code(), Code(KafkaErrorCode::kInvalidRequest));
  EXPECT_EQ(result.reply.results(0).error().code(), Code(KafkaErrorCode::kInvalidRequest));
  MetadataImage after = After(c.image, result.records);
  EXPECT_EQ(after.FindTopic("dup"), nullptr);
  EXPECT_NE(after.FindTopic("fine"), nullptr);
}

TEST(ControlCreateTopicsTest, SeveralTopicsInOneRequest) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  auto result = c.Create({Cluster::Spec("a", 3, 3), Cluster::Spec("b", 2, 1),
                          Cluster::Spec("a.b", 1, 1), Cluster::Spec("a_b", 1, 1)});
  ASSERT_EQ(result.reply.results_size(), 4);
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(1).error().code(), kNone);
  EXPECT_EQ(result.reply.results(2).error().code(), kNone);
  // Collides with a topic created earlier in the same request.
  EXPECT_EQ(result.reply.results(3).error().code(), Code(KafkaErrorCode::kInvalidTopicException));
  EXPECT_NE(result.reply.results(0).topic_id(), result.reply.results(1).topic_id());
  EXPECT_EQ(CountCase(result.records, MetadataRecord::kTopic), 3);
  c.Commit(result.records);
  EXPECT_EQ(c.image.PartitionCount(), 6u);
}

// =================================================================================================
// DeleteTopics
// =================================================================================================

TEST(ControlDeleteTopicsTest, DeletesAndReportsUnknown) {
  Cluster c;
  c.AddBrokers({1});
  c.CreateTopic("a", 2, 1);
  c.CreateTopic("b", 1, 1);
  std::string id = c.image.FindTopic("a")->topic_id;
  DeleteTopicsRequest r;
  r.add_names("a");
  r.add_names("nope");
  r.add_names("a");
  auto result = DeleteTopics(c.image, r);
  ASSERT_EQ(result.reply.results_size(), 3);
  EXPECT_EQ(result.reply.results(0).name(), "a");
  EXPECT_EQ(result.reply.results(0).error().code(), kNone);
  EXPECT_EQ(result.reply.results(0).topic_id(), id);
  EXPECT_EQ(result.reply.results(1).error().code(), Code(KafkaErrorCode::kUnknownTopicOrPartition));
  ASSERT_EQ(result.records.size(), 1u);  // the repeated name is removed once
  ASSERT_TRUE(result.records[0].has_remove_topic());
  EXPECT_EQ(result.records[0].remove_topic().name(), "a");
  EXPECT_EQ(result.records[0].remove_topic().topic_id(), id);
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("a"), nullptr);
  EXPECT_NE(c.image.FindTopic("b"), nullptr);
  EXPECT_EQ(c.image.PartitionCount(), 1u);

  // The name is free again, with a new id.
  c.CreateTopic("a", 1, 1);
  EXPECT_NE(c.image.FindTopic("a")->topic_id, id);
}

// =================================================================================================
// CreatePartitions
// =================================================================================================

CreatePartitionsRequest Grow(const std::string& topic, int32_t total, bool validate_only = false) {
  CreatePartitionsRequest r;
  r.set_topic(topic);
  r.set_total_count(total);
  r.set_validate_only(validate_only);
  return r;
}

TEST(ControlCreatePartitionsTest, Errors) {
  Cluster c;
  c.AddBrokers({1, 2});
  c.CreateTopic("t", 3, 2);
  EXPECT_EQ(CreatePartitions(c.image, Grow("nope", 4)).reply.error().code(),
            Code(KafkaErrorCode::kUnknownTopicOrPartition));
  for (int32_t total : {3, 2, 0, -1}) {
    auto result = CreatePartitions(c.image, Grow("t", total));
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidPartitions)) << total;
    EXPECT_THAT(result.records, IsEmpty());
  }
  c.Fence(2);
  auto result = CreatePartitions(c.image, Grow("t", 4));
  EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidReplicationFactor));
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreatePartitionsTest, ExplicitAssignments) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateTopic("t", 1, 2);
  c.Fence(3);
  // Grows "t" (1 partition) to 3 with `lists` as the new partitions' replicas.
  auto with = [](std::vector<std::vector<int32_t>> lists) {
    CreatePartitionsRequest r = Grow("t", 3);
    for (const auto& replicas : lists) {
      auto* a = r.add_assignments();
      for (int32_t b : replicas) a->add_replicas(b);
    }
    return r;
  };
  // A fenced replica is assigned but not in the ISR; the leader is a live one.
  auto result = CreatePartitions(c.image, with({{3, 1}, {2, 1}}));
  ASSERT_EQ(result.reply.error().code(), kNone) << result.reply.error().message();
  auto parts = PartitionRecords(result.records);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_THAT(parts[0].replicas(), ElementsAre(3, 1));
  EXPECT_THAT(parts[0].isr(), ElementsAre(1));
  EXPECT_EQ(parts[0].leader(), 1);
  EXPECT_THAT(parts[1].replicas(), ElementsAre(2, 1));
  EXPECT_EQ(parts[1].leader(), 2);
  // Wrong count, wrong replication factor, a repeated or unknown broker, nobody live.
  for (const auto& bad : std::vector<std::vector<std::vector<int32_t>>>{
           {{1, 2}}, {{1, 2}, {1}}, {{1, 1}, {1, 2}}, {{1, 9}, {1, 2}}, {{3, 3}, {1, 2}}}) {
    result = CreatePartitions(c.image, with(bad));
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidReplicaAssignment));
    EXPECT_THAT(result.records, IsEmpty());
  }
}

TEST(ControlCreatePartitionsTest, ValidateOnly) {
  Cluster c;
  c.AddBrokers({1});
  c.CreateTopic("t", 1, 1);
  auto result = CreatePartitions(c.image, Grow("t", 5, true));
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_THAT(result.records, IsEmpty());
}

TEST(ControlCreatePartitionsTest, NewPartitionsArePlacedEvenlyOnUsableBrokers) {
  Cluster c;
  c.AddBrokers({1, 2, 3, 4});
  c.CreateTopic("t", 3, 2);
  c.Fence(4);
  MetadataImage before = c.image;
  auto result = CreatePartitions(c.image, Grow("t", 9));
  EXPECT_EQ(result.reply.error().code(), kNone);
  auto parts = PartitionRecords(result.records);
  ASSERT_EQ(parts.size(), 6u);
  std::map<int32_t, int> leaders;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].topic(), "t");
    EXPECT_EQ(parts[i].partition(), static_cast<int32_t>(3 + i));
    ASSERT_EQ(parts[i].replicas_size(), 2);  // the topic's replication factor
    EXPECT_NE(parts[i].replicas(0), parts[i].replicas(1));
    EXPECT_THAT(parts[i].isr(), ElementsAre(parts[i].replicas(0), parts[i].replicas(1)));
    EXPECT_EQ(parts[i].leader(), parts[i].replicas(0));
    for (int32_t r : parts[i].replicas()) EXPECT_NE(r, 4);
    leaders[parts[i].replicas(0)]++;
  }
  EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}}));
  c.Commit(result.records);
  EXPECT_EQ(c.image.FindTopic("t")->partitions.size(), 9u);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(c.P("t", p), *before.FindPartition("t", p));
}

// =================================================================================================
// AlterConfigs
// =================================================================================================

AlterConfigsRequest Alter(const std::string& topic, std::map<std::string, std::string> set,
                          std::vector<std::string> remove = {}, bool validate_only = false) {
  AlterConfigsRequest r;
  r.set_topic(topic);
  for (const auto& [k, v] : set) (*r.mutable_set())[k] = v;
  for (const auto& k : remove) r.add_remove(k);
  r.set_validate_only(validate_only);
  return r;
}

TEST(ControlAlterConfigsTest, SetAndRemove) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1, {{"retention.ms", "1000"}});
  auto set = AlterConfigs(c.image, Alter("t", {{"retention.ms", "2000"}, {"segment.ms", "60000"}}),
                          c.settings);
  EXPECT_EQ(set.reply.error().code(), kNone);
  EXPECT_EQ(CountCase(set.records, MetadataRecord::kConfig), 2);
  for (const auto& r : set.records) EXPECT_TRUE(r.config().has_value());
  c.Commit(set.records);
  EXPECT_EQ(c.image.TopicConfig("t", "retention.ms"), "2000");
  EXPECT_EQ(c.image.TopicConfig("t", "segment.ms"), "60000");

  auto remove = AlterConfigs(c.image, Alter("t", {}, {"retention.ms"}), c.settings);
  EXPECT_EQ(remove.reply.error().code(), kNone);
  ASSERT_EQ(remove.records.size(), 1u);
  EXPECT_EQ(remove.records[0].config().name(), "retention.ms");
  EXPECT_FALSE(remove.records[0].config().has_value());
  c.Commit(remove.records);
  EXPECT_EQ(c.image.TopicConfig("t", "retention.ms"), std::nullopt);
  EXPECT_EQ(c.image.TopicConfig("t", "segment.ms"), "60000");

  // Removing a known config that is not set is fine.
  EXPECT_EQ(AlterConfigs(c.image, Alter("t", {}, {"flush.ms"}), c.settings).reply.error().code(),
            kNone);
}

TEST(ControlAlterConfigsTest, Errors) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  EXPECT_EQ(AlterConfigs(c.image, Alter("nope", {{"retention.ms", "1"}}), c.settings)
                .reply.error().code(),
            Code(KafkaErrorCode::kUnknownTopicOrPartition));
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"retention.ms", "soon"}, {"bogus", "1"}, {"unclean.leader.election.enable", "1"}}) {
    auto result = AlterConfigs(c.image, Alter("t", {{"segment.ms", "5"}, {k, v}}), c.settings);
    EXPECT_EQ(result.reply.error().code(), Code(KafkaErrorCode::kInvalidConfig)) << k;
    EXPECT_THAT(result.records, IsEmpty()) << k;  // nothing is applied when any entry is bad
  }
  auto remove = AlterConfigs(c.image, Alter("t", {}, {"bogus"}), c.settings);
  EXPECT_EQ(remove.reply.error().code(), Code(KafkaErrorCode::kInvalidConfig));
  EXPECT_THAT(remove.records, IsEmpty());
  // Removing a known key whose validator rejects "0" is still allowed.
  for (const char* key : {"unclean.leader.election.enable", "cleanup.policy", "compression.type",
                          "message.timestamp.type", "segment.ms"}) {
    EXPECT_EQ(AlterConfigs(c.image, Alter("t", {}, {key}), c.settings).reply.error().code(), kNone)
        << key;
  }
}

TEST(ControlAlterConfigsTest, ValidateOnly) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("t", 1, 1);
  auto result = AlterConfigs(c.image, Alter("t", {{"retention.ms", "5"}}, {}, true), c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  EXPECT_THAT(result.records, IsEmpty());
  EXPECT_EQ(AlterConfigs(c.image, Alter("t", {{"retention.ms", "x"}}, {}, true), c.settings)
                .reply.error().code(),
            Code(KafkaErrorCode::kInvalidConfig));
}

TEST(ControlAlterConfigsTest, EnablingUncleanElectionElectsOfflineLeadersAtOnce) {
  Cluster c;
  c.AddBrokers({1, 2, 3});
  c.CreateManual("t", {{1, 2, 3}, {2, 3, 1}, {1, 3, 2}});
  c.CreateManual("other", {{1, 2}});
  c.SetPartition("t", 0, {1}, 1);
  c.SetPartition("other", 0, {1}, 1);
  c.Fence(1);
  ASSERT_EQ(c.P("t", 0).leader, kNoLeader);
  ASSERT_EQ(c.P("t", 2).leader, 3);  // 3 was in sync
  ASSERT_EQ(c.P("other", 0).leader, kNoLeader);
  int32_t le = c.P("t", 0).leader_epoch;

  auto off = AlterConfigs(c.image, Alter("t", {{"unclean.leader.election.enable", "false"}}),
                          c.settings);
  EXPECT_EQ(CountCase(off.records, MetadataRecord::kPartition), 0);

  auto result = AlterConfigs(c.image, Alter("t", {{"unclean.leader.election.enable", "true"}}),
                             c.settings);
  EXPECT_EQ(result.reply.error().code(), kNone);
  ASSERT_FALSE(result.records.empty());
  EXPECT_TRUE(result.records[0].has_config());  // the config comes before the elections
  auto changes = PartitionRecords(result.records);
  ASSERT_EQ(changes.size(), 1u);  // only this topic's offline partition
  EXPECT_EQ(changes[0].topic(), "t");
  EXPECT_EQ(changes[0].partition(), 0);
  c.Commit(result.records);
  EXPECT_EQ(c.P("t", 0).leader, 2);
  EXPECT_THAT(c.P("t", 0).isr, ElementsAre(2));
  EXPECT_EQ(c.P("t", 0).leader_epoch, le + 1);
  EXPECT_EQ(c.P("other", 0).leader, kNoLeader);

  // Validate-only does not elect.
  c.SetPartition("t", 0, {1}, kNoLeader);
  EXPECT_THAT(AlterConfigs(c.image,
                           Alter("t", {{"unclean.leader.election.enable", "true"}}, {}, true),
                           c.settings)
                  .records,
              IsEmpty());
}

TEST(ControlUncleanAllowedTest, TopicConfigOverridesClusterDefault) {
  Cluster c;
  c.AddBroker(1);
  c.CreateTopic("plain", 1, 1);
  c.CreateTopic("yes", 1, 1, {{"unclean.leader.election.enable", "true"}});
  c.CreateTopic("no", 1, 1, {{"unclean.leader.election.enable", "false"}});
  EXPECT_FALSE(UncleanAllowed(c.image, "plain", c.settings));
  EXPECT_TRUE(UncleanAllowed(c.image, "yes", c.settings));
  EXPECT_FALSE(UncleanAllowed(c.image, "no", c.settings));
  c.settings.unclean_leader_election = true;
  EXPECT_TRUE(UncleanAllowed(c.image, "plain", c.settings));
  EXPECT_TRUE(UncleanAllowed(c.image, "yes", c.settings));
  EXPECT_FALSE(UncleanAllowed(c.image, "no", c.settings));
}

}  // namespace
}  // namespace gregor::controller
