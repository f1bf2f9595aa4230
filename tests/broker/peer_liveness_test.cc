#include "broker/peer_liveness.h"

#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

TEST(PeerLivenessTest, HoldsFromTheLossForAtMostTheBound) {
  PeerLiveness peers(500);
  EXPECT_FALSE(peers.ShouldHold(2, 1000));
  peers.ConnectionLost(2, 1000);
  EXPECT_TRUE(peers.ShouldHold(2, 1000));
  EXPECT_TRUE(peers.ShouldHold(2, 1499));
  EXPECT_FALSE(peers.ShouldHold(2, 1500));
  EXPECT_FALSE(peers.ShouldHold(3, 1000));  // only the broker that was lost
  EXPECT_EQ(peers.HoldUntilMs(2), 1500);
}

TEST(PeerLivenessTest, RepeatedFailuresDoNotExtendTheEpisode) {
  PeerLiveness peers(500);
  peers.ConnectionLost(2, 1000);
  peers.ConnectionLost(2, 1400);  // the reconnect failed too
  EXPECT_FALSE(peers.ShouldHold(2, 1600));
}

TEST(PeerLivenessTest, AWorkingConnectionEndsTheHoldAndANewLossStartsAnother) {
  PeerLiveness peers(500);
  peers.ConnectionLost(2, 1000);
  peers.ConnectionUp(2);
  EXPECT_FALSE(peers.ShouldHold(2, 1001));
  peers.ConnectionLost(2, 5000);
  EXPECT_TRUE(peers.ShouldHold(2, 5100));
}

}  // namespace
}  // namespace gregor::broker
