#include "common/metadata/metadata_image.h"

#include <algorithm>
#include <random>

#include "absl/strings/escaping.h"

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace gregor::metadata {

std::string BrokerRegistration::StateName() const {
  if (fenced) return "fenced";
  if (shutting_down) return "shutting_down";
  return "alive";
}

bool PartitionState::InIsr(int32_t broker) const {
  return std::find(isr.begin(), isr.end(), broker) != isr.end();
}

bool PartitionState::IsReplica(int32_t broker) const {
  return std::find(replicas.begin(), replicas.end(), broker) != replicas.end();
}

MetadataRecord MakePartitionRecord(const std::string& topic, int32_t partition,
                                   const PartitionState& state) {
  MetadataRecord record;
  PartitionRecord* p = record.mutable_partition();
  p->set_topic(topic);
  p->set_partition(partition);
  for (int32_t r : state.replicas) p->add_replicas(r);
  for (int32_t r : state.isr) p->add_isr(r);
  p->set_leader(state.leader);
  p->set_leader_epoch(state.leader_epoch);
  p->set_partition_epoch(state.partition_epoch);
  return record;
}

bool IsStalePartitionRecord(const PartitionState& current, const PartitionRecord& record) {
  return record.partition_epoch() <= current.partition_epoch;
}

PartitionState FromRecord(const PartitionRecord& record) {
  PartitionState state;
  state.replicas.assign(record.replicas().begin(), record.replicas().end());
  state.isr.assign(record.isr().begin(), record.isr().end());
  state.leader = record.leader();
  state.leader_epoch = record.leader_epoch();
  state.partition_epoch = record.partition_epoch();
  return state;
}

absl::Status MetadataImage::Apply(int64_t offset, const MetadataBatch& batch) {
  for (const MetadataRecord& record : batch.records()) RETURN_IF_ERROR(ApplyRecord(offset, record));
  offset_ = std::max(offset_, offset);
  return absl::OkStatus();
}

absl::Status MetadataImage::ApplyRecord(int64_t offset, const MetadataRecord& record) {
  offset_ = std::max(offset_, offset);
  switch (record.record_case()) {
    case MetadataRecord::kRegisterBroker: {
      const RegisterBrokerRecord& r = record.register_broker();
      BrokerRegistration& b = brokers_[r.broker_id()];
      b = BrokerRegistration{};
      b.id = r.broker_id();
      b.epoch = offset;
      b.incarnation_id = r.incarnation_id();
      b.kafka_host = r.kafka_host();
      b.kafka_port = r.kafka_port();
      b.replication_host = r.replication_host();
      b.replication_port = r.replication_port();
      b.rack = r.rack();
      b.fenced = true;
      return absl::OkStatus();
    }
    case MetadataRecord::kFenceBroker:
    case MetadataRecord::kUnfenceBroker:
    case MetadataRecord::kBrokerShuttingDown: {
      int32_t id = record.has_fence_broker()     ? record.fence_broker().broker_id()
                   : record.has_unfence_broker() ? record.unfence_broker().broker_id()
                                                 : record.broker_shutting_down().broker_id();
      int64_t epoch = record.has_fence_broker()     ? record.fence_broker().broker_epoch()
                      : record.has_unfence_broker() ? record.unfence_broker().broker_epoch()
                                                    : record.broker_shutting_down().broker_epoch();
      auto it = brokers_.find(id);
      if (it == brokers_.end()) {
        return absl::InvalidArgumentError(absl::StrCat("record for unknown broker ", id));
      }
      if (it->second.epoch != epoch) {
        return absl::InvalidArgumentError(absl::StrCat("record for broker ", id, " epoch ", epoch,
                                                       " but its registration has epoch ",
                                                       it->second.epoch));
      }
      if (record.has_fence_broker()) {
        it->second.fenced = true;
      } else if (record.has_unfence_broker()) {
        it->second.fenced = false;
        it->second.shutting_down = false;
      } else {
        it->second.shutting_down = true;
      }
      return absl::OkStatus();
    }
    case MetadataRecord::kTopic: {
      const TopicRecord& r = record.topic();
      if (topics_.count(r.name())) {
        return absl::InvalidArgumentError(absl::StrCat("topic ", r.name(), " exists already"));
      }
      TopicState& t = topics_[r.name()];
      t.name = r.name();
      t.topic_id = r.topic_id();
      return absl::OkStatus();
    }
    case MetadataRecord::kRemoveTopic: {
      auto it = topics_.find(record.remove_topic().name());
      if (it == topics_.end() || it->second.topic_id != record.remove_topic().topic_id()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "remove-topic record for ", record.remove_topic().name(),
            " does not match an existing topic with that id"));
      }
      topics_.erase(it);
      return absl::OkStatus();
    }
    case MetadataRecord::kPartition: {
      const PartitionRecord& r = record.partition();
      auto it = topics_.find(r.topic());
      if (it == topics_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("partition record for unknown topic ", r.topic()));
      }
      auto& partitions = it->second.partitions;
      if (r.partition() < 0 || r.partition() > static_cast<int32_t>(partitions.size())) {
        return absl::InvalidArgumentError(absl::StrCat("partition ", r.partition(), " of ",
                                                       r.topic(), " is out of order"));
      }
      if (r.partition() < static_cast<int32_t>(partitions.size()) &&
          IsStalePartitionRecord(partitions[r.partition()], r)) {
        // Decided on an older state than what committed before it (the proposal of an earlier
        // decision had timed out, then committed): compare-and-swap on the partition epoch,
        // so the later change loses, on every node alike.
        return absl::OkStatus();
      }
      if (r.partition() == static_cast<int32_t>(partitions.size())) partitions.emplace_back();
      partitions[r.partition()] = FromRecord(r);
      return absl::OkStatus();
    }
    case MetadataRecord::kConfig: {
      const ConfigRecord& r = record.config();
      auto it = topics_.find(r.topic());
      if (it == topics_.end()) {
        return absl::InvalidArgumentError(absl::StrCat("config for unknown topic ", r.topic()));
      }
      if (r.has_value()) {
        it->second.configs[r.name()] = r.value();
      } else {
        it->second.configs.erase(r.name());
      }
      return absl::OkStatus();
    }
    case MetadataRecord::kClusterId:
      if (cluster_id_.empty()) cluster_id_ = record.cluster_id().cluster_id();
      return absl::OkStatus();
    case MetadataRecord::kProducerIds:
      next_producer_id_ = std::max(next_producer_id_, record.producer_ids().next_producer_id());
      return absl::OkStatus();
    case MetadataRecord::kNoOp:
    case MetadataRecord::RECORD_NOT_SET:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

