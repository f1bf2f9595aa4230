#include "controller/metadata_state.h"

#include "common/logging.h"
#include "controller/cluster_events.h"

namespace gregor::controller {

absl::Status MetadataState::RestoreSnapshot(const quorum::Snapshot& snapshot) {
  metadata::MetadataSnapshot proto;
  if (!proto.ParseFromString(snapshot.data)) {
    return absl::DataLossError("metadata snapshot does not parse");
  }
  auto image = metadata::MetadataImage::FromSnapshot(proto);
  if (!image.ok()) return image.status();
  {
    absl::MutexLock lock(&mu_);
    image_ = std::move(*image);
    retained_.clear();
    retained_from_ = snapshot.last_index + 1;
    applied_ = snapshot.last_index;
  }
  Logger("controller")->info("restored metadata snapshot at offset {}", snapshot.last_index);
  if (on_applied_) on_applied_(snapshot.last_term);
  return absl::OkStatus();
}

void MetadataState::Apply(const quorum::Entry& entry) {
  if (!entry.data.empty()) {
    metadata::MetadataBatch batch;
    if (!batch.ParseFromString(entry.data)) {
      Logger("controller")->error("metadata entry {} does not parse; skipped", entry.index);
    } else {
      Committed committed;
      committed.offset = entry.index;
      absl::MutexLock lock(&mu_);
      for (const metadata::MetadataRecord& record : batch.records()) {
        DescribeRecord(image_, entry.index, batch.timestamp_ms(), record, &committed.events);
        absl::Status s = image_.ApplyRecord(entry.index, record);
        if (!s.ok()) {
          Logger("controller")->error("metadata entry {}: {}", entry.index, s.message());
        }
      }
      committed.batch = std::move(batch);
      retained_.push_back(std::move(committed));
      while (retained_.size() > max_retained_) {
        retained_from_ = retained_.front().offset + 1;
        retained_.pop_front();
      }
    }
  }
  {
    absl::MutexLock lock(&mu_);
    applied_ = entry.index;
  }
  if (on_applied_) on_applied_(entry.term);
}

std::string MetadataState::TakeSnapshot() {
  absl::MutexLock lock(&mu_);
  metadata::MetadataSnapshot snapshot = image_.ToSnapshot();
  snapshot.set_last_offset(applied_);
  return snapshot.SerializeAsString();
}

void MetadataState::OnLeaderChange(quorum::Role role, int64_t term, quorum::NodeId leader) {
  if (on_leader_change_) on_leader_change_(role, term, leader);
}

int64_t MetadataState::applied_offset() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

bool MetadataState::NextMetadataMessage(int64_t* next_offset, bool initial,
                                        WatchMetadataResponse* out) const {
  constexpr size_t kMaxBatchesPerMessage = 1000;
  absl::MutexLock lock(&mu_);
  out->Clear();
  if (*next_offset < retained_from_ && applied_ > 0) {
    // Too old for the retained batches: start from the image.
    *out->mutable_snapshot() = image_.ToSnapshot();
    out->mutable_snapshot()->set_last_offset(applied_);
    *next_offset = applied_ + 1;
    out->set_committed_offset(applied_);
    return true;
  }
  // First retained batch at or after *next_offset.
  auto it = std::lower_bound(retained_.begin(), retained_.end(), *next_offset,
                             [](const Committed& c, int64_t offset) { return c.offset < offset; });
  size_t added = 0;
  for (; it != retained_.end() && added < kMaxBatchesPerMessage; ++it, ++added) {
    MetadataDelta* delta = out->add_deltas();
    delta->set_offset(it->offset);
    *delta->mutable_batch() = it->batch;
  }
  int64_t before = *next_offset;
  *next_offset = it == retained_.end() ? applied_ + 1 : it->offset;
  out->set_committed_offset(applied_);
  return added > 0 || initial || *next_offset != before;
}

bool MetadataState::NextEventsMessage(int64_t* next_offset, WatchClusterEventsResponse* out) const {
  absl::MutexLock lock(&mu_);
  out->Clear();
  auto it = std::lower_bound(retained_.begin(), retained_.end(), *next_offset,
                             [](const Committed& c, int64_t offset) { return c.offset < offset; });
  for (; it != retained_.end() && out->events_size() < 10000; ++it) {
    for (const ClusterEvent& e : it->events) *out->add_events() = e;
  }
  *next_offset = it == retained_.end() ? applied_ + 1 : it->offset;
  return out->events_size() > 0;
}

}  // namespace gregor::controller
