// Unit tests for the cluster metadata image (common/metadata/metadata_image.h): applying every
// record type, errors for records that do not fit the image, broker epochs, and the snapshot
// round trip.
#include "common/metadata/metadata_image.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace gregor::metadata {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MetadataRecord Register(int32_t id, const std::string& incarnation = "inc", const std::string& rack = "") {
  MetadataRecord r;
  RegisterBrokerRecord* b = r.mutable_register_broker();
  b->set_broker_id(id);
  b->set_incarnation_id(incarnation);
  b->set_kafka_host("127.0.0.1");
  b->set_kafka_port(9092 + id);
  b->set_replication_host("127.0.0.2");
  b->set_replication_port(19092 + id);
  b->set_rack(rack);
  return r;
}

MetadataRecord Fence(int32_t id, int64_t epoch) {
  MetadataRecord r;
  r.mutable_fence_broker()->set_broker_id(id);
  r.mutable_fence_broker()->set_broker_epoch(epoch);
  return r;
}

MetadataRecord Unfence(int32_t id, int64_t epoch) {
  MetadataRecord r;
  r.mutable_unfence_broker()->set_broker_id(id);
  r.mutable_unfence_broker()->set_broker_epoch(epoch);
  return r;
}

MetadataRecord ShuttingDown(int32_t id, int64_t epoch) {
  MetadataRecord r;
  r.mutable_broker_shutting_down()->set_broker_id(id);
  r.mutable_broker_shutting_down()->set_broker_epoch(epoch);
  return r;
}

MetadataRecord Topic(const std::string& name, const std::string& id = std::string(16, 'x')) {
  MetadataRecord r;
  r.mutable_topic()->set_name(name);
  r.mutable_topic()->set_topic_id(id);
  return r;
}

MetadataRecord RemoveTopic(const std::string& name, const std::string& id = std::string(16, 'x')) {
  MetadataRecord r;
  r.mutable_remove_topic()->set_name(name);
  r.mutable_remove_topic()->set_topic_id(id);
  return r;
}

PartitionState State(std::vector<int32_t> replicas, std::vector<int32_t> isr, int32_t leader,
                     int32_t leader_epoch = 0, int32_t partition_epoch = 0) {
  PartitionState s;
  s.replicas = std::move(replicas);
  s.isr = std::move(isr);
  s.leader = leader;
  s.leader_epoch = leader_epoch;
  s.partition_epoch = partition_epoch;
  return s;
}

MetadataRecord Partition(const std::string& topic, int32_t p, const PartitionState& s) {
  return MakePartitionRecord(topic, p, s);
}

MetadataRecord Config(const std::string& topic, const std::string& name,
                      std::optional<std::string> value) {
  MetadataRecord r;
  r.mutable_config()->set_topic(topic);
  r.mutable_config()->set_name(name);
  if (value) r.mutable_config()->set_value(*value);
  return r;
}

MetadataRecord NoOp() {
  MetadataRecord r;
  r.mutable_no_op();
  return r;
}

MetadataBatch Batch(std::vector<MetadataRecord> records) {
  MetadataBatch batch;
  for (auto& r : records) *batch.add_records() = std::move(r);
  return batch;
}

// ---- basics ------------------------------------------------------------------------------------

TEST(MetadataImageTest, EmptyImage) {
  MetadataImage image;
  EXPECT_EQ(image.offset(), 0);
  EXPECT_TRUE(image.brokers().empty());
  EXPECT_TRUE(image.topics().empty());
  EXPECT_EQ(image.PartitionCount(), 0u);
  EXPECT_TRUE(image.UsableBrokers().empty());
  EXPECT_EQ(image.FindBroker(1), nullptr);
  EXPECT_EQ(image.FindTopic("t"), nullptr);
  EXPECT_EQ(image.FindPartition("t", 0), nullptr);
  EXPECT_EQ(image.TopicConfig("t", "retention.ms"), std::nullopt);
}

