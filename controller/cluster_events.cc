#include "controller/cluster_events.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gregor::controller {

using metadata::MetadataImage;
using metadata::MetadataRecord;
using metadata::PartitionState;

namespace {

std::string IsrText(const std::vector<int32_t>& isr) {
  return absl::StrCat("[", absl::StrJoin(isr, ","), "]");
}

std::string LeaderText(int32_t leader) {
  return leader == metadata::kNoLeader ? std::string("none") : absl::StrCat(leader);
}

ClusterEvent BaseEvent(int64_t offset, int64_t timestamp_ms, const char* kind) {
  ClusterEvent e;
  e.set_offset(offset);
  e.set_timestamp_ms(timestamp_ms);
  e.set_kind(kind);
  e.set_broker_id(-1);
  e.set_partition(-1);
  e.set_old_leader(-1);
  e.set_new_leader(-1);
  return e;
}

void PartitionEvents(const std::string& topic, int32_t partition, const PartitionState* old_state,
                     const PartitionState& now, int64_t offset, int64_t ts,
                     std::vector<ClusterEvent>* out) {
  std::string name = absl::StrCat(topic, "-", partition);
  if (old_state == nullptr) {
    ClusterEvent e = BaseEvent(offset, ts, "partition_created");
    e.set_topic(topic);
    e.set_partition(partition);
    e.set_new_leader(now.leader);
    e.set_new_leader_epoch(now.leader_epoch);
    for (int32_t b : now.isr) e.add_new_isr(b);
    e.set_text(absl::StrCat(name, " created: replicas ", IsrText(now.replicas), " leader ",
                            LeaderText(now.leader), " ISR ", IsrText(now.isr)));
    out->push_back(std::move(e));
    return;
  }
  if (old_state->leader != now.leader || old_state->leader_epoch != now.leader_epoch) {
    ClusterEvent e = BaseEvent(offset, ts, "leader_changed");
    e.set_topic(topic);
    e.set_partition(partition);
    e.set_old_leader(old_state->leader);
    e.set_new_leader(now.leader);
    e.set_old_leader_epoch(old_state->leader_epoch);
    e.set_new_leader_epoch(now.leader_epoch);
    std::string what = now.leader == metadata::kNoLeader ? " OFFLINE" : "";
    e.set_text(absl::StrCat(name, " leader ", LeaderText(old_state->leader), " -> ",
                            LeaderText(now.leader), " (epoch ", old_state->leader_epoch, " -> ",
                            now.leader_epoch, ")", what));
    out->push_back(std::move(e));
  }
  if (old_state->isr != now.isr) {
    ClusterEvent e = BaseEvent(offset, ts, "isr_changed");
    e.set_topic(topic);
    e.set_partition(partition);
    e.set_new_leader(now.leader);
    for (int32_t b : old_state->isr) e.add_old_isr(b);
    for (int32_t b : now.isr) e.add_new_isr(b);
    const char* verb = now.isr.size() < old_state->isr.size()   ? "shrunk"
                       : now.isr.size() > old_state->isr.size() ? "expanded"
                                                                 : "changed";
    e.set_text(absl::StrCat(name, " ISR ", verb, " ", IsrText(old_state->isr), " -> ",
                            IsrText(now.isr)));
    out->push_back(std::move(e));
  }
}

}  // namespace

