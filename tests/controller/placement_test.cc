// Replica placement (controller/placement.h): Kafka's rack-unaware and rack-aware assignments.
#include "controller/placement.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// =================================================================================================
// Placement (PlaceReplicas)

// Kafka's rack-aware assignment: every partition on as many racks as it has replicas (up to the
// number of racks), and leaders and replicas still spread evenly over the brokers.
TEST(ControlPlacementTest, RackAwareSpreadsReplicasOverRacks) {
  const std::map<int32_t, std::string> racks = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "c"}, {6, "c"}};
  for (uint64_t seed : {0u, 1u, 7u, 100u}) {
    for (int32_t rf : {2, 3, 4}) {
      auto placement = PlaceReplicas({1, 2, 3, 4, 5, 6}, 0, 12, rf, seed, racks);
      ASSERT_EQ(placement.size(), 12u);
      std::map<int32_t, int> leaders, replicas;
      for (const auto& p : placement) {
        ASSERT_EQ(static_cast<int32_t>(p.size()), rf);
        std::set<int32_t> distinct(p.begin(), p.end());
        EXPECT_EQ(distinct.size(), p.size());
        std::set<std::string> on;
        for (int32_t b : p) on.insert(racks.at(b));
        EXPECT_EQ(static_cast<int32_t>(on.size()), std::min(rf, 3)) << "seed " << seed << " rf " << rf;
        ++leaders[p[0]];
        for (int32_t b : p) ++replicas[b];
      }
      for (const auto& [b, n] : leaders) EXPECT_EQ(n, 2) << "leaders on " << b;
      for (const auto& [b, n] : replicas) EXPECT_EQ(n, 2 * rf) << "replicas on " << b;
    }
  }
  // One rack per broker (the test cluster of issue 13): every replica in its own rack.
  auto three = PlaceReplicas({1, 2, 3}, 0, 3, 3, 5, {{1, "r1"}, {2, "r2"}, {3, "r3"}});
  for (const auto& p : three) EXPECT_EQ(std::set<int32_t>(p.begin(), p.end()).size(), 3u);
  // Uneven racks: rf 2 always spans both racks.
  auto uneven = PlaceReplicas({1, 2, 3, 4}, 0, 8, 2, 3, {{1, "x"}, {2, "x"}, {3, "x"}, {4, "y"}});
  for (const auto& p : uneven) EXPECT_TRUE(p[0] == 4 || p[1] == 4);
  // Without racks (or one rack) the rack-unaware assignment, unchanged.
  EXPECT_EQ(PlaceReplicas({1, 2, 3}, 0, 6, 2, 9, {{1, "a"}, {2, "a"}, {3, "a"}}),
            PlaceReplicas({1, 2, 3}, 0, 6, 2, 9));
}
// =================================================================================================

TEST(PlacementTest, DegenerateInputs) {
  EXPECT_THAT(PlaceReplicas({}, 0, 3, 1, 0), IsEmpty());
  EXPECT_THAT(PlaceReplicas({1, 2}, 0, 3, 3, 0), IsEmpty());
  EXPECT_THAT(PlaceReplicas({1, 2}, 0, 0, 1, 0), IsEmpty());
  auto one = PlaceReplicas({7}, 0, 3, 1, 99);
  ASSERT_EQ(one.size(), 3u);
  for (const auto& r : one) EXPECT_THAT(r, ElementsAre(7));
}

TEST(PlacementTest, ReplicasAreDistinctBrokersFromTheList) {
  std::vector<int32_t> brokers = {2, 5, 9, 11, 40};
  for (uint64_t seed = 0; seed < 40; ++seed) {
    for (int32_t rf = 1; rf <= 5; ++rf) {
      auto placement = PlaceReplicas(brokers, 0, 17, rf, seed);
      ASSERT_EQ(placement.size(), 17u);
      for (const auto& replicas : placement) {
        ASSERT_EQ(replicas.size(), static_cast<size_t>(rf));
        EXPECT_EQ(std::set<int32_t>(replicas.begin(), replicas.end()).size(), replicas.size());
        for (int32_t r : replicas) {
          EXPECT_NE(std::find(brokers.begin(), brokers.end(), r), brokers.end());
        }
      }
    }
  }
}

std::pair<std::map<int32_t, int>, std::map<int32_t, int>> Counts(
    const std::vector<std::vector<int32_t>>& placement) {
  std::map<int32_t, int> leaders, replicas;
  for (const auto& r : placement) {
    leaders[r[0]]++;
    for (int32_t b : r) replicas[b]++;
  }
  return {leaders, replicas};
}

TEST(PlacementTest, SixPartitionsRf3OverThreeBrokersForEverySeed) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto [leaders, replicas] = Counts(PlaceReplicas({1, 2, 3}, 0, 6, 3, seed));
    EXPECT_EQ(leaders, (std::map<int32_t, int>{{1, 2}, {2, 2}, {3, 2}})) << seed;
    EXPECT_EQ(replicas, (std::map<int32_t, int>{{1, 6}, {2, 6}, {3, 6}})) << seed;
  }
}

TEST(PlacementTest, TwelvePartitionsRf2OverFourBrokersForEverySeed) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto placement = PlaceReplicas({10, 20, 30, 40}, 0, 12, 2, seed);
    auto [leaders, replicas] = Counts(placement);
    EXPECT_EQ(leaders, (std::map<int32_t, int>{{10, 3}, {20, 3}, {30, 3}, {40, 3}})) << seed;
    EXPECT_EQ(replicas, (std::map<int32_t, int>{{10, 6}, {20, 6}, {30, 6}, {40, 6}})) << seed;
    // Followers are spread too, and no broker always follows the same leader.
    std::map<int32_t, std::set<int32_t>> followers_of;
    for (const auto& r : placement) followers_of[r[0]].insert(r[1]);
    for (const auto& [leader, followers] : followers_of) EXPECT_GT(followers.size(), 1u) << seed;
  }
}

TEST(PlacementTest, AddedPartitionsContinueTheRoundRobin) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto first = PlaceReplicas({1, 2, 3}, 0, 3, 2, seed);
    auto more = PlaceReplicas({1, 2, 3}, 3, 3, 2, seed);
    auto [l1, r1] = Counts(first);
    auto [l2, r2] = Counts(more);
    EXPECT_EQ(l1.size(), 3u);
    EXPECT_EQ(l2.size(), 3u);  // the three new partitions have three different leaders
  }
}

TEST(PlacementTest, DeterministicForASeedAndVariedAcrossSeeds) {
  EXPECT_EQ(PlaceReplicas({1, 2, 3, 4}, 0, 8, 3, 7), PlaceReplicas({1, 2, 3, 4}, 0, 8, 3, 7));
  std::set<std::vector<std::vector<int32_t>>> distinct;
  for (uint64_t seed = 0; seed < 16; ++seed) distinct.insert(PlaceReplicas({1, 2, 3, 4}, 0, 4, 2, seed));
  EXPECT_GT(distinct.size(), 1u);
}


}  // namespace
}  // namespace gregor::controller