TEST(MetadataImageTest, PartitionStateHelpers) {
  PartitionState s = State({3, 1, 2}, {1, 3}, 3);
  EXPECT_TRUE(s.InIsr(1));
  EXPECT_TRUE(s.InIsr(3));
  EXPECT_FALSE(s.InIsr(2));
  EXPECT_TRUE(s.IsReplica(2));
  EXPECT_FALSE(s.IsReplica(4));
  EXPECT_FALSE(s.IsReplica(kNoLeader));
}

TEST(MetadataImageTest, PartitionRecordRoundTrip) {
  PartitionState s = State({3, 1, 2}, {1, 3}, 3, 7, 11);
  MetadataRecord r = MakePartitionRecord("orders", 5, s);
  ASSERT_TRUE(r.has_partition());
  EXPECT_EQ(r.partition().topic(), "orders");
  EXPECT_EQ(r.partition().partition(), 5);
  EXPECT_THAT(r.partition().replicas(), ElementsAre(3, 1, 2));
  EXPECT_THAT(r.partition().isr(), ElementsAre(1, 3));
  EXPECT_EQ(r.partition().leader(), 3);
  EXPECT_EQ(r.partition().leader_epoch(), 7);
  EXPECT_EQ(r.partition().partition_epoch(), 11);
  EXPECT_EQ(FromRecord(r.partition()), s);
}

// ---- brokers -----------------------------------------------------------------------------------

TEST(MetadataImageTest, RegisterBrokerEpochIsTheRecordOffsetAndStartsFenced) {
  MetadataImage image;
  ASSERT_TRUE(image.ApplyRecord(7, Register(1, "abc", "rack-a")).ok());
  const BrokerRegistration* b = image.FindBroker(1);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->id, 1);
  EXPECT_EQ(b->epoch, 7);
  EXPECT_EQ(b->incarnation_id, "abc");
  EXPECT_EQ(b->kafka_host, "127.0.0.1");
  EXPECT_EQ(b->kafka_port, 9093);
  EXPECT_EQ(b->replication_host, "127.0.0.2");
  EXPECT_EQ(b->replication_port, 19093);
  EXPECT_EQ(b->rack, "rack-a");
  EXPECT_TRUE(b->fenced);
  EXPECT_FALSE(b->shutting_down);
  EXPECT_FALSE(b->usable());
  EXPECT_EQ(b->StateName(), "fenced");
  EXPECT_EQ(image.offset(), 7);
  EXPECT_TRUE(image.UsableBrokers().empty());
}

TEST(MetadataImageTest, BrokersRegisteredInOneBatchShareTheBatchOffsetAsEpoch) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(12, Batch({Register(1), Register(2)})).ok());
  EXPECT_EQ(image.FindBroker(1)->epoch, 12);
  EXPECT_EQ(image.FindBroker(2)->epoch, 12);
  EXPECT_EQ(image.offset(), 12);
  ASSERT_TRUE(image.Apply(13, Batch({Register(3)})).ok());
  EXPECT_EQ(image.FindBroker(3)->epoch, 13);
  EXPECT_EQ(image.FindBroker(1)->epoch, 12);
}

TEST(MetadataImageTest, UnfenceFenceAndShuttingDown) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Register(2), Register(1), Register(3)})).ok());
  ASSERT_TRUE(image.Apply(2, Batch({Unfence(3, 1), Unfence(1, 1), Unfence(2, 1)})).ok());
  EXPECT_THAT(image.UsableBrokers(), ElementsAre(1, 2, 3));
  EXPECT_EQ(image.FindBroker(1)->StateName(), "alive");
  EXPECT_EQ(image.FindBroker(1)->epoch, 1);  // unfencing does not change the epoch

  ASSERT_TRUE(image.Apply(3, Batch({ShuttingDown(2, 1)})).ok());
  EXPECT_TRUE(image.FindBroker(2)->shutting_down);
  EXPECT_FALSE(image.FindBroker(2)->fenced);
  EXPECT_FALSE(image.FindBroker(2)->usable());
  EXPECT_EQ(image.FindBroker(2)->StateName(), "shutting_down");
  EXPECT_THAT(image.UsableBrokers(), ElementsAre(1, 3));

  ASSERT_TRUE(image.Apply(4, Batch({Fence(3, 1)})).ok());
  EXPECT_TRUE(image.FindBroker(3)->fenced);
  EXPECT_EQ(image.FindBroker(3)->StateName(), "fenced");
  EXPECT_THAT(image.UsableBrokers(), ElementsAre(1));
  EXPECT_EQ(image.FindBroker(3)->epoch, 1);  // fencing does not change the epoch

  // A fenced, shutting-down broker reports "fenced".
  ASSERT_TRUE(image.Apply(5, Batch({Fence(2, 1)})).ok());
  EXPECT_EQ(image.FindBroker(2)->StateName(), "fenced");
  EXPECT_EQ(image.offset(), 5);
}

