#include "controller/controller_server.h"

#include <grpcpp/grpcpp.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "common/logging.h"
#include "controller/active_controller.h"
#include "controller/cluster_events.h"
#include "controller/metadata_state.h"
#include "controller/producer_id_blocks.h"
#include "controller/quorum/quorum_driver.h"
#include "controller/quorum/raft_proto.h"
#include "proto/controller.grpc.pb.h"
#include "proto/quorum.grpc.pb.h"

namespace gregor::controller {
namespace {

using metadata::MetadataImage;

// A stream that is told when new metadata is committed.
class Watcher {
 public:
  virtual ~Watcher() = default;
  virtual void Pump() = 0;
};

class WatcherRegistry {
 public:
  void Add(Watcher* w) {
    absl::MutexLock lock(&mu_);
    watchers_.insert(w);
  }
  void Remove(Watcher* w) {
    absl::MutexLock lock(&mu_);
    watchers_.erase(w);
  }
  void NotifyAll() {
    absl::MutexLock lock(&mu_);
    for (Watcher* w : watchers_) w->Pump();
  }

 private:
  absl::Mutex mu_;
  std::set<Watcher*> watchers_ ABSL_GUARDED_BY(mu_);
};

// A server-streaming call that writes one message at a time, taking the next from `next`.
template <typename Response>
class StreamReactor : public grpc::ServerWriteReactor<Response>, public Watcher {
 public:
  // `next(&msg)` fills the next message; false when there is nothing to send now.
  // `on_done` (optional) runs once the stream has ended, for whatever reason.
  StreamReactor(WatcherRegistry* registry, std::function<bool(Response*)> next,
                std::function<void()> on_done = nullptr)
      : registry_(registry), next_(std::move(next)), on_done_(std::move(on_done)) {
    registry_->Add(this);
    Pump();
  }

  void Pump() override {
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (!next_(&message_)) return;
      writing_ = true;
    }
    this->StartWrite(&message_);
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok || cancelled_) {
        if (!finished_) {
          finished_ = true;
          this->Finish(grpc::Status::CANCELLED);
        }
        return;
      }
    }
    Pump();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (!writing_ && !finished_) {
      finished_ = true;
      this->Finish(grpc::Status::CANCELLED);
    }
  }

  void OnDone() override {
    registry_->Remove(this);
    if (on_done_) on_done_();
    delete this;
  }

 private:
  WatcherRegistry* registry_;
  std::function<bool(Response*)> next_;
  std::function<void()> on_done_;
  absl::Mutex mu_;
  Response message_;
  bool writing_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
};

class QuorumService final : public quorum::Quorum::CallbackService {
 public:
  explicit QuorumService(quorum::QuorumDriver* driver) : driver_(driver) {}
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context,
                                 const quorum::RaftMessage* request, quorum::SendAck*) override {
    quorum::Message message;
    auto* reactor = context->DefaultReactor();
    if (!quorum::FromProto(*request, &message)) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown message type"));
      return reactor;
    }
    driver_->Receive(std::move(message));
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  quorum::QuorumDriver* driver_;
};

class ServerImpl;

class ControllerService final : public Controller::CallbackService {
 public:
  explicit ControllerService(ServerImpl* server) : server_(server) {}

