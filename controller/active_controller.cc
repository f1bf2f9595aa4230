#include "controller/active_controller.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/logging.h"
#include "controller/control.h"
#include "controller/liveness_probe.h"

namespace gregor::controller {

ActiveController::ActiveController(const ControllerConfig& config, MetadataState* state,
                                   quorum::QuorumDriver* driver, Clock* clock)
    : config_(config), state_(state), driver_(driver), clock_(clock),
      rejoin_(config.leader_rejoin_delay_ms) {}

ActiveController::~ActiveController() { Stop(); }

void ActiveController::Start() {
  thread_ = std::thread([this] { Run(); });
  prober_ = std::thread([this] { RunProbes(); });
}

void ActiveController::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  waiter_.Notify();
  if (thread_.joinable()) thread_.join();
  if (prober_.joinable()) prober_.join();
}

void ActiveController::Submit(std::string name, Decide decide, Done done) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    done(absl::UnavailableError("the controller is shutting down"));
    return;
  }
  queue_.push_back({std::move(name), std::move(decide), std::move(done)});
  waiter_.Notify();  // under mu_: harmless, and Submit returns at once
}

void ActiveController::RecordHeartbeat(int32_t broker_id) {
  absl::MutexLock lock(&mu_);
  last_contact_ms_[broker_id] = clock_->SteadyMs();
}

void ActiveController::OnBrokerConnectionLost(int32_t broker_id) {
  absl::MutexLock lock(&mu_);
  if (!active_ || stopping_) return;
  if (std::find(to_probe_.begin(), to_probe_.end(), broker_id) != to_probe_.end()) return;
  to_probe_.push_back(broker_id);
}

void ActiveController::RunProbes() {
  while (true) {
    int32_t id = -1;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stopping_ || !to_probe_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      id = to_probe_.front();
      to_probe_.pop_front();
    }
    std::optional<metadata::BrokerRegistration> broker =
        state_->WithImage([&](const metadata::MetadataImage& image)
                              -> std::optional<metadata::BrokerRegistration> {
          const metadata::BrokerRegistration* b = image.FindBroker(id);
          if (b == nullptr || b->fenced) return std::nullopt;
          return *b;
        });
    if (!broker || !ProbeBroker(*broker)) continue;
    Logger("controller")->info(
        "broker {} is gone: its connection closed and its listeners refuse connections; fencing "
        "it now", id);
    ControlSettings settings = config_.settings;
    int64_t epoch = broker->epoch;
    Submit(absl::StrCat("fence broker ", id, " (process gone)"),
           [id, epoch, settings](const metadata::MetadataImage& image) {
             return FenceDeadBroker(image, id, epoch, settings);
           },
           [id](absl::StatusOr<int64_t> r) {
             if (!r.ok()) Logger("controller")->warn("fencing broker {} failed: {}", id, r.status());
           });
  }
}

bool ActiveController::ProbeBroker(const metadata::BrokerRegistration& broker) {
  // A dying process closes its connections and its listening sockets in one sweep, but the
  // controller may hear of the connection first: look again a little later before concluding
  // that something still listens.
  constexpr absl::Duration kProbeTimeout = absl::Milliseconds(300);
  const absl::Duration kRetries[] = {absl::ZeroDuration(), absl::Milliseconds(20),
                                     absl::Milliseconds(100)};
  ListenerProbe kafka = ListenerProbe::kNoAnswer, replication = ListenerProbe::kNoAnswer;
  for (absl::Duration wait : kRetries) {
    absl::SleepFor(wait);  // probe pacing (the prober thread only)
    kafka = ProbeListener(broker.kafka_host, broker.kafka_port, kProbeTimeout);
    replication = ProbeListener(broker.replication_host, broker.replication_port, kProbeTimeout);
    if (ProcessGone(kafka, replication)) return true;
    if (kafka == ListenerProbe::kNoAnswer || replication == ListenerProbe::kNoAnswer) break;
  }
  Logger("controller")->debug("broker {} connection closed; listeners: kafka {}, replication {}",
                              broker.id, ListenerProbeName(kafka), ListenerProbeName(replication));
  return false;
}

bool ActiveController::active() const {
  absl::MutexLock lock(&mu_);
  return active_;
}

void ActiveController::OnLeaderChange(quorum::Role role, int64_t term, quorum::NodeId leader) {
  absl::MutexLock lock(&mu_);
  bool leader_now = role == quorum::Role::kLeader;
  if (!leader_now && active_) {
    Logger("controller")->info("node {} is no longer the active controller (term {}, leader {})",
                               config_.node_id, term, leader);
  }
  is_leader_ = leader_now;
  leader_term_ = leader_now ? term : -1;
  if (!leader_now) active_ = false;
}

void ActiveController::OnApplied(int64_t entry_term) {
  absl::MutexLock lock(&mu_);
  if (is_leader_ && !active_ && entry_term == leader_term_) {
    // Everything committed before this term is applied now: decisions see the whole truth.
    active_ = true;
    just_activated_ = true;
    Logger("controller")->info("node {} became the active controller at term {}", config_.node_id,
                               leader_term_);
  }
}

