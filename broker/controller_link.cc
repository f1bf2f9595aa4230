#include "broker/controller_link.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace gregor::broker {

using controller::Controller;

namespace {
std::vector<std::string> Addresses(const BrokerConfig& config) {
  std::vector<std::string> out;
  for (const auto& [id, address] : config.controller_voters) out.push_back(address);
  return out;
}
}  // namespace

ControllerLink::ControllerLink(const BrokerConfig& config, Clock* clock)
    : config_(config),
      clock_(clock),
      client_(Addresses(config)),
      image_(std::make_shared<metadata::MetadataImage>()) {
  std::random_device rd;
  incarnation_id_ = absl::StrCat(rd(), "-", rd(), "-", clock->WallMs());
}

ControllerLink::~ControllerLink() { Stop(); }

absl::StatusOr<int64_t> ControllerLink::Register(absl::Duration timeout) {
  controller::RegisterBrokerRequest request;
  request.set_broker_id(config_.node_id);
  request.set_incarnation_id(incarnation_id_);
  request.set_kafka_host(config_.advertised_host);
  request.set_kafka_port(config_.advertised_port);
  request.set_replication_host(config_.replication_host);
  request.set_replication_port(config_.replication_port);
  request.set_rack(config_.rack);
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    auto response = client_.Call(&Controller::Stub::RegisterBroker, request,
                                 std::max(absl::Seconds(1), deadline - absl::Now()));
    if (response.ok() && response->error().code() == 0) {
      epoch_ = response->broker_epoch();
      session_timeout_ms_ = response->session_timeout_ms();
      fenced_ = true;
      Logger("broker")->info("broker {} registered with the controller: epoch {}", config_.node_id,
                             epoch_.load());
      return epoch_.load();
    }
    absl::Status error = response.ok()
                             ? absl::FailedPreconditionError(response->error().message())
                             : response.status();
    if (absl::Now() >= deadline || stopping_) return error;
    Logger("broker")->warn("registration failed ({}); retrying", error.message());
    absl::SleepFor(absl::Milliseconds(200));  // retry backoff
  }
}

void ControllerLink::Start(OnUpdate on_update) {
  on_update_ = std::move(on_update);
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  watch_thread_ = std::thread([this] { WatchLoop(); });
}

void ControllerLink::Stop() {
  stopping_ = true;
  {
    absl::MutexLock lock(&mu_);
    if (watch_context_) watch_context_->TryCancel();
  }
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  if (watch_thread_.joinable()) watch_thread_.join();
}

std::shared_ptr<const metadata::MetadataImage> ControllerLink::image() const {
  absl::MutexLock lock(&mu_);
  return image_;
}

absl::StatusOr<controller::AlterPartitionResponse> ControllerLink::AlterPartition(
    const controller::AlterPartitionRequest& request, absl::Duration timeout) {
  return client_.Call(&controller::Controller::Stub::AlterPartition, request, timeout);
}

bool ControllerLink::WaitForMetadata(int64_t offset, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto caught_up = [this, offset] { return applied_offset_ >= offset; };
  return mu_.AwaitWithTimeout(absl::Condition(&caught_up), timeout);
}

void ControllerLink::MaybeMoveWatch() {
  // Heartbeats go to the active controller (following NOT_CONTROLLER hints). A metadata stream
  // from another member would only be as fresh as that member: move it to the active one.
  std::string active = client_.CurrentAddress();
  absl::MutexLock lock(&mu_);
  if (watch_context_ != nullptr && !watch_address_.empty() && watch_address_ != active) {
    Logger("broker")->info("the active controller is at {}: moving the metadata stream from {}",
                           active, watch_address_);
    watch_address_.clear();  // once per stream
    watch_context_->TryCancel();
  }
}

