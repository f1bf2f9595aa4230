// Which brokers may take their preferred leaderships back (the preferred-leader election).
//
// A broker that comes back is not given leaderships at once. While it was down, clients that
// tried to reach it entered their reconnect backoff (librdkafka's grows to
// reconnect.backoff.max.ms, 10 s by default, and nothing on the produce path resets it): moved
// back too early, a partition's new leader is one its producers cannot reach for seconds, and
// every produce to it stalls. So a broker leads again only once it has been alive (unfenced)
// for leader.imbalance.rejoin.delay.ms; every backoff scheduled by a failed attempt before it
// came back has run out by then (controller/README.md).
//
// Soft state of the active controller, rebuilt from the image at each check; a new active
// controller counts every broker from its activation. Pure: the caller passes the time.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace gregor::controller {

class RejoinTracker {
 public:
  explicit RejoinTracker(int64_t delay_ms) : delay_ms_(delay_ms) {}

  // `alive`: the brokers unfenced now. Returns true when a broker became eligible since the
  // last call: its preferred leaderships should move back now, not at the next periodic check.
  bool Update(const std::vector<int32_t>& alive, int64_t now_ms);
  bool MayLead(int32_t broker) const { return eligible_.count(broker) > 0; }
  const std::set<int32_t>& eligible() const { return eligible_; }
  // Forget everything (a new active controller): everyone alive counts from the next Update.
  void Reset();

 private:
  const int64_t delay_ms_;
  std::map<int32_t, int64_t> alive_since_ms_;
  std::set<int32_t> eligible_;
};

}  // namespace gregor::controller
