#include "broker/kafka/kafka_server.h"

#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>

#include <asio.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "broker/kafka/served_apis.h"
#include "broker/net/listener.h"
#include "broker/net/socket_writer.h"
#include "common/logging.h"

namespace gregor::broker {

using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using storage::TopicPartition;

namespace {

// Large request frames (produce requests of up to a megabyte or more) come and go at a high rate.
// Fresh allocations of that size are mmap'ed by malloc and page-faulted in on every request —
// measured, a quarter of a busy leader's CPU. The pool keeps a few buffers per power-of-two size
// class and hands them out again. Thread-safe (frames are freed on whichever thread finishes
// the request).
class FramePool {
 public:
  static constexpr size_t kMinPooled = 64 << 10;
  static constexpr size_t kMaxPooled = 64 << 20;
  static constexpr size_t kPerClass = 8;

  // A buffer of at least `n` bytes and its capacity.
  std::pair<std::unique_ptr<char[]>, size_t> Take(size_t n) {
    if (n < kMinPooled || n > kMaxPooled) return {std::unique_ptr<char[]>(new char[n]), n};
    size_t capacity = std::bit_ceil(n);
    {
      absl::MutexLock lock(&mu_);
      auto& free = free_[capacity];
      if (!free.empty()) {
        auto buffer = std::move(free.back());
        free.pop_back();
        return {std::move(buffer), capacity};
      }
    }
    return {std::unique_ptr<char[]>(new char[capacity]), capacity};
  }

  void Give(std::unique_ptr<char[]> buffer, size_t capacity) {
    if (capacity < kMinPooled || capacity > kMaxPooled || !std::has_single_bit(capacity)) return;
    absl::MutexLock lock(&mu_);
    auto& free = free_[capacity];
    if (free.size() < kPerClass) free.push_back(std::move(buffer));
  }

 private:
  absl::Mutex mu_;
  std::map<size_t, std::vector<std::unique_ptr<char[]>>> free_ ABSL_GUARDED_BY(mu_);
};

// A request frame (without its size prefix). Produce appends rewrite its records in place.
// Not zero-filled: the read overwrites every byte.
struct FrameBuffer {
  FrameBuffer(FramePool* pool, size_t n) : pool(pool), size(n) {
    std::tie(data, capacity) = pool->Take(n);
  }
  ~FrameBuffer() { pool->Give(std::move(data), capacity); }
  FrameBuffer(const FrameBuffer&) = delete;
  FrameBuffer& operator=(const FrameBuffer&) = delete;
  std::string_view view() const { return {data.get(), size}; }
  FramePool* const pool;
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
  const size_t size;
};

// The longest a Metadata answer waits for the controller's verdict on a leader this broker just
// lost its connection to.
constexpr int64_t kMetadataHoldMs = kPeerLossHoldMs;

// Runs `*work` on `pool` and resumes the calling coroutine on its own executor (its strand).
// The completion is a timer cancelled from the pool via the strand: the strand runs the cancel
// only after this coroutine is suspended in the wait, so it cannot be missed. (Parameters are
// pointers the caller keeps alive: GCC 12 mishandles class-type coroutine parameters.)
awaitable<void> RunOnPool(asio::thread_pool* pool, const std::function<void()>* work) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
  asio::post(*pool, [work, &done, ex] {
    (*work)();
    asio::post(ex, [&done] { done.cancel(); });
  });
  asio::error_code ec;
  co_await done.async_wait(asio::redirect_error(use_awaitable, ec));
}

}  // namespace

struct KafkaServer::Impl {
  Impl(const BrokerConfig& config, KafkaApis* apis, GroupApis* groups, asio::io_context* io)
      : config(config), apis(apis), groups(groups), io(*io), pool(static_cast<size_t>(config.num_io_threads)),
        admin_pool(2), acceptor(*io) {
    apis->SetBackgroundRunner([this](std::function<void()> job) {
      asio::post(admin_pool, std::move(job));
    });
    groups->SetBackgroundRunner([this](std::function<void()> job) {
      asio::post(admin_pool, std::move(job));
    });
  }