TEST(MetadataImageTest, UnfenceClearsShuttingDown) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Register(1)})).ok());
  ASSERT_TRUE(image.Apply(2, Batch({Unfence(1, 1), ShuttingDown(1, 1), Fence(1, 1)})).ok());
  EXPECT_TRUE(image.FindBroker(1)->shutting_down);
  ASSERT_TRUE(image.Apply(3, Batch({Unfence(1, 1)})).ok());
  EXPECT_FALSE(image.FindBroker(1)->shutting_down);
  EXPECT_TRUE(image.FindBroker(1)->usable());
}

TEST(MetadataImageTest, ReRegistrationStartsANewFencedIncarnation) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Register(1, "first")})).ok());
  ASSERT_TRUE(image.Apply(2, Batch({Unfence(1, 1), ShuttingDown(1, 1)})).ok());
  MetadataRecord again = Register(1, "second");
  again.mutable_register_broker()->set_kafka_port(1234);
  ASSERT_TRUE(image.Apply(9, Batch({again})).ok());
  const BrokerRegistration* b = image.FindBroker(1);
  EXPECT_EQ(b->epoch, 9);
  EXPECT_EQ(b->incarnation_id, "second");
  EXPECT_EQ(b->kafka_port, 1234);
  EXPECT_TRUE(b->fenced);
  EXPECT_FALSE(b->shutting_down);
  EXPECT_EQ(image.brokers().size(), 1u);
}

TEST(MetadataImageTest, BrokerRecordsForUnknownBrokerAreInvalid) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Register(1)})).ok());
  for (const MetadataRecord& r : {Fence(2, 1), Unfence(2, 1), ShuttingDown(2, 1)}) {
    absl::Status s = image.ApplyRecord(2, r);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << r.DebugString();
    EXPECT_THAT(std::string(s.message()), HasSubstr("unknown broker 2"));
  }
  EXPECT_EQ(image.FindBroker(2), nullptr);
  EXPECT_TRUE(image.FindBroker(1)->fenced);
}

