// The cleaner's pure decisions (broker/storage/cleaner_core.h): which offsets survive a clean for
// given keys, tombstones, horizons and bounds; the bounded key map.
#include "broker/storage/cleaner_core.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/record_batch.h"

namespace gregor::storage::cleaner {
namespace {

using Kind = BatchPlan::Kind;

RecordView Rec(int64_t offset, std::string_view key, bool value = true) {
  return {offset, key, value, std::nullopt};
}

OffsetMap MapOf(const std::vector<RecordView>& records) {
  OffsetMap map(1 << 20);
  for (const auto& r : records) {
    if (r.key) {
      EXPECT_TRUE(map.Put(*r.key, r.offset));
    }
  }
  return map;
}

BatchContext Ctx(int64_t last_offset, int64_t now = 1000) {
  BatchContext c;
  c.last_offset = last_offset;
  c.now_ms = now;
  c.delete_retention_ms = 500;
  c.round_end_offset = 1000;
  return c;
}

TEST(OffsetMapTest, LaterOffsetsWinAndTheMapIsBounded) {
  OffsetMap map(24 * 10, 0.5);  // 10 slots, 5 keys
  EXPECT_EQ(map.max_entries(), 5);
  EXPECT_EQ(map.latest_offset(), -1);
  EXPECT_TRUE(map.Put("a", 1));
  EXPECT_TRUE(map.Put("a", 7));
  EXPECT_EQ(map.Get("a"), 7);
  EXPECT_EQ(map.Get("b"), std::nullopt);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(map.Put(absl::StrCat("k", i), 10 + i));
  EXPECT_EQ(map.size(), 5);
  EXPECT_FALSE(map.HasRoomFor(1));
  EXPECT_FALSE(map.Put("new", 20)) << "full: a new key is refused";
  EXPECT_EQ(map.Get("new"), std::nullopt);
  EXPECT_TRUE(map.Put("a", 21)) << "a known key still updates";
  EXPECT_EQ(map.latest_offset(), 21);
  map.Clear();
  EXPECT_EQ(map.size(), 0);
  EXPECT_EQ(map.Get("a"), std::nullopt);
}

TEST(OffsetMapTest, ManyKeysAtKafkasLoadFactor) {
  OffsetMap map(24 * 100000);
  EXPECT_EQ(map.max_entries(), 90000);
  for (int i = 0; i < 90000; ++i) ASSERT_TRUE(map.Put(absl::StrCat("key-", i), i));
  for (int i = 0; i < 90000; i += 997) EXPECT_EQ(map.Get(absl::StrCat("key-", i)), i);
  EXPECT_EQ(map.Get("key-90000"), std::nullopt);
}

TEST(CleanerCoreTest, OnlyTheLastValueOfEachKeySurvives) {
  std::vector<RecordView> records = {Rec(0, "a"), Rec(1, "b"), Rec(2, "a"), Rec(3, "c")};
  OffsetMap map = MapOf(records);
  BatchPlan plan = PlanBatch(map, records, Ctx(3));
  EXPECT_EQ(plan.kind, Kind::kRebuild);
  EXPECT_EQ(plan.retained, (std::vector<size_t>{1, 2, 3}));
  EXPECT_FALSE(plan.set_delete_horizon_ms);
  // A batch whose records are all the latest is copied as it is.
  std::vector<RecordView> later = {Rec(4, "x"), Rec(5, "y")};
  OffsetMap map2 = MapOf(later);
  EXPECT_EQ(PlanBatch(map2, later, Ctx(5)).kind, Kind::kKeep);
}

TEST(CleanerCoreTest, EmptiedBatchesGoUnlessTheyEndTheRound) {
  std::vector<RecordView> old = {Rec(0, "a"), Rec(1, "b")};
  OffsetMap map = MapOf({Rec(0, "a"), Rec(1, "b"), Rec(5, "a"), Rec(6, "b")});
  EXPECT_EQ(PlanBatch(map, old, Ctx(1)).kind, Kind::kDrop);
  BatchContext last = Ctx(1);
  last.round_end_offset = 2;
  EXPECT_EQ(PlanBatch(map, old, last).kind, Kind::kEmpty) << "keeps the log's last offset";
  BatchContext producers_last = Ctx(1);
  producers_last.last_of_producer = true;
  EXPECT_EQ(PlanBatch(map, old, producers_last).kind, Kind::kEmpty)
      << "keeps an idempotent producer's last sequence";
}

TEST(CleanerCoreTest, TombstonesInTwoPasses) {
  std::vector<RecordView> records = {Rec(0, "a"), Rec(1, "a", /*value=*/false)};
  OffsetMap map = MapOf(records);
  // First pass: the tombstone is the latest: kept, and its batch gets a delete horizon.
  BatchPlan first = PlanBatch(map, records, Ctx(1, /*now=*/1000));
  EXPECT_EQ(first.kind, Kind::kRebuild);
  EXPECT_EQ(first.retained, (std::vector<size_t>{1}));
  EXPECT_EQ(first.set_delete_horizon_ms, 1500);
  // Later passes: before the horizon it stays (and is not stamped again) ...
  std::vector<RecordView> stamped = {Rec(1, "a", false)};
  BatchContext before = Ctx(1, 1499);
  before.delete_horizon_ms = 1500;
  EXPECT_EQ(PlanBatch(map, stamped, before).kind, Kind::kKeep);
  // ... from the horizon on it goes.
  BatchContext after = Ctx(1, 1500);
  after.delete_horizon_ms = 1500;
  EXPECT_EQ(PlanBatch(map, stamped, after).kind, Kind::kDrop);
  // Unless a replica has not reached it yet (beyond Kafka).
  after.tombstone_floor_offset = 1;
  EXPECT_EQ(PlanBatch(map, stamped, after).kind, Kind::kKeep);
  after.tombstone_floor_offset = 2;
  EXPECT_EQ(PlanBatch(map, stamped, after).kind, Kind::kDrop);
}

TEST(CleanerCoreTest, NullKeysAreDroppedAndRecordsBeyondTheMapKept) {
  std::vector<RecordView> records = {Rec(0, "a"), {1, std::nullopt, true, std::nullopt}, Rec(2, "a")};
  OffsetMap map = MapOf({Rec(0, "a")});  // the map stopped after offset 0
  BatchPlan plan = PlanBatch(map, records, Ctx(2));
  EXPECT_EQ(plan.kind, Kind::kRebuild);
  EXPECT_EQ(plan.retained, (std::vector<size_t>{0, 2})) << "offset 2 is beyond the map: kept";
}

TEST(CleanerCoreTest, ControlBatchesStayAsTheyAre) {
  std::vector<RecordView> marker = {{3, std::string_view("\0\0\0\0", 4), true, std::nullopt}};
  BatchContext c = Ctx(3);
  c.is_control = true;
  EXPECT_EQ(PlanBatch(MapOf({Rec(9, std::string_view("\0\0\0\0", 4))}), marker, c).kind, Kind::kKeep);
}

}  // namespace
}  // namespace gregor::storage::cleaner

