// The one list of served Kafka APIs (broker/kafka/served_apis.h): what ApiVersions advertises,
// what is decoded, and what each client infers from it.
#include "broker/kafka/served_apis.h"

#include <utility>
#include <vector>

#include "common/kafka/api.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

using kafka::ApiKey;
using kafka::ApiKeyName;
using kafka::ApiVersionRange;
using kafka::IsFlexible;
using ::testing::ElementsAre;

std::vector<ApiVersionRange> Advertised() { return MakeApiVersionsResponse().api_keys; }

TEST(ServedApisTest, AdvertisedTableIsExactlyTheRecommendedOne) {
  // §1.6 of the wire reference, with the group APIs of consumer-groups.md §1.2 (phase B). Each
  // range is load-bearing: see §1.2/§6 of both.
  EXPECT_THAT(Advertised(),
              ElementsAre(ApiVersionRange{ApiKey::kProduce, 0, 9},
                          ApiVersionRange{ApiKey::kFetch, 4, 12},
                          ApiVersionRange{ApiKey::kListOffsets, 1, 7},
                          ApiVersionRange{ApiKey::kMetadata, 0, 12},
                          ApiVersionRange{ApiKey::kOffsetCommit, 2, 7},
                          ApiVersionRange{ApiKey::kOffsetFetch, 1, 3},
                          ApiVersionRange{ApiKey::kFindCoordinator, 0, 2},
                          ApiVersionRange{ApiKey::kJoinGroup, 0, 5},
                          ApiVersionRange{ApiKey::kHeartbeat, 0, 3},
                          ApiVersionRange{ApiKey::kLeaveGroup, 0, 3},
                          ApiVersionRange{ApiKey::kSyncGroup, 0, 3},
                          ApiVersionRange{ApiKey::kDescribeGroups, 0, 4},
                          ApiVersionRange{ApiKey::kListGroups, 0, 2},
                          ApiVersionRange{ApiKey::kApiVersions, 0, 3},
                          ApiVersionRange{ApiKey::kCreateTopics, 0, 7},
                          ApiVersionRange{ApiKey::kDeleteTopics, 0, 6},
                          ApiVersionRange{ApiKey::kDeleteRecords, 0, 2},
                          ApiVersionRange{ApiKey::kInitProducerId, 0, 4},
                          ApiVersionRange{ApiKey::kOffsetForLeaderEpoch, 0, 4},
                          ApiVersionRange{ApiKey::kDescribeConfigs, 0, 4},
                          ApiVersionRange{ApiKey::kAlterConfigs, 0, 2},
                          ApiVersionRange{ApiKey::kDescribeLogDirs, 0, 4},
                          ApiVersionRange{ApiKey::kCreatePartitions, 0, 3},
                          ApiVersionRange{ApiKey::kDeleteGroups, 0, 1},
                          ApiVersionRange{ApiKey::kElectLeaders, 0, 2},
                          ApiVersionRange{ApiKey::kIncrementalAlterConfigs, 0, 1},
                          ApiVersionRange{ApiKey::kOffsetDelete, 0, 0},
                          ApiVersionRange{ApiKey::kDescribeCluster, 0, 1},
                          ApiVersionRange{ApiKey::kDescribeProducers, 0, 0}));
}

