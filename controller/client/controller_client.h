// A client of the controller quorum for brokers and tools: finds the active controller among
// the configured addresses (following NOT_CONTROLLER hints), and retries until a deadline.
//
// Thread-safe. Uses gRPC's synchronous stubs: callers are brokers' background threads and tools.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "proto/controller.grpc.pb.h"

namespace gregor::controller {

class ControllerClient {
 public:
  // `addresses`: host:port of every quorum member (any subset works; hints fill in the rest).
  explicit ControllerClient(std::vector<std::string> addresses);

  template <typename Request, typename Response>
  using Method = grpc::Status (Controller::Stub::*)(grpc::ClientContext*, const Request&, Response*);

  // Sends `request` to the active controller. Retries on unreachable members and NOT_CONTROLLER
  // answers until `timeout`; returns the last error then. Other error codes in the response are
  // returned as they are, in the response.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(Method<Request, Response> method, const Request& request,
                                absl::Duration timeout = absl::Seconds(10));

  // A stub for one given member (reads such as DescribeCluster may go to any member).
  Controller::Stub* StubFor(const std::string& address);
  // The member believed active (or the first address).
  std::string CurrentAddress() const;
  const std::vector<std::string>& addresses() const { return addresses_; }

 private:
  void Advance(const std::string& failed, const std::string& hint);

  std::vector<std::string> addresses_;
  mutable absl::Mutex mu_;
  std::string current_ ABSL_GUARDED_BY(mu_);
  size_t rotation_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::unique_ptr<Controller::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

template <typename Request, typename Response>
absl::StatusOr<Response> ControllerClient::Call(Method<Request, Response> method,
                                                const Request& request, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::UnavailableError("no controller address configured");
  absl::Duration backoff = absl::Milliseconds(20);
  while (true) {
    std::string address = CurrentAddress();
    Controller::Stub* stub = StubFor(address);
    grpc::ClientContext context;
    absl::Time call_deadline = std::min(deadline, absl::Now() + absl::Seconds(5));
    context.set_deadline(absl::ToChronoTime(call_deadline));
    Response response;
    grpc::Status status = (stub->*method)(&context, request, &response);
    if (status.ok()) {
      if (response.error().code() != static_cast<int32_t>(KafkaErrorCode::kNotController)) {
        return response;
      }
      last = absl::UnavailableError(response.error().message());
      Advance(address, response.hint().active_controller_address());
    } else {
      last = absl::UnavailableError(
          absl::StrCat("controller at ", address, " is unreachable: ", status.error_message()));
      Advance(address, "");
    }
    if (absl::Now() + backoff >= deadline) return last;
    absl::SleepFor(backoff);  // retry backoff, not synchronisation
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
  }
}

}  // namespace gregor::controller
