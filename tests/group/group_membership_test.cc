// The classic group protocol's state machine (consumer-groups.md §3): joins, syncs, heartbeats,
// leaves, timers, static members, protocol selection, admission.
#include "tests/group/group_test_util.h"

namespace gregor::group::testing {
namespace {

TEST_F(GroupFixture, FirstMemberLeadsAndSyncPersistsBeforeAnswering) {
  auto j = Join(JoinReq());
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->error, E::kNone);
  EXPECT_EQ(j->generation, 1);
  EXPECT_EQ(j->protocol_name, "range");
  EXPECT_EQ(j->leader, j->member_id);
  EXPECT_EQ(j->member_id.rfind("client-", 0), 0u);
  ASSERT_EQ(j->members.size(), 1u);
  EXPECT_EQ(State(), GroupState::kCompletingRebalance);

  store_.auto_complete = false;
  auto s = Sync(j->member_id, 1, {{j->member_id, "assignment"}});
  EXPECT_FALSE(s.ready()) << "answered before the group was written";
  ASSERT_EQ(store_.pending.size(), 1u);
  auto value = DecodeGroupValue(*store_.pending[0].records[0].value);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->generation, 1);
  ASSERT_EQ(value->members.size(), 1u);
  EXPECT_EQ(value->members[0].assignment, "assignment");
  store_.CompleteAll();
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, E::kNone);
  EXPECT_EQ(s->assignment, "assignment");
  EXPECT_EQ(State(), GroupState::kStable);
}

TEST_F(GroupFixture, NewMemberRebalancesAndOnlyTheLeaderGetsMembers) {
  auto [a, gen] = StableSingle();
  auto jb = Join(JoinReq());
  EXPECT_FALSE(jb.ready());
  EXPECT_EQ(State(), GroupState::kPreparingRebalance);
  EXPECT_EQ(Heartbeat(a, gen), E::kRebalanceInProgress);
  EXPECT_EQ(Commit(a, gen, 5)[0], E::kNone) << "commits are accepted while preparing (§8.3)";
  auto ja = Join(JoinReq(a));
  ASSERT_TRUE(ja.ready());
  ASSERT_TRUE(jb.ready());
  EXPECT_EQ(ja->generation, 2);
  EXPECT_EQ(jb->generation, 2);
  EXPECT_EQ(ja->leader, a);
  EXPECT_EQ(ja->members.size(), 2u);
  EXPECT_TRUE(jb->members.empty());
  EXPECT_EQ(Commit(a, 2, 6)[0], E::kRebalanceInProgress) << "refused in CompletingRebalance";
  EXPECT_EQ(Heartbeat(jb->member_id, 2), E::kNone);
  // The follower waits for the leader's assignment; a member left out gets an empty one.
  auto sb = Sync(jb->member_id, 2);
  EXPECT_FALSE(sb.ready());
  auto sa = Sync(a, 2, {{a, "for-a"}});
  ASSERT_TRUE(sb.ready());
  EXPECT_EQ(sa->assignment, "for-a");
  EXPECT_EQ(sb->assignment, "");
  EXPECT_EQ(Commit(a, 2, 7)[0], E::kNone);
  EXPECT_EQ(Committed(), 7);
}

TEST_F(GroupFixture, StaleGenerationsAndUnknownMembers) {
  auto [a, gen] = StableSingle();
  EXPECT_EQ(Heartbeat(a, gen - 1), E::kIllegalGeneration);
  EXPECT_EQ(Sync(a, gen + 1)->error, E::kIllegalGeneration);
  EXPECT_EQ(Commit(a, gen + 1, 1)[0], E::kIllegalGeneration);
  EXPECT_EQ(Heartbeat("nobody", gen), E::kUnknownMemberId);
  EXPECT_EQ(Join(JoinReq("nobody"))->error, E::kUnknownMemberId);
  EXPECT_EQ(Commit("nobody", gen, 1)[0], E::kUnknownMemberId);
  EXPECT_EQ(c().Heartbeat({"", 1, a, std::nullopt}), E::kInvalidGroupId);
  EXPECT_EQ(c().Heartbeat({"other", 1, a, std::nullopt}), E::kUnknownMemberId);
}