TEST(ServedApisTest, TheFlexibleVersionsAdvertisedAreTheImplementedOnes) {
  // Pitfall 11: never advertise a flexible version we do not implement.
  std::vector<std::pair<ApiKey, int16_t>> flexible;
  for (const ApiVersionRange& range : Advertised()) {
    for (int16_t v = range.min_version; v <= range.max_version; ++v) {
      if (IsFlexible(range.api_key, v)) flexible.emplace_back(range.api_key, v);
    }
  }
  using F = std::pair<ApiKey, int16_t>;
  EXPECT_THAT(flexible,
              ElementsAre(F{ApiKey::kProduce, 9}, F{ApiKey::kFetch, 12}, F{ApiKey::kListOffsets, 6},
                          F{ApiKey::kListOffsets, 7}, F{ApiKey::kMetadata, 9},
                          F{ApiKey::kMetadata, 10}, F{ApiKey::kMetadata, 11},
                          F{ApiKey::kMetadata, 12}, F{ApiKey::kApiVersions, 3},
                          F{ApiKey::kCreateTopics, 5}, F{ApiKey::kCreateTopics, 6},
                          F{ApiKey::kCreateTopics, 7}, F{ApiKey::kDeleteTopics, 4},
                          F{ApiKey::kDeleteTopics, 5}, F{ApiKey::kDeleteTopics, 6},
                          F{ApiKey::kDeleteRecords, 2}, F{ApiKey::kInitProducerId, 2},
                          F{ApiKey::kInitProducerId, 3}, F{ApiKey::kInitProducerId, 4},
                          F{ApiKey::kOffsetForLeaderEpoch, 4},
                          F{ApiKey::kDescribeConfigs, 4},
                          F{ApiKey::kAlterConfigs, 2}, F{ApiKey::kDescribeLogDirs, 2},
                          F{ApiKey::kDescribeLogDirs, 3}, F{ApiKey::kDescribeLogDirs, 4},
                          F{ApiKey::kCreatePartitions, 2}, F{ApiKey::kCreatePartitions, 3},
                          F{ApiKey::kElectLeaders, 2}, F{ApiKey::kIncrementalAlterConfigs, 1},
                          F{ApiKey::kDescribeCluster, 0}, F{ApiKey::kDescribeCluster, 1},
                          F{ApiKey::kDescribeProducers, 0}));
}

TEST(ServedApisTest, ServedVersions) {
  // Produce 0-2 are advertised (librdkafka compression) but rejected.
  for (int16_t v = 0; v <= 2; ++v) EXPECT_FALSE(IsServed(ApiKey::kProduce, v));
  for (int16_t v = 3; v <= 9; ++v) EXPECT_TRUE(IsServed(ApiKey::kProduce, v));
  EXPECT_FALSE(IsServed(ApiKey::kProduce, 10));
  for (int16_t v = 4; v <= 12; ++v) EXPECT_TRUE(IsServed(ApiKey::kFetch, v));
  EXPECT_FALSE(IsServed(ApiKey::kFetch, 3));   // may carry message formats 0/1
  EXPECT_FALSE(IsServed(ApiKey::kFetch, 13));  // topic ids instead of names
  for (int16_t v = 1; v <= 7; ++v) EXPECT_TRUE(IsServed(ApiKey::kListOffsets, v));
  EXPECT_FALSE(IsServed(ApiKey::kListOffsets, 0));
  EXPECT_FALSE(IsServed(ApiKey::kListOffsets, 8));
  for (int16_t v = 0; v <= 12; ++v) EXPECT_TRUE(IsServed(ApiKey::kMetadata, v));
  EXPECT_FALSE(IsServed(ApiKey::kMetadata, 13));
  for (int16_t v = 0; v <= 3; ++v) {
    EXPECT_TRUE(IsServed(ApiKey::kApiVersions, v));
    EXPECT_TRUE(IsServed(ApiKey::kCreateTopics, v));
  }
  EXPECT_FALSE(IsServed(ApiKey::kApiVersions, 4));
  EXPECT_FALSE(IsServed(ApiKey::kApiVersions, -1));
  EXPECT_TRUE(IsServed(ApiKey::kCreateTopics, 7));
  EXPECT_FALSE(IsServed(ApiKey::kCreateTopics, 8));
  EXPECT_TRUE(IsServed(ApiKey::kDeleteTopics, 6));
  EXPECT_FALSE(IsServed(ApiKey::kDeleteTopics, 7));
  EXPECT_TRUE(IsServed(ApiKey::kJoinGroup, 0));   // v0: no rebalance timeout
  EXPECT_TRUE(IsServed(ApiKey::kJoinGroup, 5));   // static membership
  EXPECT_FALSE(IsServed(ApiKey::kJoinGroup, 6));  // flexible
  EXPECT_FALSE(IsServed(ApiKey::kOffsetCommit, 1));
  EXPECT_FALSE(IsServed(ApiKey::kOffsetFetch, 0));
  EXPECT_FALSE(IsServed(static_cast<ApiKey>(999), 0));
  // Every served version is advertised.
  for (int key = 0; key < 100; ++key) {
    for (int16_t v = -1; v < 20; ++v) {
      if (!IsServed(static_cast<ApiKey>(key), v)) continue;
      bool advertised = false;
      for (const ApiVersionRange& r : Advertised()) {
        advertised |= static_cast<int>(r.api_key) == key && r.min_version <= v && v <= r.max_version;
      }
      EXPECT_TRUE(advertised) << key << " v" << v;
    }
  }
}

}  // namespace
}  // namespace gregor::broker