  const BrokerConfig config;
  KafkaApis* const apis;
  GroupApis* const groups;
  asio::io_context& io;
  asio::thread_pool pool;
  // Requests that wait for the controller (CreateTopics, DeleteTopics, auto-creation), so a
  // slow or lost controller never holds the threads produce and fetch run on.
  asio::thread_pool admin_pool;
  tcp::acceptor acceptor;
  FramePool frames;
  std::atomic<bool> stopped{false};
  // Every open connection, so that Stop can end them (connections come and go on the network
  // threads).
  struct Connection;
  absl::Mutex live_mu;
  std::map<const Connection*, std::weak_ptr<Connection>> live ABSL_GUARDED_BY(live_mu);

  // What the accept loop does with each connection.
  std::function<void(tcp::socket)> serve = [this](tcp::socket socket) {
    auto ex = socket.get_executor();
    asio::co_spawn(ex, Serve(std::move(socket)), asio::detached);
  };

  using Subscribe = std::function<void(const std::shared_ptr<PartitionWaiter>&)>;

  // Waits until `check()` is true or `deadline` passes; wakes early when anything `subscribe`
  // registers the waiter with changes (partitions, the metadata image). `check` runs on the I/O
  // pool, or right here on the connection's strand when it is cheap (`inline_check`: no disk,
  // no blocking), which saves two thread hops on the acks=all path.
  awaitable<bool> WaitUntil(const Subscribe* subscribe_ptr,
                            std::chrono::steady_clock::time_point deadline,
                            const std::function<bool()>* check_ptr, bool inline_check = false) {
    const auto& subscribe = *subscribe_ptr;
    const auto& check = *check_ptr;
    auto ex = co_await asio::this_coro::executor;
    while (true) {
      auto timer = std::make_shared<asio::steady_timer>(ex, deadline);
      auto woken = std::make_shared<bool>(false);
      auto waiter = std::make_shared<PartitionWaiter>();
      std::weak_ptr<asio::steady_timer> weak_timer = timer;
      waiter->wake = [ex, weak_timer, woken] {
        asio::post(ex, [weak_timer, woken] {
          *woken = true;
          if (auto t = weak_timer.lock()) t->cancel();
        });
      };
      // Register before checking, so a change right after the check still wakes us.
      subscribe(waiter);
      bool done = false;
      if (inline_check) {
        done = check();
      } else {
        std::function<void()> work = [&done, &check] { done = check(); };
        co_await RunOnPool(&pool, &work);
      }
      if (done) co_return true;
      if (std::chrono::steady_clock::now() >= deadline || stopped) co_return false;
      if (!*woken) {
        asio::error_code ec;
        co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
      }
    }
  }

  // Writes a whole response frame: owned chunks with write(), file slices with sendfile().
  awaitable<void> WriteFrame(tcp::socket* socket, kafka::Writer* frame) {
    std::vector<kafka::Chunk> chunks = std::move(*frame).TakeChunks();
    co_await net::WriteChunks(socket, &chunks);
  }

  // One client connection. A reader parses requests and starts each in arrival order; a
  // writer sends the responses in that same order. A request runs to completion before the
  // next one starts, except for the part of an acks=all produce that only waits for the
  // followers: those waits overlap (up to queued.max.requests.per.connection requests, and
  // about socket.request.max.bytes of their frames), so a producer with several requests in
  // flight is not held to one replication round trip per request, while every request still
  // sees the effects of the ones before it. Everything here runs on the connection's strand.
  struct Connection : std::enable_shared_from_this<Connection> {
    explicit Connection(tcp::socket s)
        : socket(std::move(s)),
          writer_wake(socket.get_executor(), std::chrono::steady_clock::time_point::max()),
          reader_wake(socket.get_executor(), std::chrono::steady_clock::time_point::max()) {}
    struct Response {
      kafka::RequestHeader header;              // without its body
      int64_t frame_bytes = 0;
      std::optional<KafkaApis::Outcome> outcome;  // set once the request is complete
    };
    tcp::socket socket;
    std::string peer;
    std::string client_host;  // "/127.0.0.1", as Kafka shows a member's host
    std::deque<std::shared_ptr<Response>> queue;  // in request order
    int64_t queued_bytes = 0;
    // Condition variables for coroutines on one strand: the waiter checks, then waits; a
    // notifier cancels. No wake-up can fall between the check and the wait.
    asio::steady_timer writer_wake;
    asio::steady_timer reader_wake;
    bool reader_done = false;
    bool writer_done = false;
  };

