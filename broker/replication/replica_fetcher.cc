#include "broker/replication/replica_fetcher.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "broker/replication/replica_wire.h"
#include "common/logging.h"
#include "common/steady_waiter.h"

namespace gregor::broker {

using storage::TopicPartition;

namespace {

// How long a connection attempt to a leader may take.
constexpr int kConnectTimeoutMs = 3000;
// How long past its max_wait a fetch may go unanswered before the connection counts as dead
// (Kafka's replica.socket.timeout.ms default).
constexpr int kSocketTimeoutMs = 30000;
// Backoff of a partition the leader answered with an error that metadata will fix soon.
constexpr absl::Duration kErrorBackoff = absl::Milliseconds(20);

// A blocking TCP connection to a leader's replication listener.
class Connection {
 public:
  ~Connection() { Close(); }

  absl::Status Connect(const std::string& host, int port) {
    Close();
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
      return absl::UnavailableError(absl::StrCat("cannot resolve ", host));
    }
    int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : ::connect(fd, found->ai_addr, found->ai_addrlen);
    int error = rc == 0 ? 0 : errno;
    freeaddrinfo(found);
    if (fd < 0) return absl::UnavailableError(std::strerror(errno));
    if (rc != 0 && error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      error = ETIMEDOUT;
      if (::poll(&p, 1, kConnectTimeoutMs) == 1) {
        socklen_t len = sizeof(error);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      }
    }
    if (error != 0) {
      ::close(fd);
      return absl::UnavailableError(std::strerror(error));
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    fd_.store(fd);
    return absl::OkStatus();
  }

  // Safe from another thread while Receive blocks (Send is serialized by the caller).
  bool Send(std::string_view bytes) {
    int fd = fd_.load();
    size_t done = 0;
    while (fd >= 0 && done < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return fd >= 0;
  }

  // Reads exactly `size` bytes; false on close, error or `timeout_ms` without progress.
  bool Receive(char* out, size_t size, int timeout_ms) {
    int fd = fd_.load();
    size_t done = 0;
    while (fd >= 0 && done < size) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      ssize_t n = ::recv(fd, out + done, size - done, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return fd >= 0;
  }

  // Unblocks a Receive in another thread; the fd is closed by Close.
  void Shutdown() {
    int fd = fd_.load();
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  void Close() {
    int fd = fd_.exchange(-1);
    if (fd >= 0) ::close(fd);
  }

 private:
  std::atomic<int> fd_{-1};
};

}  // namespace

class FetcherManager::Fetcher {
 public:
  Fetcher(int32_t leader, const ReplicationConfig& config, PartitionDirectory* replicas,
          ClusterView* cluster, LeaderConnectionObserver* peers, Clock* clock)
      : leader_(leader), config_(config), replicas_(replicas), cluster_(cluster), peers_(peers),
        clock_(clock) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Fetcher() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    waiter_.Notify();
    connection_.Shutdown();
    thread_.join();
  }

  void Add(const std::shared_ptr<Partition>& partition, int32_t epoch) {
    absl::MutexLock lock(&mu_);
    auto it = partitions_.find(partition->topic_partition());
    bool changed = it == partitions_.end() || it->second.leader_epoch != epoch;
    partitions_[partition->topic_partition()] = {partition, epoch, /*retry_after_ms=*/0};
    if (changed) MarkChangedLocked();
    waiter_.Notify();
  }
  void Remove(const TopicPartition& tp) {
    absl::MutexLock lock(&mu_);
    partitions_.erase(tp);
  }

 private:
  struct Followed {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = 0;
    int64_t retry_after_ms;  // backoff after an error, until this (clock_->SteadyMs())
  };

  // The set of partitions to fetch changed: the outstanding fetch (if any) lacks the new ones,
  // so ask the leader to answer it now instead of after its max wait.
  void MarkChangedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    changed_ = true;
    if (outstanding_) SendWakeLocked();
  }
  void SendWakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (woken_) return;
    woken_ = true;
    absl::MutexLock send(&send_mu_);
    (void)connection_.Send(replica_wire::EncodeWake());
  }

  bool LeaderAddress(std::string* host, int* port) {
    const metadata::BrokerRegistration* b = cluster_->image()->FindBroker(leader_);
    if (b == nullptr || b->replication_host.empty()) return false;
    *host = b->replication_host;
    *port = b->replication_port;
    return true;
  }