// Broker records carry the epoch they were decided for; one for an older registration must
// not change the current one (Kafka rejects it on replay too).
TEST(MetadataImageTest, BrokerRecordsWithAStaleBrokerEpochAreInvalid) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Register(1, "old")})).ok());
  ASSERT_TRUE(image.Apply(2, Batch({Unfence(1, 1)})).ok());
  ASSERT_TRUE(image.Apply(3, Batch({Fence(1, 1), Register(1, "new")})).ok());
  ASSERT_EQ(image.FindBroker(1)->epoch, 3);
  ASSERT_TRUE(image.FindBroker(1)->fenced);

  // An unfence decided for the old incarnation (epoch 1) must not unfence the new one.
  EXPECT_EQ(image.ApplyRecord(4, Unfence(1, 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(image.FindBroker(1)->fenced);

  ASSERT_TRUE(image.Apply(5, Batch({Unfence(1, 3)})).ok());
  ASSERT_FALSE(image.FindBroker(1)->fenced);
  // A fence or shutting-down record for the old incarnation must not touch the new one.
  EXPECT_EQ(image.ApplyRecord(6, Fence(1, 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(image.FindBroker(1)->fenced);
  EXPECT_EQ(image.ApplyRecord(7, ShuttingDown(1, 1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(image.FindBroker(1)->shutting_down);
}

// ---- topics, partitions, configs ---------------------------------------------------------------

TEST(MetadataImageTest, TopicRecordCreatesAnEmptyTopic) {
  MetadataImage image;
  std::string id(16, '\x07');
  ASSERT_TRUE(image.ApplyRecord(3, Topic("orders", id)).ok());
  const TopicState* t = image.FindTopic("orders");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "orders");
  EXPECT_EQ(t->topic_id, id);
  EXPECT_TRUE(t->partitions.empty());
  EXPECT_TRUE(t->configs.empty());
  EXPECT_EQ(image.offset(), 3);
}

TEST(MetadataImageTest, DuplicateTopicRecordIsInvalid) {
  MetadataImage image;
  ASSERT_TRUE(image.ApplyRecord(1, Topic("orders", std::string(16, 'a'))).ok());
  absl::Status s = image.ApplyRecord(2, Topic("orders", std::string(16, 'b')));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(image.FindTopic("orders")->topic_id, std::string(16, 'a'));
}

TEST(MetadataImageTest, PartitionRecordsAppendInOrderAndReplace) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Topic("t"), Partition("t", 0, State({1, 2}, {1, 2}, 1)),
                                    Partition("t", 1, State({2, 1}, {2, 1}, 2))}))
                  .ok());
  EXPECT_EQ(image.PartitionCount(), 2u);
  ASSERT_NE(image.FindPartition("t", 1), nullptr);
  EXPECT_EQ(*image.FindPartition("t", 1), State({2, 1}, {2, 1}, 2));
  EXPECT_EQ(image.FindPartition("t", 2), nullptr);
  EXPECT_EQ(image.FindPartition("t", -1), nullptr);
  EXPECT_EQ(image.FindPartition("u", 0), nullptr);

  // A later record for an existing partition replaces its whole state.
  ASSERT_TRUE(image.Apply(2, Batch({Partition("t", 0, State({1, 2}, {2}, 2, 1, 1))})).ok());
  EXPECT_EQ(*image.FindPartition("t", 0), State({1, 2}, {2}, 2, 1, 1));
  EXPECT_EQ(image.PartitionCount(), 2u);
}

// Two changes decided on the same state (the first one's proposal had timed out before it
// committed): the second does not raise the partition epoch past the first, so it is skipped.
TEST(MetadataImageTest, PartitionChangeThatDoesNotRaiseThePartitionEpochIsSkipped) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Topic("t"), Partition("t", 0, State({1, 2, 3}, {1, 2, 3}, 1))})).ok());
  // Both decided from partition epoch 0: leader 1 -> 2, and leader 1 -> 3.
  ASSERT_TRUE(image.Apply(2, Batch({Partition("t", 0, State({1, 2, 3}, {2, 3}, 2, 1, 1))})).ok());
  ASSERT_TRUE(image.Apply(3, Batch({Partition("t", 0, State({1, 2, 3}, {3}, 3, 1, 1))})).ok());
  EXPECT_EQ(*image.FindPartition("t", 0), State({1, 2, 3}, {2, 3}, 2, 1, 1));
  EXPECT_EQ(image.offset(), 3);
  // A change decided on the current state applies.
  ASSERT_TRUE(image.Apply(4, Batch({Partition("t", 0, State({1, 2, 3}, {2}, 2, 1, 2))})).ok());
  EXPECT_EQ(*image.FindPartition("t", 0), State({1, 2, 3}, {2}, 2, 1, 2));
}

