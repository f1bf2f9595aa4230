#include "broker/net/network_threads.h"

#include <asio.hpp>

namespace gregor::broker::net {

struct NetworkThreads::Guard {
  explicit Guard(asio::io_context& io) : work(asio::make_work_guard(io)) {}
  asio::executor_work_guard<asio::io_context::executor_type> work;
};

NetworkThreads::NetworkThreads(int threads)
    : threads_count_(threads < 1 ? 1 : threads), io_(std::make_unique<asio::io_context>()) {}

NetworkThreads::~NetworkThreads() { Stop(); }

void NetworkThreads::Start() {
  guard_ = std::make_unique<Guard>(*io_);
  for (int i = 0; i < threads_count_; ++i) threads_.emplace_back([this] { io_->run(); });
}

void NetworkThreads::Stop() {
  guard_.reset();
  io_->stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace gregor::broker::net
