#include "broker/partition.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/logging.h"

namespace gregor::broker {

Partition::Partition(storage::TopicPartition tp, std::shared_ptr<storage::PartitionLog> log,
                     int32_t local_broker)
    : tp_(std::move(tp)), log_(std::move(log)), local_broker_(local_broker) {}

Partition::Transition Partition::ApplyState(const metadata::PartitionState& state) {
  absl::MutexLock lock(&mu_);
  if (have_state_ && state.leader_epoch < state_.leader_epoch) return Transition::kNone;  // stale
  bool was_leader = have_state_ && state_.leader == local_broker_;
  bool epoch_changed = !have_state_ || state.leader_epoch != state_.leader_epoch;
  bool changed = !have_state_ || !(state == state_);
  std::vector<int32_t> old_isr = state_.isr;
  state_ = state;
  have_state_ = true;
  bool leader_now = state.leader == local_broker_;
  auto log = Logger("replica");
  if (leader_now && (!was_leader || epoch_changed)) {
    // A new leader records (epoch, LEO) at once, so it can answer truncation questions for this
    // epoch even before it appends anything (KAFKA-7415).
    absl::Status s = log_->AssignEpochStartOffset(LeaderEpoch(state.leader_epoch), log_->log_end_offset());
    if (!s.ok()) log->error("{}: cannot record epoch start: {}", tp_.DirName(), s.message());
    replica_leo_.clear();
    log->info("became leader of {} at epoch {} (ISR [{}])", tp_.DirName(), state.leader_epoch,
              absl::StrJoin(state.isr, ","));
    return Transition::kBecameLeader;
  }
  if (!leader_now && (was_leader || epoch_changed)) {
    log->info("became follower of {} at epoch {} (leader {})", tp_.DirName(), state.leader_epoch,
              state.leader);
    return Transition::kBecameFollower;
  }
  if (changed && old_isr != state.isr) {
    log->info("{} ISR [{}] -> [{}]", tp_.DirName(), absl::StrJoin(old_isr, ","),
              absl::StrJoin(state.isr, ","));
  }
  return changed ? Transition::kUpdated : Transition::kNone;
}

bool Partition::is_leader() const {
  absl::MutexLock lock(&mu_);
  return have_state_ && state_.leader == local_broker_;
}

int32_t Partition::leader() const {
  absl::MutexLock lock(&mu_);
  return state_.leader;
}

int32_t Partition::leader_epoch() const {
  absl::MutexLock lock(&mu_);
  return state_.leader_epoch;
}

metadata::PartitionState Partition::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

absl::StatusOr<storage::LogAppendInfo> Partition::AppendAsLeader(std::string* batches, int16_t acks,
                                                                 int32_t min_insync_replicas) {
  int32_t epoch = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!have_state_ || state_.leader != local_broker_) {
      return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                        absl::StrCat("broker ", local_broker_, " is not the leader of ", tp_.DirName()));
    }
    if (acks == -1 && static_cast<int32_t>(state_.isr.size()) < min_insync_replicas) {
      return KafkaError(KafkaErrorCode::kNotEnoughReplicas,
                        absl::StrCat(tp_.DirName(), " has ", state_.isr.size(),
                                     " in-sync replica(s); min.insync.replicas is ",
                                     min_insync_replicas));
    }
    epoch = state_.leader_epoch;
  }
  auto info = log_->AppendAsLeader(batches, LeaderEpoch(epoch));
  if (info.ok()) MaybeAdvanceHighWatermark();
  return info;
}

bool Partition::MaybeAdvanceHighWatermark() {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) return false;
  int64_t hw = log_->log_end_offset().value();
  for (int32_t r : state_.isr) {
    if (r == local_broker_) continue;
    auto it = replica_leo_.find(r);
    hw = std::min(hw, it == replica_leo_.end() ? log_->high_watermark().value() : it->second);
  }
  Offset old = log_->high_watermark();
  if (hw <= old.value()) return false;
  log_->UpdateHighWatermark(Offset(hw));
  return true;
}

absl::StatusOr<Partition::ReadResult> Partition::ReadAsLeader(Offset offset, int64_t max_bytes) const {
  {
    absl::MutexLock lock(&mu_);
    if (!have_state_ || state_.leader != local_broker_) {
      return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                        absl::StrCat("broker ", local_broker_, " is not the leader of ", tp_.DirName()));
    }
  }
  ReadResult result;
  result.offsets = Offsets();
  // Between the high watermark and the log end there is nothing to give a consumer yet.
  if (offset >= result.offsets.high_watermark && offset <= result.offsets.log_end_offset) {
    result.records = FileSlice{nullptr, 0, 0};
    return result;
  }
  auto slice = log_->Read(offset, max_bytes, result.offsets.high_watermark);
  if (!slice.ok()) return slice.status();
  result.records = *slice;
  return result;
}

PartitionOffsets Partition::Offsets() const {
  PartitionOffsets o;
  o.log_start_offset = log_->log_start_offset();
  o.high_watermark = log_->high_watermark();
  o.log_end_offset = log_->log_end_offset();
  return o;
}

}  // namespace gregor::broker
