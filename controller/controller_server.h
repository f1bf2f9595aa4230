// gregor-controller: one quorum member. Serves, on its entry of controller.quorum.voters, the
// Quorum service (Raft among controllers) and the Controller service (brokers and tools).
//
// Wiring: QuorumDriver (Raft + disk) -> MetadataState (image, recent batches, events) ->
// watchers (metadata and event streams); ActiveController decides and commits changes when this
// node leads. Writes reaching a non-active member are answered NOT_CONTROLLER with the active
// member's address; reads (DescribeCluster, watches) are served from any member's committed
// image.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "controller/controller_config.h"

namespace gregor::controller {

class ControllerServer {
 public:
  static absl::StatusOr<std::unique_ptr<ControllerServer>> Create(ControllerConfig config,
                                                                  Clock* clock);
  virtual ~ControllerServer() = default;
  // Binds the listener and starts the quorum and the controller threads.
  virtual absl::Status Start() = 0;
  // Stops serving (in-flight calls are cancelled) and stops the threads. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace gregor::controller