// ---- over encoded batches ------------------------------------------------------------------------

namespace gregor::storage::cleaner {
namespace {

using record::BatchBuilder;
using record::BatchIterator;
using record::BatchHeader;

// A log of batches at consecutive offsets; each entry: (key or null, value or tombstone).
struct Entry {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

std::string Log(const std::vector<std::vector<Entry>>& batches, Compression codec, int64_t* next) {
  std::string log;
  int64_t offset = 0;
  for (const auto& b : batches) {
    BatchBuilder builder(codec, offset);
    for (size_t i = 0; i < b.size(); ++i) {
      builder.Add(b[i].key, b[i].value, 1000 + offset + static_cast<int64_t>(i),
                  {{"h", std::string("v")}});
    }
    log += *builder.Build();
    offset += static_cast<int64_t>(b.size());
  }
  *next = offset;
  return log;
}

// offset -> (key, value) of every record in `log`, and the batches' last offsets.
struct Read {
  std::map<int64_t, Entry> records;
  std::vector<int64_t> last_offsets;
  std::vector<BatchHeader> headers;
};
Read ReadLog(std::string_view log) {
  Read out;
  BatchIterator it(log);
  BatchHeader h;
  std::string_view batch;
  while (it.Next(&h, &batch)) {
    auto records = record::DecodeRecords(batch);  // validates the CRC too
    EXPECT_TRUE(records.ok()) << records.status();
    if (!records.ok()) continue;
    for (const auto& r : *records) {
      out.records[r.offset] = {r.key, r.value};
      EXPECT_EQ(r.timestamp, h.log_append_time() ? h.max_timestamp : 1000 + r.offset);
      EXPECT_EQ(r.headers.size(), 1u);
    }
    out.last_offsets.push_back(h.last_offset());
    out.headers.push_back(h);
  }
  EXPECT_TRUE(it.status().ok());
  return out;
}

class CleanBatchesTest : public ::testing::TestWithParam<Compression> {};

TEST_P(CleanBatchesTest, LatestValuePerKeyWithOffsetsTimestampsAndLastOffsetsKept) {
  const Compression codec = GetParam();
  int64_t end = 0;
  std::string log = Log({{{"a", "1"}, {"b", "1"}, {"c", "1"}},
                         {{"a", "2"}, {std::nullopt, "keyless"}, {"b", std::nullopt}},
                         {{"d", "1"}, {"a", "3"}},
                         {{"e", "1"}}},
                        codec, &end);
  OffsetMap map(1 << 20);
  ASSERT_EQ(*IndexBatches(log, &map), end);
  EXPECT_EQ(map.latest_offset(), end - 1);
  BatchContext c;
  c.now_ms = 50000;
  c.delete_retention_ms = 1000;
  c.round_end_offset = end;
  CleanStats stats;
  auto cleaned = CleanBatches(log, map, c, &stats);
  ASSERT_TRUE(cleaned.ok()) << cleaned.status();
  Read r = ReadLog(*cleaned);
  // c@2 (latest), b's tombstone @5, d@6, a@7, e@8; the keyless record and older a, b go.
  std::vector<int64_t> offsets;
  for (const auto& [o, e] : r.records) offsets.push_back(o);
  EXPECT_EQ(offsets, (std::vector<int64_t>{2, 5, 6, 7, 8}));
  EXPECT_EQ(r.records[7].value, "3");
  EXPECT_FALSE(r.records[5].value.has_value());
  EXPECT_EQ(r.last_offsets, (std::vector<int64_t>{2, 5, 7, 8})) << "batches keep their last offset";
  EXPECT_EQ(stats.records_read, 9);
  EXPECT_EQ(stats.records_kept, 5);
  // The tombstone's batch got its delete horizon; the untouched last batch is byte for byte.
  EXPECT_TRUE(r.headers[1].attributes & record::kDeleteHorizonBit);
  EXPECT_EQ(r.headers[1].base_timestamp, 51000);
  EXPECT_EQ(r.headers[1].compression(), codec);
  EXPECT_TRUE(cleaned->ends_with(log.substr(log.size() - r.headers[3].size_bytes())));

  // A second clean before the horizon keeps the tombstone; after it, it goes (its batch, not the
  // last of the round, with it).
  OffsetMap map2(1 << 20);
  ASSERT_TRUE(IndexBatches(*cleaned, &map2).ok());
  c.now_ms = 50999;
  CleanStats again;
  EXPECT_EQ(ReadLog(*CleanBatches(*cleaned, map2, c, &again)).records.count(5), 1u);
  c.now_ms = 51000;
  Read gone = ReadLog(*CleanBatches(*cleaned, map2, c, &again));
  EXPECT_EQ(gone.records.count(5), 0u);
  EXPECT_EQ(gone.last_offsets, (std::vector<int64_t>{2, 7, 8}));
}

INSTANTIATE_TEST_SUITE_P(Codecs, CleanBatchesTest,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kSnappy, Compression::kLz4,
                                           Compression::kZstd));

TEST(CleanBatchesTest, AFullMapEndsTheRoundAtABatchBoundary) {
  int64_t end = 0;
  std::string log = Log({{{"a", "1"}, {"b", "1"}}, {{"c", "1"}, {"d", "1"}}, {{"a", "2"}}},
                        Compression::kNone, &end);
  OffsetMap map(24 * 4, 0.75);  // 3 keys
  auto next = IndexBatches(log, &map);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2) << "the second batch's two new keys do not fit";
  EXPECT_EQ(map.latest_offset(), 1);
  BatchContext c;
  c.round_end_offset = *next;
  CleanStats stats;
  Read r = ReadLog(*CleanBatches(log, map, c, &stats));
  EXPECT_EQ(r.records.size(), 5u) << "nothing above the map is removed";
}

TEST(CleanBatchesTest, AnEmptiedLastBatchOfTheRoundStaysAsAHeader) {
  int64_t end = 0;
  std::string log = Log({{{"a", "1"}}, {{"a", "2"}}}, Compression::kZstd, &end);
  OffsetMap map(1 << 20);
  map.Put("a", 5);  // a later value beyond this run
  map.set_latest_offset(5);
  BatchContext c;
  c.round_end_offset = 2;
  CleanStats stats;
  auto cleaned = CleanBatches(log, map, c, &stats);
  ASSERT_TRUE(cleaned.ok());
  Read r = ReadLog(*cleaned);
  EXPECT_TRUE(r.records.empty());
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].last_offset(), 1);
  EXPECT_EQ(r.headers[0].records_count, 0);
  EXPECT_EQ(r.headers[0].size_bytes(), record::kBatchHeaderSize);
  EXPECT_EQ(r.headers[0].compression(), Compression::kNone);
}

}  // namespace
}  // namespace gregor::storage::cleaner