void ControllerLink::HeartbeatLoop() {
  auto log = Logger("broker");
  bool last_fenced = true;
  int64_t beats = 0;
  while (!stopping_) {
    if (on_heartbeat_) on_heartbeat_();
    controller::BrokerHeartbeatRequest request;
    request.set_broker_id(config_.node_id);
    request.set_broker_epoch(epoch_.load());
    // The cleaner report rides on about one heartbeat in two seconds.
    const int64_t every = std::max(1, 2000 / std::max(1, config_.broker_heartbeat_interval_ms));
    if (cleaner_reporter_ && beats++ % every == 0) {
      request.set_has_cleaner_report(true);
      cleaner_reporter_(request.mutable_cleaner());
    }
    {
      absl::MutexLock lock(&mu_);
      request.set_metadata_offset(applied_offset_);
    }
    auto response = client_.Call(&Controller::Stub::BrokerHeartbeat, request,
                                 absl::Milliseconds(std::max(1000, config_.broker_heartbeat_interval_ms * 4)));
    if (response.ok()) {
      int32_t code = response->error().code();
      if (code == static_cast<int32_t>(KafkaErrorCode::kStaleBrokerEpoch) ||
          code == static_cast<int32_t>(KafkaErrorCode::kBrokerIdNotRegistered)) {
        log->warn("controller says: {}; registering again", response->error().message());
        (void)Register(absl::Seconds(5));
        continue;
      }
      if (code == 0) {
        MaybeMoveWatch();
        fenced_ = response->fenced();
        if (fenced_ != last_fenced) {
          log->info("broker {} is now {}", config_.node_id, fenced_ ? "FENCED" : "unfenced (alive)");
          last_fenced = fenced_;
        }
      }
    } else if (!stopping_) {
      log->warn("heartbeat failed: {}", response.status().message());
    }
    absl::SleepFor(absl::Milliseconds(config_.broker_heartbeat_interval_ms));  // the heartbeat pace
  }
}

void ControllerLink::WatchLoop() {
  auto log = Logger("broker");
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stopping_) {
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      watch_context_ = &context;
    }
    controller::WatchMetadataRequest request;
    {
      absl::MutexLock lock(&mu_);
      request.set_from_offset(applied_offset_ + 1);
    }
    request.set_broker_id(config_.node_id);  // the stream is also our liveness signal
    std::string address = client_.CurrentAddress();
    {
      absl::MutexLock lock(&mu_);
      watch_address_ = address;
    }
    auto reader = client_.StubFor(address)->WatchMetadata(&context, request);
    controller::WatchMetadataResponse message;
    while (reader->Read(&message)) {
      backoff = absl::Milliseconds(100);
      std::shared_ptr<const metadata::MetadataImage> published;
      {
        absl::MutexLock lock(&mu_);
        std::shared_ptr<metadata::MetadataImage> next;
        if (message.has_snapshot()) {
          auto restored = metadata::MetadataImage::FromSnapshot(message.snapshot());
          if (!restored.ok()) {
            log->error("cannot load metadata snapshot: {}", restored.status());
            break;
          }
          next = std::make_shared<metadata::MetadataImage>(std::move(*restored));
          applied_offset_ = message.snapshot().last_offset();
        }
        for (const controller::MetadataDelta& delta : message.deltas()) {
          if (delta.offset() <= applied_offset_) continue;  // already have it
          if (!next) next = std::make_shared<metadata::MetadataImage>(*image_);
          absl::Status s = next->Apply(delta.offset(), delta.batch());
          if (!s.ok()) log->error("metadata offset {}: {}", delta.offset(), s.message());
          applied_offset_ = delta.offset();
        }
        if (message.deltas_size() == 0) {
          applied_offset_ = std::max(applied_offset_, message.committed_offset());
        }
        if (next) {
          image_ = std::move(next);
          published = image_;
        }
      }
      if (published && on_update_) on_update_(published);
    }
    grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mu_);
      watch_context_ = nullptr;
    }
    if (stopping_) break;
    log->warn("metadata stream from {} ended ({}); reconnecting", address, status.error_message());
    // Ask the quorum who is active now (any call works), then reconnect there.
    (void)client_.Call(&Controller::Stub::DescribeCluster, controller::DescribeClusterRequest{},
                       absl::Seconds(1));
    absl::SleepFor(backoff);  // reconnect backoff
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

int32_t ControllerLink::ControlledShutdown(absl::Duration timeout) {
  controller::ControlledShutdownRequest request;
  request.set_broker_id(config_.node_id);
  request.set_broker_epoch(epoch_.load());
  absl::Time deadline = absl::Now() + timeout;
  int32_t remaining = -1;
  while (absl::Now() < deadline) {
    auto response = client_.Call(&Controller::Stub::ControlledShutdown, request,
                                 std::max(absl::Milliseconds(500), deadline - absl::Now()));
    if (!response.ok() || response->error().code() != 0) {
      Logger("broker")->warn("controlled shutdown request failed: {}",
                             response.ok() ? response->error().message()
                                           : std::string(response.status().message()));
    } else {
      remaining = response->remaining_leaderships();
      if (remaining == 0) break;
    }
    absl::SleepFor(absl::Milliseconds(200));  // followers are catching up; ask again
  }
  return remaining;
}

void ControllerLink::FenceSelf() {
  controller::BrokerHeartbeatRequest request;
  request.set_broker_id(config_.node_id);
  request.set_broker_epoch(epoch_.load());
  request.set_want_fence(true);
  (void)client_.Call(&Controller::Stub::BrokerHeartbeat, request, absl::Seconds(2));
}

}  // namespace gregor::broker
