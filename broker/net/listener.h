// What the Kafka listener and the replication listener share: binding a listening socket, and
// the accept loop.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include <asio.hpp>

#include "absl/status/statusor.h"

namespace gregor::broker::net {

// Binds `acceptor` to host:port — an IP address, or a name resolved to its first address — and
// listens. Returns the bound port (for port 0). `key` names the config key in errors.
absl::StatusOr<int> BindAndListen(asio::ip::tcp::acceptor* acceptor, const std::string& host,
                                  int port, const std::string& key);

// Accepts connections until the acceptor is closed (or `stopped`), each on its own strand with
// TCP_NODELAY, and hands each to `serve`. `logger` names the subsystem in warnings. Pointers
// must outlive the loop (GCC 12 mishandles class-type coroutine parameters).
asio::awaitable<void> AcceptLoop(asio::ip::tcp::acceptor* acceptor, const std::atomic<bool>* stopped,
                                 const char* logger,
                                 const std::function<void(asio::ip::tcp::socket)>* serve);

}  // namespace gregor::broker::net