namespace gregor::storage::cleaner {
namespace {

TEST(OffsetMapGrowthTest, TheTableInUseGrowsWithTheKeysAndKeepsEveryOne) {
  OffsetMap map(64 << 20, 0.9);  // 2.8 M slots
  EXPECT_LE(map.peak_bytes(), 1024 * OffsetMap::kBytesPerSlot);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(map.Put(absl::StrCat("key-", i), i));
  for (int i = 0; i < 100000; i += 7) {
    ASSERT_EQ(map.Get(absl::StrCat("key-", i)), std::optional<int64_t>(i)) << i;
  }
  EXPECT_EQ(map.size(), 100000);
  EXPECT_FALSE(map.Get("key-100000").has_value());
  // 100,000 keys at load 0.9 need 111,112 slots: the table grew 1,024 -> 4,096 -> ... ->
  // 262,144 slots (6 MiB), not the whole 64 MiB.
  EXPECT_EQ(map.peak_bytes(), 262144 * OffsetMap::kBytesPerSlot);
  map.Clear();
  EXPECT_EQ(map.size(), 0);
  EXPECT_FALSE(map.Get("key-5").has_value());
  ASSERT_TRUE(map.Put("key-5", 9));
  EXPECT_EQ(map.Get("key-5"), std::optional<int64_t>(9));
}

}  // namespace
}  // namespace gregor::storage::cleaner

