// The leader side of replication: the replication listener (replication.listener), serving the
// frames of replica_wire.h to followers.
//
// One connection per follower broker; each fetch names many partitions. A fetch is answered at
// once when any partition has data, an error or a divergence to report; otherwise it is parked
// until one of its partitions changes (an append wakes it directly), its max_wait_ms passes, or
// the follower sends a wake frame. Records go out with sendfile(2) from the segment files.
//
// Threads: the broker's network threads (net/network_threads.h, shared with the Kafka listener);
// each connection runs on its own strand, and the fetch handling (the partitions' follower
// state, the high watermark) runs there too: it only takes the partitions' locks and looks up
// indexes, no blocking I/O.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "broker/replication/isr_manager.h"
#include "broker/replication/replica_host.h"
#include "common/clock.h"

namespace asio {
class io_context;
}

namespace gregor::broker {

class ReplicationServer {
 public:
  // Connections run on `io`, which must outlive this server.
  ReplicationServer(const ReplicationConfig& config, PartitionDirectory* replicas,
                    ClusterView* cluster, IsrManager* isr, Clock* clock, asio::io_context* io);
  ~ReplicationServer();
  // Binds replication.listener.
  absl::Status Start();
  // Closes the listener and every connection. Idempotent.
  void Stop();
  int bound_port() const { return bound_port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int bound_port_ = 0;
};

}  // namespace gregor::broker
