// Helpers for multi-process tests: start real processes, find free loopback ports, wait for
// conditions with deadlines, and stop exactly the processes a test started (by PID).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace gregor::testing {

// A child process with stdout and stderr sent to `log_path`. Killed (SIGKILL) on destruction if
// still running.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Starts argv[0] with arguments. Returns false (and says why on stderr) if fork/exec fails.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path);
  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int signal);
  // Waits up to `timeout` for the process to exit; returns its exit status (or -signal), or
  // nullopt-like INT32_MIN on timeout.
  int Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void Kill();
  // SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
int FreePort();

// Polls `condition` every 20 ms until it is true or `timeout` passes. Returns its last value.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// The whole content of a file (e.g. a process log, for failure messages).
std::string ReadFileOrEmpty(const std::string& path);

// The directory holding the test binaries' sibling programs (set from the environment variable
// GREGOR_BUILD_DIR by CTest, else derived from /proc/self/exe).
std::string BuildDir();

}  // namespace gregor::testing
