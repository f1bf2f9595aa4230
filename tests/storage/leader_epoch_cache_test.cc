#include "broker/storage/leader_epoch_cache.h"

#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

using Entries = std::vector<EpochEntry>;

TEST(LeaderEpochCacheTest, AssignAppendsNewEpochs) {
  LeaderEpochCache cache;
  EXPECT_TRUE(cache.Assign(0, 0));
  EXPECT_TRUE(cache.Assign(2, 10));
  EXPECT_FALSE(cache.Assign(2, 15));  // same epoch, later offset: nothing to record
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}, {2, 10}}));
  EXPECT_EQ(*cache.LatestEpoch(), 2);
}

TEST(LeaderEpochCacheTest, AssignRemovesConflictingEntries) {
  LeaderEpochCache cache({{0, 0}, {2, 10}, {4, 20}});
  // Epoch 3 at offset 15: epoch 4 (higher epoch) goes.
  EXPECT_TRUE(cache.Assign(3, 15));
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}, {2, 10}, {3, 15}}));
  // Epoch 5 at offset 12: epoch 3 (higher start offset) goes.
  EXPECT_TRUE(cache.Assign(5, 12));
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}, {2, 10}, {5, 12}}));
  // Same latest epoch at an earlier offset: moved back.
  EXPECT_TRUE(cache.Assign(5, 11));
  EXPECT_EQ(cache.entries(), (Entries{{0, 0}, {2, 10}, {5, 11}}));
}

TEST(LeaderEpochCacheTest, EndOffsetForFollowsKafkaSemantics) {
  LeaderEpochCache cache({{2, 10}, {4, 20}, {7, 35}});
  const int64_t leo = 50;
  EXPECT_EQ(cache.EndOffsetFor(-1, leo), (EpochEndOffset{-1, -1}));  // undefined
  EXPECT_EQ(cache.EndOffsetFor(7, leo), (EpochEndOffset{7, 50}));    // latest: the LEO
  EXPECT_EQ(cache.EndOffsetFor(4, leo), (EpochEndOffset{4, 35}));    // next epoch's start
  EXPECT_EQ(cache.EndOffsetFor(5, leo), (EpochEndOffset{4, 35}));    // unknown: largest below
  EXPECT_EQ(cache.EndOffsetFor(6, leo), (EpochEndOffset{4, 35}));
  EXPECT_EQ(cache.EndOffsetFor(1, leo), (EpochEndOffset{1, 10}));    // below the earliest
  EXPECT_EQ(cache.EndOffsetFor(8, leo), (EpochEndOffset{-1, -1}));   // above the latest
  EXPECT_EQ(LeaderEpochCache().EndOffsetFor(0, leo), (EpochEndOffset{-1, -1}));
}

TEST(LeaderEpochCacheTest, TruncateFromEndRemovesEntriesAtOrAfter) {
  LeaderEpochCache cache({{2, 10}, {4, 20}, {7, 35}});
  EXPECT_FALSE(cache.TruncateFromEnd(36));
  EXPECT_TRUE(cache.TruncateFromEnd(35));
  EXPECT_EQ(cache.entries(), (Entries{{2, 10}, {4, 20}}));
  EXPECT_TRUE(cache.TruncateFromEnd(0));
  EXPECT_TRUE(cache.entries().empty());
}

TEST(LeaderEpochCacheTest, TruncateFromStartMovesTheCoveringEntryUp) {
  LeaderEpochCache cache({{2, 10}, {4, 20}, {7, 35}});
  EXPECT_FALSE(cache.TruncateFromStart(5));  // below the first entry
  EXPECT_TRUE(cache.TruncateFromStart(25));
  EXPECT_EQ(cache.entries(), (Entries{{4, 25}, {7, 35}}));
  EXPECT_FALSE(cache.TruncateFromStart(25));
  EXPECT_TRUE(cache.TruncateFromStart(35));
  EXPECT_EQ(cache.entries(), (Entries{{7, 35}}));
  EXPECT_TRUE(cache.TruncateFromStart(100));
  EXPECT_EQ(cache.entries(), (Entries{{7, 100}}));
}

TEST(LeaderEpochCacheTest, EpochForOffset) {
  LeaderEpochCache cache({{2, 10}, {4, 20}});
  EXPECT_FALSE(cache.EpochForOffset(5).has_value());
  EXPECT_EQ(*cache.EpochForOffset(10), 2);
  EXPECT_EQ(*cache.EpochForOffset(19), 2);
  EXPECT_EQ(*cache.EpochForOffset(1000), 4);
}

TEST(LeaderEpochCacheTest, CheckpointFileRoundTrip) {
  testing::TempDir dir;
  LeaderEpochCache cache({{0, 0}, {3, 17}, {9, 1000000000000}});
  ASSERT_TRUE(cache.Persist(dir.path()).ok());
  EXPECT_EQ(testing::FileBytes(dir.Sub("leader-epoch-checkpoint")),
            "0\n3\n0 0\n3 17\n9 1000000000000\n");
  auto loaded = LeaderEpochCache::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->entries(), cache.entries());
}

TEST(LeaderEpochCacheTest, LoadRejectsMalformedFiles) {
  for (const char* text : {"", "1\n0\n", "0\n2\n0 0\n", "0\n1\nx y\n", "0\n2\n3 10\n2 20\n",
                           "0\n2\n1 10\n2 5\n", "0\n1\n-1 0\n"}) {
    auto parsed = LeaderEpochCache::Parse(text, "f");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kDataLoss) << "input: " << text;
  }
  EXPECT_EQ(LeaderEpochCache::Load("/nonexistent-dir").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gregor::storage
