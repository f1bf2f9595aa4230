#include "broker/replication/isr_manager.h"

#include <iterator>
#include <set>

#include "common/logging.h"

namespace gregor::broker {

IsrManager::IsrManager(PartitionDirectory* replicas, ClusterView* cluster, Clock* clock,
                       int32_t broker_id, int64_t shrink_check_interval_ms)
    : replicas_(replicas),
      cluster_(cluster),
      clock_(clock),
      broker_id_(broker_id),
      shrink_check_interval_ms_(shrink_check_interval_ms) {}

IsrManager::~IsrManager() { Stop(); }

void IsrManager::Start() { thread_ = std::thread([this] { Run(); }); }

void IsrManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  waiter_.Notify();
  if (thread_.joinable()) thread_.join();
}

void IsrManager::Submit(IsrChange change) {
  {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(change));
  }
  waiter_.Notify();
}

void IsrManager::Run() {
  int64_t last_check = clock_->SteadyMs();
  while (true) {
    std::vector<IsrChange> changes;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      waiter_.WaitFor(mu_, absl::Milliseconds(100), ready);
      if (stopping_) return;
      changes.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    int64_t now = clock_->SteadyMs();
    if (now - last_check >= shrink_check_interval_ms_) {
      last_check = now;
      for (const auto& partition : replicas_->Partitions()) {
        if (auto shrink = partition->MaybeShrinkIsr(now)) changes.push_back(std::move(*shrink));
      }
    }
    // As few round trips as the limits allow: many partitions' changes in one request (a
    // broker's death shrinks the ISRs of every partition it followed at once), each partition
    // at most once per request.
    while (!changes.empty()) {
      std::vector<IsrChange> request, later;
      std::set<storage::TopicPartition> in_request;
      for (IsrChange& c : changes) {
        if (request.size() < kMaxChangesPerRequest && in_request.insert(c.tp).second) {
          request.push_back(std::move(c));
        } else {
          later.push_back(std::move(c));
        }
      }
      Send(request);
      changes = std::move(later);
    }
  }
}

void IsrManager::Send(const std::vector<IsrChange>& changes) {
  controller::AlterPartitionRequest request;
  request.set_broker_id(broker_id_);
  request.set_broker_epoch(cluster_->broker_epoch());
  for (const IsrChange& change : changes) {
    auto* c = request.add_changes();
    c->set_topic(change.tp.topic);
    c->set_partition(change.tp.partition);
    c->set_leader_epoch(change.leader_epoch);
    c->set_partition_epoch(change.partition_epoch);
    for (int32_t b : change.new_isr) c->add_new_isr(b);
  }
  auto response = cluster_->AlterPartition(request, absl::Seconds(5));
  const bool failed = !response.ok() || response->error().code() != 0 ||
                      response->results_size() != static_cast<int>(changes.size());
  if (failed) {
    Logger("replica")->warn("AlterPartition for {} partition(s) failed: {}", changes.size(),
                            response.ok() ? response->error().message()
                                          : std::string(response.status().message()));
  }
  int64_t now = clock_->SteadyMs();
  for (size_t i = 0; i < changes.size(); ++i) {
    const IsrChange& change = changes[i];
    auto partition = replicas_->GetPartition(change.tp);
    if (partition == nullptr) continue;
    if (failed) {
      partition->OnIsrChangeResult(change, false, std::nullopt, now);
      continue;
    }
    // Results come in request order, one per change.
    const auto& result = response->results(static_cast<int>(i));
    if (result.error().code() != 0) {
      Logger("replica")->info("controller rejected the ISR change of {}: {}", change.tp.DirName(),
                              result.error().message());
      partition->OnIsrChangeResult(change, false, std::nullopt, now);
      continue;
    }
    partition->OnIsrChangeResult(change, true, metadata::FromRecord(result.state()), now);
    replicas_->Notify(change.tp);  // the high watermark may have moved
  }
}

}  // namespace gregor::broker
