#include "tests/controller/cluster_harness.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace gregor::testing {

using controller::Controller;

ControllerCluster::ControllerCluster(int controllers, std::vector<std::string> extra)
    : n_(controllers), extra_(std::move(extra)) {
  for (int id = 1; id <= n_; ++id) ports_[id] = FreePort();
  client_ = std::make_unique<controller::ControllerClient>(addresses());
}

ControllerCluster::~ControllerCluster() {
  for (auto& [id, p] : brokers_) p->Kill();
  for (auto& [id, p] : controllers_) p->Kill();
}

std::string ControllerCluster::address(int id) const {
  return absl::StrCat("127.0.0.1:", ports_.at(id));
}

std::vector<std::string> ControllerCluster::addresses() const {
  std::vector<std::string> out;
  for (int id = 1; id <= n_; ++id) out.push_back(address(id));
  return out;
}

std::string ControllerCluster::voters() const {
  std::vector<std::string> parts;
  for (int id = 1; id <= n_; ++id) parts.push_back(absl::StrCat(id, "@", address(id)));
  return absl::StrJoin(parts, ",");
}

bool ControllerCluster::StartController(int id) {
  auto p = std::make_unique<ChildProcess>();
  std::vector<std::string> argv = {BuildDir() + "/controller/gregor-controller",
                                   "--override", absl::StrCat("node.id=", id),
                                   "--override", "controller.quorum.voters=" + voters(),
                                   "--override", absl::StrCat("metadata.log.dir=", dir_.path(), "/controller-", id)};
  for (const std::string& e : extra_) {
    argv.push_back("--override");
    argv.push_back(e);
  }
  if (!p->Start(argv, absl::StrCat(dir_.path(), "/controller-", id, ".log"))) return false;
  controllers_[id] = std::move(p);
  return true;
}

void ControllerCluster::KillController(int id) {
  if (controllers_.count(id)) controllers_[id]->Kill();
}

bool ControllerCluster::StartBroker(int id) {
  auto p = std::make_unique<ChildProcess>();
  std::vector<std::string> argv = {BuildDir() + "/tests/fake_broker", "--id", absl::StrCat(id),
                                   "--controllers", absl::StrJoin(addresses(), ",")};
  if (!p->Start(argv, absl::StrCat(dir_.path(), "/broker-", id, ".log"))) return false;
  brokers_[id] = std::move(p);
  return true;
}

void ControllerCluster::KillBroker(int id) {
  if (brokers_.count(id)) brokers_[id]->Kill();
}

int ControllerCluster::StopBroker(int id) { return brokers_.count(id) ? brokers_[id]->Stop() : -1; }

absl::StatusOr<controller::DescribeClusterResponse> ControllerCluster::Describe() {
  return client_->Call(&Controller::Stub::DescribeCluster, controller::DescribeClusterRequest{},
                       absl::Seconds(5));
}

absl::StatusOr<controller::DescribeClusterResponse> ControllerCluster::DescribeFrom(int id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  controller::DescribeClusterResponse response;
  grpc::Status s = client_->StubFor(address(id))->DescribeCluster(
      &context, controller::DescribeClusterRequest{}, &response);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return response;
}

int ControllerCluster::ActiveController() {
  for (int id = 1; id <= n_; ++id) {
    if (!controllers_.count(id) || !controllers_[id]->running()) continue;
    auto d = DescribeFrom(id);
    if (d.ok() && d->active_controller_id() == id) return id;
  }
  return -1;
}

bool ControllerCluster::WaitForBrokers(const std::vector<int>& ids, const std::string& state,
                                       std::chrono::milliseconds timeout) {
  return WaitFor(
      [&] {
        auto d = Describe();
        if (!d.ok()) return false;
        for (int id : ids) {
          bool ok = false;
          for (const auto& b : d->brokers()) ok = ok || (b.id() == id && b.state() == state);
          if (!ok) return false;
        }
        return true;
      },
      timeout);
}

absl::StatusOr<controller::CreateTopicsResponse> ControllerCluster::CreateTopic(
    const std::string& name, int partitions, int rf, std::map<std::string, std::string> configs) {
  controller::CreateTopicsRequest request;
  auto* t = request.add_topics();
  t->set_name(name);
  t->set_partitions(partitions);
  t->set_replication_factor(rf);
  for (const auto& [k, v] : configs) (*t->mutable_configs())[k] = v;
  return client_->Call(&Controller::Stub::CreateTopics, request, absl::Seconds(10));
}

std::string ControllerCluster::Logs() const {
  std::string out;
  for (int id = 1; id <= n_; ++id) {
    absl::StrAppend(&out, "---- controller-", id, ".log (tail)\n");
    std::string log = ReadFileOrEmpty(absl::StrCat(dir_.path(), "/controller-", id, ".log"));
    if (log.size() > 4000) log = log.substr(log.size() - 4000);
    absl::StrAppend(&out, log);
  }
  return out;
}

}  // namespace gregor::testing
