#include "broker/kafka/served_apis.h"

namespace gregor::broker {
namespace {

using kafka::ApiKey;

// Sorted by key. Do not change a range without re-reading §1 of
// shared/reference/kafka-wire-protocol.md: clients infer features and versions from it.
constexpr ServedApi kServed[] = {
    // v3-9. Advertised from 0 as Kafka 4.0 does (KAFKA-18659): librdkafka compresses only
    // when Produce v0 is advertised. v0-2 carry message formats 0/1, which Gregor does not
    // store; such a request closes the connection.
    {ApiKey::kProduce, 0, 3, 9},
    {ApiKey::kFetch, 4, 4, 12},        // v4: the first that requires magic 2
    {ApiKey::kListOffsets, 1, 1, 7},   // librdkafka's OffsetTime feature needs 1
    {ApiKey::kMetadata, 0, 0, 12},
    // The group APIs: the non-flexible versions of consumer-groups.md §1.2 "Phase B" (static
    // membership). OffsetCommit below 2 and OffsetFetch 0 kept offsets in ZooKeeper.
    {ApiKey::kOffsetCommit, 2, 2, 7},
    {ApiKey::kOffsetFetch, 1, 1, 3},
    {ApiKey::kFindCoordinator, 0, 0, 2},
    {ApiKey::kJoinGroup, 0, 0, 5},
    {ApiKey::kHeartbeat, 0, 0, 3},
    {ApiKey::kLeaveGroup, 0, 0, 3},
    {ApiKey::kSyncGroup, 0, 0, 3},
    {ApiKey::kDescribeGroups, 0, 0, 4},
    {ApiKey::kListGroups, 0, 0, 2},
    {ApiKey::kApiVersions, 0, 0, 3},   // v3 is flexible
    {ApiKey::kCreateTopics, 0, 0, 7},
    {ApiKey::kDeleteTopics, 0, 0, 6},
    {ApiKey::kDeleteRecords, 0, 0, 2},
    // Idempotent producers only: librdkafka's IdempotentProducer feature needs v0.
    {ApiKey::kInitProducerId, 0, 0, 4},
    {ApiKey::kOffsetForLeaderEpoch, 0, 0, 4},
    {ApiKey::kDescribeConfigs, 0, 0, 4},
    {ApiKey::kAlterConfigs, 0, 0, 2},
    {ApiKey::kDescribeLogDirs, 0, 0, 4},
    {ApiKey::kCreatePartitions, 0, 0, 3},
    {ApiKey::kDeleteGroups, 0, 0, 1},
    {ApiKey::kElectLeaders, 0, 0, 2},
    {ApiKey::kIncrementalAlterConfigs, 0, 0, 1},
    {ApiKey::kOffsetDelete, 0, 0, 0},
    {ApiKey::kDescribeCluster, 0, 0, 1},
    {ApiKey::kDescribeProducers, 0, 0, 0},
};

constexpr bool EveryServedVersionHasACodec() {
  for (const ServedApi& api : kServed) {
    kafka::VersionRange codec = kafka::CodecVersions(api.key);
    if (api.advertised_min > api.min || api.min > api.max) return false;
    if (!codec.contains(api.min) || !codec.contains(api.max)) return false;
  }
  return true;
}
static_assert(EveryServedVersionHasACodec(),
              "a served version has no schema in common/kafka/schema (or a range is inverted)");

}  // namespace

const std::vector<ServedApi>& ServedApis() {
  static const std::vector<ServedApi> apis(std::begin(kServed), std::end(kServed));
  return apis;
}

bool IsServed(ApiKey key, int16_t version) {
  for (const ServedApi& api : kServed) {
    if (api.key == key) return version >= api.min && version <= api.max;
  }
  return false;
}

kafka::ApiVersionsResponse MakeApiVersionsResponse() {
  kafka::ApiVersionsResponse response;
  for (const ServedApi& api : kServed) {
    response.api_keys.push_back({api.key, api.advertised_min, api.max});
  }
  return response;
}

kafka::ApiVersionsResponse MakeUnsupportedApiVersionsResponse() {
  kafka::ApiVersionsResponse response;
  response.error_code = KafkaErrorCode::kUnsupportedVersion;
  for (const ServedApi& api : kServed) {
    if (api.key == ApiKey::kApiVersions) response.api_keys.push_back({api.key, api.advertised_min, api.max});
  }
  return response;
}

}  // namespace gregor::broker
