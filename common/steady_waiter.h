// A timed wait on the monotonic clock for state guarded by an absl::Mutex.
//
// absl::Mutex::AwaitWithTimeout (Debian's Abseil 20220623) waits for an absolute CLOCK_REALTIME
// deadline, so a step of the wall clock (NTP, an operator's `date -s`) stretches a wait that
// spans it: a step back of an hour stalls a 100 ms tick loop for an hour. The nemesis's clock
// jumps showed it (a broker stopped writing its checkpoints until the hour had passed). This
// waits on CLOCK_MONOTONIC instead (std::condition_variable_any over steady_clock).
//
// Unlike Await, it is not woken by every unlock of the mutex: whoever makes `ready` true calls
// Notify() after changing the state under the mutex (then no wake-up can be lost).
#pragma once

#include <condition_variable>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gregor {

class SteadyWaiter {
 public:
  // With `mu` held: returns true once ready() holds, false after `timeout` (monotonic).
  template <typename Ready>
  bool WaitFor(absl::Mutex& mu, absl::Duration timeout, Ready ready) {
    Lockable lockable{mu};
    return cv_.wait_for(lockable, absl::ToChronoNanoseconds(timeout), ready);
  }
  void Notify() { cv_.notify_all(); }

 private:
  struct Lockable {  // what condition_variable_any needs of a mutex
    absl::Mutex& mu;
    void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Lock(); }
    void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu.Unlock(); }
  };
  std::condition_variable_any cv_;
};

}  // namespace gregor
