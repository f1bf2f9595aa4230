#include "broker/replication/partition.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::broker {

Partition::Partition(storage::TopicPartition tp, std::shared_ptr<storage::PartitionLog> log,
                     int32_t local_broker, int64_t replica_lag_time_max_ms)
    : tp_(std::move(tp)),
      log_(std::move(log)),
      local_broker_(local_broker),
      leader_(local_broker, replica_lag_time_max_ms) {}

FetchReadLimit FetchReadLimitFor(int64_t partition_max_bytes, int64_t budget_left,
                                 bool nothing_read_yet) {
  return {std::clamp<int64_t>(std::min(partition_max_bytes, budget_left), 0, INT32_MAX),
          nothing_read_yet || budget_left > 0};
}

Partition::Transition Partition::ApplyState(const metadata::PartitionState& state, int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  // Stale: an older leader epoch, or the same one with an older partition epoch (metadata that
  // lags an ISR change this leader already got from the controller's answer).
  if (have_state_ && (state.leader_epoch < state_.leader_epoch ||
                      (state.leader_epoch == state_.leader_epoch &&
                       state.partition_epoch < state_.partition_epoch))) {
    return Transition::kNone;
  }
  bool was_leader = have_state_ && state_.leader == local_broker_;
  bool epoch_changed = !have_state_ || state.leader_epoch != state_.leader_epoch;
  bool changed = !have_state_ || !(state == state_);
  std::vector<int32_t> old_isr = state_.isr;
  state_ = state;
  have_state_ = true;
  bool leader_now = state.leader == local_broker_;
  auto log = Logger("replica");
  if (leader_now && (!was_leader || epoch_changed)) {
    // A new leader records (epoch, LEO) at once, so it can answer divergence questions for this
    // epoch before it appends anything (KAFKA-7415).
    int64_t leo = log_->log_end_offset().value();
    absl::Status s = log_->AssignEpochStartOffset(LeaderEpoch(state.leader_epoch), Offset(leo));
    if (!s.ok()) log->error("{}: cannot record epoch start: {}", tp_.DirName(), s.message());
    leader_.Reset(state.replicas, state.isr, leo, now_ms);
    log->info("became leader of {} at epoch {} (ISR [{}], log end {}, hw {})", tp_.DirName(),
              state.leader_epoch, absl::StrJoin(state.isr, ","), leo, log_->high_watermark().value());
    MaybeAdvanceHighWatermarkLocked();
    return Transition::kBecameLeader;
  }
  if (!leader_now && (was_leader || epoch_changed)) {
    log->info("became follower of {} at epoch {} (leader {})", tp_.DirName(), state.leader_epoch,
              state.leader);
    return Transition::kBecameFollower;
  }
  if (leader_now) {
    leader_.UpdateFromMetadata(state.replicas, state.isr);
    MaybeAdvanceHighWatermarkLocked();
  }
  if (changed && old_isr != state.isr) {
    log->info("{} ISR [{}] -> [{}]", tp_.DirName(), absl::StrJoin(old_isr, ","),
              absl::StrJoin(state.isr, ","));
  }
  return changed ? Transition::kUpdated : Transition::kNone;
}

void Partition::SetMinInsyncReplicas(int32_t n) {
  absl::MutexLock lock(&mu_);
  min_isr_ = std::max(1, n);
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

int32_t Partition::min_insync_replicas() const {
  absl::MutexLock lock(&mu_);
  return min_isr_;
}

absl::StatusOr<storage::LogAppendInfo> Partition::AppendAsLeader(absl::Span<char> batches, int16_t acks,
                                                                 int32_t* leader_epoch) {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) {
    return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                      absl::StrCat("broker ", local_broker_, " is not the leader of ", tp_.DirName()));
  }
  if (acks == -1 && static_cast<int32_t>(state_.isr.size()) < min_isr_) {
    return KafkaError(KafkaErrorCode::kNotEnoughReplicas,
                      absl::StrCat(tp_.DirName(), " has ", state_.isr.size(),
                                   " in-sync replica(s); min.insync.replicas is ", min_isr_));
  }
  // Under the partition lock: appends, epochs and the high watermark move together.
  auto info = log_->AppendAsLeader(batches, LeaderEpoch(state_.leader_epoch));
  if (info.ok()) MaybeAdvanceHighWatermarkLocked();
  if (leader_epoch) *leader_epoch = state_.leader_epoch;
  return info;
}