TEST_F(GroupFixture, SessionExpiryRemovesTheSilentMember) {
  auto [a, gen] = StableSingle();
  auto jb = Join(JoinReq());
  auto ja = Join(JoinReq(a));
  ASSERT_TRUE(jb.ready());
  Sync(a, 2, {});
  Sync(jb->member_id, 2);
  EXPECT_EQ(State(), GroupState::kStable);
  // a keeps heartbeating, b goes silent.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(3000);
    EXPECT_EQ(Heartbeat(a, 2), E::kNone);
    c().Tick();
  }
  EXPECT_EQ(State(), GroupState::kPreparingRebalance);
  EXPECT_EQ(Heartbeat(jb->member_id, 2), E::kUnknownMemberId);
  auto again = Join(JoinReq(a));
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->generation, 3);
  EXPECT_EQ(again->members.size(), 1u);
}

TEST_F(GroupFixture, RebalanceTimeoutDropsMembersThatDoNotRejoin) {
  auto [a, gen] = StableSingle();
  auto jb = Join(JoinReq());
  ASSERT_FALSE(jb.ready());
  // a keeps heartbeating (27) but never rejoins; the join completes at the rebalance timeout.
  EXPECT_EQ(c().NextDeadline(), clock_.SteadyMs() + 10000) << "a's session comes first";
  for (int t = 0; t < 30000; t += 3000) {
    clock_.Advance(3000);
    EXPECT_EQ(Heartbeat(a, gen), E::kRebalanceInProgress);
    c().Tick();
  }
  ASSERT_TRUE(jb.ready());
  EXPECT_EQ(jb->generation, 2);
  EXPECT_EQ(jb->leader, jb->member_id) << "the leader did not rejoin: a joined member leads";
  EXPECT_EQ(jb->members.size(), 1u);
  EXPECT_EQ(Heartbeat(a, gen), E::kUnknownMemberId);
}

TEST_F(GroupFixture, JoinV0UsesTheSessionTimeoutAsRebalanceTimeout) {
  // The handler passes the session timeout for v0; a silent member then ends the join after it.
  auto [a, gen] = StableSingle();
  JoinRequest r = JoinReq();
  r.rebalance_timeout_ms = r.session_timeout_ms;
  auto jb = Join(r);
  clock_.Advance(10000);
  c().Tick();
  ASSERT_TRUE(jb.ready());
  EXPECT_EQ(jb->generation, 2);
}

TEST_F(GroupFixture, InitialDelayWaitsAndExtendsForNewcomers) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 3000});
  auto j1 = Join(JoinReq());
  clock_.Advance(2000);
  c().Tick();
  auto j2 = Join(JoinReq());
  EXPECT_FALSE(j1.ready());
  clock_.Advance(1000);  // the first delay ends; a member arrived during it: one more delay
  c().Tick();
  EXPECT_FALSE(j1.ready());
  clock_.Advance(3000);
  c().Tick();
  ASSERT_TRUE(j1.ready());
  ASSERT_TRUE(j2.ready());
  EXPECT_EQ(j1->generation, 1);
  EXPECT_EQ(j1->members.size() + j2->members.size(), 2u);
}

TEST_F(GroupFixture, PendingSyncExpiryRemovesMembersThatNeverSync) {
  auto [a, gen] = StableSingle();
  auto jb = Join(JoinReq());
  auto ja = Join(JoinReq(a));
  Sync(a, 2, {});
  // b never sends SyncGroup: removed after the rebalance timeout.
  for (int t = 0; t < 30000; t += 3000) {
    clock_.Advance(3000);
    Heartbeat(a, 2);
    c().Tick();
  }
  EXPECT_EQ(State(), GroupState::kPreparingRebalance);
  EXPECT_EQ(Heartbeat(jb->member_id, 2), E::kUnknownMemberId);
}

