#include "broker/storage/log_segment.h"

#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

using testing::MakeBatch;
using testing::TempDir;

// Appends a producer batch at `base` (setting its offset) and returns its size.
size_t AppendAt(LogSegment& segment, int64_t base, int records, int64_t timestamp,
                size_t value_bytes = 100) {
  std::string batch = MakeBatch(records, timestamp, value_bytes);
  record::SetBaseOffset(batch.data(), base);
  EXPECT_TRUE(segment
                  .Append(batch, {{base, base + records - 1, timestamp + records - 1,
                                   batch.size()}})
                  .ok());
  return batch.size();
}

TEST(LogSegmentTest, FileNamesAreTwentyDigits) {
  EXPECT_EQ(SegmentFileName("/d", 0, ".log"), "/d/00000000000000000000.log");
  EXPECT_EQ(SegmentFileName("/d", 1234567, ".index"), "/d/00000000000001234567.index");
}

TEST(LogSegmentTest, AppendReadAndIndexes) {
  TempDir dir;
  auto segment = LogSegment::Create(dir.path(), 100, /*index_interval_bytes=*/1000, 0);
  ASSERT_TRUE(segment.ok());
  LogSegment& seg = **segment;
  int64_t base = 100;
  for (int i = 0; i < 50; ++i) {
    AppendAt(seg, base, 5, 1000 + i * 10);
    base += 5;
  }
  EXPECT_EQ(seg.next_offset(), 350);
  EXPECT_GT(seg.offset_index().entries(), 5u);
  EXPECT_GT(seg.time_index().entries(), 5u);
  EXPECT_EQ(seg.max_timestamp(), 1000 + 49 * 10 + 4);

  // Reads start at the batch containing the offset.
  auto found = seg.FindBatch(203);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->second.base_offset, 200);
  auto slice = seg.Read(203, 1, /*max_offset=*/INT64_MAX, /*min_one_batch=*/true);
  ASSERT_TRUE(slice.ok() && slice->has_value());
  EXPECT_EQ((*slice)->position, (*found)->first);
  EXPECT_EQ((*slice)->size, static_cast<int64_t>((*found)->second.size_bytes()));
  // Without min_one_batch a too-small max_bytes yields nothing.
  slice = seg.Read(203, 1, INT64_MAX, false);
  ASSERT_TRUE(slice.ok() && slice->has_value());
  EXPECT_EQ((*slice)->size, 0);
  // max_offset stops before a batch starting at or after it.
  slice = seg.Read(200, 1 << 20, 210, true);
  ASSERT_TRUE(slice.ok() && slice->has_value());
  EXPECT_EQ((*slice)->size, 2 * static_cast<int64_t>((*found)->second.size_bytes()));
  // Past the end of the segment: nullopt.
  slice = seg.Read(350, 1 << 20, INT64_MAX, true);
  ASSERT_TRUE(slice.ok());
  EXPECT_FALSE(slice->has_value());

  // Timestamp lookup reads records: first record with timestamp >= 1253 is in the batch with
  // timestamps 1250..1254 (batch 25, offsets 225..229) at offset 228.
  auto by_time = seg.FindOffsetByTimestamp(1253, 0);
  ASSERT_TRUE(by_time.ok() && by_time->has_value());
  EXPECT_EQ((*by_time)->offset, 228);
  by_time = seg.FindOffsetByTimestamp(999999, 0);
  ASSERT_TRUE(by_time.ok());
  EXPECT_FALSE(by_time->has_value());
}

TEST(LogSegmentTest, ReopenFindsTheEndFromIndexesAndTail) {
  TempDir dir;
  {
    auto seg = LogSegment::Create(dir.path(), 0, 500, 0);
    ASSERT_TRUE(seg.ok());
    int64_t base = 0;
    for (int i = 0; i < 40; ++i) {
      AppendAt(**seg, base, 3, 5000 + i);
      base += 3;
    }
    ASSERT_TRUE((*seg)->Flush().ok());
  }
  auto seg = LogSegment::Open(dir.path(), 0, 500, INT64_MAX, /*recover=*/false);
  ASSERT_TRUE(seg.ok()) << seg.status();
  EXPECT_EQ((*seg)->next_offset(), 120);
  EXPECT_EQ((*seg)->max_timestamp(), 5000 + 39 + 2);
  EXPECT_GT((*seg)->offset_index().entries(), 0u);
}

TEST(LogSegmentTest, TruncateRemovesTheBatchContainingTheOffset) {
  TempDir dir;
  auto seg = LogSegment::Create(dir.path(), 0, 200, 0);
  ASSERT_TRUE(seg.ok());
  int64_t base = 0;
  size_t batch_size = 0;
  for (int i = 0; i < 30; ++i) {
    batch_size = AppendAt(**seg, base, 4, 100 * i);
    base += 4;
  }
  auto removed = (*seg)->TruncateTo(42);  // inside the batch 40..43
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, static_cast<int64_t>(20 * batch_size));
  EXPECT_EQ((*seg)->next_offset(), 40);
  EXPECT_EQ((*seg)->size_bytes(), static_cast<int64_t>(10 * batch_size));
  EXPECT_EQ((*seg)->max_timestamp(), 100 * 9 + 3);
  // Appending continues at 40.
  AppendAt(**seg, 40, 2, 7);
  EXPECT_EQ((*seg)->next_offset(), 42);
}

TEST(LogSegmentTest, RecoverRebuildsIndexesAndStopsAtGarbage) {
  TempDir dir;
  size_t good = 0;
  {
    auto seg = LogSegment::Create(dir.path(), 0, 100, 0);
    ASSERT_TRUE(seg.ok());
    int64_t base = 0;
    for (int i = 0; i < 20; ++i) {
      good += AppendAt(**seg, base, 2, i);
      base += 2;
    }
  }
  std::string path = SegmentFileName(dir.path(), 0, ".log");
  testing::WriteBytes(path, testing::FileBytes(path) + std::string(37, '\x7f'));
  auto seg = LogSegment::Open(dir.path(), 0, 100, INT64_MAX, /*recover=*/true);
  ASSERT_TRUE(seg.ok()) << seg.status();
  EXPECT_EQ((*seg)->truncated_by_recovery(), 37);
  EXPECT_EQ((*seg)->size_bytes(), static_cast<int64_t>(good));
  EXPECT_EQ((*seg)->next_offset(), 40);
  EXPECT_GT((*seg)->offset_index().entries(), 0u);
}

}  // namespace
}  // namespace gregor::storage
