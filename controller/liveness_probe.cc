#include "controller/liveness_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"

namespace gregor::controller {

namespace {

// Non-blocking connect to one resolved address.
ListenerProbe ProbeAddress(const addrinfo* ai, absl::Duration timeout) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) return ListenerProbe::kNoAnswer;
  ListenerProbe result = ListenerProbe::kNoAnswer;
  int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
  if (rc == 0) {
    result = ListenerProbe::kAccepting;
  } else if (errno == ECONNREFUSED) {
    result = ListenerProbe::kRefused;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
    if (::poll(&p, 1, ms) == 1) {
      int error = 0;
      socklen_t len = sizeof(error);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0) {
        if (error == 0) result = ListenerProbe::kAccepting;
        if (error == ECONNREFUSED) result = ListenerProbe::kRefused;
      }
    }
  }
  ::close(fd);
  return result;
}

}  // namespace

ListenerProbe ProbeListener(const std::string& host, int port, absl::Duration timeout) {
  if (host.empty() || port <= 0) return ListenerProbe::kNoAnswer;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = absl::StrCat(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return ListenerProbe::kNoAnswer;
  }
  // Every address of the name must refuse: one that accepts, or does not answer, is not proof.
  ListenerProbe verdict = ListenerProbe::kRefused;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    ListenerProbe p = ProbeAddress(ai, timeout);
    if (p == ListenerProbe::kAccepting) {
      verdict = p;
      break;
    }
    if (p == ListenerProbe::kNoAnswer) verdict = p;
  }
  ::freeaddrinfo(found);
  return verdict;
}

const char* ListenerProbeName(ListenerProbe p) {
  switch (p) {
    case ListenerProbe::kAccepting: return "accepting";
    case ListenerProbe::kRefused: return "refused";
    case ListenerProbe::kNoAnswer: return "no answer";
  }
  return "?";
}

}  // namespace gregor::controller