TEST_F(GroupFixture, LeaveRebalancesAndMovesLeadership) {
  auto [a, gen] = StableSingle();
  auto jb = Join(JoinReq());
  Join(JoinReq(a));
  Sync(a, 2, {});
  Sync(jb->member_id, 2);
  auto left = c().Leave("g", {{a, std::nullopt}});
  EXPECT_EQ(left.error, E::kNone);
  EXPECT_EQ(left.members[0].second, E::kNone);
  EXPECT_EQ(State(), GroupState::kPreparingRebalance);
  auto rejoin = Join(JoinReq(jb->member_id));
  ASSERT_TRUE(rejoin.ready());
  EXPECT_EQ(rejoin->leader, jb->member_id);
  EXPECT_EQ(c().Leave("g", {{"nobody", std::nullopt}}).members[0].second, E::kUnknownMemberId);
  // The last member leaving empties the group (written, generation bumped).
  Sync(jb->member_id, 3, {});
  c().Leave("g", {{jb->member_id, std::nullopt}});
  EXPECT_EQ(State(), GroupState::kEmpty);
  EXPECT_EQ(c().Describe("g").members.size(), 0u);
  auto record = DecodeGroupValue(*store_.written.back().records[0].value);
  EXPECT_EQ(record->generation, 4);
  EXPECT_FALSE(record->protocol.has_value());
}

TEST_F(GroupFixture, ProtocolSelectionByVote) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 100});
  auto a = Join(JoinReq("", {"range", "roundrobin"}));
  auto b = Join(JoinReq("", {"roundrobin", "range"}));
  auto d = Join(JoinReq("", {"roundrobin", "range", "sticky"}));
  clock_.Advance(100);
  c().Tick();
  clock_.Advance(100);
  c().Tick();
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(a->protocol_name, "roundrobin");
  // Not supported by every member: refused.
  EXPECT_EQ(Join(JoinReq("", {"sticky"}))->error, E::kInconsistentGroupProtocol);
  JoinRequest other = JoinReq();
  other.protocol_type = "connect";
  EXPECT_EQ(Join(other)->error, E::kInconsistentGroupProtocol);
}

TEST_F(GroupFixture, TieGoesToTheLeadersOrder) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 100});
  auto a = Join(JoinReq("", {"range", "roundrobin"}));
  auto b = Join(JoinReq("", {"roundrobin", "range"}));
  clock_.Advance(100);
  c().Tick();
  clock_.Advance(100);
  c().Tick();
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(a->protocol_name, "range");
}

TEST_F(GroupFixture, MaxSize) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 0, .max_size = 1});
  auto [a, gen] = StableSingle();
  auto j = Join(JoinReq());
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->error, E::kGroupMaxSizeReached);
  EXPECT_EQ(j->member_id, "");
  EXPECT_EQ(State(), GroupState::kStable);
}

TEST_F(GroupFixture, InvalidSessionTimeout) {
  JoinRequest r = JoinReq();
  r.session_timeout_ms = 10;
  EXPECT_EQ(Join(r)->error, E::kInvalidSessionTimeout);
  r.group_id = "";
  r.session_timeout_ms = 10000;
  EXPECT_EQ(Join(r)->error, E::kInvalidGroupId);
}

