// The consumer-group part of `gregor cluster watch`: a thread that tails __consumer_offsets
// (from its end, no group) and describes every group twice a second, printing what
// GroupEventTracker makes of it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace gregor::tools {

class GroupWatcher {
 public:
  // `print(timestamp_ms, line)` is called from the watcher's thread.
  using Print = std::function<void(int64_t, const std::string&)>;
  GroupWatcher(std::string bootstrap, bool initial_state, Print print);
  ~GroupWatcher();
  void Start();
  void Stop();

 private:
  void Run();

  const std::string bootstrap_;
  const bool initial_state_;
  const Print print_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gregor::tools
