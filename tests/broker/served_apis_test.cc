// The one list of served Kafka APIs (broker/kafka/served_apis.h): what ApiVersions advertises,
// what is decoded, and what each client infers from it.
#include "broker/kafka/served_apis.h"

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
              ElementsAre(ApiVersionRange{ApiKey::kProduce, 0, 3},
                          ApiVersionRange{ApiKey::kFetch, 4, 4},
                          ApiVersionRange{ApiKey::kListOffsets, 1, 1},
                          ApiVersionRange{ApiKey::kMetadata, 0, 4},
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
                          ApiVersionRange{ApiKey::kCreateTopics, 0, 3},
                          ApiVersionRange{ApiKey::kDeleteTopics, 0, 1},
                          ApiVersionRange{ApiKey::kDeleteGroups, 0, 1},
                          ApiVersionRange{ApiKey::kOffsetDelete, 0, 0}));
}

TEST(ServedApisTest, NoAdvertisedVersionIsFlexibleExceptApiVersions3) {
  // Pitfall 11: never advertise a flexible version we do not implement.
  for (const ApiVersionRange& range : Advertised()) {
    for (int16_t v = range.min_version; v <= range.max_version; ++v) {
      bool expected = range.api_key == ApiKey::kApiVersions && v == 3;
      EXPECT_EQ(IsFlexible(range.api_key, v), expected) << ApiKeyName(range.api_key) << " v" << v;
    }
  }
}

TEST(ServedApisTest, ServedVersions) {
  // Produce 0-2 are advertised (librdkafka compression) but rejected.
  for (int16_t v = 0; v <= 2; ++v) EXPECT_FALSE(IsServed(ApiKey::kProduce, v));
  EXPECT_TRUE(IsServed(ApiKey::kProduce, 3));
  EXPECT_FALSE(IsServed(ApiKey::kProduce, 4));
  EXPECT_TRUE(IsServed(ApiKey::kFetch, 4));
  EXPECT_FALSE(IsServed(ApiKey::kFetch, 3));
  EXPECT_FALSE(IsServed(ApiKey::kFetch, 5));
  EXPECT_TRUE(IsServed(ApiKey::kListOffsets, 1));
  EXPECT_FALSE(IsServed(ApiKey::kListOffsets, 0));
  for (int16_t v = 0; v <= 4; ++v) EXPECT_TRUE(IsServed(ApiKey::kMetadata, v));
  EXPECT_FALSE(IsServed(ApiKey::kMetadata, 5));
  for (int16_t v = 0; v <= 3; ++v) {
    EXPECT_TRUE(IsServed(ApiKey::kApiVersions, v));
    EXPECT_TRUE(IsServed(ApiKey::kCreateTopics, v));
  }
  EXPECT_FALSE(IsServed(ApiKey::kApiVersions, 4));
  EXPECT_FALSE(IsServed(ApiKey::kApiVersions, -1));
  EXPECT_FALSE(IsServed(ApiKey::kCreateTopics, 4));
  EXPECT_TRUE(IsServed(ApiKey::kDeleteTopics, 1));
  EXPECT_FALSE(IsServed(ApiKey::kDeleteTopics, 2));
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
