// The leader's view of its followers for one partition: pure state, no threads, no clock reads
// (`now_ms` is passed in). Owned by a Partition and used under its lock.
//
// What it decides (Kafka's Partition / Replica logic):
//  - Follower log end offsets are learned from their fetch offsets. A follower is "caught up"
//    at a fetch whose offset reaches the leader's log end offset; when it only reaches the
//    leader's log end offset as of its previous fetch, it counts as caught up at that previous
//    fetch time (so a steady trickle of produces cannot push a healthy follower out).
//  - High watermark = min log end offset over the maximal ISR (the committed ISR plus members an
//    in-flight change adds), the leader's own included; it never goes backwards; it does not
//    advance while the committed ISR is smaller than min.insync.replicas, nor while an ISR member
//    has not fetched yet in this leader epoch.
//  - Shrink: an ISR follower not caught up for longer than replica.lag.time.max.ms leaves.
//  - Expand: a replica outside the ISR joins once its log end offset reaches the high watermark
//    and the current leader epoch's start offset, if the broker is usable (alive, current epoch).
//  - At most one ISR change in flight; the controller's answer (or new metadata) ends it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace gregor::broker {

class LeaderState {
 public:
  explicit LeaderState(int32_t local_broker = -1, int64_t replica_lag_time_max_ms = 30000)
      : local_(local_broker), lag_max_ms_(replica_lag_time_max_ms) {}

  // This broker just became leader (or the leader epoch changed).
  void Reset(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr,
             int64_t epoch_start_offset, int64_t now_ms);
  // The controller's committed view changed (ISR, replicas). Ends an in-flight change when the
  // metadata reflects it (or anything newer).
  void UpdateFromMetadata(const std::vector<int32_t>& replicas, const std::vector<int32_t>& isr);

  // A follower fetched at `fetch_offset` while the leader's log ended at `leader_leo`.
  void OnFollowerFetch(int32_t replica, int64_t fetch_offset, int64_t leader_leo, int64_t now_ms,
                       int64_t log_start_offset = -1);

  // The high watermark these offsets allow, if above `current_hw`.
  std::optional<int64_t> NewHighWatermark(int64_t leader_leo, int64_t current_hw,
                                          int32_t min_insync_replicas) const;

  // An ISR to propose, if a change is due and none is in flight.
  std::optional<std::vector<int32_t>> IsrToExpand(int64_t high_watermark,
                                                  const std::function<bool(int32_t)>& eligible) const;
  std::optional<std::vector<int32_t>> IsrToShrink(int64_t leader_leo, int64_t now_ms) const;

  void SetInFlight(std::vector<int32_t> proposed) { in_flight_ = std::move(proposed); }
  void ClearInFlight() { in_flight_.reset(); }
  bool in_flight() const { return in_flight_.has_value(); }
  bool InFlightIs(const std::vector<int32_t>& isr) const { return in_flight_ && *in_flight_ == isr; }

  const std::vector<int32_t>& isr() const { return isr_; }
  // The committed ISR plus the members an in-flight change would add.
  std::vector<int32_t> MaximalIsr() const;
  // -1 if the replica has not fetched in this leader epoch.
  int64_t FollowerLogEndOffset(int32_t replica) const;
  // The smallest log end offset over every assigned replica (the leader's is `leader_leo`), in
  // or out of the ISR; nullopt while one has not fetched in this leader epoch. Below it every
  // replica has every record: the log cleaner may remove tombstones there (issue 12).
  std::optional<int64_t> MinReplicaLogEndOffset(int64_t leader_leo) const;
  int64_t LastCaughtUpMs(int32_t replica) const;
  // DeleteRecords' low watermark: the smallest log start offset of the leader (`leader_start`)
  // and the ISR's followers; -1 while one of them has not said its own (Kafka's
  // lowWatermarkIfLeader).
  int64_t LowWatermark(int64_t leader_start) const;

 private:
  struct Follower {
    int64_t log_end_offset = -1;
    int64_t last_caught_up_ms = 0;
    int64_t last_fetch_ms = 0;
    int64_t leader_leo_at_last_fetch = -1;
    int64_t log_start_offset = -1;
  };
  bool IsCaughtUp(const Follower& f, int64_t leader_leo, int64_t now_ms) const;

  int32_t local_;
  int64_t lag_max_ms_;
  std::vector<int32_t> replicas_;
  std::vector<int32_t> isr_;
  int64_t epoch_start_offset_ = 0;
  std::map<int32_t, Follower> followers_;
  std::optional<std::vector<int32_t>> in_flight_;
};

}  // namespace gregor::broker
