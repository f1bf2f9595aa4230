#include "controller/placement.h"

#include <set>

namespace gregor::controller {

namespace {

// Kafka's getRackAlternatedBrokerList: racks in name order, each rack's brokers in id order,
// taken one per rack in turn.
std::vector<int32_t> RackAlternated(const std::vector<int32_t>& brokers,
                                    const std::map<int32_t, std::string>& racks) {
  std::map<std::string, std::vector<int32_t>> by_rack;
  for (int32_t b : brokers) {
    auto it = racks.find(b);
    by_rack[it == racks.end() ? "" : it->second].push_back(b);
  }
  std::vector<int32_t> out;
  for (size_t i = 0; out.size() < brokers.size(); ++i) {
    for (const auto& [rack, members] : by_rack) {
      if (i < members.size()) out.push_back(members[i]);
    }
  }
  return out;
}

std::vector<std::vector<int32_t>> PlaceRackAware(const std::vector<int32_t>& brokers,
                                                 const std::map<int32_t, std::string>& racks,
                                                 int32_t first_partition, int32_t count,
                                                 int32_t replication_factor, uint64_t seed) {
  const std::vector<int32_t> arranged = RackAlternated(brokers, racks);
  const int32_t n = static_cast<int32_t>(arranged.size());
  auto rack_of = [&](int32_t b) {
    auto it = racks.find(b);
    return it == racks.end() ? std::string() : it->second;
  };
  std::set<std::string> all_racks;
  for (int32_t b : arranged) all_racks.insert(rack_of(b));
  const int32_t num_racks = static_cast<int32_t>(all_racks.size());
  int32_t start = static_cast<int32_t>(seed % static_cast<uint64_t>(n));
  int32_t shift = static_cast<int32_t>((seed / static_cast<uint64_t>(n)) % static_cast<uint64_t>(n));
  std::vector<std::vector<int32_t>> out;
  for (int32_t i = 0; i < count; ++i) {
    int32_t partition = first_partition + i;
    if (partition > 0 && partition % n == 0) ++shift;
    int32_t first = (partition + start) % n;
    std::vector<int32_t> replicas = {arranged[first]};
    std::set<std::string> racks_used = {rack_of(arranged[first])};
    std::set<int32_t> brokers_used = {arranged[first]};
    for (int32_t k = 0; static_cast<int32_t>(replicas.size()) < replication_factor; ++k) {
      const int32_t index = (first + 1 + (shift * num_racks + k) % (n - 1)) % n;
      const int32_t b = arranged[index];
      const std::string rack = rack_of(b);
      // A rack (broker) that has a replica is skipped while some rack (broker) has none.
      if ((!racks_used.count(rack) || static_cast<int32_t>(racks_used.size()) == num_racks) &&
          (!brokers_used.count(b) || static_cast<int32_t>(brokers_used.size()) == n)) {
        replicas.push_back(b);
        racks_used.insert(rack);
        brokers_used.insert(b);
      }
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace

std::map<int32_t, std::string> RacksOf(const metadata::MetadataImage& image) {
  std::map<int32_t, std::string> racks;
  for (const auto& [id, b] : image.brokers()) racks[id] = b.rack;
  return racks;
}

std::vector<std::vector<int32_t>> PlaceReplicas(const std::vector<int32_t>& brokers,
                                                int32_t first_partition, int32_t count,
                                                int32_t replication_factor, uint64_t seed,
                                                const std::map<int32_t, std::string>& racks) {
  const int32_t n = static_cast<int32_t>(brokers.size());
  std::vector<std::vector<int32_t>> out;
  if (n == 0 || replication_factor > n) return out;
  std::set<std::string> distinct;
  for (int32_t b : brokers) {
    auto it = racks.find(b);
    distinct.insert(it == racks.end() ? "" : it->second);
  }
  if (distinct.size() > 1) {
    return PlaceRackAware(brokers, racks, first_partition, count, replication_factor, seed);
  }
  int32_t start = static_cast<int32_t>(seed % static_cast<uint64_t>(n));
  int32_t shift = static_cast<int32_t>((seed / static_cast<uint64_t>(n)) % static_cast<uint64_t>(n));
  for (int32_t i = 0; i < count; ++i) {
    int32_t partition = first_partition + i;
    if (partition > 0 && partition % n == 0) ++shift;
    int32_t first = (partition + start) % n;
    std::vector<int32_t> replicas = {brokers[first]};
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      int32_t index = (first + 1 + (n > 1 ? (shift + j) % (n - 1) : 0)) % n;
      replicas.push_back(brokers[index]);
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

}  // namespace gregor::controller