namespace gregor::storage::cleaner {
namespace {

// Segments [0,100) [100,200) [200,300) of 1,000 bytes each, the active one at 300; timestamps
// 1000, 2000, 3000; created at 10, 20, 30.
std::vector<SegmentMeta> ThreeSegments() {
  return {{0, 100, 100, 1000, 1000, 10}, {100, 200, 200, 1000, 2000, 20},
          {200, 300, 300, 1000, 3000, 30}};
}

TEST(CleanableRangeTest, FromTheCheckpointToTheActiveSegment) {
  CleanableRange r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, -1, 5000, 0);
  EXPECT_EQ(r.first_dirty, 0);
  EXPECT_EQ(r.first_uncleanable, 300);
  EXPECT_EQ(r.clean_bytes, 0);
  EXPECT_EQ(r.cleanable_bytes, 3000);
  EXPECT_DOUBLE_EQ(r.dirty_ratio, 1.0);
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, 200, 5000, 0);
  EXPECT_EQ(r.first_dirty, 200);
  EXPECT_EQ(r.clean_bytes, 2000);
  EXPECT_EQ(r.cleanable_bytes, 1000);
  EXPECT_NEAR(r.dirty_ratio, 1.0 / 3, 1e-9);
  // A checkpoint inside a segment (a partial clean): that segment counts as dirty.
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, 150, 5000, 0);
  EXPECT_EQ(r.first_dirty, 150);
  EXPECT_EQ(r.clean_bytes, 1000);
  EXPECT_EQ(r.cleanable_bytes, 2000);
}