void ActiveController::Run() {
  int64_t last_check = 0;
  bool write_cluster_id = false;
  while (true) {
    std::optional<Op> op;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stopping_ || !queue_.empty(); };
      waiter_.WaitFor(mu_, absl::Milliseconds(50), ready);
      if (stopping_) break;
      if (!queue_.empty()) {
        op = std::move(queue_.front());
        queue_.pop_front();
      }
      if (just_activated_) {
        // Heartbeats are soft state: a new active controller gives every broker a full session.
        just_activated_ = false;
        last_contact_ms_.clear();
        rejoin_.Reset();
        int64_t now = clock_->SteadyMs();
        state_->WithImage([&](const metadata::MetadataImage& image) {
          for (const auto& [id, b] : image.brokers()) last_contact_ms_[id] = now;
          return 0;
        });
        last_rebalance_ms_ = now;
        write_cluster_id = true;
      }
    }
    if (write_cluster_id) {
      // A new cluster gets its id from its first active controller (Kafka: kafka-storage format).
      write_cluster_id = false;
      Process({"cluster id",
               [](const metadata::MetadataImage& image) {
                 std::vector<metadata::MetadataRecord> records;
                 if (image.cluster_id().empty()) {
                   records.emplace_back().mutable_cluster_id()->set_cluster_id(metadata::NewClusterId());
                 }
                 return records;
               },
               [](absl::StatusOr<int64_t> r) {
                 if (!r.ok()) Logger("controller")->warn("writing the cluster id failed: {}", r.status().message());
               }});
    }
    if (op) Process(std::move(*op));
    int64_t now = clock_->SteadyMs();
    if (now - last_check >= 50) {
      last_check = now;
      CheckSessions();
      MaybeRebalance();
    }
  }
  absl::MutexLock lock(&mu_);
  for (Op& op : queue_) op.done(absl::UnavailableError("the controller is shutting down"));
  queue_.clear();
}

void ActiveController::Process(Op op) {
  if (!active()) {
    op.done(absl::UnavailableError("not the active controller"));
    return;
  }
  std::vector<metadata::MetadataRecord> records = state_->WithImage(op.decide);
  if (records.empty()) {
    op.done(state_->applied_offset());
    return;
  }
  metadata::MetadataBatch batch;
  for (auto& r : records) *batch.add_records() = std::move(r);
  batch.set_timestamp_ms(clock_->WallMs());
  struct Outcome {
    absl::Notification done;
    absl::StatusOr<int64_t> result;
  };
  auto outcome = std::make_shared<Outcome>();
  int64_t start = clock_->SteadyMs();
  driver_->Propose(batch.SerializeAsString(), [outcome](absl::StatusOr<int64_t> r) {
    outcome->result = std::move(r);
    outcome->done.Notify();
  });
  if (!outcome->done.WaitForNotificationWithTimeout(absl::Seconds(10))) {
    op.done(absl::DeadlineExceededError("the metadata change did not commit within 10 s"));
    return;
  }
  Logger("controller")->debug("{}: committed {} records at offset {} in {} ms", op.name,
                              batch.records_size(),
                              outcome->result.ok() ? *outcome->result : -1,
                              clock_->SteadyMs() - start);
  op.done(outcome->result);
}

void ActiveController::CheckSessions() {
  std::vector<int32_t> stale;
  {
    absl::MutexLock lock(&mu_);
    if (!active_) return;
    int64_t now = clock_->SteadyMs();
    state_->WithImage([&](const metadata::MetadataImage& image) {
      for (const auto& [id, b] : image.brokers()) {
        if (b.fenced) continue;
        auto it = last_contact_ms_.find(id);
        int64_t last = it == last_contact_ms_.end() ? now : it->second;
        if (it == last_contact_ms_.end()) last_contact_ms_[id] = now;
        if (now - last > config_.broker_session_timeout_ms) stale.push_back(id);
      }
      return 0;
    });
  }
  for (int32_t id : stale) {
    Logger("controller")->info("broker {} missed heartbeats for {} ms: fencing it", id,
                               config_.broker_session_timeout_ms);
    ControlSettings settings = config_.settings;
    Process({absl::StrCat("fence broker ", id),
             [id, settings](const metadata::MetadataImage& image) {
               return FenceBroker(image, id, settings);
             },
             [id](absl::StatusOr<int64_t> r) {
               if (!r.ok()) Logger("controller")->warn("fencing broker {} failed: {}", id, r.status());
             }});
  }
}

void ActiveController::MaybeRebalance() {
  if (!config_.auto_leader_rebalance) return;
  std::set<int32_t> may_lead;
  {
    absl::MutexLock lock(&mu_);
    if (!active_) return;
    int64_t now = clock_->SteadyMs();
    std::vector<int32_t> alive;
    state_->WithImage([&](const metadata::MetadataImage& image) {
      for (const auto& [id, b] : image.brokers()) {
        if (!b.fenced) alive.push_back(id);
      }
      return 0;
    });
    // A broker that came back and waited its delay gets its leaderships back at once.
    bool newly_eligible = rejoin_.Update(alive, now);
    may_lead = rejoin_.eligible();
    bool periodic = now - last_rebalance_ms_ >= int64_t{config_.leader_imbalance_check_interval_s} * 1000;
    if (!periodic && !newly_eligible) return;
    last_rebalance_ms_ = now;
  }
  ControlSettings settings = config_.settings;
  Process({"preferred leader election",
           [settings, may_lead](const metadata::MetadataImage& image) {
             return PreferredLeaderElection(image, settings,
                                            [&may_lead](int32_t b) { return may_lead.count(b) > 0; });
           },
           [](absl::StatusOr<int64_t> r) {
             if (!r.ok()) Logger("controller")->warn("preferred leader election failed: {}", r.status());
           }});
}

}  // namespace gregor::controller
