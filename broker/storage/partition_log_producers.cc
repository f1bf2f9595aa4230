// PartitionLog's idempotent-producer state (partition_log.h): load, replay, snapshots, the
// leader's checks and what every append records.
#include <map>

#include "absl/strings/str_cat.h"
#include "broker/storage/partition_log.h"
#include "broker/storage/producer_snapshot.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::storage {
namespace {

bool Idempotent(const record::BatchHeader& h) { return h.producer_id >= 0; }

// By lastOffsetDelta, not recordsCount: a batch the cleaner emptied keeps its sequence range.
ProducerBatch BatchOf(const record::BatchHeader& h, int64_t base_offset, int64_t max_timestamp) {
  return {h.base_sequence, LastSequence(h.base_sequence, h.last_offset_delta + 1), base_offset,
          base_offset + h.last_offset_delta, max_timestamp};
}

}  // namespace

absl::Status PartitionLog::LoadProducerStateLocked() {
  const int64_t leo = active().next_offset();
  producers_ = ProducerStateTable();
  loaded_producer_snapshot_.reset();
  int64_t from = log_start_offset_;
  std::vector<int64_t> snapshots = ListProducerSnapshots(dir_);
  for (auto it = snapshots.rbegin(); it != snapshots.rend(); ++it) {
    if (*it > leo || *it < log_start_offset_) {
      DeleteProducerSnapshot(dir_, *it);  // truncated away, or below the log start
      continue;
    }
    if (loaded_producer_snapshot_) continue;
    auto table = ReadProducerSnapshot(dir_, *it);
    if (!table.ok()) {
      Logger("storage")->warn("ignoring producer snapshot of {}: {}", topic_partition_.DirName(),
                              table.status().message());
      DeleteProducerSnapshot(dir_, *it);
      continue;
    }
    producers_ = std::move(*table);
    producers_.RemoveBelow(log_start_offset_);
    loaded_producer_snapshot_ = *it;
    from = *it;
  }
  return ReplayProducersLocked(from);
}

absl::Status PartitionLog::ReplayProducersLocked(int64_t from) {
  auto it = segments_.upper_bound(from);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) {
    if (it->second->next_offset() <= from) continue;
    RETURN_IF_ERROR(it->second->ForEachBatch([&](int64_t, const record::BatchHeader& h) {
      if (h.base_offset >= from && Idempotent(h)) {
        producers_.Record(h.producer_id, h.producer_epoch, BatchOf(h, h.base_offset, h.max_timestamp));
      }
    }));
  }
  return absl::OkStatus();
}

absl::Status PartitionLog::SnapshotProducersLocked() {
  const int64_t leo = active().next_offset();
  std::vector<int64_t> existing = ListProducerSnapshots(dir_);
  if (!existing.empty() && existing.back() == leo) return absl::OkStatus();
  return WriteProducerSnapshot(dir_, leo, producers_);
}

absl::StatusOr<std::optional<ProducerBatch>> PartitionLog::CheckProducersLocked(
    const std::vector<record::BatchHeader>& headers) const {
  // Later batches of one request are checked as if the earlier ones were recorded: on a copy of
  // their producer's entry (offsets are not assigned yet; the checks only need sequences).
  std::map<int64_t, ProducerEntry> staged;
  for (const record::BatchHeader& h : headers) {
    if (h.is_transactional()) {
      return KafkaError(KafkaErrorCode::kInvalidRecord,
                        "transactional batches need transactions, which Gregor does not support");
    }
    if (!Idempotent(h)) continue;
    if (h.base_sequence < 0 || h.producer_epoch < 0) {
      return KafkaError(KafkaErrorCode::kInvalidRecord,
                        absl::StrCat("batch of producer ", h.producer_id, " has sequence ",
                                     h.base_sequence, " and epoch ", h.producer_epoch));
    }
    auto st = staged.find(h.producer_id);
    const ProducerEntry* entry = st != staged.end() ? &st->second : producers_.Find(h.producer_id);
    ProducerCheck check = CheckBatch(entry, h.producer_epoch, h.base_sequence, h.records_count);
    if (check.duplicate && check.duplicate->first_offset < 0) {
      return KafkaError(KafkaErrorCode::kOutOfOrderSequenceNumber,
                        absl::StrCat("a produce request repeats a batch of producer ", h.producer_id));
    }
    if (check.duplicate) return check.duplicate;
    if (check.error != KafkaErrorCode::kNone) {
      return KafkaError(
          check.error,
          absl::StrCat("producer ", h.producer_id, " epoch ", h.producer_epoch, " sent sequence ",
                       h.base_sequence, " to ", topic_partition_.DirName(), "; it is at epoch ",
                       entry->epoch, " sequence ",
                       entry->batches.empty() ? -1 : entry->batches.back().last_seq));
    }
    if (st == staged.end()) st = staged.emplace(h.producer_id, entry ? *entry : ProducerEntry()).first;
    AppendBatch(st->second, h.producer_epoch, BatchOf(h, -1, -1));
  }
  return std::optional<ProducerBatch>();
}

void PartitionLog::RecordProducersLocked(const std::vector<record::BatchHeader>& headers,
                                         const std::vector<BatchSummary>& summaries) {
  for (size_t i = 0; i < headers.size(); ++i) {
    if (!Idempotent(headers[i])) continue;
    producers_.Record(headers[i].producer_id, headers[i].producer_epoch,
                      BatchOf(headers[i], summaries[i].base_offset, summaries[i].max_timestamp));
  }
}

void PartitionLog::TrimProducersBelowStartLocked() {
  producers_.RemoveBelow(log_start_offset_);
  for (int64_t offset : ListProducerSnapshots(dir_)) {
    if (offset < log_start_offset_) DeleteProducerSnapshot(dir_, offset);
  }
}

void PartitionLog::ClearProducersLocked() {
  producers_ = ProducerStateTable();
  loaded_producer_snapshot_.reset();
  for (int64_t offset : ListProducerSnapshots(dir_)) DeleteProducerSnapshot(dir_, offset);
}

ProducerStateTable PartitionLog::ProducerStates() const {
  absl::MutexLock lock(&mu_);
  return producers_;
}

void PartitionLog::ExpireProducers(int64_t expiration_ms) {
  absl::MutexLock lock(&mu_);
  producers_.Expire(clock_->WallMs(), expiration_ms);
}

absl::Status PartitionLog::TakeProducerSnapshot() {
  absl::MutexLock lock(&mu_);
  return SnapshotProducersLocked();
}

std::optional<int64_t> PartitionLog::loaded_producer_snapshot() const {
  absl::MutexLock lock(&mu_);
  return loaded_producer_snapshot_;
}

}  // namespace gregor::storage