TEST(CleanableRangeTest, TheHighWatermarkEndsItAtASegmentBoundary) {
  // HW inside the second segment: only the first is cleanable.
  CleanableRange r = ComputeCleanableRange(ThreeSegments(), 0, 350, 150, -1, 5000, 0);
  EXPECT_EQ(r.first_uncleanable, 100);
  EXPECT_EQ(r.cleanable_bytes, 1000);
  // HW exactly at a segment's end: that segment is cleanable.
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 200, -1, 5000, 0);
  EXPECT_EQ(r.first_uncleanable, 200);
  // HW at 0: nothing.
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 0, -1, 5000, 0);
  EXPECT_EQ(r.first_uncleanable, 0);
  EXPECT_FALSE(ShouldClean(r, 0, INT64_MAX, 5000));
}

TEST(CleanableRangeTest, MinCompactionLagKeepsRecentSegmentsOut) {
  // now 3500, lag 1000: segments with a record newer than 2500 wait (the third, and with it
  // everything after).
  CleanableRange r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, -1, 3500, 1000);
  EXPECT_EQ(r.first_uncleanable, 200);
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, -1, 3500, 2000);
  EXPECT_EQ(r.first_uncleanable, 100);
}

TEST(CleanableRangeTest, ACheckpointOutsideTheLogStartsOverAtTheLogStart) {
  EXPECT_EQ(ComputeCleanableRange(ThreeSegments(), 50, 350, 350, 10, 5000, 0).first_dirty, 50);
  EXPECT_EQ(ComputeCleanableRange(ThreeSegments(), 0, 350, 350, 999, 5000, 0).first_dirty, 0);
}

TEST(CleanableRangeTest, DueAboveTheRatioOrPastTheMaxLag) {
  CleanableRange r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, 200, 5000, 0);
  EXPECT_TRUE(ShouldClean(r, 0.3, INT64_MAX, 5000));
  EXPECT_FALSE(ShouldClean(r, 0.5, INT64_MAX, 5000));
  // The ratio must be strictly above.
  EXPECT_FALSE(ShouldClean(r, r.dirty_ratio, INT64_MAX, 5000));
  // max.compaction.lag.ms: the dirty segment was created at 30.
  EXPECT_TRUE(ShouldClean(r, 0.5, 100, 200));
  EXPECT_FALSE(ShouldClean(r, 0.5, 100, 120));
  // Nothing cleanable: never due.
  r = ComputeCleanableRange(ThreeSegments(), 0, 350, 350, 300, 5000, 0);
  EXPECT_FALSE(ShouldClean(r, 0, 1, 5000));
}

}  // namespace
}  // namespace gregor::storage::cleaner