MetadataSnapshot MetadataImage::ToSnapshot() const {
  MetadataSnapshot snapshot;
  snapshot.set_last_offset(offset_);
  if (!cluster_id_.empty()) snapshot.add_records()->mutable_cluster_id()->set_cluster_id(cluster_id_);
  if (next_producer_id_ > 0) {
    snapshot.add_records()->mutable_producer_ids()->set_next_producer_id(next_producer_id_);
  }
  for (const auto& [id, b] : brokers_) {
    RegisterBrokerRecord* r = snapshot.add_records()->mutable_register_broker();
    r->set_broker_id(id);
    r->set_incarnation_id(b.incarnation_id);
    r->set_kafka_host(b.kafka_host);
    r->set_kafka_port(b.kafka_port);
    r->set_replication_host(b.replication_host);
    r->set_replication_port(b.replication_port);
    r->set_rack(b.rack);
    (*snapshot.mutable_broker_epochs())[id] = b.epoch;
    if (b.fenced) snapshot.add_fenced_brokers(id);
    if (b.shutting_down) snapshot.add_shutting_down_brokers(id);
  }
  for (const auto& [name, t] : topics_) {
    TopicRecord* r = snapshot.add_records()->mutable_topic();
    r->set_name(name);
    r->set_topic_id(t.topic_id);
    for (size_t p = 0; p < t.partitions.size(); ++p) {
      *snapshot.add_records() = MakePartitionRecord(name, static_cast<int32_t>(p), t.partitions[p]);
    }
    for (const auto& [key, value] : t.configs) {
      ConfigRecord* c = snapshot.add_records()->mutable_config();
      c->set_topic(name);
      c->set_name(key);
      c->set_value(value);
    }
  }
  return snapshot;
}

absl::StatusOr<MetadataImage> MetadataImage::FromSnapshot(const MetadataSnapshot& snapshot) {
  MetadataImage image;
  for (const MetadataRecord& record : snapshot.records()) {
    RETURN_IF_ERROR(image.ApplyRecord(snapshot.last_offset(), record));
  }
  for (auto& [id, b] : image.brokers_) {
    auto epoch = snapshot.broker_epochs().find(id);
    if (epoch != snapshot.broker_epochs().end()) b.epoch = epoch->second;
    b.fenced = false;
  }
  for (int32_t id : snapshot.fenced_brokers()) {
    if (auto it = image.brokers_.find(id); it != image.brokers_.end()) it->second.fenced = true;
  }
  for (int32_t id : snapshot.shutting_down_brokers()) {
    if (auto it = image.brokers_.find(id); it != image.brokers_.end()) it->second.shutting_down = true;
  }
  image.offset_ = snapshot.last_offset();
  return image;
}

const BrokerRegistration* MetadataImage::FindBroker(int32_t id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicState* MetadataImage::FindTopic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const PartitionState* MetadataImage::FindPartition(const std::string& topic,
                                                   int32_t partition) const {
  const TopicState* t = FindTopic(topic);
  if (!t || partition < 0 || partition >= static_cast<int32_t>(t->partitions.size())) return nullptr;
  return &t->partitions[partition];
}

std::vector<int32_t> MetadataImage::UsableBrokers() const {
  std::vector<int32_t> out;
  for (const auto& [id, b] : brokers_) {
    if (b.usable()) out.push_back(id);
  }
  return out;
}

size_t MetadataImage::PartitionCount() const {
  size_t n = 0;
  for (const auto& [name, t] : topics_) n += t.partitions.size();
  return n;
}

std::optional<std::string> MetadataImage::TopicConfig(const std::string& topic,
                                                      const std::string& name) const {
  const TopicState* t = FindTopic(topic);
  if (!t) return std::nullopt;
  auto it = t->configs.find(name);
  if (it == t->configs.end()) return std::nullopt;
  return it->second;
}

std::string NewClusterId() {
  std::random_device random;
  std::string bytes(16, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  std::string id;
  absl::WebSafeBase64Escape(bytes, &id);  // no padding
  return id;
}

}  // namespace gregor::metadata
