// Multi-process tests: real gregor-controller processes (1 and 3) on loopback with fake brokers.
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/controller/cluster_harness.h"

namespace gregor::testing {
namespace {

using controller::Controller;
using namespace std::chrono_literals;

const metadata::PartitionRecord* FindPartition(const controller::DescribeClusterResponse& d,
                                               const std::string& topic, int partition) {
  for (const auto& t : d.topics()) {
    if (t.name() != topic) continue;
    for (const auto& p : t.partitions()) {
      if (p.partition() == partition) return &p;
    }
  }
  return nullptr;
}

bool Contains(const google::protobuf::RepeatedField<int32_t>& list, int32_t x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

TEST(ControllerClusterTest, SingleControllerFencesAKilledBrokerAndMovesItsLeaderships) {
  ControllerCluster cluster(1, {"broker.session.timeout.ms=1500"});
  ASSERT_TRUE(cluster.StartController(1));
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(cluster.StartBroker(b));
  ASSERT_TRUE(cluster.WaitForBrokers({1, 2, 3}, "alive", 20s)) << cluster.Logs();

  auto created = cluster.CreateTopic("orders", 6, 3);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->results(0).error().code(), 0) << created->results(0).error().message();
  auto before = cluster.Describe();
  ASSERT_TRUE(before.ok());
  // Placement: each broker is the preferred leader of two partitions and holds all six.
  std::map<int, int> leaders;
  for (int p = 0; p < 6; ++p) {
    const auto* part = FindPartition(*before, "orders", p);
    ASSERT_NE(part, nullptr);
    EXPECT_EQ(part->replicas_size(), 3);
    EXPECT_EQ(part->isr_size(), 3);
    leaders[part->leader()]++;
  }
  EXPECT_EQ(leaders, (std::map<int, int>{{1, 2}, {2, 2}, {3, 2}}));

  // RF larger than the live brokers is refused.
  auto too_big = cluster.CreateTopic("big", 1, 4);
  ASSERT_TRUE(too_big.ok());
  EXPECT_EQ(too_big->results(0).error().code(), 38) << too_big->results(0).error().message();

  cluster.KillBroker(2);
  ASSERT_TRUE(cluster.WaitForBrokers({2}, "fenced", 10s)) << cluster.Logs();
  auto after = cluster.Describe();
  ASSERT_TRUE(after.ok());
  for (int p = 0; p < 6; ++p) {
    const auto* was = FindPartition(*before, "orders", p);
    const auto* now = FindPartition(*after, "orders", p);
    ASSERT_NE(now, nullptr);
    EXPECT_NE(now->leader(), 2) << "partition " << p;
    EXPECT_FALSE(Contains(now->isr(), 2)) << "partition " << p;
    EXPECT_EQ(now->isr_size(), 2);
    if (was->leader() == 2) {
      EXPECT_EQ(now->leader_epoch(), was->leader_epoch() + 1);
      // The first live in-sync replica in assignment order.
      int expected = was->replicas(0) != 2 ? was->replicas(0) : was->replicas(1);
      EXPECT_EQ(now->leader(), expected);
    } else {
      EXPECT_EQ(now->leader_epoch(), was->leader_epoch());
    }
    EXPECT_GT(now->partition_epoch(), was->partition_epoch());
  }

  // The broker comes back: new epoch, alive again (leaders re-add it to ISRs, not the controller).
  ASSERT_TRUE(cluster.StartBroker(2));
  ASSERT_TRUE(cluster.WaitForBrokers({2}, "alive", 10s)) << cluster.Logs();
  auto again = cluster.Describe();
  for (const auto& b : again->brokers()) {
    if (b.id() == 2) {
      for (const auto& old : before->brokers()) {
        if (old.id() == 2) {
          EXPECT_GT(b.epoch(), old.epoch());
        }
      }
    }
  }
}

TEST(ControllerClusterTest, ControlledShutdownMovesLeadershipBeforeTheBrokerStops) {
  ControllerCluster cluster(1);
  ASSERT_TRUE(cluster.StartController(1));
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(cluster.StartBroker(b));
  ASSERT_TRUE(cluster.WaitForBrokers({1, 2, 3}, "alive", 20s)) << cluster.Logs();
  ASSERT_TRUE(cluster.CreateTopic("t", 3, 3).ok());
  EXPECT_EQ(cluster.StopBroker(3), 0);  // SIGTERM: controlled shutdown, then asks to be fenced
  auto d = cluster.Describe();
  ASSERT_TRUE(d.ok());
  for (const auto& b : d->brokers()) {
    if (b.id() == 3) {
      EXPECT_EQ(b.state(), "fenced");
    }
  }
  for (int p = 0; p < 3; ++p) {
    const auto* part = FindPartition(*d, "t", p);
    EXPECT_NE(part->leader(), 3);
    EXPECT_FALSE(Contains(part->isr(), 3));
  }
}

TEST(ControllerClusterTest, MetadataSurvivesARestartThroughLogAndSnapshots) {
  // Tiny snapshot threshold: the restart reads a snapshot plus the log after it.
  ControllerCluster cluster(1, {"metadata.log.max.record.bytes.between.snapshots=1024"});
  ASSERT_TRUE(cluster.StartController(1));
  ASSERT_TRUE(cluster.StartBroker(1));
  ASSERT_TRUE(cluster.WaitForBrokers({1}, "alive", 20s)) << cluster.Logs();
  for (int i = 0; i < 30; ++i) {
    auto r = cluster.CreateTopic(absl::StrCat("topic-", i), 2, 1, {{"retention.ms", "1000"}});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->results(0).error().code(), 0);
  }
  auto before = cluster.Describe();
  ASSERT_TRUE(before.ok());
  cluster.KillController(1);
  ASSERT_TRUE(cluster.StartController(1));
  ASSERT_TRUE(WaitFor([&] { return cluster.ActiveController() == 1; }, 20s)) << cluster.Logs();
  auto after = cluster.Describe();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->topics_size(), 30);
  for (int i = 0; i < after->topics_size(); ++i) {
    EXPECT_EQ(after->topics(i).name(), before->topics(i).name());
    EXPECT_EQ(after->topics(i).topic_id(), before->topics(i).topic_id());
    EXPECT_EQ(after->topics(i).configs().at("retention.ms"), "1000");
    EXPECT_EQ(after->topics(i).partitions_size(), 2);
  }
  EXPECT_GE(after->metadata_offset(), before->metadata_offset());
}

