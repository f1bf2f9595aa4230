// The leader side of replication: the ReplicaFetch gRPC service on replication.listener.
//
// One bidirectional stream per follower broker; each request names many partitions. A request
// is answered at once if any partition has data, an error or a divergence to report, else after
// max_wait_ms or as soon as one of its partitions changes (long poll). Uses gRPC's synchronous
// API: one server thread per stream (a broker has one stream per other broker at most).
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "broker/broker_config.h"
#include "broker/controller_link.h"
#include "broker/replica_manager.h"
#include "broker/replication/isr_manager.h"
#include "common/clock.h"

namespace grpc {
class Server;
}

namespace gregor::broker {

class ReplicationServer {
 public:
  ReplicationServer(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
                    IsrManager* isr, Clock* clock);
  ~ReplicationServer();
  absl::Status Start();
  void Stop();

 private:
  class Service;
  const BrokerConfig config_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace gregor::broker
