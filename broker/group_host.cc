#include "broker/group_host.h"

#include <algorithm>
#include <chrono>

#include "common/file.h"
#include "common/logging.h"
#include "common/record_batch.h"

namespace gregor::broker {

using storage::TopicPartition;

namespace {
constexpr int64_t kIdleWaitMs = 1000;
}  // namespace

GroupHost::GroupHost(const BrokerConfig& config, ReplicaManager* replicas, ClusterView* cluster,
                     Clock* clock)
    : config_(config),
      replicas_(replicas),
      cluster_(cluster),
      clock_(clock),
      coordinator_(config.group, clock, this,
                   [this](const std::string& topic, int32_t p) { return TopicExists(topic, p); }) {
  coordinator_.SetPartitionCount(config.offsets_topic_num_partitions);
  coordinator_.SetEventListener([](const group::GroupCoordinator::Event& e) {
    auto log = Logger("group");
    if (e.what == "rebalancing") {
      log->info("group {}: preparing rebalance (generation {}, {} member(s)): {}", e.group_id,
                e.generation, e.members, e.reason);
    } else if (e.what == "stable") {
      log->info("group {}: stable at generation {} with {} member(s)", e.group_id, e.generation,
                e.members);
    } else {
      log->info("group {}: {} (generation {}, {} member(s))", e.group_id, e.what, e.generation,
                e.members);
    }
  });
}

GroupHost::~GroupHost() { Stop(); }

void GroupHost::Start() {
  next_expiry_ms_ = clock_->SteadyMs() + config_.offsets_retention_check_interval_ms;
  worker_ = std::thread([this] { Run(); });
  loader_ = std::thread([this] { RunLoader(); });
}

void GroupHost::Stop() {
  {
    std::lock_guard lock(load_mu_);
    load_stopping_ = true;
  }
  load_cv_.notify_all();
  if (loader_.joinable()) loader_.join();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    // Whatever is parked gets NOT_COORDINATOR, so clients move on at once.
    for (int32_t p : coordinator_.OwnedPartitions()) coordinator_.Unload(p);
    for (PendingWrite& w : pending_) w.done(KafkaErrorCode::kNotCoordinator);
    pending_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void GroupHost::With(const std::function<void(group::GroupCoordinator&)>& fn) {
  std::vector<TopicPartition> appended;
  {
    std::lock_guard lock(mu_);
    UpdatePartitionCount();
    fn(coordinator_);
    appended.swap(appended_);
  }
  NotifyAppended(appended);
  Wake();  // deadlines may have moved
}

void GroupHost::NotifyAppended(const std::vector<TopicPartition>& appended) {
  // Outside mu_: a waiter woken here (ours included) takes mu_.
  for (const TopicPartition& tp : appended) replicas_->Notify(tp);
}

void GroupHost::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool GroupHost::TopicExists(const std::string& topic, int32_t partition) const {
  return cluster_->image()->FindPartition(topic, partition) != nullptr;
}

void GroupHost::UpdatePartitionCount() {
  const metadata::TopicState* t = cluster_->image()->FindTopic(kOffsetsTopic);
  if (t != nullptr && !t->partitions.empty()) {
    coordinator_.SetPartitionCount(static_cast<int32_t>(t->partitions.size()));
  }
}

void GroupHost::ForgetDeletedTopics() {
  auto image = cluster_->image();
  if (image == last_image_) return;
  last_image_ = image;
  std::set<std::string> gone;
  for (const auto& [name, id] : topic_ids_) {
    const metadata::TopicState* t = image->FindTopic(name);
    if (t == nullptr || t->topic_id != id) gone.insert(name);
  }
  topic_ids_.clear();
  for (const auto& [name, t] : image->topics()) topic_ids_[name] = t.topic_id;
  if (!gone.empty()) coordinator_.RemoveOffsetsOfTopics(gone);
}

// ---- leadership ---------------------------------------------------------------------------------

void GroupHost::OnRoleChange(const std::shared_ptr<Partition>& partition,
                             Partition::Transition transition) {
  const TopicPartition& tp = partition->topic_partition();
  if (tp.topic != kOffsetsTopic) return;
  const metadata::PartitionState state = partition->state();
  if (transition == Partition::Transition::kBecameLeader) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      UpdatePartitionCount();
      coordinator_.BeginLoading(tp.partition);
    }
    {
      std::lock_guard lock(load_mu_);
      loads_.push_back({tp.partition, state.leader_epoch});
    }
    load_cv_.notify_all();
    Logger("group")->debug("became coordinator for {}: loading its groups", tp.DirName());
  } else if (state.leader != config_.node_id) {
    std::lock_guard lock(mu_);
    if (coordinator_.Owns(tp.partition) || coordinator_.IsLoading(tp.partition)) {
      coordinator_.Unload(tp.partition);
      Logger("group")->debug("no longer coordinator for {} (leader is now {})", tp.DirName(),
                             state.leader);
    }
  }
}

