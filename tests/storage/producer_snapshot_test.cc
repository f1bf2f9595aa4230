// Producer state snapshots (broker/storage/producer_snapshot.h): Kafka's file format, the whole
// de-duplication window kept, and what a damaged file gives.
#include "broker/storage/producer_snapshot.h"

#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

ProducerStateTable SampleTable() {
  ProducerStateTable table;
  for (int64_t pid = 0; pid < 3; ++pid) {
    int64_t offset = pid * 1000;
    for (int32_t seq = 0; seq < 70; seq += 10) {
      table.Record(pid, static_cast<int16_t>(pid), {seq, seq + 9, offset, offset + 9, 500 + offset});
      offset += 10;
    }
  }
  // A producer whose last batch wrapped its sequence past INT32_MAX.
  table.Record(7, 1, {INT32_MAX - 2, 1, 5000, 5004, 9});
  return table;
}

TEST(ProducerSnapshotTest, RoundTripKeepsTheLastFiveBatchesOfEachProducer) {
  ProducerStateTable table = SampleTable();
  std::string bytes = EncodeProducerSnapshot(table);
  // version, crc, count, then 46 bytes per entry: 3 producers x 5 batches + 1.
  EXPECT_EQ(bytes.size(), 10u + 16u * 46u);
  EXPECT_EQ(bytes.substr(0, 2), std::string("\0\1", 2));
  auto decoded = DecodeProducerSnapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, table);
  EXPECT_EQ(decoded->Find(7)->batches.front().first_seq, INT32_MAX - 2);
}

TEST(ProducerSnapshotTest, ReadsKafkasOneEntryPerProducerFiles) {
  // As Kafka writes it: one entry per producer, its newest batch (lastSeq 41, offsetDelta 1).
  ProducerStateTable one;
  one.Record(42, 3, {40, 41, 98, 99, 1234});
  auto decoded = DecodeProducerSnapshot(EncodeProducerSnapshot(one));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const ProducerEntry* entry = decoded->Find(42);
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->epoch, 3);
  EXPECT_EQ(entry->batches.back(), (ProducerBatch{40, 41, 98, 99, 1234}));
  EXPECT_EQ(decoded->Check(42, 3, 42, 1).error, KafkaErrorCode::kNone);
}

TEST(ProducerSnapshotTest, DamageIsDataLoss) {
  std::string bytes = EncodeProducerSnapshot(SampleTable());
  std::string flipped = bytes;
  flipped[20] ^= 1;
  EXPECT_TRUE(absl::IsDataLoss(DecodeProducerSnapshot(flipped).status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeProducerSnapshot(bytes.substr(0, bytes.size() - 1)).status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeProducerSnapshot(bytes.substr(0, 5)).status()));
  std::string version = bytes;
  version[1] = 2;
  EXPECT_TRUE(absl::IsDataLoss(DecodeProducerSnapshot(version).status()));
}

TEST(ProducerSnapshotTest, FilesAreNamedByOffset) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteProducerSnapshot(dir.path(), 120, SampleTable()).ok());
  ASSERT_TRUE(WriteProducerSnapshot(dir.path(), 7, ProducerStateTable()).ok());
  EXPECT_EQ(ProducerSnapshotPath(dir.path(), 120), dir.path() + "/00000000000000000120.snapshot");
  EXPECT_EQ(ListProducerSnapshots(dir.path()), (std::vector<int64_t>{7, 120}));
  auto read = ReadProducerSnapshot(dir.path(), 120);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, SampleTable());
  DeleteProducerSnapshot(dir.path(), 7);
  EXPECT_EQ(ListProducerSnapshots(dir.path()), (std::vector<int64_t>{120}));
}

}  // namespace
}  // namespace gregor::storage