std::optional<KafkaErrorCode> Partition::CheckAppendCommitted(int64_t required_offset,
                                                              int32_t append_leader_epoch) const {
  absl::MutexLock lock(&mu_);
  // A leadership change since the append may have truncated it, even if this broker leads again.
  if (!have_state_ || state_.leader != local_broker_ || state_.leader_epoch != append_leader_epoch) {
    return KafkaErrorCode::kNotLeaderOrFollower;
  }
  if (log_->high_watermark().value() >= required_offset) {
    if (static_cast<int32_t>(leader_.MaximalIsr().size()) < min_isr_) {
      return KafkaErrorCode::kNotEnoughReplicasAfterAppend;
    }
    return KafkaErrorCode::kNone;
  }
  if (static_cast<int32_t>(state_.isr.size()) < min_isr_) {
    // The ISR shrank under the write: it will not be committed with enough copies.
    return KafkaErrorCode::kNotEnoughReplicasAfterAppend;
  }
  return std::nullopt;
}

bool Partition::MaybeAdvanceHighWatermarkLocked() {
  if (!have_state_ || state_.leader != local_broker_) return false;
  const int64_t leo = log_->log_end_offset().value();
  if (auto floor = leader_.MinReplicaLogEndOffset(leo)) log_->RaiseTombstoneFloor(*floor);
  auto hw = leader_.NewHighWatermark(leo, log_->high_watermark().value(), min_isr_);
  if (!hw) return false;
  log_->UpdateHighWatermark(Offset(*hw));
  return true;
}

KafkaErrorCode Partition::CheckLeaderEpochAsLeader(int32_t current_leader_epoch) const {
  absl::MutexLock lock(&mu_);
  if (have_state_ && current_leader_epoch >= 0) {
    if (current_leader_epoch < state_.leader_epoch) return KafkaErrorCode::kFencedLeaderEpoch;
    if (current_leader_epoch > state_.leader_epoch) return KafkaErrorCode::kUnknownLeaderEpoch;
  }
  if (!have_state_ || state_.leader != local_broker_) return KafkaErrorCode::kNotLeaderOrFollower;
  return KafkaErrorCode::kNone;
}

std::optional<int32_t> Partition::PreferredReadReplica(
    const std::string& client_rack, int64_t fetch_offset,
    const std::function<std::string(int32_t)>& rack_of,
    const std::function<bool(int32_t)>& alive) const {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_ || client_rack.empty()) return std::nullopt;
  if (rack_of(local_broker_) == client_rack) return std::nullopt;
  std::optional<int32_t> best;
  int64_t best_leo = -1;
  for (int32_t r : state_.isr) {
    if (r == local_broker_ || rack_of(r) != client_rack || !alive(r)) continue;
    const int64_t leo = leader_.FollowerLogEndOffset(r);
    if (leo < fetch_offset || leo <= best_leo) continue;
    best = r;
    best_leo = leo;
  }
  return best;
}