TEST(MetadataImageTest, PartitionRecordErrors) {
  MetadataImage image;
  absl::Status s = image.ApplyRecord(1, Partition("nope", 0, State({1}, {1}, 1)));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown topic nope"));

  ASSERT_TRUE(image.ApplyRecord(2, Topic("t")).ok());
  // Gap: partition 1 before partition 0.
  EXPECT_EQ(image.ApplyRecord(3, Partition("t", 1, State({1}, {1}, 1))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(image.ApplyRecord(3, Partition("t", -1, State({1}, {1}, 1))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(image.FindTopic("t")->partitions.empty());
}

TEST(MetadataImageTest, ConfigRecordSetsAndRemoves) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Topic("t"), Config("t", "retention.ms", "1000"),
                                    Config("t", "cleanup.policy", "compact")}))
                  .ok());
  EXPECT_EQ(image.TopicConfig("t", "retention.ms"), "1000");
  EXPECT_EQ(image.TopicConfig("t", "cleanup.policy"), "compact");
  EXPECT_EQ(image.TopicConfig("t", "segment.bytes"), std::nullopt);
  EXPECT_EQ(image.TopicConfig("u", "retention.ms"), std::nullopt);

  ASSERT_TRUE(image.Apply(2, Batch({Config("t", "retention.ms", "2000")})).ok());
  EXPECT_EQ(image.TopicConfig("t", "retention.ms"), "2000");
  ASSERT_TRUE(image.Apply(3, Batch({Config("t", "retention.ms", std::nullopt)})).ok());
  EXPECT_EQ(image.TopicConfig("t", "retention.ms"), std::nullopt);
  EXPECT_EQ(image.FindTopic("t")->configs.size(), 1u);
  // Removing a config that is not set is harmless.
  EXPECT_TRUE(image.Apply(4, Batch({Config("t", "segment.ms", std::nullopt)})).ok());
  // An empty value is a value (present), not a removal.
  ASSERT_TRUE(image.Apply(5, Batch({Config("t", "compression.type", "")})).ok());
  EXPECT_EQ(image.TopicConfig("t", "compression.type"), "");
}

TEST(MetadataImageTest, ConfigRecordForUnknownTopicIsInvalid) {
  MetadataImage image;
  absl::Status s = image.ApplyRecord(1, Config("nope", "retention.ms", "1"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("unknown topic nope"));
}

TEST(MetadataImageTest, RemoveTopicDropsPartitionsAndConfigs) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(1, Batch({Topic("t"), Partition("t", 0, State({1}, {1}, 1)),
                                    Config("t", "retention.ms", "5"), Topic("u"),
                                    Partition("u", 0, State({1}, {1}, 1))}))
                  .ok());
  ASSERT_TRUE(image.Apply(2, Batch({RemoveTopic("t")})).ok());
  EXPECT_EQ(image.FindTopic("t"), nullptr);
  EXPECT_EQ(image.FindPartition("t", 0), nullptr);
  EXPECT_EQ(image.TopicConfig("t", "retention.ms"), std::nullopt);
  EXPECT_EQ(image.PartitionCount(), 1u);
  // The name can be used again, starting from scratch.
  ASSERT_TRUE(image.Apply(3, Batch({Topic("t", std::string(16, 'n'))})).ok());
  EXPECT_TRUE(image.FindTopic("t")->partitions.empty());
  EXPECT_TRUE(image.FindTopic("t")->configs.empty());
  EXPECT_EQ(image.FindTopic("t")->topic_id, std::string(16, 'n'));
}

