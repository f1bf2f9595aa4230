#include "broker/replication/replica_fetcher.h"

#include <grpcpp/grpcpp.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "broker/replica_manager.h"
#include "common/logging.h"
#include "proto/replication.grpc.pb.h"

namespace gregor::broker {

using storage::TopicPartition;

class FetcherManager::Fetcher {
 public:
  Fetcher(int32_t leader, const BrokerConfig& config, ReplicaManager* replicas,
          ControllerLink* link)
      : leader_(leader), config_(config), replicas_(replicas), link_(link) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Fetcher() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      if (context_) context_->TryCancel();
    }
    thread_.join();
  }

  void Add(const std::shared_ptr<Partition>& partition, int32_t epoch) {
    absl::MutexLock lock(&mu_);
    partitions_[partition->topic_partition()] = {partition, epoch, absl::InfinitePast()};
  }
  void Remove(const TopicPartition& tp) {
    absl::MutexLock lock(&mu_);
    partitions_.erase(tp);
  }
  bool empty() {
    absl::MutexLock lock(&mu_);
    return partitions_.empty();
  }

 private:
  struct Followed {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = 0;
    absl::Time retry_after;  // backoff after an error
  };

  std::string LeaderAddress() {
    const metadata::BrokerRegistration* b = link_->image()->FindBroker(leader_);
    if (b == nullptr || b->replication_host.empty()) return "";
    return absl::StrCat(b->replication_host, ":", b->replication_port);
  }

  void Run() {
    auto log = Logger("replication");
    absl::Duration backoff = absl::Milliseconds(50);
    std::string address;
    std::unique_ptr<replication::Replication::Stub> stub;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this] { return stopping_ || !partitions_.empty(); };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(200));
        if (stopping_) return;
        if (partitions_.empty()) continue;
      }
      std::string now_address = LeaderAddress();
      if (now_address.empty()) {
        absl::SleepFor(absl::Milliseconds(100));  // waiting for the leader's registration
        continue;
      }
      if (now_address != address || !stub) {
        address = now_address;
        grpc::ChannelArguments args;
        args.SetMaxReceiveMessageSize(256 << 20);
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
        stub = replication::Replication::NewStub(
            grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
      }
      grpc::ClientContext context;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        context_ = &context;
      }
      auto stream = stub->ReplicaFetch(&context);
      bool healthy = true;
      while (healthy) {
        replication::ReplicaFetchRequest request;
        std::map<TopicPartition, Followed> sent;
        if (!BuildRequest(&request, &sent)) {
          absl::MutexLock lock(&mu_);
          if (stopping_ || partitions_.empty()) break;
          // Every partition is backing off: wait a little.
          mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(50));
          continue;
        }
        replication::ReplicaFetchResponse response;
        if (!stream->Write(request) || !stream->Read(&response)) {
          healthy = false;
          break;
        }
        backoff = absl::Milliseconds(50);
        Apply(response, sent);
      }
      stream->WritesDone();
      grpc::Status status = stream->Finish();
      {
        absl::MutexLock lock(&mu_);
        context_ = nullptr;
        if (stopping_) return;
      }
      if (!healthy) {
        log->debug("replica fetch stream to broker {} at {} ended: {}", leader_, address,
                   status.error_message());
        absl::SleepFor(backoff);  // reconnect backoff
        backoff = std::min(backoff * 2, absl::Seconds(1));
      }
    }
  }

  bool BuildRequest(replication::ReplicaFetchRequest* request,
                    std::map<TopicPartition, Followed>* sent) {
    request->set_replica_id(config_.node_id);
    request->set_broker_epoch(link_->broker_epoch());
    request->set_max_wait_ms(config_.replica_fetch_wait_max_ms);
    request->set_min_bytes(1);
    request->set_max_bytes(static_cast<int32_t>(std::min<int64_t>(config_.replica_fetch_response_max_bytes, INT32_MAX)));
    absl::MutexLock lock(&mu_);
    absl::Time now = absl::Now();
    for (const auto& [tp, f] : partitions_) {
      if (f.retry_after > now) continue;
      auto* p = request->add_partitions();
      p->set_topic(tp.topic);
      p->set_partition(tp.partition);
      const auto& log = f.partition->log();
      p->set_fetch_offset(log->log_end_offset().value());
      auto epoch = log->LatestEpoch();
      p->set_last_fetched_epoch(epoch ? epoch->value() : -1);
      p->set_current_leader_epoch(f.leader_epoch);
      p->set_max_bytes(config_.replica_fetch_max_bytes);
      p->set_log_start_offset(log->log_start_offset().value());
      (*sent)[tp] = f;
    }
    return request->partitions_size() > 0;
  }

  void Backoff(const TopicPartition& tp, absl::Duration d) {
    absl::MutexLock lock(&mu_);
    auto it = partitions_.find(tp);
    if (it != partitions_.end()) it->second.retry_after = absl::Now() + d;
  }

  void Apply(const replication::ReplicaFetchResponse& response,
             const std::map<TopicPartition, Followed>& sent) {
    auto log = Logger("replication");
    for (const auto& p : response.partitions()) {
      TopicPartition tp{p.topic(), p.partition()};
      auto it = sent.find(tp);
      if (it == sent.end()) continue;
      {
        // Skip partitions that moved elsewhere while the request was in flight.
        absl::MutexLock lock(&mu_);
        auto now = partitions_.find(tp);
        if (now == partitions_.end() || now->second.leader_epoch != it->second.leader_epoch) continue;
      }
      Partition& partition = *it->second.partition;
      auto code = static_cast<KafkaErrorCode>(p.error_code());
      if (code == KafkaErrorCode::kNone && p.has_diverging_epoch()) {
        auto truncated = partition.TruncateOnDivergence({p.diverging_epoch().epoch(), p.diverging_epoch().end_offset()});
        if (!truncated.ok()) {
          log->error("{}: truncation failed: {}", tp.DirName(), truncated.status().message());
          Backoff(tp, absl::Seconds(1));
        }
        continue;
      }
      switch (code) {
        case KafkaErrorCode::kNone: {
          absl::Status s = partition.AppendFromLeader(p.records(), p.high_watermark(), p.log_start_offset());
          if (!s.ok()) {
            log->warn("{}: cannot append replicated data: {}", tp.DirName(), s.message());
            Backoff(tp, absl::Milliseconds(500));
          }
          break;
        }
        case KafkaErrorCode::kOffsetOutOfRange: {
          int64_t leo = partition.log()->log_end_offset().value();
          absl::Status s;
          if (leo < p.log_start_offset()) {
            log->info("{}: log end {} is below the leader's log start {}; starting over there",
                      tp.DirName(), leo, p.log_start_offset());
            s = partition.log()->TruncateFullyAndStartAt(Offset(p.log_start_offset()));
          } else if (leo > p.log_end_offset()) {
            log->warn("{}: log end {} is past the leader's {} (unclean election?); truncating",
                      tp.DirName(), leo, p.log_end_offset());
            s = partition.log()->TruncateTo(Offset(p.log_end_offset()));
          }
          if (!s.ok()) log->error("{}: {}", tp.DirName(), s.message());
          break;
        }
        default:
          // FENCED/UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER: metadata is moving; try later.
          log->debug("{}: fetch from broker {} failed: {}", tp.DirName(), leader_, KafkaErrorName(code));
          Backoff(tp, absl::Milliseconds(100));
          break;
      }
      replicas_->Notify(tp);
    }
  }

  const int32_t leader_;
  const BrokerConfig& config_;
  ReplicaManager* const replicas_;
  ControllerLink* const link_;
  absl::Mutex mu_;
  std::map<TopicPartition, Followed> partitions_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