void GroupHost::OnRemoved(const TopicPartition& tp) {
  if (tp.topic != kOffsetsTopic) return;
  std::lock_guard lock(mu_);
  coordinator_.Unload(tp.partition);
}

void GroupHost::RunLoader() {
  while (true) {
    std::pair<int32_t, int32_t> job;
    {
      std::unique_lock lock(load_mu_);
      load_cv_.wait(lock, [this] { return load_stopping_ || !loads_.empty(); });
      if (load_stopping_) return;
      job = loads_.front();
      loads_.pop_front();
    }
    LoadPartition(job.first, job.second);
  }
}

void GroupHost::LoadPartition(int32_t index, int32_t leader_epoch) {
  auto log = Logger("group");
  const TopicPartition tp{kOffsetsTopic, index};
  auto partition = replicas_->GetPartition(tp);
  if (partition == nullptr || !partition->is_leader() || partition->leader_epoch() != leader_epoch) {
    return;  // moved on already; a newer event decides
  }
  const int64_t started = clock_->SteadyMs();
  group::GroupLoader loader;
  const auto& plog = partition->log();
  const int64_t end = plog->log_end_offset().value();
  int64_t offset = plog->log_start_offset().value();
  int64_t bytes = 0;
  while (offset < end) {
    auto slice = plog->Read(Offset(offset), config_.offsets_load_buffer_size, Offset(end));
    if (!slice.ok()) {
      if (ToKafkaErrorCode(slice.status()) == KafkaErrorCode::kOffsetOutOfRange) {
        offset = plog->log_start_offset().value();  // retention or truncation moved the start
        if (offset >= end) break;
        continue;
      }
      log->error("loading groups from {} failed at offset {}: {}", tp.DirName(), offset,
                 slice.status().message());
      return;  // stays loading: its groups answer COORDINATOR_LOAD_IN_PROGRESS
    }
    if (slice->size == 0) break;
    auto data = ReadSlice(*slice);
    if (!data.ok()) {
      log->error("loading groups from {} failed: {}", tp.DirName(), data.status().message());
      return;
    }
    bytes += static_cast<int64_t>(data->size());
    record::BatchIterator it(*data);
    record::BatchHeader header;
    std::string_view batch;
    int64_t next = offset;
    while (it.Next(&header, &batch)) {
      next = header.next_offset();
      if (header.is_control()) continue;
      auto records = record::DecodeRecords(batch);
      if (!records.ok()) {
        log->warn("{}: skipping an undecodable batch at offset {}: {}", tp.DirName(),
                  header.base_offset, records.status().message());
        continue;
      }
      for (const record::Record& r : *records) {
        std::optional<std::string_view> key, value;
        if (r.key) key = *r.key;
        if (r.value) value = *r.value;
        loader.Apply(key, value);
      }
    }
    if (next <= offset) break;  // no progress: nothing more readable
    offset = next;
  }
  group::LoadedPartition loaded = std::move(loader).Finish();
  const size_t groups = loaded.groups.size();
  const int64_t records = loaded.records, skipped = loaded.skipped;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !coordinator_.IsLoading(index) || partition->leader_epoch() != leader_epoch ||
        !partition->is_leader()) {
      return;
    }
    coordinator_.Load(index, std::move(loaded));
    coordinator_.RemoveOffsetsOfDeletedTopics();  // topics deleted while another broker led it
  }
  Wake();
  log->log(groups > 0 || skipped > 0 ? spdlog::level::info : spdlog::level::debug,
           "loaded {} group(s) from {} in {} ms ({} records, {} bytes{})", groups, tp.DirName(),
           clock_->SteadyMs() - started, records, bytes,
           skipped > 0 ? ", " + std::to_string(skipped) + " skipped" : "");
}

