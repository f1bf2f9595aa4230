// Is a broker's process gone? The active controller asks when a broker's metadata stream (its
// long-lived connection to the controller) closes: a process that died (kill -9, crash, OOM)
// has had its connections closed by its kernel, and its listening ports now refuse new
// connections. A process that is merely paused (SIGSTOP) or cut off keeps its sockets: its
// listeners still accept (the kernel completes the handshake) or do not answer at all. So only
// "every listener refuses" is proof of death; anything else leaves the broker to the session
// timeout, and a slow machine causes no false failover.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace gregor::controller {

enum class ListenerProbe {
  kAccepting,  // the handshake completed: something listens there
  kRefused,    // ECONNREFUSED: nothing listens on that port on a live host
  kNoAnswer,   // timeout, unreachable, unresolvable: says nothing about the process
};

// One TCP connect to host:port, closed at once; at most `timeout`.
ListenerProbe ProbeListener(const std::string& host, int port, absl::Duration timeout);

// The verdict: gone only when both of the broker's listeners refuse.
inline bool ProcessGone(ListenerProbe kafka, ListenerProbe replication) {
  return kafka == ListenerProbe::kRefused && replication == ListenerProbe::kRefused;
}

const char* ListenerProbeName(ListenerProbe p);

}  // namespace gregor::controller
