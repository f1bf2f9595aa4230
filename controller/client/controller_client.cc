#include "controller/client/controller_client.h"

namespace gregor::controller {

ControllerClient::ControllerClient(std::vector<std::string> addresses)
    : addresses_(std::move(addresses)) {
  if (!addresses_.empty()) current_ = addresses_.front();
}

Controller::Stub* ControllerClient::StubFor(const std::string& address) {
  absl::MutexLock lock(&mu_);
  auto& stub = stubs_[address];
  if (!stub) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(512 << 20);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    stub = Controller::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }
  return stub.get();
}

std::string ControllerClient::CurrentAddress() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

void ControllerClient::Advance(const std::string& failed, const std::string& hint) {
  absl::MutexLock lock(&mu_);
  if (current_ != failed) return;  // someone else moved on already
  if (!hint.empty() && hint != failed) {
    current_ = hint;
    return;
  }
  if (addresses_.empty()) return;
  rotation_ = (rotation_ + 1) % addresses_.size();
  current_ = addresses_[rotation_];
}

}  // namespace gregor::controller