  static awaitable<void> WaitFor(asio::steady_timer* timer) {
    asio::error_code ec;
    co_await timer->async_wait(asio::redirect_error(use_awaitable, ec));
  }

  void Complete(Connection* conn, Connection::Response* response, KafkaApis::Outcome outcome) {
    response->outcome = std::move(outcome);
    conn->writer_wake.cancel();
    conn->reader_wake.cancel();  // a Metadata request may be waiting for the ones before it
  }

  // Whether every request before `response` has its answer: until then, a Metadata answer made
  // now would be delivered later, behind them — stale by the time the client reads it.
  static bool EarlierAnswered(const Connection* conn, const Connection::Response* response) {
    for (const auto& r : conn->queue) {
      if (r.get() == response) return true;
      if (!r->outcome) return false;
    }
    return true;
  }

  awaitable<void> Serve(tcp::socket socket) {
    auto conn = std::make_shared<Connection>(std::move(socket));
    try {
      conn->peer = absl::StrCat(conn->socket.remote_endpoint().address().to_string(), ":",
                                conn->socket.remote_endpoint().port());
      conn->client_host = absl::StrCat("/", conn->socket.remote_endpoint().address().to_string());
    } catch (...) {
    }
    {
      absl::MutexLock lock(&live_mu);
      live[conn.get()] = conn;
    }
    auto ex = conn->socket.get_executor();
    asio::co_spawn(ex, WriteResponses(conn.get()), [conn](std::exception_ptr) {});
    try {
      co_await ReadRequests(conn.get());
    } catch (const std::exception& e) {
      Logger("kafka")->debug("connection from {} ended: {}", conn->peer, e.what());
    }
    conn->reader_done = true;
    conn->writer_wake.cancel();
  }

