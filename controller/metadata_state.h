// The controller quorum's state machine: the metadata image built from committed batches, plus
// the recent batches and their cluster events kept for WatchMetadata / WatchClusterEvents.
//
// Written only by the quorum driver's thread (Apply / RestoreSnapshot); read by gRPC handlers
// and the active controller under the mutex. Listeners are told after each change.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/metadata/metadata_image.h"
#include "controller/quorum/quorum_driver.h"
#include "proto/controller.pb.h"

namespace gregor::controller {

class MetadataState : public quorum::StateMachine {
 public:
  struct Committed {
    int64_t offset = 0;
    metadata::MetadataBatch batch;
    std::vector<ClusterEvent> events;
  };

  // `max_retained` bounds the batches kept for watchers; older ones are served as a snapshot.
  explicit MetadataState(size_t max_retained = 50000) : max_retained_(max_retained) {}

  // quorum::StateMachine
  absl::Status RestoreSnapshot(const quorum::Snapshot& snapshot) override;
  void Apply(const quorum::Entry& entry) override;
  std::string TakeSnapshot() override;
  void OnLeaderChange(quorum::Role role, int64_t term, quorum::NodeId leader) override;

  // Called (on the driver thread, without the lock) after every applied entry or restore.
  void SetOnApplied(std::function<void(int64_t term_of_entry)> f) { on_applied_ = std::move(f); }
  void SetOnLeaderChange(std::function<void(quorum::Role, int64_t, quorum::NodeId)> f) {
    on_leader_change_ = std::move(f);
  }

  // Runs `f` with the image under the lock.
  template <typename F>
  auto WithImage(F&& f) const {
    absl::MutexLock lock(&mu_);
    return f(image_);
  }
  // The last applied entry offset (no-ops included).
  int64_t applied_offset() const;

  // The next WatchMetadata message for a watcher that wants offsets from `*next_offset`, or
  // false if there is nothing new. Advances `*next_offset`. `initial`: send even if empty.
  bool NextMetadataMessage(int64_t* next_offset, bool initial, WatchMetadataResponse* out) const;
  // The same for cluster events.
  bool NextEventsMessage(int64_t* next_offset, WatchClusterEventsResponse* out) const;

 private:
  mutable absl::Mutex mu_;
  metadata::MetadataImage image_ ABSL_GUARDED_BY(mu_);
  std::deque<Committed> retained_ ABSL_GUARDED_BY(mu_);
  // Offsets below this are not all in retained_ (compacted or restored from a snapshot).
  int64_t retained_from_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t applied_ ABSL_GUARDED_BY(mu_) = 0;
  const size_t max_retained_;
  std::function<void(int64_t)> on_applied_;
  std::function<void(quorum::Role, int64_t, quorum::NodeId)> on_leader_change_;
};

}  // namespace gregor::controller
