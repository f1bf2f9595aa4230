// The hang guard: a small process that gregor-broker forks at start-up to watch over it.
//
// A broker process that stops running — SIGSTOP, a deadlock, a disk that hangs every thread —
// keeps its sockets: its clients' connections stay open, their requests sit unanswered, and a
// client has no reason to ask anyone else for metadata until its own request timeout (librdkafka:
// 30–60 s). The controller fences such a broker after broker.session.timeout.ms and elects new
// leaders, but the clients do not learn of it. The guard closes that gap: when the broker has
// not attempted a heartbeat for longer than the session timeout (plus a margin, so the
// controller has fenced it by then), the guard shuts down the broker's client connections
// (pidfd_getfd + shutdown(2); the kernel needs nothing from the stopped process). Clients see
// the connection drop, ask the other brokers for metadata, and move to the new leaders.
//
// A broker that runs but cannot reach the controller keeps beating (heartbeats are attempted),
// so the guard leaves it alone; a broker whose process is gone needs no guard (its kernel
// closed everything). The guard exits when the broker closes the pipe, or dies with it
// (PR_SET_PDEATHSIG).
//
// HangClock is the guard's decision, pure; HangGuard the two processes' plumbing.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

namespace gregor::broker {

// When to act: `margin_ms` after the session timeout has passed since the last beat; once per
// silence (the next beat re-arms it). No session timeout known (0) or disarmed: never.
class HangClock {
 public:
  explicit HangClock(int64_t margin_ms) : margin_ms_(margin_ms) {}
  void Beat(int64_t now_ms);
  void SetSessionTimeout(int64_t ms) { session_timeout_ms_ = ms; }
  void Disarm() { armed_ = false; }
  bool Due(int64_t now_ms) const;
  void Acted() { acted_ = true; }
  // Milliseconds until Due, or -1 if it cannot become due without a new message.
  int64_t WaitMs(int64_t now_ms) const;

 private:
  const int64_t margin_ms_;
  int64_t session_timeout_ms_ = 0;
  int64_t last_beat_ms_ = -1;
  bool armed_ = true;
  bool acted_ = false;
};

class HangGuard {
 public:
  // Forks the guard process. Must run before the broker starts any thread (fork copies only the
  // calling thread). Returns nullptr, after a warning on stderr, where the guard cannot work
  // (no pidfd_getfd: Linux before 5.6).
  static std::unique_ptr<HangGuard> Start();
  ~HangGuard();  // disarms the guard and closes the pipe: it exits

  // From the broker; each is one small non-blocking write to the pipe.
  void Beat();                              // a heartbeat attempt
  void SetSessionTimeout(int32_t ms);       // from the controller's registration answer
  void SetKafkaPort(int port);              // the bound Kafka listener
  pid_t pid() const { return child_; }

 private:
  HangGuard(int fd, pid_t child) : fd_(fd), child_(child) {}
  void Send(char type, int32_t value);
  const int fd_;
  const pid_t child_;
};

// In the guard: shuts down every established TCP connection of process `pid` whose local port
// is `port` (its Kafka clients). Returns how many; -1 with `error` when it could not look.
int ShutDownClientConnections(pid_t pid, int port, std::string* error);

}  // namespace gregor::broker
