// The broker's connection to the controller quorum: registration (a new broker epoch per
// process start), heartbeats every broker.heartbeat.interval.ms, the metadata stream that
// keeps this broker's MetadataImage current, and controlled shutdown.
//
// Threads: a heartbeat thread and a metadata-watch thread, both started by Start(). The image is
// published as an immutable shared_ptr; `on_update` runs on the watch thread after each change.
// If the controller is unreachable the broker keeps its last image and keeps retrying (rotating
// through the quorum members and following NOT_CONTROLLER hints).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/broker_config.h"
#include "broker/replication/replica_host.h"
#include "common/clock.h"
#include "common/metadata/metadata_image.h"
#include "controller/client/controller_client.h"

namespace grpc {
class ClientContext;
}

namespace gregor::broker {

class ControllerLink : public ClusterView {
 public:
  using OnUpdate = std::function<void(std::shared_ptr<const metadata::MetadataImage>)>;

  ControllerLink(const BrokerConfig& config, Clock* clock);
  ~ControllerLink() override;

  // Registers this broker; retries until `timeout`. Returns the new broker epoch.
  absl::StatusOr<int64_t> Register(absl::Duration timeout);
  // Starts heartbeats and the metadata stream (from offset 1: the whole image).
  void Start(OnUpdate on_update);
  // Waits until the image includes offset `offset` (e.g. this broker's registration).
  bool WaitForMetadata(int64_t offset, absl::Duration timeout);
  // Asks the controller to move this broker's leaderships away, retrying while some remain
  // (their followers may still be catching up) until `timeout`. Returns how many remain.
  int32_t ControlledShutdown(absl::Duration timeout);
  // Last heartbeat, asking to be fenced now (the broker is exiting).
  void FenceSelf();
  void Stop();

  std::shared_ptr<const metadata::MetadataImage> image() const override;
  int64_t broker_epoch() const override { return epoch_.load(); }
  absl::StatusOr<controller::AlterPartitionResponse> AlterPartition(
      const controller::AlterPartitionRequest& request, absl::Duration timeout) override;
  // The controller's broker.session.timeout.ms, from the registration answer (0 before).
  int32_t session_timeout_ms() const { return session_timeout_ms_.load(); }
  // Called at every heartbeat attempt, from the heartbeat thread (the hang guard's beat). Set
  // before Start().
  void SetHeartbeatListener(std::function<void()> on_attempt) { on_heartbeat_ = std::move(on_attempt); }
  // Fills the cleaner report sent with every few heartbeats (from the heartbeat thread). Set
  // before Start().
  using CleanerReporter =
      std::function<void(google::protobuf::RepeatedPtrField<controller::PartitionCleanerReport>*)>;
  void SetCleanerReporter(CleanerReporter reporter) { cleaner_reporter_ = std::move(reporter); }
  bool fenced() const { return fenced_.load(); }
  controller::ControllerClient& client() { return client_; }

 private:
  void HeartbeatLoop();
  void WatchLoop();
  // Cancels the metadata stream when it is not from the controller heartbeats reach.
  void MaybeMoveWatch();

  const BrokerConfig config_;
  Clock* const clock_;
  controller::ControllerClient client_;
  std::string incarnation_id_;
  std::atomic<int64_t> epoch_{-1};
  std::atomic<int32_t> session_timeout_ms_{0};
  std::function<void()> on_heartbeat_;
  CleanerReporter cleaner_reporter_;
  std::atomic<bool> fenced_{true};
  std::atomic<bool> stopping_{false};
  OnUpdate on_update_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const metadata::MetadataImage> image_ ABSL_GUARDED_BY(mu_);
  int64_t applied_offset_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string watch_address_ ABSL_GUARDED_BY(mu_);  // where the metadata stream comes from

  std::thread heartbeat_thread_;
  std::thread watch_thread_;
};

}  // namespace gregor::broker
