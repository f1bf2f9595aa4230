#include "broker/replication/isr_manager.h"

#include "broker/replica_manager.h"
#include "common/logging.h"

namespace gregor::broker {

IsrManager::IsrManager(ReplicaManager* replicas, ControllerLink* link, Clock* clock,
                       int32_t broker_id, int64_t shrink_check_interval_ms)
    : replicas_(replicas),
      link_(link),
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
  if (thread_.joinable()) thread_.join();
}

void IsrManager::Submit(IsrChange change) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(change));
}

void IsrManager::Run() {
  int64_t last_check = clock_->SteadyMs();
  while (true) {
    std::deque<IsrChange> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100));
      if (stopping_) return;
      batch.swap(queue_);
    }
    for (const IsrChange& change : batch) Send(change);
    int64_t now = clock_->SteadyMs();
    if (now - last_check >= shrink_check_interval_ms_) {
      last_check = now;
      for (const auto& partition : replicas_->Partitions()) {
        if (auto shrink = partition->MaybeShrinkIsr(now)) Send(*shrink);
      }
    }
  }
}

void IsrManager::Send(const IsrChange& change) {
  controller::AlterPartitionRequest request;
  request.set_broker_id(broker_id_);
  request.set_broker_epoch(link_->broker_epoch());
  auto* c = request.add_changes();
  c->set_topic(change.tp.topic);
  c->set_partition(change.tp.partition);
  c->set_leader_epoch(change.leader_epoch);
  c->set_partition_epoch(change.partition_epoch);
  for (int32_t b : change.new_isr) c->add_new_isr(b);
  auto response = link_->client().Call(&controller::Controller::Stub::AlterPartition, request,
                                       absl::Seconds(5));
  auto partition = replicas_->GetPartition(change.tp);
  if (partition == nullptr) return;
  int64_t now = clock_->SteadyMs();
  if (!response.ok() || response->error().code() != 0 || response->results_size() != 1) {
    Logger("replica")->warn("AlterPartition for {} failed: {}", change.tp.DirName(),
                            response.ok() ? response->error().message()
                                          : std::string(response.status().message()));
    partition->OnIsrChangeResult(change, false, std::nullopt, now);
    return;
  }
  const auto& result = response->results(0);
  if (result.error().code() != 0) {
    Logger("replica")->info("controller rejected the ISR change of {}: {}", change.tp.DirName(),
                            result.error().message());
    partition->OnIsrChangeResult(change, false, std::nullopt, now);
    return;
  }
  partition->OnIsrChangeResult(change, true, metadata::FromRecord(result.state()), now);
  replicas_->Notify(change.tp);  // the high watermark may have moved
}

}  // namespace gregor::broker
