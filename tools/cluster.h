// `gregor cluster describe|health|watch`: the cluster as the controller sees it.
#pragma once

#include <ostream>

#include "tools/admin_common.h"

namespace CLI {
class App;
}

namespace gregor::tools {

struct ClusterOptions {
  ClusterAddress cluster;
  int timeout_ms = 10000;
  // watch: stop after this many events or seconds (0: run until interrupted).
  int max_events = 0;
  int duration_s = 0;
  bool no_initial_state = false;
  bool no_groups = false;  // watch: leave out consumer-group events
  // health: keep asking for up to this many seconds until healthy (0: answer at once).
  int wait_s = 0;
};

int RunClusterDescribe(const ClusterOptions& options, std::ostream& out, std::ostream& err);
// Exit status 1 when any partition is offline or under-replicated (or a broker is fenced).
int RunClusterHealth(const ClusterOptions& options, std::ostream& out, std::ostream& err);
// A live, timestamped view of cluster events; follows the active controller across failovers.
int RunClusterWatch(const ClusterOptions& options, std::ostream& out, std::ostream& err);

void AddClusterCommands(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
