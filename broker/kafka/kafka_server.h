// The broker's Kafka listener: an Asio TCP server with C++20 coroutines.
//
// Per connection, on its own strand, a reader coroutine and a writer coroutine. The reader
// reads size-prefixed frames, parses the header and runs each request's handler off the
// network threads (on an I/O thread pool), one after another in arrival order; the writer sends
// the responses strictly in that order (as Kafka guarantees). The wait of an acks=all Produce
// for its followers goes on in its own coroutine while the reader starts the next request, up
// to queued.max.requests.per.connection at once. Long-poll Fetch and acks=all Produce wait on a
// timer that partition changes cancel. Fetch records go out with sendfile(2) straight from the
// segment files.
//
// A malformed frame, an oversized request or an unknown API closes that connection only.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "broker/broker_config.h"
#include "broker/kafka/kafka_apis.h"
#include "broker/kafka/group_apis.h"

namespace asio {
class io_context;
}

namespace gregor::broker {

class KafkaServer {
 public:
  // Connections run on `io` (the broker's network threads, net/network_threads.h), which must
  // outlive this server.
  // Group requests go to `groups`.
  KafkaServer(const BrokerConfig& config, KafkaApis* apis, GroupApis* groups, asio::io_context* io);
  ~KafkaServer();

  // Binds the listener.
  absl::Status Start();
  // Closes the listener, drains every connection (answers what was read, then closes) and joins
  // the request pools. Idempotent. Connections still open after the drain end when the network
  // threads stop.
  void Stop();
  int bound_port() const { return bound_port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace gregor::broker