  awaitable<void> ReadRequests(Connection* conn) {
    auto log = Logger("kafka");
    const size_t max_queued = static_cast<size_t>(config.queued_max_requests_per_connection);
    std::string prefix(4, '\0');
    while (!stopped && !conn->writer_done) {
      asio::error_code ec;
      co_await asio::async_read(conn->socket, asio::buffer(prefix),
                                asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;  // closed by the client, or by the writer
      auto size = kafka::DecodeFrameSize(prefix, config.socket_request_max_bytes);
      if (!size.ok()) {
        log->warn("closing connection from {}: {}", conn->peer, size.status().message());
        co_return;
      }
      auto frame = std::make_shared<FrameBuffer>(&frames, static_cast<size_t>(*size));
      co_await asio::async_read(conn->socket, asio::buffer(frame->data.get(), frame->size),
                                use_awaitable);
      auto header = kafka::ParseRequestHeader(frame->view());
      if (!header.ok()) {
        log->warn("closing connection from {}: bad request header: {}", conn->peer,
                  header.status().message());
        co_return;
      }
      // Room in the pipeline: a bounded number of requests and of bytes held by waiting ones.
      while (!conn->writer_done && !conn->queue.empty() &&
             (conn->queue.size() >= max_queued ||
              conn->queued_bytes + *size > config.socket_request_max_bytes)) {
        co_await WaitFor(&conn->reader_wake);
      }
      if (conn->writer_done) co_return;
      auto response = std::make_shared<Connection::Response>();
      response->header = *header;
      response->header.body = {};
      response->frame_bytes = *size;
      conn->queue.push_back(response);
      conn->queued_bytes += *size;

      const kafka::RequestHeader& h = *header;
      const bool decodable = IsServed(h.api_key, h.api_version);
      if (h.api_key == kafka::ApiKey::kProduce && decodable) {
        co_await StartProduce(conn, response, frame, &h);
      } else if (h.api_key == kafka::ApiKey::kFetch && decodable) {
        KafkaApis::Outcome outcome;
        co_await HandleFetch(&h, &outcome);
        Complete(conn, response.get(), std::move(outcome));
      } else if (h.api_key == kafka::ApiKey::kDeleteRecords && decodable) {
        KafkaApis::Outcome outcome;
        co_await HandleDeleteRecords(&h, &outcome);
        Complete(conn, response.get(), std::move(outcome));
      } else if (GroupApis::Handles(h.api_key) && decodable) {
        co_await StartGroupRequest(conn, response, &h);
      } else if (h.api_key == kafka::ApiKey::kMetadata && decodable) {
        // Answered as of its turn in the response order, as Kafka (one request at a time per
        // connection) answers it: an answer made while acks=all produces before it still wait
        // would reach the client after them, describing leaders and ISRs from before whatever
        // released them. librdkafka acts on such a stale answer and can strand a partition on a
        // dead broker (broker/kafka/README.md).
        while (!conn->writer_done && !EarlierAnswered(conn, response.get())) {
          co_await WaitFor(&conn->reader_wake);
        }
        if (conn->writer_done) co_return;
        KafkaApis::Outcome outcome;
        co_await HandleMetadata(&h, &outcome);
        Complete(conn, response.get(), std::move(outcome));
      } else {
        KafkaApis::Outcome outcome;
        std::function<void()> work = [this, &h, &outcome] { outcome = apis->HandleSimple(h); };
        const bool waits_for_controller =
            h.api_key == kafka::ApiKey::kCreateTopics || h.api_key == kafka::ApiKey::kDeleteTopics ||
            h.api_key == kafka::ApiKey::kAlterConfigs ||
            h.api_key == kafka::ApiKey::kIncrementalAlterConfigs ||
            h.api_key == kafka::ApiKey::kCreatePartitions ||
            h.api_key == kafka::ApiKey::kElectLeaders ||
            h.api_key == kafka::ApiKey::kInitProducerId;  // now and then a block of ids
        co_await RunOnPool(waits_for_controller ? &admin_pool : &pool, &work);
        Complete(conn, response.get(), std::move(outcome));
      }
      if (response->outcome && response->outcome->close_connection) co_return;
    }
  }

  // Sends the responses in request order as each completes; closes the connection after the
  // last one, or at a request that must close it.
  awaitable<void> WriteResponses(Connection* conn) {
    auto log = Logger("kafka");
    try {
      while (true) {
        if (conn->queue.empty() && conn->reader_done) break;
        if (conn->queue.empty() || !conn->queue.front()->outcome) {
          co_await WaitFor(&conn->writer_wake);
          continue;
        }
        std::shared_ptr<Connection::Response> response = std::move(conn->queue.front());
        conn->queue.pop_front();
        conn->queued_bytes -= response->frame_bytes;
        conn->reader_wake.cancel();
        const kafka::RequestHeader& h = response->header;
        KafkaApis::Outcome& outcome = *response->outcome;
        if (outcome.close_connection) {
          log->warn("closing connection from {} ({} v{}, client {}): {}", conn->peer,
                    kafka::ApiKeyName(h.api_key), h.api_version, h.client_id.value_or(""),
                    outcome.close_reason);
          break;
        }
        if (!outcome.body) continue;
        kafka::Writer frame = kafka::FrameResponse(h.api_key, h.api_version, h.correlation_id,
                                                   std::move(*outcome.body));
        if (!frame.status().ok()) {
          log->error("cannot frame a response to {}: {}", conn->peer, frame.status().message());
          break;
        }
        co_await WriteFrame(&conn->socket, &frame);
      }
    } catch (const std::exception& e) {
      log->debug("connection from {} ended: {}", conn->peer, e.what());
    }
    conn->writer_done = true;
    conn->reader_wake.cancel();
    asio::error_code ignored;
    conn->socket.shutdown(tcp::socket::shutdown_both, ignored);
    conn->socket.close(ignored);
    absl::MutexLock lock(&live_mu);
    live.erase(conn);
  }

  // On Stop: no more requests from any connection; each writer answers the requests read so
  // far, then closes its connection (a client learns at once, not when the process exits).
  void StopReading() {
    absl::MutexLock lock(&live_mu);
    for (const auto& [ptr, weak] : live) {
      auto conn = weak.lock();
      if (!conn) continue;
      asio::post(conn->socket.get_executor(), [conn] {
        asio::error_code ignored;
        conn->socket.shutdown(tcp::socket::shutdown_receive, ignored);
      });
    }
  }

  bool AllClosed() {
    absl::MutexLock lock(&live_mu);
    return live.empty();
  }

  // Appends a produce request's batches now (in request order); if it must wait for the high
  // watermark, the wait goes on in its own coroutine and the reader moves on.
  awaitable<void> StartProduce(Connection* conn, std::shared_ptr<Connection::Response> response,
                               std::shared_ptr<FrameBuffer> frame,
                               const kafka::RequestHeader* header_ptr) {
    const kafka::RequestHeader& header = *header_ptr;
    using State = absl::StatusOr<KafkaApis::ProduceState>;
    auto state = std::make_shared<State>(absl::UnknownError("not run"));
    std::function<void()> work = [this, &header, state] { *state = apis->BeginProduce(header); };
    co_await RunOnPool(&pool, &work);
    if (!state->ok()) {
      KafkaApis::Outcome outcome;
      outcome.close_connection = true;
      outcome.close_reason = std::string(state->status().message());
      Complete(conn, response.get(), std::move(outcome));
      co_return;
    }
    KafkaApis::ProduceState& s = **state;
    if (s.pending.empty() || apis->ProduceSatisfied(s)) {
      Complete(conn, response.get(), apis->FinishProduce(s, /*timed_out=*/false));
      co_return;
    }
    // The wait may outlive this call: its completion handler keeps what it uses alive (the
    // decoded request may point into the frame).
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, AwaitProduce(conn, response.get(), state.get()),
                   [owner = conn->shared_from_this(), response, frame, state](std::exception_ptr) {});
  }

