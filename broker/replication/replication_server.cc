#include "broker/replication/replication_server.h"

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <asio.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/net/listener.h"
#include "broker/net/socket_writer.h"
#include "broker/replication/replica_wire.h"
#include "common/logging.h"

namespace gregor::broker {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using storage::TopicPartition;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {
constexpr int32_t kMaxWaitMs = 30000;
}  // namespace

struct ReplicationServer::Impl {
  Impl(const ReplicationConfig& config, PartitionDirectory* replicas, ClusterView* cluster,
       IsrManager* isr,
       Clock* clock, asio::io_context* io)
      : config(config), replicas(replicas), cluster(cluster), isr(isr), clock(clock), io(*io),
        acceptor(*io) {}

  const ReplicationConfig config;
  PartitionDirectory* const replicas;
  ClusterView* const cluster;
  IsrManager* const isr;
  Clock* const clock;
  asio::io_context& io;
  tcp::acceptor acceptor;
  bool started = false;
  std::atomic<bool> stopped{false};

  // What one pass over a fetch's partitions produced.
  struct Answer {
    replication::ReplicaFetchResponse header;
    std::vector<FileSlice> records;  // per header partition (size 0: none)
    uint64_t bytes = 0;
    bool news = false;  // an error or a divergence to report
  };

  // One follower connection. Everything runs on the connection's strand.
  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl* server, tcp::socket s)
        : server(server), socket(std::move(s)), timer(socket.get_executor()) {}
    Impl* const server;
    tcp::socket socket;
    std::string peer;
    asio::steady_timer timer;  // the outstanding fetch's max_wait
    std::optional<replication::ReplicaFetchRequest> fetch;  // outstanding, parked or being answered
    uint64_t fetch_id = 0;
    SteadyTime deadline;
    bool writing = false;       // a response is going out (the fetch it answers is done)
    bool wake_pending = false;  // a wake arrived while writing, for the fetch that came meanwhile
    uint64_t generation = 0;  // of the current waiter: wakes from older passes are stale
    std::shared_ptr<PartitionWaiter> waiter;
    std::vector<net::Chunk> out;  // the response being written
  };

  absl::Mutex live_mu;
  std::map<const Session*, std::weak_ptr<Session>> live ABSL_GUARDED_BY(live_mu);

  // What the accept loop does with each connection.
  std::function<void(tcp::socket)> serve = [this](tcp::socket socket) {
    auto session = std::make_shared<Session>(this, std::move(socket));
    try {
      auto remote = session->socket.remote_endpoint();
      session->peer = absl::StrCat(remote.address().to_string(), ":", remote.port());
    } catch (...) {
    }
    {
      absl::MutexLock lock(&live_mu);
      live[session.get()] = session;
    }
    auto ex = session->socket.get_executor();
    asio::co_spawn(ex, Read(session.get()), [this, session](std::exception_ptr) {
      Close(session.get());
      absl::MutexLock lock(&live_mu);
      live.erase(session.get());
    });
  };

  static void Close(Session* s) {
    asio::error_code ignored;
    s->timer.cancel();
    s->waiter.reset();
    s->socket.shutdown(tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
  }

  // Reads request frames until the connection ends or misbehaves.
  awaitable<void> Read(Session* s) {
    auto log = Logger("replication");
    std::string prefix(4, '\0'), body;
    while (!stopped) {
      asio::error_code ec;
      co_await asio::async_read(s->socket, asio::buffer(prefix), asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;  // closed by the follower (or by Stop)
      uint32_t size = replica_wire::GetU32(prefix.data());
      if (size == 0 || size > replica_wire::kMaxRequestBytes) {
        log->warn("closing replication connection from {}: request frame of {} bytes", s->peer, size);
        co_return;
      }
      body.resize(size);
      co_await asio::async_read(s->socket, asio::buffer(body), asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      auto request = replica_wire::DecodeRequest(body);
      if (!request.ok()) {
        log->warn("closing replication connection from {}: {}", s->peer, request.status().message());
        co_return;
      }
      if (request->type == replica_wire::RequestType::kWake) {
        if (s->fetch && s->writing) s->wake_pending = true;
        if (s->fetch && !s->writing) Serve(s, /*force=*/true);
        continue;
      }
      if (s->fetch) {
        log->warn("closing replication connection from {}: a second fetch while one is outstanding",
                  s->peer);
        co_return;
      }
      s->fetch = std::move(request->fetch);
      s->fetch_id++;
      s->deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(std::clamp(s->fetch->max_wait_ms(), 0, kMaxWaitMs));
      Serve(s, /*force=*/false);
    }
  }

  // Answers the outstanding fetch if there is something to say (or `force`, or its wait is over),
  // else parks it until a partition changes or the wait ends. On the session's strand.
  void Serve(Session* s, bool force) {
    if (!s->fetch || s->writing) return;
    // Register for changes before looking, so an append right after the look still wakes us.
    const uint64_t generation = ++s->generation;
    auto waiter = std::make_shared<PartitionWaiter>();
    std::weak_ptr<Session> weak = s->shared_from_this();
    auto ex = s->socket.get_executor();
    waiter->wake = [weak, ex, generation] {
      asio::post(ex, [weak, generation] {
        auto self = weak.lock();
        if (self && self->generation == generation) self->server->Serve(self.get(), false);
      });
    };
    for (const auto& p : s->fetch->partitions()) {
      replicas->AddWaiter({p.topic(), p.partition()}, waiter);
    }
    s->waiter = waiter;
    Answer answer = Handle(*s->fetch);
    bool expired = std::chrono::steady_clock::now() >= s->deadline;
    if (answer.bytes == 0 && !answer.news && !force && !expired && s->fetch->max_wait_ms() > 0) {
      const uint64_t id = s->fetch_id;
      s->timer.expires_at(s->deadline);
      s->timer.async_wait([weak, id](asio::error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->fetch_id != id) return;
        self->server->Serve(self.get(), /*force=*/true);
      });
      return;
    }
    s->waiter.reset();
    s->timer.cancel();
    // The fetch is answered: the follower may send its next one while this one is still being
    // written; it waits until the write is done.
    s->fetch.reset();
    s->wake_pending = false;
    s->writing = true;
    s->out.clear();
    s->out.emplace_back(replica_wire::EncodeResponseHead(answer.header, answer.bytes));
    for (FileSlice& slice : answer.records) {
      if (slice.size > 0) s->out.emplace_back(std::move(slice));
    }
    // Usually the whole response fits the socket buffer: written here, no suspension.
    std::string error;
    s->socket.native_non_blocking(true);
    if (!net::WriteNow(&s->socket, &s->out, &error)) {
      Logger("replication")->debug("replication connection from {}: {}", s->peer, error);
      s->writing = false;
      Close(s);
      return;
    }
    if (s->out.empty()) {
      s->writing = false;
      if (s->fetch) Serve(s, s->wake_pending);
      return;
    }
    auto self = s->shared_from_this();
    asio::co_spawn(ex, net::WriteChunks(&s->socket, &s->out),
                   [self](std::exception_ptr e) {
                     self->writing = false;
                     self->out.clear();
                     if (e) {
                       Close(self.get());  // the reader then ends
                       return;
                     }
                     if (self->fetch) self->server->Serve(self.get(), self->wake_pending);
                   });
  }

  // One pass over the fetch's partitions: records the follower's position (which may move the
  // high watermark and add it to the ISR) and reads what it should get next.
  Answer Handle(const replication::ReplicaFetchRequest& request) {
    Answer answer;
    auto image = cluster->image();
    auto eligible = [&image, &request](int32_t broker) {
      const metadata::BrokerRegistration* b = image->FindBroker(broker);
      if (b == nullptr || !b->usable()) return false;
      // A follower fetching with an older registration's epoch (a process that restarted and
      // lost data) must not join the ISR until it has re-registered.
      return broker != request.replica_id() || b->epoch == request.broker_epoch();
    };
    int64_t now = clock->SteadyMs();
    int64_t budget = request.max_bytes() > 0 ? request.max_bytes() : (10 << 20);
    for (const auto& p : request.partitions()) {
      replication::FetchedPartition* out = answer.header.add_partitions();
      out->set_topic(p.topic());
      out->set_partition(p.partition());
      answer.records.emplace_back();
      TopicPartition tp{p.topic(), p.partition()};
      auto partition = replicas->GetPartition(tp);
      if (partition == nullptr) {
        out->set_error_code(static_cast<int32_t>(KafkaErrorCode::kNotLeaderOrFollower));
        answer.news = true;
        continue;
      }
      Partition::FollowerFetch fetch;
      fetch.replica = request.replica_id();
      fetch.current_leader_epoch = p.current_leader_epoch();
      fetch.fetch_offset = p.fetch_offset();
      fetch.last_fetched_epoch = p.last_fetched_epoch();
      fetch.log_start_offset = p.log_start_offset();
      FetchReadLimit limit = FetchReadLimitFor(p.max_bytes(), budget,
                                               /*nothing_read_yet=*/answer.bytes == 0);
      fetch.max_bytes = static_cast<int32_t>(limit.max_bytes);
      fetch.min_one_batch = limit.min_one_batch;
      Partition::FollowerFetchResult result = partition->HandleFollowerFetch(fetch, now, eligible);
      out->set_error_code(static_cast<int32_t>(result.error));
      out->set_high_watermark(result.offsets.high_watermark.value());
      out->set_log_start_offset(result.offsets.log_start_offset.value());
      out->set_tombstone_floor(result.offsets.tombstone_floor);
      out->set_log_end_offset(result.offsets.log_end_offset.value());
      if (result.error != KafkaErrorCode::kNone) answer.news = true;
      if (result.diverging) {
        out->mutable_diverging_epoch()->set_epoch(result.diverging->epoch);
        out->mutable_diverging_epoch()->set_end_offset(result.diverging->end_offset);
        answer.news = true;
      }
      if (result.records.size > 0) {
        out->set_records_size(result.records.size);
        answer.bytes += static_cast<uint64_t>(result.records.size);
        budget -= result.records.size;
        answer.records.back() = std::move(result.records);
      }
      if (result.high_watermark_moved || result.low_watermark_moved) replicas->Notify(tp);
      if (result.isr_change) isr->Submit(std::move(*result.isr_change));
    }
    return answer;
  }
};

ReplicationServer::ReplicationServer(const ReplicationConfig& config,
                                     PartitionDirectory* replicas, ClusterView* cluster,
                                     IsrManager* isr, Clock* clock,
                                     asio::io_context* io)
    : impl_(std::make_unique<Impl>(config, replicas, cluster, isr, clock, io)) {}

ReplicationServer::~ReplicationServer() { Stop(); }

absl::Status ReplicationServer::Start() {
  const ReplicationConfig& config = impl_->config;
  auto port = net::BindAndListen(&impl_->acceptor, config.replication_host,
                                 config.replication_port, "replication.listener");
  if (!port.ok()) return port.status();
  bound_port_ = *port;
  asio::co_spawn(impl_->io,
                 net::AcceptLoop(&impl_->acceptor, &impl_->stopped, "replication", &impl_->serve),
                 asio::detached);
  impl_->started = true;
  Logger("replication")->info("replication listener on {}:{}", config.replication_host, bound_port_);
  return absl::OkStatus();
}

void ReplicationServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  if (!impl_->started) return;
  asio::post(impl_->io, [this] {
    asio::error_code ec;
    impl_->acceptor.close(ec);
  });
  {
    absl::MutexLock lock(&impl_->live_mu);
    for (const auto& [ptr, weak] : impl_->live) {
      if (auto s = weak.lock()) {
        asio::post(s->socket.get_executor(), [s] { Impl::Close(s.get()); });
      }
    }
  }
}

}  // namespace gregor::broker