  grpc::ServerUnaryReactor* RegisterBroker(grpc::CallbackServerContext* context,
                                           const RegisterBrokerRequest* request,
                                           RegisterBrokerResponse* response) override;
  grpc::ServerUnaryReactor* BrokerHeartbeat(grpc::CallbackServerContext* context,
                                            const BrokerHeartbeatRequest* request,
                                            BrokerHeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* AlterPartition(grpc::CallbackServerContext* context,
                                           const AlterPartitionRequest* request,
                                           AlterPartitionResponse* response) override;
  grpc::ServerUnaryReactor* ControlledShutdown(grpc::CallbackServerContext* context,
                                               const ControlledShutdownRequest* request,
                                               ControlledShutdownResponse* response) override;
  grpc::ServerWriteReactor<WatchMetadataResponse>* WatchMetadata(
      grpc::CallbackServerContext* context, const WatchMetadataRequest* request) override;
  grpc::ServerUnaryReactor* CreateTopics(grpc::CallbackServerContext* context,
                                         const CreateTopicsRequest* request,
                                         CreateTopicsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteTopics(grpc::CallbackServerContext* context,
                                         const DeleteTopicsRequest* request,
                                         DeleteTopicsResponse* response) override;
  grpc::ServerUnaryReactor* CreatePartitions(grpc::CallbackServerContext* context,
                                             const CreatePartitionsRequest* request,
                                             CreatePartitionsResponse* response) override;
  grpc::ServerUnaryReactor* AlterConfigs(grpc::CallbackServerContext* context,
                                         const AlterConfigsRequest* request,
                                         AlterConfigsResponse* response) override;
  grpc::ServerUnaryReactor* ElectLeaders(grpc::CallbackServerContext* context,
                                         const ElectLeadersRequest* request,
                                         ElectLeadersResponse* response) override;
  grpc::ServerUnaryReactor* DescribeCluster(grpc::CallbackServerContext* context,
                                            const DescribeClusterRequest* request,
                                            DescribeClusterResponse* response) override;
  grpc::ServerUnaryReactor* AllocateProducerIds(grpc::CallbackServerContext* context,
                                                const AllocateProducerIdsRequest* request,
                                                AllocateProducerIdsResponse* response) override;
  grpc::ServerWriteReactor<WatchClusterEventsResponse>* WatchClusterEvents(
      grpc::CallbackServerContext* context, const WatchClusterEventsRequest* request) override;

 private:
  ServerImpl* server_;
  // The brokers' cleaner reports (soft state, see BrokerHeartbeatRequest).
  absl::Mutex reports_mu_;
  std::map<int32_t, std::vector<PartitionCleanerReport>> cleaner_reports_
      ABSL_GUARDED_BY(reports_mu_);
};

class ServerImpl final : public ControllerServer {
 public:
  ServerImpl(ControllerConfig config, Clock* clock) : config_(std::move(config)), clock_(clock) {}
  ~ServerImpl() override { Shutdown(); }

  absl::Status Init() {
    quorum::QuorumOptions options;
    options.id = config_.node_id;
    options.voters = config_.voters;
    options.data_dir = config_.metadata_log_dir;
    options.election_timeout_ms = config_.election_timeout_ms;
    options.heartbeat_interval_ms = config_.quorum_heartbeat_ms;
    options.tick_ms = std::min(config_.quorum_heartbeat_ms, config_.election_timeout_ms / 10);
    options.snapshot_after_bytes = config_.snapshot_after_bytes;
    auto driver = quorum::QuorumDriver::Create(options, &state_);
    if (!driver.ok()) return driver.status();
    driver_ = std::move(*driver);
    active_ = std::make_unique<ActiveController>(config_, &state_, driver_.get(), clock_);
    state_.SetOnApplied([this](int64_t term) {
      active_->OnApplied(term);
      watchers_.NotifyAll();
    });
    state_.SetOnLeaderChange([this](quorum::Role role, int64_t term, quorum::NodeId leader) {
      active_->OnLeaderChange(role, term, leader);
    });
    quorum_service_ = std::make_unique<QuorumService>(driver_.get());
    controller_service_ = std::make_unique<ControllerService>(this);
    return absl::OkStatus();
  }

  absl::Status Start() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(config_.listen_address(), grpc::InsecureServerCredentials(), &port);
    builder.SetMaxReceiveMessageSize(512 << 20);
    builder.SetMaxSendMessageSize(512 << 20);
    builder.RegisterService(quorum_service_.get());
    builder.RegisterService(controller_service_.get());
    server_ = builder.BuildAndStart();
    if (!server_ || port == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", config_.listen_address(),
                                                 " (in use, or not a local address?)"));
    }
    driver_->Start();
    active_->Start();
    Logger("controller")->info("controller {} serving on {} (quorum of {})", config_.node_id,
                               config_.listen_address(), config_.voters.size());
    return absl::OkStatus();
  }

  void Shutdown() override {
    if (shut_down_) return;
    shut_down_ = true;
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    if (active_) active_->Stop();
    if (driver_) driver_->Stop();
  }

  // Fills NOT_CONTROLLER and where the active controller is.
  template <typename Response>
  void NotController(Response* response) {
    auto status = driver_->GetStatus();
    response->mutable_error()->set_code(static_cast<int32_t>(KafkaErrorCode::kNotController));
    std::string where = "unknown";
    response->mutable_hint()->set_active_controller_id(status.leader);
    if (auto it = config_.voters.find(status.leader); it != config_.voters.end()) {
      response->mutable_hint()->set_active_controller_address(it->second);
      where = absl::StrCat(status.leader, " at ", it->second);
    }
    response->mutable_error()->set_message(
        absl::StrCat("controller ", config_.node_id, " is not the active controller (active: ",
                     where, ")"));
  }

  // Runs a write through the active controller. `decide` returns a ControllerResult<Response>;
  // `on_commit` may adjust the reply once the offset is known.
  template <typename Response, typename DecideFn>
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context, std::string name,
                                  Response* response, DecideFn decide,
                                  std::function<void(Response*, int64_t)> on_commit = nullptr) {
    auto* reactor = context->DefaultReactor();
    if (!active_->active()) {
      NotController(response);
      reactor->Finish(grpc::Status::OK);
      return reactor;
    }
    auto reply = std::make_shared<Response>();
    active_->Submit(
        std::move(name),
        [reply, decide](const MetadataImage& image) {
          auto result = decide(image);
          *reply = std::move(result.reply);
          return std::move(result.records);
        },
        [this, reply, response, reactor, on_commit](absl::StatusOr<int64_t> offset) {
          if (!offset.ok()) {
            if (absl::IsUnavailable(offset.status())) {
              NotController(response);
            } else {
              response->mutable_error()->set_code(
                  static_cast<int32_t>(KafkaErrorCode::kRequestTimedOut));
              response->mutable_error()->set_message(std::string(offset.status().message()));
            }
          } else {
            *response = std::move(*reply);
            if (on_commit) on_commit(response, *offset);
          }
          reactor->Finish(grpc::Status::OK);
        });
    return reactor;
  }

  const ControllerConfig& config() const { return config_; }
  MetadataState& state() { return state_; }
  ActiveController& active() { return *active_; }
  quorum::QuorumDriver& driver() { return *driver_; }
  WatcherRegistry& watchers() { return watchers_; }
  Clock* clock() const { return clock_; }

 private:
  const ControllerConfig config_;
  Clock* const clock_;
  MetadataState state_;
  std::unique_ptr<quorum::QuorumDriver> driver_;
  std::unique_ptr<ActiveController> active_;
  WatcherRegistry watchers_;
  std::unique_ptr<QuorumService> quorum_service_;
  std::unique_ptr<ControllerService> controller_service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

