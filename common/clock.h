// An injectable clock. Production code takes a `Clock&` and never reads the time itself, so
// tests and simulations control time with ManualClock.
#pragma once

#include <atomic>
#include <cstdint>

namespace gregor {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch: record timestamps, retention, anything on disk.
  virtual int64_t WallMs() const = 0;
  // Monotonic milliseconds: timeouts, lag and liveness tracking.
  virtual int64_t SteadyMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t WallMs() const override;
  int64_t SteadyMs() const override;
  // The process-wide instance.
  static SystemClock& Get();
};

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000, int64_t steady_ms = 0)
      : wall_ms_(wall_ms), steady_ms_(steady_ms) {}
  int64_t WallMs() const override { return wall_ms_.load(); }
  int64_t SteadyMs() const override { return steady_ms_.load(); }
  void Advance(int64_t ms) {
    wall_ms_ += ms;
    steady_ms_ += ms;
  }
  void SetWallMs(int64_t ms) { wall_ms_ = ms; }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> steady_ms_;
};

}  // namespace gregor
