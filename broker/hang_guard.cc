#include "broker/hang_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

namespace gregor::broker {

// ---- the decision --------------------------------------------------------------------------

void HangClock::Beat(int64_t now_ms) {
  last_beat_ms_ = now_ms;
  acted_ = false;
}

bool HangClock::Due(int64_t now_ms) const {
  if (!armed_ || acted_ || session_timeout_ms_ <= 0 || last_beat_ms_ < 0) return false;
  return now_ms - last_beat_ms_ >= session_timeout_ms_ + margin_ms_;
}

int64_t HangClock::WaitMs(int64_t now_ms) const {
  if (!armed_ || acted_ || session_timeout_ms_ <= 0 || last_beat_ms_ < 0) return -1;
  return std::max<int64_t>(0, last_beat_ms_ + session_timeout_ms_ + margin_ms_ - now_ms);
}

namespace {

// After the session timeout, the controller still has to notice (it checks every 50 ms),
// commit the fence and push it to the other brokers before clients that reconnect can learn
// the new leaders from them.
constexpr int64_t kMarginMs = 150;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Log(const char* format, const std::string& detail) {
  char stamp[32];
  std::time_t t = std::time(nullptr);
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  std::fprintf(stderr, "[%s] [hang-guard] [info] ", stamp);
  std::fprintf(stderr, format, detail.c_str());
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

int PidfdOpen(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int PidfdGetfd(int pidfd, int fd) { return static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0)); }

// Inodes of the established TCP sockets (all processes) with local port `port`.
std::set<uint64_t> EstablishedOnPort(pid_t pid, int port) {
  std::set<uint64_t> inodes;
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/net/" + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, skip;
      uint64_t inode = 0;
      fields >> sl >> local >> remote >> state;
      for (int i = 0; i < 5; ++i) fields >> skip;  // tx:rx tr:when retrnsmt uid timeout
      fields >> inode;
      size_t colon = local.rfind(':');
      if (!fields || colon == std::string::npos || state != "01") continue;  // 01: ESTABLISHED
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return inodes;
}

}  // namespace

int ShutDownClientConnections(pid_t pid, int port, std::string* error) {
  std::set<uint64_t> inodes = EstablishedOnPort(pid, port);
  if (inodes.empty()) return 0;
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) {
    *error = std::string("pidfd_open: ") + std::strerror(errno);
    return -1;
  }
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *error = dir + ": " + std::strerror(errno);
    ::close(pidfd);
    return -1;
  }
  int count = 0;
  while (dirent* e = ::readdir(d)) {
    char target[64];
    std::string link = dir + "/" + e->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    uint64_t inode = 0;
    if (std::sscanf(target, "socket:[%lu]", &inode) != 1 || !inodes.count(inode)) continue;
    int fd = PidfdGetfd(pidfd, std::atoi(e->d_name));
    if (fd < 0) {
      *error = std::string("pidfd_getfd: ") + std::strerror(errno);
      continue;
    }
    if (::shutdown(fd, SHUT_RDWR) == 0) ++count;
    ::close(fd);
  }
  ::closedir(d);
  ::close(pidfd);
  return count;
}

// ---- the guard process -----------------------------------------------------------------------

namespace {

[[noreturn]] void GuardMain(int fd, pid_t broker) {
  HangClock clock(kMarginMs);
  int port = 0;
  bool warned = false;
  while (true) {
    int64_t wait = clock.WaitMs(NowMs());
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, wait < 0 ? -1 : static_cast<int>(std::min<int64_t>(wait, 60000)));
    if (ready < 0 && errno != EINTR) ::_exit(1);
    if (ready > 0) {
      char message[5];
      ssize_t n = ::read(fd, message, sizeof(message));
      if (n == 0) ::_exit(0);  // the broker closed the pipe (or died)
      if (n != sizeof(message)) continue;
      int32_t value;
      std::memcpy(&value, message + 1, 4);
      switch (message[0]) {
        case 'B': clock.Beat(NowMs()); break;
        case 'T': clock.SetSessionTimeout(value); break;
        case 'P': port = value; break;
        case 'Q': clock.Disarm(); break;
        default: break;
      }
      continue;
    }
    if (!clock.Due(NowMs()) || port <= 0) continue;
    clock.Acted();
    std::string error;
    int closed = ShutDownClientConnections(broker, port, &error);
    if (closed == 0) {
      Log("the broker has not run for longer than its session timeout%s; it has no client "
          "connections to close", "");
    } else if (closed > 0) {
      Log("the broker has not run for longer than its session timeout: shut down its %s client "
          "connection(s), so that its clients move to the new leaders",
          std::to_string(closed));
    }
    if (!error.empty() && !warned) {
      warned = true;
      Log("cannot close the broker's client connections: %s", error);
    }
  }
}

}  // namespace

std::unique_ptr<HangGuard> HangGuard::Start() {
  int self = PidfdOpen(::getpid());
  if (self < 0) {
    std::fprintf(stderr, "gregor-broker: no hang guard (pidfd_open: %s): clients of a broker "
                         "that hangs wait for their own request timeouts\n", std::strerror(errno));
    return nullptr;
  }
  ::close(self);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return nullptr;
  const pid_t broker = ::getpid();
  pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (child == 0) {
    ::close(fds[1]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != broker) ::_exit(0);  // the broker is already gone
    ::prctl(PR_SET_NAME, "gregor-guard");
    ::signal(SIGINT, SIG_IGN);  // Ctrl-C stops the broker, which then closes the pipe
    GuardMain(fds[0], broker);
  }
  ::close(fds[0]);
  ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<HangGuard>(new HangGuard(fds[1], child));
}

HangGuard::~HangGuard() {
  Send('Q', 0);
  ::close(fd_);
}

void HangGuard::Send(char type, int32_t value) {
  char message[5];
  message[0] = type;
  std::memcpy(message + 1, &value, 4);
  // Non-blocking: if the guard is not reading (it cannot be stuck for long), a beat is lost,
  // which only makes it act later.
  (void)!::write(fd_, message, sizeof(message));
}

void HangGuard::Beat() { Send('B', 0); }
void HangGuard::SetSessionTimeout(int32_t ms) { Send('T', ms); }
void HangGuard::SetKafkaPort(int port) { Send('P', port); }

}  // namespace gregor::broker