  awaitable<void> AwaitProduce(Connection* conn, Connection::Response* response,
                               absl::StatusOr<KafkaApis::ProduceState>* state) {
    KafkaApis::Outcome outcome;
    try {
      KafkaApis::ProduceState& s = **state;
      std::vector<TopicPartition> tps;
      for (const auto& p : s.pending) tps.push_back(p.tp);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.timeout_ms);
      std::function<bool()> check = [this, state] { return apis->ProduceSatisfied(**state); };
      Subscribe subscribe = PartitionsSubscription(&tps);
      // Whether the high watermark passed the appends: a few lookups under partition locks.
      bool done = co_await WaitUntil(&subscribe, deadline, &check, /*inline_check=*/true);
      outcome = apis->FinishProduce(s, /*timed_out=*/!done);
    } catch (const std::exception& e) {
      outcome = KafkaApis::Outcome{};
      outcome.close_connection = true;
      outcome.close_reason = absl::StrCat("produce failed: ", e.what());
    }
    Complete(conn, response, std::move(outcome));
  }

  // A group request: its handler runs on the I/O pool, in arrival order; its answer (maybe much
  // later: a parked JoinGroup) comes back to the connection's strand, and the reader moves on
  // meanwhile.
  awaitable<void> StartGroupRequest(Connection* conn, std::shared_ptr<Connection::Response> response,
                                    const kafka::RequestHeader* header) {
    auto owner = conn->shared_from_this();
    GroupApis::Done done = [this, owner, response](KafkaApis::Outcome outcome) {
      auto shared = std::make_shared<KafkaApis::Outcome>(std::move(outcome));
      asio::post(owner->socket.get_executor(), [this, owner, response, shared] {
        Complete(owner.get(), response.get(), std::move(*shared));
      });
    };
    // The handler decodes the request before it returns: the frame is not needed after.
    std::function<void()> work = [this, header, conn, &done] {
      groups->Handle(*header, conn->client_host, done);
    };
    co_await RunOnPool(&pool, &work);
  }

  awaitable<void> HandleFetch(const kafka::RequestHeader* header_ptr, KafkaApis::Outcome* result) {
    const kafka::RequestHeader& header = *header_ptr;
    using State = absl::StatusOr<KafkaApis::FetchState>;
    auto state = std::make_shared<State>(absl::UnknownError("not run"));
    std::function<void()> work = [this, &header, state] { *state = apis->ReadFetch(header); };
    co_await RunOnPool(&pool, &work);
    if (!state->ok()) {
      result->close_connection = true;
      result->close_reason = std::string(state->status().message());
      co_return;
    }
    KafkaApis::FetchState& s = **state;
    if (!apis->FetchSatisfied(s)) {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(std::min(s.request.max_wait_ms, 60000));
      std::function<bool()> check = [this, state] {
        apis->RereadFetch(**state);
        return apis->FetchSatisfied(**state);
      };
      Subscribe subscribe = PartitionsSubscription(&s.partitions);
      co_await WaitUntil(&subscribe, deadline, &check);
    }
    *result = apis->FinishFetch(s);
  }

  // DeleteRecords: the log start offsets move now; the answer waits (up to timeout_ms) until
  // the in-sync replicas moved theirs too.
  awaitable<void> HandleDeleteRecords(const kafka::RequestHeader* header_ptr,
                                      KafkaApis::Outcome* result) {
    const kafka::RequestHeader& header = *header_ptr;
    using State = absl::StatusOr<KafkaApis::DeleteRecordsState>;
    auto state = std::make_shared<State>(absl::UnknownError("not run"));
    std::function<void()> work = [this, &header, state] { *state = apis->BeginDeleteRecords(header); };
    co_await RunOnPool(&pool, &work);
    if (!state->ok()) {
      result->close_connection = true;
      result->close_reason = std::string(state->status().message());
      co_return;
    }
    KafkaApis::DeleteRecordsState& s = **state;
    bool done = apis->DeleteRecordsSatisfied(s);
    if (!done) {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(std::clamp(s.request.timeout_ms, 0, 300000));
      std::function<bool()> check = [this, state] { return apis->DeleteRecordsSatisfied(**state); };
      Subscribe subscribe = PartitionsSubscription(&s.partitions);
      done = co_await WaitUntil(&subscribe, deadline, &check, /*inline_check=*/true);
    }
    *result = apis->FinishDeleteRecords(s, /*timed_out=*/!done);
  }

  Subscribe PartitionsSubscription(const std::vector<TopicPartition>* partitions) {
    return [this, partitions](const std::shared_ptr<PartitionWaiter>& waiter) {
      for (const TopicPartition& tp : *partitions) apis->replicas()->AddWaiter(tp, waiter);
    };
  }

  // Metadata, held while it would name a leader this broker just lost its connection to
  // (peer_liveness.h): asked again at each metadata change until the hold ends.
  awaitable<void> HandleMetadata(const kafka::RequestHeader* header_ptr, KafkaApis::Outcome* result) {
    const kafka::RequestHeader& header = *header_ptr;
    bool may_hold = true;
    std::function<bool()> check = [this, &header, &may_hold, result] {
      *result = apis->HandleMetadata(header, may_hold);
      return !result->wait_for_metadata;
    };
    Subscribe subscribe = [this](const std::shared_ptr<PartitionWaiter>& waiter) {
      apis->replicas()->AddMetadataWaiter(waiter);
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMetadataHoldMs);
    if (!co_await WaitUntil(&subscribe, deadline, &check)) {
      may_hold = false;  // the hold is over: answer with what we have
      std::function<void()> work = [&check] { check(); };
      co_await RunOnPool(&pool, &work);
    }
  }
};