  void Run() {
    auto log = Logger("replication");
    absl::Duration backoff = absl::Milliseconds(50);
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this] { return stopping_ || !partitions_.empty(); };
        waiter_.WaitFor(mu_, absl::Milliseconds(200), ready);
        if (stopping_) return;
        if (partitions_.empty()) continue;
      }
      std::string host;
      int port = 0;
      if (!LeaderAddress(&host, &port)) {
        absl::SleepFor(absl::Milliseconds(100));  // waiting for the leader's registration
        continue;
      }
      absl::Status connected = connection_.Connect(host, port);
      bool healthy = connected.ok();
      bool answered = false;  // a response arrived on this connection
      while (healthy) {
        replication::ReplicaFetchRequest request;
        std::map<TopicPartition, Followed> sent;
        if (!BuildRequest(&request, &sent)) {
          absl::MutexLock lock(&mu_);
          if (stopping_ || partitions_.empty()) break;
          // Every partition is backing off: wait a little.
          waiter_.WaitFor(mu_, absl::Milliseconds(10), [this] { return stopping_; });
          continue;
        }
        if (!Exchange(request)) {
          healthy = false;
          break;
        }
        if (!answered) peers_->ConnectionUp(leader_);
        answered = true;
        backoff = absl::Milliseconds(50);
        auto response = replica_wire::DecodeResponse(std::string_view(buffer_.get(), frame_size_));
        if (!response.ok()) {
          log->error("broker {} sent a bad replication response: {}", leader_, response.status().message());
          healthy = false;
          break;
        }
        Apply(*response, sent);
      }
      connection_.Close();
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
      }
      if (!healthy) {
        // The leader's process may be gone: Metadata answers naming it wait for the verdict.
        peers_->ConnectionLost(leader_, clock_->SteadyMs());
        log->debug("replication connection to broker {} at {}:{} failed: {}", leader_, host, port,
                   connected.ok() ? "closed" : connected.message());
        absl::SleepFor(backoff);  // reconnect backoff
        backoff = std::min(backoff * 2, absl::Seconds(1));
      }
    }
  }

  // Sends one fetch and reads its response frame into buffer_. False if the connection failed.
  bool Exchange(const replication::ReplicaFetchRequest& request) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return false;
      {
        // Released before SendWakeLocked below takes it again (holding it there locked the
        // same mutex twice: the fetcher thread hung — or, with abseil's deadlock detection,
        // the broker aborted — whenever a partition was added while a request was being built).
        absl::MutexLock send(&send_mu_);
        if (!connection_.Send(replica_wire::EncodeFetch(request))) return false;
      }
      outstanding_ = true;
      woken_ = false;
      // A partition added between building the request and now is not in it.
      if (changed_) SendWakeLocked();
    }
    char prefix[4];
    int timeout_ms = request.max_wait_ms() + kSocketTimeoutMs;
    bool ok = connection_.Receive(prefix, 4, timeout_ms);
    uint32_t size = ok ? replica_wire::GetU32(prefix) : 0;
    if (ok && (size < 4 || size > replica_wire::kMaxResponseBytes)) {
      Logger("replication")->error("broker {} sent a replication response frame of {} bytes", leader_, size);
      ok = false;
    }
    if (ok) {
      if (size > buffer_capacity_) {
        buffer_capacity_ = std::max<size_t>(size, buffer_capacity_ * 2);
        buffer_ = std::make_unique<char[]>(buffer_capacity_);  // no zero-fill
      }
      frame_size_ = size;
      ok = connection_.Receive(buffer_.get(), size, kSocketTimeoutMs);
    }
    absl::MutexLock lock(&mu_);
    outstanding_ = false;
    return ok;
  }

  bool BuildRequest(replication::ReplicaFetchRequest* request,
                    std::map<TopicPartition, Followed>* sent) {
    request->set_replica_id(config_.node_id);
    request->set_broker_epoch(cluster_->broker_epoch());
    request->set_min_bytes(1);
    request->set_max_bytes(static_cast<int32_t>(std::min<int64_t>(config_.replica_fetch_response_max_bytes, INT32_MAX)));
    absl::MutexLock lock(&mu_);
    changed_ = false;
    // Monotonic: a backoff measured on the wall clock would last an hour after a step back.
    const int64_t now = clock_->SteadyMs();
    int64_t next_retry = INT64_MAX;
    for (const auto& [tp, f] : partitions_) {
      if (f.retry_after_ms > now) {
        next_retry = std::min(next_retry, f.retry_after_ms);
        continue;
      }
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
    // Do not park past the moment a backing-off partition may be fetched again.
    int64_t wait_ms = config_.replica_fetch_wait_max_ms;
    if (next_retry != INT64_MAX) {
      wait_ms = std::clamp<int64_t>(next_retry - now + 1, 0, wait_ms);
    }
    request->set_max_wait_ms(static_cast<int32_t>(wait_ms));
    return request->partitions_size() > 0;
  }

  void Backoff(const TopicPartition& tp, absl::Duration d) {
    absl::MutexLock lock(&mu_);
    auto it = partitions_.find(tp);
    if (it != partitions_.end()) it->second.retry_after_ms = clock_->SteadyMs() + absl::ToInt64Milliseconds(d);
  }

  void Apply(const replica_wire::Response& response, const std::map<TopicPartition, Followed>& sent) {
    auto log = Logger("replication");
    for (int i = 0; i < response.header.partitions_size(); ++i) {
      const replication::FetchedPartition& p = response.header.partitions(i);
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
      const int32_t epoch = it->second.leader_epoch;
      auto code = static_cast<KafkaErrorCode>(p.error_code());
      if (code == KafkaErrorCode::kNone && p.has_diverging_epoch()) {
        auto truncated = partition.TruncateOnDivergence(
            {p.diverging_epoch().epoch(), p.diverging_epoch().end_offset()}, epoch);
        if (!truncated.ok()) {
          // No longer following at that epoch (we lead now, or follow anew): not worth a word.
          if (!absl::IsFailedPrecondition(truncated.status())) {
            log->warn("{}: no truncation: {}", tp.DirName(), truncated.status().message());
          }
          Backoff(tp, absl::IsFailedPrecondition(truncated.status()) ? kErrorBackoff : absl::Seconds(1));
        }
        continue;
      }
      switch (code) {
        case KafkaErrorCode::kNone: {
          absl::Status s = partition.AppendFromLeader(epoch, response.records[static_cast<size_t>(i)],
                                                      p.high_watermark(), p.log_start_offset(),
                                                      p.tombstone_floor());
          if (!s.ok() && !absl::IsFailedPrecondition(s)) {
            log->warn("{}: cannot append replicated data: {}", tp.DirName(), s.message());
            Backoff(tp, absl::Milliseconds(500));
          }
          break;
        }
        case KafkaErrorCode::kOffsetOutOfRange: {
          absl::Status s = partition.TruncateToLeaderRange(epoch, p.log_start_offset(), p.log_end_offset());
          if (!s.ok() && !absl::IsFailedPrecondition(s)) log->error("{}: {}", tp.DirName(), s.message());
          break;
        }
        default:
          // FENCED/UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER: the metadata is moving (one of
          // us has not applied the change yet); it settles within milliseconds.
          log->debug("{}: fetch from broker {} failed: {}", tp.DirName(), leader_, KafkaErrorName(code));
          Backoff(tp, kErrorBackoff);
          break;
      }
      replicas_->Notify(tp);
    }
  }

  const int32_t leader_;
  const ReplicationConfig& config_;
  PartitionDirectory* const replicas_;
  ClusterView* const cluster_;
  LeaderConnectionObserver* const peers_;
  Clock* const clock_;
  Connection connection_;
  // The last response frame (after its size prefix); grows, never shrinks, never zero-filled.
  std::unique_ptr<char[]> buffer_;
  size_t buffer_capacity_ = 0;
  size_t frame_size_ = 0;

  absl::Mutex mu_;
  std::map<TopicPartition, Followed> partitions_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SteadyWaiter waiter_;  // stopping_, partitions_
  bool outstanding_ ABSL_GUARDED_BY(mu_) = false;  // a fetch is waiting for its answer
  bool changed_ ABSL_GUARDED_BY(mu_) = false;      // partitions added since the last request
  bool woken_ ABSL_GUARDED_BY(mu_) = false;        // a wake was sent for the outstanding fetch
  absl::Mutex send_mu_ ABSL_ACQUIRED_AFTER(mu_);   // one writer on the connection at a time
  std::thread thread_;
};

FetcherManager::FetcherManager(const ReplicationConfig& config, PartitionDirectory* replicas,
                               ClusterView* cluster, LeaderConnectionObserver* peers,
                               Clock* clock)
    : config_(config), replicas_(replicas), cluster_(cluster), peers_(peers), clock_(clock) {}

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
  if (!fetcher) fetcher = std::make_unique<Fetcher>(leader, config_, replicas_, cluster_, peers_, clock_);
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
