#include "broker/group/consumer_protocol.h"

#include "common/kafka/wire.h"

namespace gregor::group {

std::optional<std::vector<std::string>> ParseSubscriptionTopics(std::string_view metadata) {
  kafka::Reader r(metadata);
  const int16_t version = r.ReadInt16("version");
  if (!r.ok() || version < 0) return std::nullopt;
  const int32_t n = r.ReadArrayLength("topics", 2);
  std::vector<std::string> topics;
  for (int32_t i = 0; i < n && r.ok(); ++i) topics.emplace_back(r.ReadString("topic"));
  if (!r.ok()) return std::nullopt;
  return topics;
}

std::optional<std::map<std::string, std::vector<int32_t>>> ParseAssignment(std::string_view bytes) {
  std::map<std::string, std::vector<int32_t>> out;
  if (bytes.empty()) return out;
  kafka::Reader r(bytes);
  const int16_t version = r.ReadInt16("version");
  if (!r.ok() || version < 0) return std::nullopt;
  const int32_t n = r.ReadArrayLength("assigned_partitions", 6);
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    std::string topic(r.ReadString("topic"));
    const int32_t m = r.ReadArrayLength("partitions", 4);
    auto& partitions = out[topic];
    for (int32_t j = 0; j < m && r.ok(); ++j) partitions.push_back(r.ReadInt32("partition"));
  }
  if (!r.ok()) return std::nullopt;
  return out;
}

std::string EncodeSubscriptionV0(const std::vector<std::string>& topics) {
  kafka::Writer w;
  w.WriteInt16(0);
  w.WriteArrayLength(topics.size());
  for (const std::string& t : topics) w.WriteString(t);
  w.WriteBytes("");
  return *w.Flatten();
}

std::string EncodeAssignmentV0(const std::map<std::string, std::vector<int32_t>>& assignment) {
  kafka::Writer w;
  w.WriteInt16(0);
  w.WriteArrayLength(assignment.size());
  for (const auto& [topic, partitions] : assignment) {
    w.WriteString(topic);
    w.WriteArrayLength(partitions.size());
    for (int32_t p : partitions) w.WriteInt32(p);
  }
  w.WriteBytes("");
  return *w.Flatten();
}

}  // namespace gregor::group