absl::StatusOr<Partition::ReadResult> Partition::ReadForConsumer(const ConsumerRead& read) const {
  ReadResult result;
  {
    absl::MutexLock lock(&mu_);
    if (have_state_ && read.current_leader_epoch >= 0) {
      if (read.current_leader_epoch < state_.leader_epoch) {
        return KafkaError(KafkaErrorCode::kFencedLeaderEpoch,
                          absl::StrCat(tp_.DirName(), " is at leader epoch ", state_.leader_epoch,
                                       ", not ", read.current_leader_epoch));
      }
      if (read.current_leader_epoch > state_.leader_epoch) {
        return KafkaError(KafkaErrorCode::kUnknownLeaderEpoch,
                          absl::StrCat("broker ", local_broker_, " knows ", tp_.DirName(),
                                       " only up to leader epoch ", state_.leader_epoch));
      }
    }
    const bool leads = have_state_ && state_.leader == local_broker_;
    const bool in_sync_follower = have_state_ && !leads && read.follower_may_serve &&
                                  state_.IsReplica(local_broker_) && state_.InIsr(local_broker_);
    if (!leads && !in_sync_follower) {
      return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                        absl::StrCat("broker ", local_broker_, " cannot serve ", tp_.DirName(),
                                     " to consumers"));
    }
    result.as_follower = !leads;
  }
  result.offsets = Offsets();
  if (read.last_fetched_epoch >= 0) {  // Kafka's Partition.readRecords
    storage::EpochEndOffset end = log_->EndOffsetForEpoch(LeaderEpoch(read.last_fetched_epoch));
    if (end.epoch < 0 || end.end_offset < 0) {
      return KafkaError(KafkaErrorCode::kOffsetOutOfRange,
                        absl::StrCat("no end offset for the last fetched epoch ",
                                     read.last_fetched_epoch, " of ", tp_.DirName()));
    }
    if (read.offset < result.offsets.log_start_offset) {
      return KafkaError(KafkaErrorCode::kOffsetOutOfRange,
                        absl::StrCat("offset ", read.offset.value(), " is below the log start ",
                                     result.offsets.log_start_offset.value(), " of ", tp_.DirName()));
    }
    if (end.epoch < read.last_fetched_epoch || end.end_offset < read.offset.value()) {
      result.diverging = end;
      result.records = FileSlice{nullptr, 0, 0};
      return result;
    }
  }
  // Between the high watermark and the log end there is nothing to give a consumer yet.
  if (read.offset >= result.offsets.high_watermark && read.offset <= result.offsets.log_end_offset) {
    result.records = FileSlice{nullptr, 0, 0};
    return result;
  }
  auto slice = log_->Read(read.offset, read.max_bytes, result.offsets.high_watermark,
                          read.min_one_batch);
  if (!slice.ok()) return slice.status();
  result.records = *slice;
  return result;
}

absl::StatusOr<int64_t> Partition::DeleteRecordsAsLeader(int64_t offset) {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) {
    return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                      absl::StrCat("broker ", local_broker_, " is not the leader of ", tp_.DirName()));
  }
  if (!log_->config().delete_retention()) {
    return KafkaError(KafkaErrorCode::kPolicyViolation,
                      absl::StrCat("records of ", tp_.DirName(),
                                   " cannot be deleted: its cleanup.policy has no 'delete'"));
  }
  const int64_t hw = log_->high_watermark().value();
  const int64_t target = offset == -1 ? hw : offset;
  if (target < 0 || target > hw) {
    return KafkaError(KafkaErrorCode::kOffsetOutOfRange,
                      absl::StrCat("cannot delete records of ", tp_.DirName(), " before offset ",
                                   offset, ": it must be between 0 and the high watermark ", hw));
  }
  if (absl::Status s = log_->MaybeIncrementLogStartOffset(Offset(target)); !s.ok()) return s;
  return log_->log_start_offset().value();
}

absl::StatusOr<int64_t> Partition::LowWatermark() const {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) {
    return KafkaError(KafkaErrorCode::kNotLeaderOrFollower,
                      absl::StrCat("broker ", local_broker_, " is not the leader of ", tp_.DirName()));
  }
  return leader_.LowWatermark(log_->log_start_offset().value());
}

PartitionOffsets Partition::Offsets() const {
  PartitionOffsets o;
  o.log_start_offset = log_->log_start_offset();
  o.high_watermark = log_->high_watermark();
  o.log_end_offset = log_->log_end_offset();
  o.tombstone_floor = log_->tombstone_floor();
  return o;
}

std::optional<IsrChange> Partition::MakeIsrChangeLocked(std::vector<int32_t> isr) {
  leader_.SetInFlight(isr);
  IsrChange change;
  change.tp = tp_;
  change.leader_epoch = state_.leader_epoch;
  change.partition_epoch = state_.partition_epoch;
  change.new_isr = std::move(isr);
  Logger("replica")->info("{}: asking the controller to change the ISR [{}] -> [{}]", tp_.DirName(),
                          absl::StrJoin(state_.isr, ","), absl::StrJoin(change.new_isr, ","));
  return change;
}

