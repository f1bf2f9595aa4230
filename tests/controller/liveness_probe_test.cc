#include "controller/liveness_probe.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace gregor::controller {
namespace {

// A TCP socket bound to a free loopback port; listening or not.
class Port {
 public:
  explicit Port(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 16), 0);
    }
  }
  ~Port() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(LivenessProbeTest, ListeningPortAccepts) {
  Port p(/*listen=*/true);
  EXPECT_EQ(ProbeListener("127.0.0.1", p.port(), absl::Seconds(1)), ListenerProbe::kAccepting);
  // localhost may also resolve to ::1, where nothing listens: one accepting address is enough
  // to rule the process alive.
  EXPECT_NE(ProbeListener("localhost", p.port(), absl::Seconds(1)), ListenerProbe::kRefused);
}

TEST(LivenessProbeTest, BoundButNotListeningPortRefuses) {
  // A bound, non-listening socket holds the port, so nothing else can listen there meanwhile.
  Port p(/*listen=*/false);
  EXPECT_EQ(ProbeListener("127.0.0.1", p.port(), absl::Seconds(1)), ListenerProbe::kRefused);
}

TEST(LivenessProbeTest, UnresolvableOrUnsetSaysNothing) {
  EXPECT_EQ(ProbeListener("", 9092, absl::Seconds(1)), ListenerProbe::kNoAnswer);
  EXPECT_EQ(ProbeListener("127.0.0.1", 0, absl::Seconds(1)), ListenerProbe::kNoAnswer);
  EXPECT_EQ(ProbeListener("no-such-host.invalid", 9092, absl::Seconds(1)), ListenerProbe::kNoAnswer);
}

TEST(LivenessProbeTest, GoneOnlyWhenEveryListenerRefuses) {
  using P = ListenerProbe;
  EXPECT_TRUE(ProcessGone(P::kRefused, P::kRefused));
  EXPECT_FALSE(ProcessGone(P::kRefused, P::kAccepting));  // e.g. starting up, or shutting down
  EXPECT_FALSE(ProcessGone(P::kAccepting, P::kRefused));
  EXPECT_FALSE(ProcessGone(P::kRefused, P::kNoAnswer));   // unreachable: not proof
  EXPECT_FALSE(ProcessGone(P::kNoAnswer, P::kNoAnswer));
  EXPECT_FALSE(ProcessGone(P::kAccepting, P::kAccepting));  // paused (SIGSTOP) or alive
}

}  // namespace
}  // namespace gregor::controller
