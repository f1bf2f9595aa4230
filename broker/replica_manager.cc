#include "broker/replica_manager.h"

#include <set>

#include "absl/strings/numbers.h"
#include "common/logging.h"

namespace gregor::broker {

using storage::TopicPartition;

namespace {
// The waiter list of "the metadata image changed" (no partition has an empty topic name).
const TopicPartition kImageChanged{"", -1};
}  // namespace

ReplicaManager::ReplicaManager(const BrokerConfig& config, storage::LogManager* logs, Clock* clock)
    : config_(config), logs_(logs), clock_(clock) {}

storage::LogConfig ReplicaManager::LogConfigFor(
    const std::map<std::string, std::string>& topic_configs) const {
  static const std::set<std::string> kLogKeys = {
      "segment.bytes", "segment.ms",      "index.interval.bytes", "retention.ms",
      "retention.bytes", "flush.messages", "flush.ms",            "max.message.bytes",
      "message.timestamp.type", "cleanup.policy", "delete.retention.ms",
      "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "max.compaction.lag.ms"};
  std::map<std::string, std::string> log_keys;
  for (const auto& [k, v] : topic_configs) {
    if (kLogKeys.count(k)) log_keys[k] = v;
  }
  storage::LogConfig config = config_.log;
  absl::Status s = config.ApplyTopicConfig(log_keys);
  if (!s.ok()) {
    Logger("replica")->warn("ignoring invalid topic config: {}", s.message());
    return config_.log;
  }
  return config;
}

void ReplicaManager::Reconcile(const metadata::MetadataImage& image) {
  const int32_t me = config_.node_id;
  std::vector<std::pair<std::shared_ptr<Partition>, Partition::Transition>> transitions;
  std::vector<TopicPartition> to_delete;
  bool first = false;
  {
    absl::MutexLock lock(&mu_);
    first = !first_reconcile_done_;
    first_reconcile_done_ = true;
    std::set<TopicPartition> wanted;
    for (const auto& [name, topic] : image.topics()) {
      bool config_changed = topic_configs_[name] != topic.configs;
      bool recreated = topic_ids_.count(name) && topic_ids_[name] != topic.topic_id;
      topic_configs_[name] = topic.configs;
      topic_ids_[name] = topic.topic_id;
      storage::LogConfig log_config = LogConfigFor(topic.configs);
      for (size_t p = 0; p < topic.partitions.size(); ++p) {
        const metadata::PartitionState& state = topic.partitions[p];
        if (!state.IsReplica(me)) continue;
        TopicPartition tp{name, static_cast<int32_t>(p)};
        wanted.insert(tp);
        auto it = partitions_.find(tp);
        if (it != partitions_.end() && recreated) {
          // Same name, new topic: the old data must not leak into it.
          Logger("replica")->info("topic {} was re-created; dropping the old log of {}", name,
                                  tp.DirName());
          partitions_.erase(it);
          (void)logs_->DeleteLog(tp);
          it = partitions_.end();
        }
        if (it == partitions_.end()) {
          auto log = logs_->GetOrCreateLog(tp, log_config);
          if (!log.ok()) {
            Logger("replica")->error("cannot open log {}: {}", tp.DirName(), log.status().message());
            continue;
          }
          // A log loaded from disk at start-up has the broker's defaults until now.
          (*log)->SetConfig(log_config);
          it = partitions_
                   .emplace(tp, std::make_shared<Partition>(tp, *log, me,
                                                            config_.replica_lag_time_max_ms))
                   .first;
        } else if (config_changed) {
          it->second->log()->SetConfig(log_config);
        }
        int32_t min_isr = config_.min_insync_replicas;
        if (auto v = topic.configs.find("min.insync.replicas"); v != topic.configs.end()) {
          int32_t n = 0;
          if (absl::SimpleAtoi(v->second, &n) && n >= 1) min_isr = n;
        }
        it->second->SetMinInsyncReplicas(min_isr);
        Partition::Transition t = it->second->ApplyState(state, clock_->SteadyMs());
        if (t != Partition::Transition::kNone) transitions.emplace_back(it->second, t);
      }
    }
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      if (!wanted.count(it->first)) {
        to_delete.push_back(it->first);
        it = partitions_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = topic_configs_.begin(); it != topic_configs_.end();) {
      if (!image.FindTopic(it->first)) {
        topic_ids_.erase(it->first);
        it = topic_configs_.erase(it);
      } else {
        ++it;
      }
    }
    if (first) {
      // Logs left on disk for partitions the cluster no longer assigns here (a topic deleted
      // while this broker was down).
      for (const TopicPartition& tp : logs_->Partitions()) {
        if (!wanted.count(tp)) to_delete.push_back(tp);
      }
    }
  }
  for (const TopicPartition& tp : to_delete) {
    Logger("replica")->info("deleting replica {}: no longer assigned to broker {}", tp.DirName(), me);
    if (removal_listener_) removal_listener_(tp);
    absl::Status s = logs_->DeleteLog(tp);
    if (!s.ok()) Logger("replica")->error("cannot delete {}: {}", tp.DirName(), s.message());
    Notify(tp);
  }
  for (auto& [partition, transition] : transitions) {
    if (role_listener_) role_listener_(partition, transition);
    Notify(partition->topic_partition());
  }
  Notify(kImageChanged);
}

std::shared_ptr<Partition> ReplicaManager::GetPartition(const TopicPartition& tp) const {
  absl::MutexLock lock(&mu_);
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Partition>> ReplicaManager::Partitions() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Partition>> out;
  for (const auto& [tp, p] : partitions_) out.push_back(p);
  return out;
}

int32_t ReplicaManager::MinInsyncReplicas(const std::string& topic) const {
  absl::MutexLock lock(&mu_);
  auto it = topic_configs_.find(topic);
  if (it != topic_configs_.end()) {
    auto v = it->second.find("min.insync.replicas");
    int32_t n = 0;
    if (v != it->second.end() && absl::SimpleAtoi(v->second, &n) && n >= 1) return n;
  }
  return config_.min_insync_replicas;
}

void ReplicaManager::AddMetadataWaiter(const std::shared_ptr<PartitionWaiter>& waiter) {
  AddWaiter(kImageChanged, waiter);
}

void ReplicaManager::AddWaiter(const TopicPartition& tp, const std::shared_ptr<PartitionWaiter>& waiter) {
  absl::MutexLock lock(&waiters_mu_);
  auto& list = waiters_[tp];
  // Drop waiters that are gone, so an idle partition's list stays short.
  list.erase(std::remove_if(list.begin(), list.end(), [](const auto& w) { return w.expired(); }),
             list.end());
  list.push_back(waiter);
}

void ReplicaManager::Notify(const TopicPartition& tp) {
  std::vector<std::weak_ptr<PartitionWaiter>> woken;
  {
    absl::MutexLock lock(&waiters_mu_);
    auto it = waiters_.find(tp);
    if (it == waiters_.end()) return;
    woken.swap(it->second);
    waiters_.erase(it);
  }
  for (auto& weak : woken) {
    if (auto w = weak.lock()) w->wake();
  }
}

}  // namespace gregor::broker
