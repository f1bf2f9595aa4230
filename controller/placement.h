// Where new partitions' replicas go (Kafka's replica assignment), as pure functions: used by the
// controller for CreateTopics and CreatePartitions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/metadata/metadata_image.h"

namespace gregor::controller {

// Places `count` partitions with `replication_factor` replicas over `brokers` (ascending ids),
// spreading replicas and preferred leaders evenly (Kafka's rack-unaware assignment with a start
// index and shift chosen from `first_partition` and `seed` instead of randomly). When `racks`
// (broker -> broker.rack; "" for none) names two racks or more, Kafka's rack-aware assignment:
// the brokers ordered alternating between racks, and each partition's replicas on as many
// racks as there are (a second replica in a rack only once every rack has one).
std::vector<std::vector<int32_t>> PlaceReplicas(const std::vector<int32_t>& brokers,
                                                int32_t first_partition, int32_t count,
                                                int32_t replication_factor, uint64_t seed,
                                                const std::map<int32_t, std::string>& racks = {});

// broker -> broker.rack ("" for none) of every registered broker.
std::map<int32_t, std::string> RacksOf(const metadata::MetadataImage& image);

}  // namespace gregor::controller
