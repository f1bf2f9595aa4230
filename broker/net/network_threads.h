// The broker's network threads: one Asio io_context, shared by the Kafka listener and the
// replication listener, run by num.network.threads threads.
//
// Sharing matters for latency: when a follower's fetch completes an acks=all produce, the
// continuation (the produce's response) is posted from a network thread to another connection's
// strand on the same io_context, which Asio runs on the same thread when it can, instead of
// waking a thread of another pool.
#pragma once

#include <memory>
#include <thread>
#include <vector>

namespace asio {
class io_context;
}

namespace gregor::broker::net {

class NetworkThreads {
 public:
  explicit NetworkThreads(int threads);
  ~NetworkThreads();  // Stop()s; the io_context goes last (after every socket of the servers)

  asio::io_context* io() { return io_.get(); }
  void Start();
  // Stops the io_context and joins the threads. Handlers not run yet are dropped. Idempotent.
  void Stop();

 private:
  struct Guard;
  const int threads_count_;
  std::unique_ptr<asio::io_context> io_;
  std::unique_ptr<Guard> guard_;  // keeps run() going while there is no work
  std::vector<std::thread> threads_;
};

}  // namespace gregor::broker::net