// ---- writes -------------------------------------------------------------------------------------

void GroupHost::Append(int32_t index, std::vector<Record> records,
                       std::function<void(KafkaErrorCode)> done) {
  // Called under mu_ (from inside the coordinator). Completions run from the worker thread.
  PendingWrite w;
  w.tp = TopicPartition{kOffsetsTopic, index};
  w.done = std::move(done);
  w.deadline_ms = clock_->SteadyMs() + config_.offsets_commit_timeout_ms;
  auto partition = replicas_->GetPartition(w.tp);
  if (partition == nullptr || !partition->is_leader()) {
    w.ready = KafkaErrorCode::kNotCoordinator;
  } else {
    record::BatchBuilder builder;
    const int64_t now = clock_->WallMs();
    for (Record& r : records) builder.Add(std::move(r.key), std::move(r.value), now);
    auto batch = builder.Build();
    if (!batch.ok()) {
      w.ready = KafkaErrorCode::kUnknownServerError;
    } else {
      int32_t epoch = 0;
      auto info = partition->AppendAsLeader(absl::Span<char>(batch->data(), batch->size()), -1, &epoch);
      if (!info.ok()) {
        w.ready = ToKafkaErrorCode(info.status());
        Logger("group")->warn("writing to {} failed: {}", w.tp.DirName(), info.status().message());
      } else {
        w.required_offset = info->last_offset.value() + 1;
        w.leader_epoch = epoch;
        appended_.push_back(w.tp);  // to wake followers waiting in a fetch, once mu_ is released
      }
    }
  }
  pending_.push_back(std::move(w));
  woken_ = true;
  cv_.notify_all();
}

void GroupHost::CompleteWrites() {
  const int64_t now = clock_->SteadyMs();
  std::vector<PendingWrite> done;
  for (auto it = pending_.begin(); it != pending_.end();) {
    std::optional<KafkaErrorCode> outcome = it->ready;
    if (!outcome) {
      auto partition = replicas_->GetPartition(it->tp);
      outcome = partition == nullptr
                    ? std::optional(KafkaErrorCode::kNotCoordinator)
                    : partition->CheckAppendCommitted(it->required_offset, it->leader_epoch);
      if (!outcome && now >= it->deadline_ms) outcome = KafkaErrorCode::kRequestTimedOut;
    }
    if (!outcome) {
      ++it;
      continue;
    }
    it->ready = outcome;
    done.push_back(std::move(*it));
    it = pending_.erase(it);
  }
  for (PendingWrite& w : done) w.done(*w.ready);
}

void GroupHost::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Wake on any change of a partition with a write in flight.
    auto waiter = std::make_shared<PartitionWaiter>();
    waiter->wake = [this] { Wake(); };
    std::set<TopicPartition> watched;
    for (const PendingWrite& w : pending_) {
      if (!w.ready && watched.insert(w.tp).second) replicas_->AddWaiter(w.tp, waiter);
    }
    replicas_->AddMetadataWaiter(waiter);
    ForgetDeletedTopics();
    CompleteWrites();
    coordinator_.Tick();
    const int64_t now = clock_->SteadyMs();
    if (now >= next_expiry_ms_) {
      coordinator_.ExpireOffsets();
      coordinator_.RemoveOffsetsOfDeletedTopics();
      next_expiry_ms_ = now + config_.offsets_retention_check_interval_ms;
    }
    int64_t next = std::min({coordinator_.NextDeadline(), next_expiry_ms_, now + kIdleWaitMs});
    for (const PendingWrite& w : pending_) next = std::min(next, w.ready ? now : w.deadline_ms);
    if (!appended_.empty()) {
      std::vector<TopicPartition> appended;
      appended.swap(appended_);
      lock.unlock();
      NotifyAppended(appended);
      lock.lock();
      continue;
    }
    if (woken_) {
      woken_ = false;
      continue;
    }
    const int64_t wait = std::max<int64_t>(next - clock_->SteadyMs(), 0);
    if (wait > 0) {
      cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return woken_ || stopping_; });
    }
    woken_ = false;
  }
}

}  // namespace gregor::broker
