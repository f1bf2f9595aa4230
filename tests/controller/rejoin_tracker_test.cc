#include "controller/rejoin_tracker.h"

#include "gtest/gtest.h"

namespace gregor::controller {
namespace {

TEST(RejoinTrackerTest, ABrokerLeadsAgainOnlyAfterTheDelayAndThatIsReportedOnce) {
  RejoinTracker t(12000);
  EXPECT_FALSE(t.Update({1, 2, 3}, 1000));  // everyone counts from the first look
  EXPECT_FALSE(t.MayLead(1));
  EXPECT_FALSE(t.Update({1, 2, 3}, 12999));
  EXPECT_TRUE(t.Update({1, 2, 3}, 13000));  // due now: an election at once
  EXPECT_TRUE(t.MayLead(1) && t.MayLead(2) && t.MayLead(3));
  EXPECT_FALSE(t.Update({1, 2, 3}, 13050));  // not again
}

TEST(RejoinTrackerTest, AFencedBrokerStartsOverWhenItComesBack) {
  RejoinTracker t(12000);
  t.Update({1, 2, 3}, 0);
  t.Update({1, 2, 3}, 20000);
  EXPECT_FALSE(t.Update({2, 3}, 21000));  // 1 fenced (killed)
  EXPECT_FALSE(t.MayLead(1));
  EXPECT_FALSE(t.Update({1, 2, 3}, 29000));  // 1 unfenced again at 29 s
  EXPECT_FALSE(t.MayLead(1));
  EXPECT_TRUE(t.MayLead(2));
  EXPECT_FALSE(t.Update({1, 2, 3}, 40999));
  EXPECT_TRUE(t.Update({1, 2, 3}, 41000));
  EXPECT_TRUE(t.MayLead(1));
}

TEST(RejoinTrackerTest, ResetCountsEveryoneFromTheNextLook) {
  RejoinTracker t(12000);
  t.Update({1, 2}, 0);
  t.Update({1, 2}, 12000);
  t.Reset();  // a new active controller
  EXPECT_FALSE(t.MayLead(1));
  EXPECT_FALSE(t.Update({1, 2}, 15000));
  EXPECT_TRUE(t.Update({1, 2}, 27000));
}

TEST(RejoinTrackerTest, NoDelayMeansAtOnce) {
  RejoinTracker t(0);
  EXPECT_TRUE(t.Update({4}, 5));
  EXPECT_TRUE(t.MayLead(4));
}

}  // namespace
}  // namespace gregor::controller
