#include "broker/net/listener.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace gregor::broker::net {

using asio::ip::tcp;

absl::StatusOr<int> BindAndListen(tcp::acceptor* acceptor, const std::string& host, int port,
                                  const std::string& key) {
  asio::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(acceptor->get_executor());
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": cannot resolve '", host, "'", ec ? ": " + ec.message() : ""));
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, " (", key, "): ", ec.message()));
  }
  return acceptor->local_endpoint().port();
}

asio::awaitable<void> AcceptLoop(tcp::acceptor* acceptor, const std::atomic<bool>* stopped,
                                 const char* logger,
                                 const std::function<void(tcp::socket)>* serve) {
  while (true) {
    asio::error_code ec;
    tcp::socket socket(asio::make_strand(acceptor->get_executor()));
    co_await acceptor->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || *stopped) co_return;
      Logger(logger)->warn("accept failed: {}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    (*serve)(std::move(socket));
  }
}

}  // namespace gregor::broker::net