void DescribeRecord(const MetadataImage& image, int64_t offset, int64_t ts,
                    const MetadataRecord& record, std::vector<ClusterEvent>* out_events) {
  std::vector<ClusterEvent>& out = *out_events;
  switch (record.record_case()) {
    case MetadataRecord::kRegisterBroker: {
      const auto& r = record.register_broker();
      ClusterEvent e = BaseEvent(offset, ts, "broker_registered");
      e.set_broker_id(r.broker_id());
      e.set_text(absl::StrCat("broker ", r.broker_id(), " registered at ", r.kafka_host(), ":",
                              r.kafka_port(), " (epoch ", offset, ")"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kFenceBroker: {
      ClusterEvent e = BaseEvent(offset, ts, "broker_fenced");
      e.set_broker_id(record.fence_broker().broker_id());
      e.set_text(absl::StrCat("broker ", record.fence_broker().broker_id(), " fenced"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kUnfenceBroker: {
      ClusterEvent e = BaseEvent(offset, ts, "broker_unfenced");
      e.set_broker_id(record.unfence_broker().broker_id());
      e.set_text(absl::StrCat("broker ", record.unfence_broker().broker_id(), " alive (unfenced)"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kBrokerShuttingDown: {
      ClusterEvent e = BaseEvent(offset, ts, "broker_shutting_down");
      e.set_broker_id(record.broker_shutting_down().broker_id());
      e.set_text(absl::StrCat("broker ", record.broker_shutting_down().broker_id(),
                              " shutting down (controlled)"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kTopic: {
      ClusterEvent e = BaseEvent(offset, ts, "topic_created");
      e.set_topic(record.topic().name());
      e.set_text(absl::StrCat("topic ", record.topic().name(), " created"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kRemoveTopic: {
      ClusterEvent e = BaseEvent(offset, ts, "topic_deleted");
      e.set_topic(record.remove_topic().name());
      e.set_text(absl::StrCat("topic ", record.remove_topic().name(), " deleted"));
      out.push_back(std::move(e));
      break;
    }
    case MetadataRecord::kPartition: {
      const auto& r = record.partition();
      const metadata::PartitionState* before = image.FindPartition(r.topic(), r.partition());
      if (before != nullptr && metadata::IsStalePartitionRecord(*before, r)) break;  // skipped
      PartitionEvents(r.topic(), r.partition(), before, metadata::FromRecord(r), offset, ts,
                      out_events);
      break;
    }
    case MetadataRecord::kConfig: {
      const auto& r = record.config();
      ClusterEvent e = BaseEvent(offset, ts, "config_changed");
      e.set_topic(r.topic());
      e.set_text(r.has_value() ? absl::StrCat("topic ", r.topic(), " config ", r.name(), "=", r.value())
                               : absl::StrCat("topic ", r.topic(), " config ", r.name(), " removed"));
      out.push_back(std::move(e));
      break;
    }
    default:
      break;
  }
}

std::vector<ClusterEvent> DescribeBatch(const MetadataImage& before, int64_t offset,
                                        const metadata::MetadataBatch& batch) {
  std::vector<ClusterEvent> out;
  MetadataImage image = before;
  for (const MetadataRecord& record : batch.records()) {
    DescribeRecord(image, offset, batch.timestamp_ms(), record, &out);
    (void)image.ApplyRecord(offset, record);
  }
  return out;
}

std::vector<ClusterEvent> DescribeImage(const MetadataImage& image, int64_t timestamp_ms) {
  std::vector<ClusterEvent> out;
  for (const auto& [id, b] : image.brokers()) {
    ClusterEvent e = BaseEvent(image.offset(), timestamp_ms, "broker_state");
    e.set_broker_id(id);
    e.set_text(absl::StrCat("broker ", id, " at ", b.kafka_host, ":", b.kafka_port, " is ",
                            b.StateName(), " (epoch ", b.epoch, ")"));
    out.push_back(std::move(e));
  }
  for (const auto& [name, topic] : image.topics()) {
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const PartitionState& s = topic.partitions[p];
      ClusterEvent e = BaseEvent(image.offset(), timestamp_ms, "partition_state");
      e.set_topic(name);
      e.set_partition(static_cast<int32_t>(p));
      e.set_new_leader(s.leader);
      e.set_new_leader_epoch(s.leader_epoch);
      for (int32_t b : s.isr) e.add_new_isr(b);
      e.set_text(absl::StrCat(name, "-", p, " leader ", LeaderText(s.leader), " epoch ",
                              s.leader_epoch, " replicas ", IsrText(s.replicas), " ISR ",
                              IsrText(s.isr)));
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace gregor::controller
