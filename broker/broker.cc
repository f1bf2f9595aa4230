#include "broker/broker.h"

#include <sys/resource.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/steady_waiter.h"
#include "broker/controller_link.h"
#include "broker/group_host.h"
#include "broker/kafka/group_apis.h"
#include "broker/hang_guard.h"
#include "broker/kafka/kafka_apis.h"
#include "broker/kafka/kafka_server.h"
#include "broker/net/network_threads.h"
#include "broker/replica_manager.h"
#include "broker/replication/isr_manager.h"
#include "broker/replication/replica_fetcher.h"
#include "broker/replication/replication_server.h"
#include "broker/storage/log_manager.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::broker {
namespace {

// Segment files stay open: allow as many descriptors as the hard limit permits.
void RaiseFileLimit() {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

class BrokerImpl final : public Broker {
 public:
  BrokerImpl(BrokerConfig config, Clock* clock, HangGuard* guard, FailureHandler on_failure)
      : config_(std::move(config)), clock_(clock), guard_(guard),
        on_failure_(std::move(on_failure)) {}
  ~BrokerImpl() override { Shutdown(); }

  absl::Status Start() override {
    auto log = Logger("broker");
    log->info("starting broker: {}", config_.Describe());
    RaiseFileLimit();
    storage::LogManagerConfig logs_config;
    logs_config.log_dirs = config_.log_dirs;
    logs_config.default_log_config = config_.log;
    logs_config.retention_check_interval_ms = config_.retention_check_interval_ms;
    logs_config.producer_id_expiration_ms = config_.producer_id_expiration_ms;
    logs_config.cleaner = config_.cleaner;
    logs_config.recovery_point_checkpoint_interval_ms = config_.recovery_point_checkpoint_interval_ms;
    logs_config.high_watermark_checkpoint_interval_ms = config_.hw_checkpoint_interval_ms;
    ASSIGN_OR_RETURN(logs_, storage::LogManager::Open(logs_config, clock_));
    logs_->SetLogDirFailureHandler([this](const std::string& dir, const absl::Status& cause) {
      std::string reason = absl::StrCat("log dir ", dir, " failed (", cause.message(),
                                        "): this broker takes no more writes, moves its "
                                        "leaderships away and stops; restart it once the disk "
                                        "is fixed or has room");
      Logger("broker")->error("{}", reason);
      if (on_failure_) on_failure_(reason);
    });

    link_ = std::make_unique<ControllerLink>(config_, clock_);
    replicas_ = std::make_unique<ReplicaManager>(config_, logs_.get(), clock_);
    isr_ = std::make_unique<IsrManager>(replicas_.get(), link_.get(), clock_, config_.node_id,
                                        std::max(100, config_.replica_lag_time_max_ms / 4));
    groups_ = std::make_unique<GroupHost>(config_, replicas_.get(), link_.get(), clock_);
    groups_->Start();
    fetchers_ = std::make_unique<FetcherManager>(config_.Replication(), replicas_.get(),
                                                 link_.get(), &peers_, clock_);
    replicas_->SetRoleListener([this](const std::shared_ptr<Partition>& partition,
                                      Partition::Transition transition) {
      metadata::PartitionState state = partition->state();
      if (state.leader == config_.node_id) {
        fetchers_->Unfollow(partition->topic_partition());
      } else if (transition == Partition::Transition::kBecameFollower ||
                 transition == Partition::Transition::kUpdated) {
        fetchers_->Follow(partition, state.leader, state.leader_epoch);
      }
      groups_->OnRoleChange(partition, transition);
    });
    replicas_->SetRemovalListener([this](const storage::TopicPartition& tp) {
      fetchers_->Unfollow(tp);
      groups_->OnRemoved(tp);
    });
    // Followers may fetch from us as soon as the metadata makes us a leader.
    network_ = std::make_unique<net::NetworkThreads>(config_.num_network_threads);
    network_->Start();
    replication_ = std::make_unique<ReplicationServer>(config_.Replication(), replicas_.get(),
                                                       link_.get(),
                                                       isr_.get(), clock_, network_->io());
    RETURN_IF_ERROR(replication_->Start());
    isr_->Start();
    if (guard_) link_->SetHeartbeatListener([this] { guard_->Beat(); });
    link_->SetCleanerReporter(
        [this](google::protobuf::RepeatedPtrField<controller::PartitionCleanerReport>* out) {
          for (const storage::TopicPartition& tp : logs_->Partitions()) {
            auto log = logs_->GetLog(tp);
            if (!log || !log->config().compact()) continue;
            storage::CleanerPartitionState state = logs_->CleanerState(tp);
            controller::PartitionCleanerReport* r = out->Add();
            r->set_topic(tp.topic);
            r->set_partition(tp.partition);
            r->set_checkpoint(state.checkpoint);
            r->set_dirty_ratio(state.dirty_ratio);
            r->set_uncleanable(state.uncleanable);
            r->set_cleans(state.cleans);
          }
        });
    ASSIGN_OR_RETURN(int64_t epoch, link_->Register(absl::Seconds(60)));
    if (guard_) guard_->SetSessionTimeout(link_->session_timeout_ms());
    link_->Start([this](std::shared_ptr<const metadata::MetadataImage> image) {
      replicas_->Reconcile(*image);
    });
    if (!link_->WaitForMetadata(epoch, absl::Seconds(60))) {
      return absl::DeadlineExceededError(
          "the metadata stream did not reach this broker's registration within 60 s");
    }
    log->info("metadata replayed up to offset {}", link_->image()->offset());

    apis_ = std::make_unique<KafkaApis>(config_, replicas_.get(), link_.get(), &peers_, clock_);
    group_apis_ = std::make_unique<GroupApis>(config_, groups_.get(), link_.get());
    server_ = std::make_unique<KafkaServer>(config_, apis_.get(), group_apis_.get(), network_->io());
    RETURN_IF_ERROR(server_->Start());
    if (guard_) guard_->SetKafkaPort(server_->bound_port());

    ticker_ = std::thread([this] { TickLoop(); });
    started_ = true;
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (shut_down_.exchange(true)) return;
    auto log = Logger("broker");
    if (started_) {
      log->info("controlled shutdown: moving leaderships away");
      int32_t remaining = link_->ControlledShutdown(absl::Milliseconds(config_.controlled_shutdown_timeout_ms));
      if (remaining > 0) {
        log->warn("{} partition(s) still led here (no other in-sync replica)", remaining);
      }
    }
    if (server_) server_->Stop();
    if (groups_) groups_->Stop();
    if (fetchers_) fetchers_->Stop();
    if (replication_) replication_->Stop();
    if (network_) network_->Stop();
    if (isr_) isr_->Stop();
    {
      absl::MutexLock lock(&tick_mu_);
      stopping_ = true;
    }
    tick_waiter_.Notify();
    if (ticker_.joinable()) ticker_.join();
    if (started_) link_->FenceSelf();
    if (link_) link_->Stop();
    if (logs_) {
      absl::Status s = logs_->Shutdown();
      if (!s.ok()) log->error("closing the logs failed: {}", s.message());
    }
    log->info("broker {} stopped", config_.node_id);
  }

 private:
  void TickLoop() {
    while (true) {
      {
        absl::MutexLock lock(&tick_mu_);
        auto stop = [this] { return stopping_; };
        if (tick_waiter_.WaitFor(tick_mu_, absl::Milliseconds(100), stop)) return;
      }
      absl::Status s = logs_->Tick();
      if (!s.ok()) Logger("broker")->warn("periodic log work: {}", s.message());
    }
  }

  const BrokerConfig config_;
  Clock* const clock_;
  HangGuard* const guard_;
  const FailureHandler on_failure_;
  std::unique_ptr<storage::LogManager> logs_;
  // Before (so destroyed after) the servers whose sockets live on its io_context.
  std::unique_ptr<net::NetworkThreads> network_;
  std::unique_ptr<ControllerLink> link_;
  PeerLiveness peers_{kPeerLossHoldMs};
  std::unique_ptr<ReplicaManager> replicas_;
  std::unique_ptr<IsrManager> isr_;
  std::unique_ptr<FetcherManager> fetchers_;
  std::unique_ptr<ReplicationServer> replication_;
  std::unique_ptr<GroupHost> groups_;
  std::unique_ptr<KafkaApis> apis_;
  std::unique_ptr<GroupApis> group_apis_;
  std::unique_ptr<KafkaServer> server_;
  std::thread ticker_;
  absl::Mutex tick_mu_;
  bool stopping_ ABSL_GUARDED_BY(tick_mu_) = false;
  SteadyWaiter tick_waiter_;  // stopping_
  bool started_ = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace

absl::StatusOr<std::unique_ptr<Broker>> Broker::Create(BrokerConfig config, Clock* clock,
                                                       HangGuard* guard,
                                                       FailureHandler on_failure) {
  return std::unique_ptr<Broker>(
      new BrokerImpl(std::move(config), clock, guard, std::move(on_failure)));
}

}  // namespace gregor::broker