// A remove-topic record must name an existing topic with the same id.
TEST(MetadataImageTest, RemoveTopicRecordForUnknownTopicIsInvalid) {
  MetadataImage image;
  EXPECT_EQ(image.ApplyRecord(1, RemoveTopic("nope")).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetadataImageTest, NoOpAndEmptyRecordsOnlyAdvanceTheOffset) {
  MetadataImage image;
  ASSERT_TRUE(image.Apply(4, Batch({NoOp(), MetadataRecord()})).ok());
  EXPECT_EQ(image.offset(), 4);
  EXPECT_TRUE(image.brokers().empty());
  EXPECT_TRUE(image.topics().empty());
  ASSERT_TRUE(image.Apply(5, Batch({})).ok());
  EXPECT_EQ(image.offset(), 5);
}

TEST(MetadataImageTest, ApplyStopsAtTheFirstBadRecordKeepingEarlierOnes) {
  MetadataImage image;
  absl::Status s = image.Apply(
      3, Batch({Topic("a"), Partition("missing", 0, State({1}, {1}, 1)), Topic("b")}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(image.FindTopic("a"), nullptr);
  EXPECT_EQ(image.FindTopic("b"), nullptr);
}

// ---- snapshots ---------------------------------------------------------------------------------

MetadataImage RichImage() {
  MetadataImage image;
  EXPECT_TRUE(image.Apply(3, Batch({Register(1, "i1", "r1"), Register(2, "i2", "r2")})).ok());
  EXPECT_TRUE(image.Apply(5, Batch({Register(3, "i3"), Register(4, "i4")})).ok());
  EXPECT_TRUE(image.Apply(6, Batch({Unfence(1, 3), Unfence(2, 3), Unfence(3, 5)})).ok());
  // 1 alive (epoch 3), 2 shutting down (epoch 3), 3 fenced (epoch 5), 4 never unfenced (epoch 5),
  // 5 re-registered at 8 and alive.
  EXPECT_TRUE(image.Apply(7, Batch({ShuttingDown(2, 3), Fence(3, 5), Register(5, "i5")})).ok());
  EXPECT_TRUE(image.Apply(8, Batch({Register(5, "i5b")})).ok());
  EXPECT_TRUE(image.Apply(9, Batch({Unfence(5, 8)})).ok());
  EXPECT_TRUE(image
                  .Apply(10, Batch({Topic("orders", std::string(16, '\x01')),
                                    Partition("orders", 0, State({1, 2, 3}, {1, 2}, 1, 4, 9)),
                                    Partition("orders", 1, State({2, 3, 1}, {3}, -1, 2, 5)),
                                    Config("orders", "retention.ms", "100"),
                                    Config("orders", "unclean.leader.election.enable", "true"),
                                    Topic("empty", std::string(16, '\x02')),
                                    Topic("logs", std::string(16, '\x03')),
                                    Partition("logs", 0, State({5}, {5}, 5))}))
                  .ok());
  EXPECT_TRUE(image.Apply(12, Batch({NoOp()})).ok());
  return image;
}

void ExpectSameImage(const MetadataImage& a, const MetadataImage& b) {
  EXPECT_EQ(a.offset(), b.offset());
  ASSERT_EQ(a.brokers().size(), b.brokers().size());
  for (const auto& [id, x] : a.brokers()) {
    const BrokerRegistration* y = b.FindBroker(id);
    ASSERT_NE(y, nullptr) << id;
    EXPECT_EQ(x.id, y->id);
    EXPECT_EQ(x.epoch, y->epoch) << id;
    EXPECT_EQ(x.incarnation_id, y->incarnation_id);
    EXPECT_EQ(x.kafka_host, y->kafka_host);
    EXPECT_EQ(x.kafka_port, y->kafka_port);
    EXPECT_EQ(x.replication_host, y->replication_host);
    EXPECT_EQ(x.replication_port, y->replication_port);
    EXPECT_EQ(x.rack, y->rack);
    EXPECT_EQ(x.fenced, y->fenced) << id;
    EXPECT_EQ(x.shutting_down, y->shutting_down) << id;
  }
  ASSERT_EQ(a.topics().size(), b.topics().size());
  for (const auto& [name, x] : a.topics()) {
    const TopicState* y = b.FindTopic(name);
    ASSERT_NE(y, nullptr) << name;
    EXPECT_EQ(x.name, y->name);
    EXPECT_EQ(x.topic_id, y->topic_id);
    EXPECT_EQ(x.partitions, y->partitions) << name;
    EXPECT_EQ(x.configs, y->configs) << name;
  }
}

TEST(MetadataImageTest, SnapshotRoundTripPreservesEverything) {
  MetadataImage image = RichImage();
  MetadataSnapshot snapshot = image.ToSnapshot();
  EXPECT_EQ(snapshot.last_offset(), 12);
  EXPECT_EQ(snapshot.broker_epochs().at(1), 3);
  EXPECT_EQ(snapshot.broker_epochs().at(3), 5);
  EXPECT_EQ(snapshot.broker_epochs().at(5), 8);
  EXPECT_THAT(snapshot.fenced_brokers(), ::testing::UnorderedElementsAre(3, 4));
  EXPECT_THAT(snapshot.shutting_down_brokers(), ElementsAre(2));

  // Through the wire, as WatchMetadata would send it.
  MetadataSnapshot parsed;
  ASSERT_TRUE(parsed.ParseFromString(snapshot.SerializeAsString()));
  absl::StatusOr<MetadataImage> restored = MetadataImage::FromSnapshot(parsed);
  ASSERT_TRUE(restored.ok()) << restored.status();
  ExpectSameImage(image, *restored);

  EXPECT_EQ(restored->FindBroker(1)->StateName(), "alive");
  EXPECT_EQ(restored->FindBroker(2)->StateName(), "shutting_down");
  EXPECT_EQ(restored->FindBroker(3)->StateName(), "fenced");
  EXPECT_EQ(restored->FindBroker(4)->StateName(), "fenced");
  EXPECT_EQ(restored->FindBroker(5)->StateName(), "alive");
  EXPECT_THAT(restored->UsableBrokers(), ElementsAre(1, 5));
  EXPECT_EQ(restored->TopicConfig("orders", "unclean.leader.election.enable"), "true");

  // And the snapshot of the restored image is the same snapshot.
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equivalent(snapshot,
                                                                      restored->ToSnapshot()));

  // Records applied after the snapshot behave as on the original image.
  MetadataImage original = image;
  MetadataImage copy = *restored;
  MetadataBatch next = Batch({Register(6), Partition("orders", 2, State({5}, {5}, 5)),
                              Config("orders", "retention.ms", std::nullopt)});
  ASSERT_TRUE(original.Apply(13, next).ok());
  ASSERT_TRUE(copy.Apply(13, next).ok());
  ExpectSameImage(original, copy);
  EXPECT_EQ(copy.FindBroker(6)->epoch, 13);
}

TEST(MetadataImageTest, SnapshotOfEmptyImage) {
  MetadataImage image;
  absl::StatusOr<MetadataImage> restored = MetadataImage::FromSnapshot(image.ToSnapshot());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->offset(), 0);
  EXPECT_TRUE(restored->brokers().empty());
  EXPECT_TRUE(restored->topics().empty());
}

TEST(MetadataImageTest, SnapshotWithARecordThatDoesNotFitFails) {
  MetadataSnapshot snapshot;
  snapshot.set_last_offset(5);
  *snapshot.add_records() = Partition("nope", 0, State({1}, {1}, 1));
  EXPECT_FALSE(MetadataImage::FromSnapshot(snapshot).ok());
}

}  // namespace
}  // namespace gregor::metadata

namespace gregor::metadata {
namespace {

TEST(MetadataImageClusterIdTest, TheFirstRecordWinsAndSnapshotsKeepIt) {
  MetadataImage image;
  EXPECT_EQ(image.cluster_id(), "");
  const std::string id = NewClusterId();
  EXPECT_EQ(id.size(), 22u);  // 16 bytes, base64url without padding
  EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_NE(NewClusterId(), id);
  MetadataRecord first, second;
  first.mutable_cluster_id()->set_cluster_id(id);
  second.mutable_cluster_id()->set_cluster_id(NewClusterId());
  ASSERT_TRUE(image.ApplyRecord(1, first).ok());
  ASSERT_TRUE(image.ApplyRecord(2, second).ok());
  EXPECT_EQ(image.cluster_id(), id);
  absl::StatusOr<MetadataImage> restored = MetadataImage::FromSnapshot(image.ToSnapshot());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->cluster_id(), id);
}

}  // namespace
}  // namespace gregor::metadata
