// Shared plumbing of the admin-style commands (topic, cluster): where the cluster is, how to
// reach the controller, and the error text that tells the user what to do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/client/controller_client.h"

namespace gregor::tools {

struct ClusterAddress {
  std::string bootstrap_server = "localhost:9092,localhost:9093,localhost:9094";  // --bootstrap-server
  // --controller (comma-separated members): the local quorum, one controller or three (--ha).
  std::string controller = "localhost:9990,localhost:9991,localhost:9992";
};

std::unique_ptr<controller::ControllerClient> MakeControllerClient(const ClusterAddress& address);

// "no controller reachable at localhost:9990 — is the cluster running? try ./run.sh"
std::string ControllerUnreachable(const ClusterAddress& address, const absl::Status& status);

// Formats a list of broker ids as "1,2,3".
std::string JoinIds(const google::protobuf::RepeatedField<int32_t>& ids);

}  // namespace gregor::tools