grpc::ServerUnaryReactor* ControllerService::RegisterBroker(grpc::CallbackServerContext* context,
                                                            const RegisterBrokerRequest* request,
                                                            RegisterBrokerResponse* response) {
  if (server_->active().active()) server_->active().RecordHeartbeat(request->broker_id());
  ControlSettings settings = server_->config().settings;
  RegisterBrokerRequest req = *request;
  int32_t id = request->broker_id();
  return server_->Write(
      context, absl::StrCat("register broker ", id), response,
      [req, settings](const MetadataImage& image) { return controller::RegisterBroker(image, req, settings); },
      std::function<void(RegisterBrokerResponse*, int64_t)>(
          [this, id](RegisterBrokerResponse* r, int64_t offset) {
            if (r->error().code() == 0) {
              r->set_broker_epoch(offset);
              r->set_session_timeout_ms(server_->config().broker_session_timeout_ms);
              server_->active().RecordHeartbeat(id);
              Logger("controller")->info("broker {} registered with epoch {}", id, offset);
            }
          }));
}

grpc::ServerUnaryReactor* ControllerService::BrokerHeartbeat(grpc::CallbackServerContext* context,
                                                             const BrokerHeartbeatRequest* request,
                                                             BrokerHeartbeatResponse* response) {
  ControlSettings settings = server_->config().settings;
  BrokerHeartbeatRequest req = *request;
  // Renew the session only for the current registration.
  bool current = server_->state().WithImage([&](const MetadataImage& image) {
    const auto* b = image.FindBroker(req.broker_id());
    return b != nullptr && b->epoch == req.broker_epoch();
  });
  if (current && server_->active().active()) server_->active().RecordHeartbeat(req.broker_id());
  if (current && req.has_cleaner_report()) {
    absl::MutexLock lock(&reports_mu_);
    cleaner_reports_[req.broker_id()].assign(req.cleaner().begin(), req.cleaner().end());
  }
  return server_->Write(context, "heartbeat", response, [req, settings](const MetadataImage& image) {
    return controller::BrokerHeartbeat(image, req, settings);
  });
}