TEST(ControllerClusterTest, ThreeControllersSurviveTheLossOfTheActiveOne) {
  ControllerCluster cluster(3);
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(cluster.StartController(id));
  int active = -1;
  ASSERT_TRUE(WaitFor([&] { return (active = cluster.ActiveController()) > 0; }, 20s)) << cluster.Logs();
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(cluster.StartBroker(b));
  ASSERT_TRUE(cluster.WaitForBrokers({1, 2, 3}, "alive", 20s)) << cluster.Logs();
  for (int i = 0; i < 5; ++i) {
    auto r = cluster.CreateTopic(absl::StrCat("t", i), 3, 3);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->results(0).error().code(), 0) << r->results(0).error().message();
  }
  // A standby refuses writes and says who is active.
  int standby = active == 1 ? 2 : 1;
  {
    grpc::ClientContext context;
    controller::CreateTopicsRequest request;
    request.add_topics()->set_name("x");
    controller::CreateTopicsResponse response;
    ASSERT_TRUE(cluster.client().StubFor(cluster.address(standby))->CreateTopics(&context, request, &response).ok());
    EXPECT_EQ(response.error().code(), 41);
    EXPECT_EQ(response.hint().active_controller_id(), active);
    EXPECT_EQ(response.hint().active_controller_address(), cluster.address(active));
  }
  auto before = cluster.Describe();
  ASSERT_TRUE(before.ok());

  cluster.KillController(active);
  int next = -1;
  ASSERT_TRUE(WaitFor([&] { return (next = cluster.ActiveController()) > 0 && next != active; }, 20s))
      << cluster.Logs();
  auto after = cluster.Describe();
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->topics_size(), 5);  // nothing committed was lost
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(after->topics(i).topic_id(), before->topics(i).topic_id());
  }
  // Brokers follow the new active controller and stay alive; writes work.
  ASSERT_TRUE(cluster.WaitForBrokers({1, 2, 3}, "alive", 10s));
  auto r = cluster.CreateTopic("after-failover", 1, 3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results(0).error().code(), 0);

  // The old active controller returns and catches up as a follower.
  ASSERT_TRUE(cluster.StartController(active));
  ASSERT_TRUE(WaitFor(
      [&] {
        auto d = cluster.DescribeFrom(active);
        return d.ok() && d->topics_size() == 6;
      },
      20s))
      << cluster.Logs();
}

}  // namespace
}  // namespace gregor::testing
