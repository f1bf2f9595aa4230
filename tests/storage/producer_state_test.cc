// The idempotent-producer state of a partition (broker/storage/producer_state.h): Kafka's rules for
// duplicates of each of the last 5 batches, sequence gaps, epoch bumps and fencing, and what
// truncation, retention and expiry forget.
#include "broker/storage/producer_state.h"

#include "gtest/gtest.h"

namespace gregor::storage {
namespace {

constexpr int64_t kPid = 1000;

// Appends `count` batches of 10 records each for kPid at `epoch`, sequences from `seq`, offsets
// from `offset`; returns the next offset.
int64_t AppendBatches(ProducerStateTable& table, int16_t epoch, int32_t seq, int64_t offset, int count) {
  for (int i = 0; i < count; ++i) {
    ProducerCheck check = table.Check(kPid, epoch, seq, 10);
    EXPECT_EQ(check.error, KafkaErrorCode::kNone);
    EXPECT_FALSE(check.duplicate.has_value());
    table.Record(kPid, epoch, {seq, LastSequence(seq, 10), offset, offset + 9, 1000 + offset});
    seq = LastSequence(seq, 10) + 1;
    offset += 10;
  }
  return offset;
}

TEST(ProducerStateTest, EachOfTheLastFiveBatchesIsADuplicateWithItsOffsets) {
  ProducerStateTable table;
  AppendBatches(table, 0, 0, 100, 7);  // sequences 0..69, offsets 100..169
  ASSERT_EQ(table.Find(kPid)->batches.size(), 5u);
  for (int i = 2; i < 7; ++i) {
    ProducerCheck check = table.Check(kPid, 0, i * 10, 10);
    ASSERT_TRUE(check.duplicate.has_value()) << i;
    EXPECT_EQ(check.duplicate->first_offset, 100 + i * 10);
    EXPECT_EQ(check.duplicate->last_offset, 109 + i * 10);
  }
  // Older than the last 5: not recognised, and out of order.
  EXPECT_EQ(table.Check(kPid, 0, 10, 10).error, KafkaErrorCode::kOutOfOrderSequenceNumber);
  // Same first sequence, other length: not a duplicate.
  EXPECT_EQ(table.Check(kPid, 0, 60, 5).error, KafkaErrorCode::kOutOfOrderSequenceNumber);
}

TEST(ProducerStateTest, GapsAndEpochs) {
  ProducerStateTable table;
  AppendBatches(table, 3, 0, 0, 2);  // sequences 0..19
  EXPECT_EQ(table.Check(kPid, 3, 20, 1).error, KafkaErrorCode::kNone);
  EXPECT_EQ(table.Check(kPid, 3, 21, 1).error, KafkaErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(table.Check(kPid, 2, 20, 1).error, KafkaErrorCode::kInvalidProducerEpoch);  // fenced
  // A newer epoch must start at 0; then the old epoch is fenced.
  EXPECT_EQ(table.Check(kPid, 4, 20, 1).error, KafkaErrorCode::kOutOfOrderSequenceNumber);
  EXPECT_EQ(table.Check(kPid, 4, 0, 1).error, KafkaErrorCode::kNone);
  table.Record(kPid, 4, {0, 0, 20, 20, 5});
  EXPECT_EQ(table.Find(kPid)->batches.size(), 1u);
  EXPECT_EQ(table.Check(kPid, 3, 20, 1).error, KafkaErrorCode::kInvalidProducerEpoch);
  // An unknown producer may start anywhere (KIP-360): no UNKNOWN_PRODUCER_ID.
  EXPECT_EQ(table.Check(kPid + 1, 0, 500, 3).error, KafkaErrorCode::kNone);
}

TEST(ProducerStateTest, SequencesWrapAfterIntMax) {
  EXPECT_EQ(LastSequence(INT32_MAX - 4, 10), 4);
  EXPECT_EQ(LastSequence(0, 1), 0);
  ProducerStateTable table;
  table.Record(kPid, 0, {INT32_MAX - 9, INT32_MAX, 0, 9, 1});
  EXPECT_EQ(table.Check(kPid, 0, 0, 5).error, KafkaErrorCode::kNone);
  EXPECT_EQ(table.Check(kPid, 0, 1, 5).error, KafkaErrorCode::kOutOfOrderSequenceNumber);
}

TEST(ProducerStateTest, TruncationRetentionAndExpiry) {
  ProducerStateTable table;
  AppendBatches(table, 0, 0, 0, 4);                                   // offsets 0..39
  table.Record(kPid + 1, 0, {0, 0, 40, 40, 50});                     // another producer
  table.TruncateFrom(20);  // batches at 20.. go: kPid keeps 0..19, the other producer goes
  ASSERT_NE(table.Find(kPid), nullptr);
  EXPECT_EQ(table.Find(kPid)->batches.back().last_offset, 19);
  EXPECT_EQ(table.Find(kPid + 1), nullptr);
  EXPECT_EQ(table.Check(kPid, 0, 20, 10).error, KafkaErrorCode::kNone);  // the cut batch again
  table.RemoveBelow(20);  // retention past its newest batch
  EXPECT_EQ(table.Find(kPid), nullptr);
  table.Record(kPid, 0, {0, 0, 50, 50, 1000});
  table.Expire(/*now_ms=*/2000, /*expiration_ms=*/1500);
  EXPECT_NE(table.Find(kPid), nullptr);
  table.Expire(/*now_ms=*/3000, /*expiration_ms=*/1500);
  EXPECT_EQ(table.Find(kPid), nullptr);
}

TEST(ProducerStateTest, ReplayingTheSameBatchesGivesTheSameState) {
  ProducerStateTable leader, follower;
  AppendBatches(leader, 1, 0, 0, 8);
  for (const auto& [pid, entry] : leader.entries()) {
    for (const ProducerBatch& b : entry.batches) follower.Record(pid, entry.epoch, b);
  }
  EXPECT_EQ(leader, follower);  // the last 5 batches are all a follower needs
}

}  // namespace
}  // namespace gregor::storage