TEST_F(GroupFixture, MemberIdRequiredForJoinV4) {
  JoinRequest r = JoinReq();
  r.require_known_member_id = true;
  auto first = Join(r);
  ASSERT_TRUE(first.ready());
  EXPECT_EQ(first->error, E::kMemberIdRequired);
  ASSERT_FALSE(first->member_id.empty());
  r.member_id = first->member_id;
  auto second = Join(r);
  ASSERT_TRUE(second.ready());
  EXPECT_EQ(second->error, E::kNone);
  EXPECT_EQ(second->member_id, first->member_id);
  // An abandoned pending id holds a rebalance until its session timeout (KIP-394).
  Sync(second->member_id, 1, {});
  r.member_id = "";
  auto abandoned = Join(r);
  auto rejoin = Join(JoinReq(second->member_id));
  EXPECT_FALSE(rejoin.ready());
  clock_.Advance(10000);
  c().Tick();
  ASSERT_TRUE(rejoin.ready());
  EXPECT_EQ(rejoin->generation, 2);
}

TEST_F(GroupFixture, StaticMemberRejoinsWithoutRebalance) {
  auto j = Join(JoinReq("", {"range"}, "instance-1"));
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->member_id.rfind("instance-1-", 0), 0u);
  Sync(j->member_id, 1, {{j->member_id, "A"}});
  // Restarted within its session: new member id, same generation, no rebalance, old leader id.
  auto again = Join(JoinReq("", {"range"}, "instance-1"));
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->error, E::kNone);
  EXPECT_NE(again->member_id, j->member_id);
  EXPECT_EQ(again->generation, 1);
  EXPECT_EQ(again->leader, j->member_id);
  EXPECT_EQ(State(), GroupState::kStable);
  EXPECT_EQ(Sync(again->member_id, 1)->assignment, "A");
  // The old incarnation is fenced.
  EXPECT_EQ(c().Heartbeat({"g", 1, j->member_id, "instance-1"}), E::kFencedInstanceId);
  EXPECT_EQ(c().Heartbeat({"g", 1, again->member_id, "instance-1"}), E::kNone);
}

TEST_F(GroupFixture, StaticMemberStaysThroughARebalanceUntilItsSessionEnds) {
  auto s = Join(JoinReq("", {"range"}, "i1"));
  Sync(s->member_id, 1, {});
  auto d = Join(JoinReq());  // a dynamic newcomer: rebalance; the static member does not rejoin
  clock_.Advance(9000);
  c().Heartbeat({"g", 1, s->member_id, "i1"});
  c().Tick();
  EXPECT_FALSE(d.ready()) << "waits for the static member";
  clock_.Advance(10000);  // static member's session ends
  c().Tick();
  ASSERT_TRUE(d.ready());
  EXPECT_EQ(d->members.size(), 1u);
}

TEST_F(GroupFixture, LoadingAndUnloading) {
  c().BeginLoading(0);
  EXPECT_EQ(Join(JoinReq())->error, E::kCoordinatorLoadInProgress);
  EXPECT_EQ(Heartbeat("m", 1), E::kNone) << "old clients do not expect 14 from Heartbeat";
  EXPECT_EQ(Sync("m", 1)->error, E::kRebalanceInProgress);
  EXPECT_EQ(c().FetchOffsets("g", std::nullopt).error, E::kCoordinatorLoadInProgress);
  c().Load(0, {});
  auto [a, gen] = StableSingle();
  auto parked = Join(JoinReq());
  c().Unload(0);
  ASSERT_TRUE(parked.ready());
  EXPECT_EQ(parked->error, E::kNotCoordinator);
  EXPECT_EQ(Heartbeat(a, gen), E::kNotCoordinator);
  EXPECT_EQ(Commit(a, gen, 1)[0], E::kNotCoordinator);
}

TEST_F(GroupFixture, FailedGroupWriteFailsTheSyncAndRebalances) {
  auto j = Join(JoinReq());
  store_.auto_complete = false;
  auto s = Sync(j->member_id, 1, {{j->member_id, "A"}});
  store_.CompleteAll(E::kRequestTimedOut);
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, E::kRebalanceInProgress);
  EXPECT_EQ(State(), GroupState::kPreparingRebalance);
}

}  // namespace
}  // namespace gregor::group::testing