grpc::ServerUnaryReactor* ControllerService::AlterPartition(grpc::CallbackServerContext* context,
                                                            const AlterPartitionRequest* request,
                                                            AlterPartitionResponse* response) {
  AlterPartitionRequest req = *request;
  return server_->Write(context, "alter partition", response, [req](const MetadataImage& image) {
    return controller::AlterPartition(image, req);
  });
}

grpc::ServerUnaryReactor* ControllerService::ControlledShutdown(
    grpc::CallbackServerContext* context, const ControlledShutdownRequest* request,
    ControlledShutdownResponse* response) {
  ControlSettings settings = server_->config().settings;
  ControlledShutdownRequest req = *request;
  return server_->Write(context, absl::StrCat("controlled shutdown of broker ", req.broker_id()),
                        response, [req, settings](const MetadataImage& image) {
                          return controller::ControlledShutdown(image, req, settings);
                        });
}

grpc::ServerUnaryReactor* ControllerService::CreateTopics(grpc::CallbackServerContext* context,
                                                          const CreateTopicsRequest* request,
                                                          CreateTopicsResponse* response) {
  ControlSettings settings = server_->config().settings;
  CreateTopicsRequest req = *request;
  auto rng = std::make_shared<std::mt19937_64>(server_->clock()->WallMs() ^
                                               (uint64_t{0x9e3779b97f4a7c15} * req.topics_size()));
  return server_->Write(context, "create topics", response,
                        [req, settings, rng](const MetadataImage& image) {
                          return controller::CreateTopics(image, req, settings, rng.get());
                        });
}

grpc::ServerUnaryReactor* ControllerService::DeleteTopics(grpc::CallbackServerContext* context,
                                                          const DeleteTopicsRequest* request,
                                                          DeleteTopicsResponse* response) {
  DeleteTopicsRequest req = *request;
  return server_->Write(context, "delete topics", response, [req](const MetadataImage& image) {
    return controller::DeleteTopics(image, req);
  });
}

grpc::ServerUnaryReactor* ControllerService::CreatePartitions(grpc::CallbackServerContext* context,
                                                              const CreatePartitionsRequest* request,
                                                              CreatePartitionsResponse* response) {
  CreatePartitionsRequest req = *request;
  return server_->Write(context, "create partitions", response, [req](const MetadataImage& image) {
    return controller::CreatePartitions(image, req);
  });
}

grpc::ServerUnaryReactor* ControllerService::AlterConfigs(grpc::CallbackServerContext* context,
                                                          const AlterConfigsRequest* request,
                                                          AlterConfigsResponse* response) {
  ControlSettings settings = server_->config().settings;
  AlterConfigsRequest req = *request;
  return server_->Write(context, "alter configs", response, [req, settings](const MetadataImage& image) {
    return controller::AlterConfigs(image, req, settings);
  });
}

grpc::ServerUnaryReactor* ControllerService::ElectLeaders(grpc::CallbackServerContext* context,
                                                          const ElectLeadersRequest* request,
                                                          ElectLeadersResponse* response) {
  ElectLeadersRequest req = *request;
  return server_->Write(context, "elect leaders", response, [req](const MetadataImage& image) {
    return controller::ElectLeaders(image, req);
  });
}

grpc::ServerUnaryReactor* ControllerService::AllocateProducerIds(
    grpc::CallbackServerContext* context, const AllocateProducerIdsRequest* request,
    AllocateProducerIdsResponse* response) {
  AllocateProducerIdsRequest req = *request;
  return server_->Write(context, "allocate producer ids", response, [req](const MetadataImage& image) {
    return controller::AllocateProducerIds(image, req);
  });
}

