#include "broker/replication/replication_service.h"

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/logging.h"
#include "proto/replication.grpc.pb.h"

namespace gregor::broker {

using storage::TopicPartition;

class ReplicationServer::Service final : public replication::Replication::Service {
 public:
  Service(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
          IsrManager* isr, Clock* clock)
      : config_(config), replicas_(replicas), link_(link), isr_(isr), clock_(clock) {}

  void Shutdown() { stopping_ = true; }

  grpc::Status ReplicaFetch(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<replication::ReplicaFetchResponse, replication::ReplicaFetchRequest>*
          stream) override {
    replication::ReplicaFetchRequest request;
    while (!stopping_ && stream->Read(&request)) {
      // Register for changes before looking: an append between the look and the wait must
      // still wake us, or the follower (and every acks=all producer) waits the full max_wait.
      auto signal = std::make_shared<Signal>();
      auto waiter = std::make_shared<PartitionWaiter>();
      std::weak_ptr<Signal> weak = signal;
      waiter->wake = [weak] {
        if (auto s = weak.lock()) {
          absl::MutexLock lock(&s->mu);
          s->woken = true;
        }
      };
      for (const auto& p : request.partitions()) {
        replicas_->AddWaiter({p.topic(), p.partition()}, waiter);
      }
      replication::ReplicaFetchResponse response;
      size_t bytes = Handle(request, &response);
      bool reportable = bytes > 0 || HasNews(response);
      if (!reportable && request.max_wait_ms() > 0) {
        Wait(request, context, signal.get());
        response.Clear();
        Handle(request, &response);
      }
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  static bool HasNews(const replication::ReplicaFetchResponse& response) {
    for (const auto& p : response.partitions()) {
      if (p.error_code() != 0 || p.has_diverging_epoch()) return true;
    }
    return false;
  }

  struct Signal {
    absl::Mutex mu;
    bool woken ABSL_GUARDED_BY(mu) = false;
  };

  // Waits until `signal` fires (a requested partition changed), max_wait passes, or the stream
  // goes away.
  void Wait(const replication::ReplicaFetchRequest& request, grpc::ServerContext* context,
            Signal* signal) {
    absl::Time deadline = absl::Now() + absl::Milliseconds(std::min(request.max_wait_ms(), 30000));
    absl::MutexLock lock(&signal->mu);
    auto woken = [signal]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(signal->mu) { return signal->woken; };
    while (!signal->woken && !stopping_ && !context->IsCancelled() && absl::Now() < deadline) {
      // Wake up now and then to notice a cancelled stream or a stopping server.
      signal->mu.AwaitWithDeadline(absl::Condition(&woken),
                                   std::min(deadline, absl::Now() + absl::Milliseconds(100)));
    }
  }

  // Fills `response`; returns the record bytes included.
  size_t Handle(const replication::ReplicaFetchRequest& request,
                replication::ReplicaFetchResponse* response) {
    auto image = link_->image();
    auto eligible = [&image, &request](int32_t broker) {
      const metadata::BrokerRegistration* b = image->FindBroker(broker);
      if (b == nullptr || !b->usable()) return false;
      // A follower fetching with an older registration's epoch (a process that restarted and
      // lost data) must not join the ISR until it has re-registered.
      return broker != request.replica_id() || b->epoch == request.broker_epoch();
    };
    int64_t now = clock_->SteadyMs();
    size_t total = 0;
    int64_t budget = request.max_bytes() > 0 ? request.max_bytes() : (10 << 20);
    for (const auto& p : request.partitions()) {
      replication::FetchedPartition* out = response->add_partitions();
      out->set_topic(p.topic());
      out->set_partition(p.partition());
      TopicPartition tp{p.topic(), p.partition()};
      auto partition = replicas_->GetPartition(tp);
      if (partition == nullptr) {
        out->set_error_code(static_cast<int32_t>(KafkaErrorCode::kNotLeaderOrFollower));
        continue;
      }
      Partition::FollowerFetch fetch;
      fetch.replica = request.replica_id();
      fetch.current_leader_epoch = p.current_leader_epoch();
      fetch.fetch_offset = p.fetch_offset();
      fetch.last_fetched_epoch = p.last_fetched_epoch();
      FetchReadLimit limit = FetchReadLimitFor(p.max_bytes(), budget, /*nothing_read_yet=*/total == 0);
      fetch.max_bytes = static_cast<int32_t>(limit.max_bytes);
      fetch.min_one_batch = limit.min_one_batch;
      Partition::FollowerFetchResult result = partition->HandleFollowerFetch(fetch, now, eligible);
      out->set_error_code(static_cast<int32_t>(result.error));
      out->set_high_watermark(result.offsets.high_watermark.value());
      out->set_log_start_offset(result.offsets.log_start_offset.value());
      out->set_log_end_offset(result.offsets.log_end_offset.value());
      if (result.diverging) {
        out->mutable_diverging_epoch()->set_epoch(result.diverging->epoch);
        out->mutable_diverging_epoch()->set_end_offset(result.diverging->end_offset);
      }
      if (result.records.size > 0) {
        auto bytes = ReadSlice(result.records);
        if (bytes.ok()) {
          total += bytes->size();
          budget -= static_cast<int64_t>(bytes->size());
          out->set_records(std::move(*bytes));
        } else {
          out->set_error_code(static_cast<int32_t>(KafkaErrorCode::kKafkaStorageError));
        }
      }
      if (result.high_watermark_moved) replicas_->Notify(tp);
      if (result.isr_change) isr_->Submit(std::move(*result.isr_change));
    }
    return total;
  }

  const BrokerConfig& config_;
  ReplicaManager* const replicas_;
  ControllerLink* const link_;
  IsrManager* const isr_;
  Clock* const clock_;
  std::atomic<bool> stopping_{false};
};

ReplicationServer::ReplicationServer(const BrokerConfig& config, ReplicaManager* replicas,
                                     ControllerLink* link, IsrManager* isr, Clock* clock)
    : config_(config), service_(std::make_unique<Service>(config_, replicas, link, isr, clock)) {}

ReplicationServer::~ReplicationServer() { Stop(); }

absl::Status ReplicationServer::Start() {
  grpc::ServerBuilder builder;
  int port = 0;
  std::string address = absl::StrCat(config_.replication_host, ":", config_.replication_port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxSendMessageSize(256 << 20);
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on replication.listener ", address));
  }
  Logger("replication")->info("ReplicaFetch listener on {}", address);
  return absl::OkStatus();
}

void ReplicationServer::Stop() {
  if (!server_) return;
  service_->Shutdown();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

}  // namespace gregor::broker