KafkaServer::KafkaServer(const BrokerConfig& config, KafkaApis* apis, GroupApis* groups,
                         asio::io_context* io)
    : impl_(std::make_unique<Impl>(config, apis, groups, io)) {}

KafkaServer::~KafkaServer() { Stop(); }

absl::Status KafkaServer::Start() {
  auto port = net::BindAndListen(&impl_->acceptor, impl_->config.listen_host,
                                 impl_->config.listen_port, "listeners");
  if (!port.ok()) return port.status();
  bound_port_ = *port;
  asio::co_spawn(impl_->io, net::AcceptLoop(&impl_->acceptor, &impl_->stopped, "kafka", &impl_->serve),
                 asio::detached);
  Logger("kafka")->info("Kafka listener on {}:{}", impl_->config.listen_host, bound_port_);
  return absl::OkStatus();
}

void KafkaServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  asio::post(impl_->io, [this] {
    asio::error_code ec;
    impl_->acceptor.close(ec);
  });
  // Drain: every connection stops reading, answers what it has read (after a controlled
  // shutdown, requests for the partitions that moved get NOT_LEADER_OR_FOLLOWER at once) and
  // closes, so clients move to the new leaders without waiting for this process to exit.
  // Requests still waiting after kDrainMs are dropped with their connection.
  constexpr auto kDrainMs = std::chrono::milliseconds(500);
  impl_->StopReading();
  auto drain_deadline = std::chrono::steady_clock::now() + kDrainMs;
  while (!impl_->AllClosed() && std::chrono::steady_clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // drain poll
  }
  impl_->pool.join();
  impl_->admin_pool.join();
}

}  // namespace gregor::broker
