// Starts real gregor-controller processes (1 or 3) and fake brokers on loopback for
// multi-process tests, and talks to them through ControllerClient.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/client/controller_client.h"
#include "tests/storage/test_util.h"
#include "tests/util/process.h"

namespace gregor::testing {

class ControllerCluster {
 public:
  // `extra`: overrides for every controller ("key=value").
  ControllerCluster(int controllers, std::vector<std::string> extra = {});
  ~ControllerCluster();

  bool StartController(int id);  // ids are 1..n
  void KillController(int id);   // SIGKILL
  bool StartBroker(int id);
  void KillBroker(int id);       // SIGKILL
  int StopBroker(int id);        // SIGTERM and wait
  ChildProcess* controller(int id) { return controllers_[id].get(); }

  std::string voters() const;
  std::string address(int id) const;
  std::vector<std::string> addresses() const;
  controller::ControllerClient& client() { return *client_; }

  // DescribeCluster from the active controller (via the client), or from member `id`.
  absl::StatusOr<controller::DescribeClusterResponse> Describe();
  absl::StatusOr<controller::DescribeClusterResponse> DescribeFrom(int id);
  // The id of the member that says it is active, or -1.
  int ActiveController();
  // Waits until every given broker shows `state` ("alive", "fenced", "shutting_down").
  bool WaitForBrokers(const std::vector<int>& ids, const std::string& state,
                      std::chrono::milliseconds timeout);
  absl::StatusOr<controller::CreateTopicsResponse> CreateTopic(const std::string& name,
                                                               int partitions, int rf,
                                                               std::map<std::string, std::string> configs = {});
  std::string Logs() const;

 private:
  storage::testing::TempDir dir_;
  int n_;
  std::vector<std::string> extra_;
  std::map<int, int> ports_;
  std::map<int, std::unique_ptr<ChildProcess>> controllers_;
  std::map<int, std::unique_ptr<ChildProcess>> brokers_;
  std::unique_ptr<controller::ControllerClient> client_;
};

}  // namespace gregor::testing
