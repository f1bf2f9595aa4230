// The pure part of `gregor group reset-offsets` (tools/offset_reset.h).
#include "tools/offset_reset.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace gregor::tools {
namespace {

using Kind = ResetSpec::Kind;

TEST(OffsetResetTest, EarliestLatestAndClampedOffsets) {
  PartitionState s{10, 100, 40, std::nullopt};
  EXPECT_EQ(ComputeNewOffset({Kind::kEarliest, 0}, "t", 0, s)->offset, 10);
  EXPECT_EQ(ComputeNewOffset({Kind::kLatest, 0}, "t", 0, s)->offset, 100);
  EXPECT_EQ(ComputeNewOffset({Kind::kCurrent, 0}, "t", 0, s)->offset, 40);
  auto low = ComputeNewOffset({Kind::kOffset, 3}, "t", 2, s);
  EXPECT_EQ(low->offset, 10);
  EXPECT_EQ(low->warning,
            "New offset (3) is lower than earliest offset for topic partition t-2. Value will be set to 10");
  auto high = ComputeNewOffset({Kind::kShiftBy, 100}, "t", 2, s);
  EXPECT_EQ(high->offset, 100);
  EXPECT_NE(high->warning.find("higher than latest"), std::string::npos);
  EXPECT_EQ(ComputeNewOffset({Kind::kShiftBy, -15}, "t", 0, s)->offset, 25);
  EXPECT_TRUE(ComputeNewOffset({Kind::kOffset, 55}, "t", 0, s)->warning.empty());
}

TEST(OffsetResetTest, ShiftNeedsACommittedOffset) {
  PartitionState s{0, 100, std::nullopt, std::nullopt};
  EXPECT_FALSE(ComputeNewOffset({Kind::kShiftBy, 1}, "t", 0, s).ok());
}

TEST(OffsetResetTest, TimestampPastTheEndFallsBackToLatest) {
  PartitionState s{0, 100, std::nullopt, -1};
  auto r = ComputeNewOffset({Kind::kTimestamp, 5}, "t", 1, s);
  EXPECT_EQ(r->offset, 100);
  EXPECT_EQ(r->warning, "Partition 1 from topic t is empty. Falling back to latest known offset.");
  s.by_time = 42;
  EXPECT_EQ(ComputeNewOffset({Kind::kTimestamp, 5}, "t", 1, s)->offset, 42);
}

TEST(OffsetResetTest, TopicSpecs) {
  auto all = ParseTopicSpec("orders");
  EXPECT_EQ(all->first, "orders");
  EXPECT_TRUE(all->second.empty());
  auto some = ParseTopicSpec("orders:0,2");
  EXPECT_EQ(some->second, (std::vector<int32_t>{0, 2}));
  EXPECT_FALSE(ParseTopicSpec("orders:x").ok());
  EXPECT_FALSE(ParseTopicSpec(":1").ok());
}

TEST(OffsetResetTest, Datetimes) {
  EXPECT_EQ(*ParseDatetime("2023-11-14T22:13:20.000Z"), 1700000000000);
  EXPECT_EQ(*ParseDatetime("2023-11-14T23:13:20.5+01:00"), 1700000000500);
  EXPECT_EQ(*ParseDatetime("2023-11-14T22:13Z"), 1700000000000 - 20000);
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(*ParseDatetime("2023-11-14T22:13:20.000"), 1700000000000);  // local time
  EXPECT_FALSE(ParseDatetime("yesterday").ok());
}

TEST(OffsetResetTest, Durations) {
  EXPECT_EQ(*ParseDurationMs("PT15M"), 15 * 60 * 1000);
  EXPECT_EQ(*ParseDurationMs("P1DT2H"), 26LL * 3600 * 1000);
  EXPECT_EQ(*ParseDurationMs("PT1.5S"), 1500);
  EXPECT_FALSE(ParseDurationMs("P").ok());
  EXPECT_FALSE(ParseDurationMs("15m").ok());
}

}  // namespace
}  // namespace gregor::tools