grpc::ServerUnaryReactor* ControllerService::DescribeCluster(grpc::CallbackServerContext* context,
                                                             const DescribeClusterRequest* request,
                                                             DescribeClusterResponse* response) {
  auto status = server_->driver().GetStatus();
  const ControllerConfig& config = server_->config();
  std::set<std::string> wanted(request->topics().begin(), request->topics().end());
  server_->state().WithImage([&](const MetadataImage& image) {
    for (const auto& [id, b] : image.brokers()) {
      BrokerDescription* d = response->add_brokers();
      d->set_id(id);
      d->set_epoch(b.epoch);
      d->set_kafka_host(b.kafka_host);
      d->set_kafka_port(b.kafka_port);
      d->set_replication_host(b.replication_host);
      d->set_replication_port(b.replication_port);
      d->set_rack(b.rack);
      d->set_state(b.StateName());
    }
    for (const auto& [name, t] : image.topics()) {
      if (!wanted.empty() && !wanted.count(name)) continue;
      TopicDescription* d = response->add_topics();
      d->set_name(name);
      d->set_topic_id(t.topic_id);
      for (size_t p = 0; p < t.partitions.size(); ++p) {
        *d->add_partitions() =
            metadata::MakePartitionRecord(name, static_cast<int32_t>(p), t.partitions[p]).partition();
      }
      for (const auto& [k, v] : t.configs) (*d->mutable_configs())[k] = v;
    }
    return 0;
  });
  for (const std::string& name : wanted) {
    bool found = false;
    for (const auto& t : response->topics()) found = found || t.name() == name;
    if (!found) {
      response->mutable_error()->set_code(static_cast<int32_t>(KafkaErrorCode::kUnknownTopicOrPartition));
      response->mutable_error()->set_message(absl::StrCat("topic '", name, "' does not exist"));
    }
  }
  int32_t active_id = status.role == quorum::Role::kLeader && server_->active().active()
                          ? config.node_id
                          : (status.role == quorum::Role::kLeader ? -1 : status.leader);
  for (const auto& [id, address] : config.voters) {
    QuorumMember* m = response->add_quorum();
    m->set_id(id);
    m->set_address(address);
    m->set_active(id == active_id);
  }
  response->set_active_controller_id(active_id);
  response->set_controller_term(status.term);
  response->set_metadata_offset(server_->state().applied_offset());
  response->set_answering_controller_id(config.node_id);
  server_->state().WithImage([&](const MetadataImage& image) {
    response->set_cluster_id(image.cluster_id());
    return 0;
  });
  {
    absl::MutexLock lock(&reports_mu_);
    for (const auto& [broker, reports] : cleaner_reports_) {
      BrokerCleanerReport* b = nullptr;
      for (const PartitionCleanerReport& r : reports) {
        if (!wanted.empty() && !wanted.count(r.topic())) continue;
        if (!b) {
          b = response->add_cleaner();
          b->set_broker_id(broker);
        }
        *b->add_partitions() = r;
      }
    }
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<WatchMetadataResponse>* ControllerService::WatchMetadata(
    grpc::CallbackServerContext* context, const WatchMetadataRequest* request) {
  MetadataState* state = &server_->state();
  auto next = std::make_shared<int64_t>(std::max<int64_t>(request->from_offset(), 1));
  auto initial = std::make_shared<bool>(true);
  std::function<void()> on_done;
  if (request->has_broker_id()) {
    // A broker's standing connection: when it closes, find out whether the process is gone.
    ActiveController* active = &server_->active();
    int32_t broker_id = request->broker_id();
    on_done = [active, broker_id] { active->OnBrokerConnectionLost(broker_id); };
  }
  return new StreamReactor<WatchMetadataResponse>(
      &server_->watchers(),
      [state, next, initial](WatchMetadataResponse* out) {
        bool send = state->NextMetadataMessage(next.get(), *initial, out);
        if (send) *initial = false;
        return send;
      },
      std::move(on_done));
}

grpc::ServerWriteReactor<WatchClusterEventsResponse>* ControllerService::WatchClusterEvents(
    grpc::CallbackServerContext* context, const WatchClusterEventsRequest* request) {
  MetadataState* state = &server_->state();
  Clock* clock = server_->clock();
  auto next = std::make_shared<int64_t>(state->applied_offset() + 1);
  auto initial = std::make_shared<bool>(request->include_current_state());
  return new StreamReactor<WatchClusterEventsResponse>(
      &server_->watchers(), [state, next, initial, clock](WatchClusterEventsResponse* out) {
        if (*initial) {
          *initial = false;
          out->Clear();
          state->WithImage([&](const MetadataImage& image) {
            for (ClusterEvent& e : DescribeImage(image, clock->WallMs())) *out->add_events() = std::move(e);
            return 0;
          });
          return true;
        }
        return state->NextEventsMessage(next.get(), out);
      });
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControllerServer>> ControllerServer::Create(ControllerConfig config,
                                                                           Clock* clock) {
  auto server = std::make_unique<ServerImpl>(std::move(config), clock);
  absl::Status s = server->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<ControllerServer>(std::move(server));
}

}  // namespace gregor::controller