Partition::FollowerFetchResult Partition::HandleFollowerFetch(
    const FollowerFetch& fetch, int64_t now_ms, const std::function<bool(int32_t)>& eligible) {
  FollowerFetchResult result;
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) {
    result.error = KafkaErrorCode::kNotLeaderOrFollower;
    return result;
  }
  if (fetch.current_leader_epoch < state_.leader_epoch) {
    result.error = KafkaErrorCode::kFencedLeaderEpoch;
    return result;
  }
  if (fetch.current_leader_epoch > state_.leader_epoch) {
    result.error = KafkaErrorCode::kUnknownLeaderEpoch;  // our metadata is behind
    return result;
  }
  if (!state_.IsReplica(fetch.replica)) {
    result.error = KafkaErrorCode::kNotLeaderOrFollower;
    return result;
  }
  const int64_t leo = log_->log_end_offset().value();
  // Divergence (Fetch v12+): does the follower's last epoch end where it thinks on our log?
  if (fetch.last_fetched_epoch >= 0) {
    storage::EpochEndOffset end = log_->EndOffsetForEpoch(LeaderEpoch(fetch.last_fetched_epoch));
    if (end.epoch < fetch.last_fetched_epoch || end.end_offset < fetch.fetch_offset) {
      result.diverging = end;
      result.offsets = Offsets();
      return result;
    }
  }
  if (fetch.fetch_offset < log_->log_start_offset().value() || fetch.fetch_offset > leo) {
    result.error = KafkaErrorCode::kOffsetOutOfRange;
    result.offsets = Offsets();
    return result;
  }
  const int64_t low_before = leader_.LowWatermark(log_->log_start_offset().value());
  leader_.OnFollowerFetch(fetch.replica, fetch.fetch_offset, leo, now_ms, fetch.log_start_offset);
  result.low_watermark_moved = leader_.LowWatermark(log_->log_start_offset().value()) != low_before;
  result.high_watermark_moved = MaybeAdvanceHighWatermarkLocked();
  if (auto expand = leader_.IsrToExpand(log_->high_watermark().value(), eligible)) {
    result.isr_change = MakeIsrChangeLocked(*expand);
  }
  if (fetch.fetch_offset < leo) {
    auto slice = log_->Read(Offset(fetch.fetch_offset), std::max(fetch.max_bytes, 0), Offset(leo),
                            fetch.min_one_batch);
    if (!slice.ok()) {
      result.error = ToKafkaErrorCode(slice.status());
    } else {
      result.records = *slice;
    }
  }
  result.offsets = Offsets();
  return result;
}

std::optional<IsrChange> Partition::MaybeShrinkIsr(int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  if (!have_state_ || state_.leader != local_broker_) return std::nullopt;
  auto shrink = leader_.IsrToShrink(log_->log_end_offset().value(), now_ms);
  if (!shrink) return std::nullopt;
  return MakeIsrChangeLocked(*shrink);
}

void Partition::OnIsrChangeResult(const IsrChange& change, bool ok,
                                  const std::optional<metadata::PartitionState>& state,
                                  int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  // Answers to a change from another leader epoch, or to a change that is no longer the one in
  // flight, must not touch the current state.
  if (!have_state_ || change.leader_epoch != state_.leader_epoch) return;
  if (leader_.InFlightIs(change.new_isr)) leader_.ClearInFlight();
  if (ok && state && state->leader_epoch == state_.leader_epoch &&
      state->partition_epoch > state_.partition_epoch) {
    Logger("replica")->info("{} ISR [{}] -> [{}] (partition epoch {})", tp_.DirName(),
                            absl::StrJoin(state_.isr, ","), absl::StrJoin(state->isr, ","),
                            state->partition_epoch);
    state_ = *state;
    leader_.UpdateFromMetadata(state_.replicas, state_.isr);
    MaybeAdvanceHighWatermarkLocked();
  }
}