FetcherManager::FetcherManager(const BrokerConfig& config, ReplicaManager* replicas,
                               ControllerLink* link, Clock* clock)
    : config_(config), replicas_(replicas), link_(link), clock_(clock) {}

FetcherManager::~FetcherManager() { Stop(); }

void FetcherManager::Follow(const std::shared_ptr<Partition>& partition, int32_t leader,
                            int32_t leader_epoch) {
  const TopicPartition& tp = partition->topic_partition();
  absl::MutexLock lock(&mu_);
  if (stopped_) return;
  auto old = leader_of_.find(tp);
  if (old != leader_of_.end() && old->second != leader) fetchers_[old->second]->Remove(tp);
  leader_of_.erase(tp);
  if (leader < 0 || leader == config_.node_id) return;
  auto& fetcher = fetchers_[leader];
  if (!fetcher) fetcher = std::make_unique<Fetcher>(leader, config_, replicas_, link_);
  fetcher->Add(partition, leader_epoch);
  leader_of_[tp] = leader;
}

void FetcherManager::Unfollow(const TopicPartition& tp) {
  absl::MutexLock lock(&mu_);
  auto it = leader_of_.find(tp);
  if (it == leader_of_.end()) return;
  fetchers_[it->second]->Remove(tp);
  leader_of_.erase(it);
}

void FetcherManager::Stop() {
  std::map<int32_t, std::unique_ptr<Fetcher>> fetchers;
  {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
    fetchers.swap(fetchers_);
    leader_of_.clear();
  }
  fetchers.clear();  // joins the threads
}

}  // namespace gregor::broker