absl::Status Partition::CheckFollowingLocked(int32_t leader_epoch) const {
  if (have_state_ && state_.leader != local_broker_ && state_.leader_epoch == leader_epoch) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      tp_.DirName(), ": no longer a follower at leader epoch ", leader_epoch, " (leader ",
      state_.leader, ", epoch ", state_.leader_epoch, ")"));
}

absl::StatusOr<int64_t> Partition::TruncateOnDivergence(const storage::EpochEndOffset& diverging,
                                                        int32_t leader_epoch) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  int64_t leo = log_->log_end_offset().value();
  if (diverging.epoch < 0) {
    // Kafka's follower does not truncate either (it keeps its fetch offset): the leader's epochs
    // end below our last one, so it is the one behind, and the metadata will say so.
    return absl::UnavailableError(absl::StrCat(
        tp_.DirName(), ": the leader knows no epoch at or below our last one; not truncating"));
  }
  int64_t target = leo;
  storage::EpochEndOffset mine = log_->EndOffsetForEpoch(LeaderEpoch(diverging.epoch));
  if (mine.epoch != diverging.epoch) {
    // We never saw the leader's epoch: cut back to where our own epoch below it ends and ask
    // again with an earlier last epoch (KIP-279).
    target = std::min(mine.end_offset < 0 ? log_->log_start_offset().value() : mine.end_offset, leo);
  } else {
    target = std::min({mine.end_offset, diverging.end_offset, leo});
  }
  // Even at the log end: epochs recorded there that no batch carries must go, or the next
  // fetch would report the same last epoch and diverge forever.
  if (target < leo) {
    Logger("replica")->info("{}: log diverges from the leader at epoch {} (leader ends it at {}); "
                            "truncating {} -> {}",
                            tp_.DirName(), diverging.epoch, diverging.end_offset, leo, target);
  }
  RETURN_IF_ERROR(log_->TruncateTo(Offset(target)));
  return log_->log_end_offset().value();
}

absl::Status Partition::AppendFromLeader(int32_t leader_epoch, std::string_view records,
                                         int64_t leader_high_watermark,
                                         int64_t leader_log_start_offset,
                                         int64_t leader_tombstone_floor) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  if (!records.empty()) {
    auto info = log_->AppendAsFollower(records);
    if (!info.ok()) return info.status();
  }
  int64_t leo = log_->log_end_offset().value();
  if (leader_log_start_offset > log_->log_start_offset().value() && leader_log_start_offset <= leo) {
    absl::Status s = log_->MaybeIncrementLogStartOffset(Offset(leader_log_start_offset));
    if (!s.ok()) return s;
  }
  // A follower's HW trails the leader's by one fetch, and never exceeds its own log end.
  int64_t hw = std::min(leader_high_watermark, leo);
  if (hw > log_->high_watermark().value()) log_->UpdateHighWatermark(Offset(hw));
  // Every replica has what lies below the leader's floor, this one included.
  log_->RaiseTombstoneFloor(std::min(leader_tombstone_floor, leo));
  return absl::OkStatus();
}

absl::Status Partition::TruncateToLeaderRange(int32_t leader_epoch, int64_t leader_log_start_offset,
                                              int64_t leader_log_end_offset) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckFollowingLocked(leader_epoch));
  int64_t leo = log_->log_end_offset().value();
  if (leo < leader_log_start_offset) {
    Logger("replica")->info("{}: log end {} is below the leader's log start {}; starting over there",
                            tp_.DirName(), leo, leader_log_start_offset);
    return log_->TruncateFullyAndStartAt(Offset(leader_log_start_offset));
  }
  if (leo > leader_log_end_offset) {
    Logger("replica")->warn("{}: log end {} is past the leader's {} (unclean election?); truncating",
                            tp_.DirName(), leo, leader_log_end_offset);
    return log_->TruncateTo(Offset(leader_log_end_offset));
  }
  return absl::OkStatus();
}

}  // namespace gregor::broker
