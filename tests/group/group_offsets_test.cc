// Committed offsets: commits in each state, admin commits, fetch, deletion, expiry, deleted
// topics, and loading groups back (consumer-groups.md §3.2, §5).
#include "tests/group/group_test_util.h"

namespace gregor::group::testing {
namespace {

TEST_F(GroupFixture, AdminCommitsOnlyForEmptyOrAbsentGroups) {
  EXPECT_EQ(Commit("", -1, 42)[0], E::kNone) << "creates an offsets-only group";
  EXPECT_EQ(Committed(), 42);
  EXPECT_EQ(c().Describe("g").state, GroupState::kEmpty);
  EXPECT_EQ(c().Describe("g").protocol_type, "");
  EXPECT_EQ(Commit("m", 3, 1, "t", 0)[0], E::kUnknownMemberId);
  auto [a, gen] = StableSingle();
  EXPECT_EQ(Commit("", -1, 50)[0], E::kUnknownMemberId) << "a live group refuses admin commits";
  EXPECT_EQ(Commit(a, gen, 50)[0], E::kNone);
  EXPECT_EQ(Committed(), 50);
}

TEST_F(GroupFixture, CommitToAGroupThatDoesNotExistWithAGeneration) {
  EXPECT_EQ(Commit("m", 1, 1)[0], E::kIllegalGeneration);
}

TEST_F(GroupFixture, CommitIsAppliedOnlyOnceReplicated) {
  store_.auto_complete = false;
  Answer<std::vector<E>> a;
  CommitRequest r{"g", -1, "", std::nullopt, -1, {{"t", 0, 9, 4, "meta"}}};
  c().CommitOffsets(r, a.callback());
  EXPECT_FALSE(a.ready());
  EXPECT_EQ(Committed(), -1) << "not visible before the write is committed";
  ASSERT_EQ(store_.pending.size(), 1u);
  auto key = DecodeKey(store_.pending[0].records[0].key);
  EXPECT_EQ(key->offset, (OffsetKey{"g", "t", 0}));
  auto value = DecodeOffsetValue(*store_.pending[0].records[0].value);
  EXPECT_EQ(value->offset, 9);
  EXPECT_EQ(value->leader_epoch, 4);
  EXPECT_EQ(value->metadata, "meta");
  store_.CompleteAll();
  ASSERT_TRUE(a.ready());
  EXPECT_EQ((*a)[0], E::kNone);
  auto fetched = c().FetchOffsets("g", std::nullopt);
  ASSERT_EQ(fetched.offsets.size(), 1u);
  EXPECT_EQ(fetched.offsets[0].offset, 9);
  EXPECT_EQ(fetched.offsets[0].leader_epoch, 4);
  EXPECT_EQ(fetched.offsets[0].metadata, "meta");
}

TEST_F(GroupFixture, FailedCommitWritesMapToClientErrors) {
  store_.auto_complete = false;
  for (auto [written, told] : std::vector<std::pair<E, E>>{{E::kNotLeaderOrFollower, E::kNotCoordinator},
                                                          {E::kRequestTimedOut, E::kRequestTimedOut},
                                                          {E::kNotEnoughReplicas, E::kCoordinatorNotAvailable}}) {
    Answer<std::vector<E>> a;
    c().CommitOffsets({"g", -1, "", std::nullopt, -1, {{"t", 0, 1, -1, std::nullopt}}}, a.callback());
    store_.CompleteAll(written);
    ASSERT_TRUE(a.ready());
    EXPECT_EQ((*a)[0], told);
  }
  EXPECT_EQ(Committed(), -1);
}

TEST_F(GroupFixture, PerPartitionValidation) {
  deleted_.insert("gone");
  Answer<std::vector<E>> a;
  CommitRequest r{"g", -1, "", std::nullopt, -1,
                  {{"t", 0, 1, -1, std::string(5000, 'x')}, {"gone", 0, 1, -1, std::nullopt},
                   {"t", 1, 3, -1, std::nullopt}}};
  c().CommitOffsets(r, a.callback());
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(*a, (std::vector<E>{E::kOffsetMetadataTooLarge, E::kUnknownTopicOrPartition, E::kNone}));
  EXPECT_EQ(Committed("t", 1), 3);
  EXPECT_EQ(Committed("t", 0), -1);
}

TEST_F(GroupFixture, FetchWithoutCommitsAndForUnknownGroups) {
  auto r = c().FetchOffsets("nobody", std::vector<TopicPartitionKey>{{"t", 0}});
  EXPECT_EQ(r.error, E::kNone);
  ASSERT_EQ(r.offsets.size(), 1u);
  EXPECT_EQ(r.offsets[0].offset, -1);
  EXPECT_EQ(r.offsets[0].metadata, "");
  EXPECT_TRUE(c().FetchOffsets("nobody", std::nullopt).offsets.empty());
  c().SetPartitionCount(2);  // "g" now maps to a partition this coordinator does not own
  EXPECT_EQ(c().FetchOffsets("g", std::nullopt).error,
            c().PartitionFor("g") == 0 ? E::kNone : E::kNotCoordinator);
}

TEST_F(GroupFixture, DeleteGroups) {
  auto [a, gen] = StableSingle();
  Commit(a, gen, 5);
  Answer<std::vector<E>> live;
  c().DeleteGroups({"g", "nobody"}, live.callback());
  ASSERT_TRUE(live.ready());
  EXPECT_EQ(*live, (std::vector<E>{E::kNonEmptyGroup, E::kGroupIdNotFound}));
  c().Leave("g", {{a, std::nullopt}});
  ASSERT_EQ(State(), GroupState::kEmpty);
  store_.written.clear();
  Answer<std::vector<E>> done;
  c().DeleteGroups({"g"}, done.callback());
  ASSERT_TRUE(done.ready());
  EXPECT_EQ((*done)[0], E::kNone);
  EXPECT_EQ(State(), GroupState::kDead);
  ASSERT_EQ(store_.written.size(), 1u) << "one batch: offset tombstones and the group tombstone";
  const auto& records = store_.written[0].records;
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(DecodeKey(records[0].key)->kind, RecordKey::Kind::kOffset);
  EXPECT_FALSE(records[0].value.has_value());
  EXPECT_EQ(DecodeKey(records[1].key)->kind, RecordKey::Kind::kGroup);
  EXPECT_FALSE(records[1].value.has_value());
  EXPECT_EQ(Committed(), -1);
}

TEST_F(GroupFixture, DeleteOffsetsRefusesSubscribedTopicsOfALiveGroup) {
  auto [a, gen] = StableSingle();  // subscribed to "t"
  Commit(a, gen, 5, "t", 0);
  Commit(a, gen, 6, "u", 0);
  Answer<std::pair<E, std::vector<E>>> r;
  c().DeleteOffsets("g", {{"t", 0}, {"u", 0}}, [&](E e, const std::vector<E>& per) {
    *r.value = std::pair(e, per);
  });
  ASSERT_TRUE(r.ready());
  EXPECT_EQ(r->first, E::kNone);
  EXPECT_EQ(r->second, (std::vector<E>{E::kGroupSubscribedToTopic, E::kNone}));
  EXPECT_EQ(Committed("t", 0), 5);
  EXPECT_EQ(Committed("u", 0), -1);
  E missing = E::kNone;
  c().DeleteOffsets("nobody", {{"t", 0}}, [&](E e, const std::vector<E>&) { missing = e; });
  EXPECT_EQ(missing, E::kGroupIdNotFound);
}

TEST_F(GroupFixture, OffsetsOfAnEmptyGroupExpireAfterRetentionFromWhenItEmptied) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 0, .offsets_retention_ms = 60000});
  auto [a, gen] = StableSingle();
  Commit(a, gen, 5);
  clock_.Advance(50000);
  c().ExpireOffsets();
  EXPECT_EQ(Committed(), 5) << "a Stable group subscribed to the topic keeps it";
  c().Leave("g", {{a, std::nullopt}});
  clock_.Advance(50000);  // 100 s after the commit, 50 s after it emptied
  c().ExpireOffsets();
  EXPECT_EQ(Committed(), 5);
  clock_.Advance(10000);
  store_.written.clear();
  c().ExpireOffsets();
  EXPECT_EQ(Committed(), -1);
  EXPECT_EQ(State(), GroupState::kDead) << "an Empty group without offsets goes";
  ASSERT_EQ(store_.written.size(), 1u);
  EXPECT_EQ(store_.written[0].records.size(), 2u);
}

TEST_F(GroupFixture, OffsetsOnlyGroupsExpireFromTheCommitAndExplicitExpiryWins) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 0, .offsets_retention_ms = 60000});
  Commit("", -1, 1, "t", 0);
  clock_.Advance(30000);
  Commit("", -1, 2, "t", 1);
  CommitRequest r{"g", -1, "", std::nullopt, 5000, {{"t", 2, 3, -1, std::nullopt}}};
  c().CommitOffsets(r, [](const std::vector<E>&) {});
  clock_.Advance(10000);
  c().ExpireOffsets();
  EXPECT_EQ(Committed("t", 2), -1) << "retention_time_ms 5000 has passed";
  clock_.Advance(25000);
  c().ExpireOffsets();
  EXPECT_EQ(Committed("t", 0), -1);
  EXPECT_EQ(Committed("t", 1), 2);
}

TEST_F(GroupFixture, NoExpiryWhileRebalancing) {
  Make(GroupConfig{.initial_rebalance_delay_ms = 0, .offsets_retention_ms = 1000});
  auto [a, gen] = StableSingle();
  Commit(a, gen, 5, "old-topic", 0);
  Join(JoinReq());  // preparing
  clock_.Advance(5000);
  c().ExpireOffsets();
  EXPECT_EQ(Committed("old-topic", 0), 5);
}

TEST_F(GroupFixture, OffsetsGoWithTheirTopic) {
  Commit("", -1, 1, "t", 0);
  Commit("", -1, 2, "u", 0);
  deleted_.insert("t");
  c().RemoveOffsetsOfDeletedTopics();
  EXPECT_EQ(Committed("t", 0), -1);
  EXPECT_EQ(Committed("u", 0), 2);
  EXPECT_FALSE(store_.written.back().records[0].value.has_value());
}

TEST_F(GroupFixture, ARecreatedTopicDoesNotInheritOffsets) {
  Commit("", -1, 1, "t", 0);
  Commit("", -1, 2, "u", 0);
  c().RemoveOffsetsOfTopics({"t"});  // the host saw "t" get a new topic id
  EXPECT_EQ(Committed("t", 0), -1);
  EXPECT_EQ(Committed("u", 0), 2);
}

TEST_F(GroupFixture, LoadRebuildsStableGroupsWithFreshSessions) {
  auto [a, gen] = StableSingle();
  Commit(a, gen, 11);
  // Replay everything written so far into a new coordinator, as a new leader would.
  GroupLoader loader;
  for (const auto& w : store_.written) {
    for (const auto& r : w.records) loader.Apply(r.key, r.value);
  }
  FakeStore store2;
  GroupCoordinator other(config_, &clock_, &store2, [](const std::string&, int32_t) { return true; });
  other.SetPartitionCount(1);
  other.BeginLoading(0);
  clock_.Advance(60000);
  other.Load(0, std::move(loader).Finish());
  GroupDescription d = other.Describe("g");
  EXPECT_EQ(d.state, GroupState::kStable);
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].member_id, a);
  EXPECT_EQ(d.members[0].assignment, "A");
  EXPECT_EQ(other.Heartbeat({"g", gen, a, std::nullopt}), E::kNone)
      << "the member keeps its generation: no rebalance because of a failover";
  EXPECT_EQ(other.FetchOffsets("g", std::nullopt).offsets[0].offset, 11);
}

TEST_F(GroupFixture, ListAndDescribe) {
  auto [a, gen] = StableSingle();
  Commit("", -1, 1, "t", 0);
  std::vector<GroupListing> groups;
  EXPECT_EQ(c().ListGroups(&groups), E::kNone);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].group_id, "g");
  EXPECT_EQ(groups[0].protocol_type, "consumer");
  GroupDescription d = c().Describe("g");
  EXPECT_EQ(d.protocol, "range");
  EXPECT_EQ(d.members[0].client_host, "/127.0.0.1");
  EXPECT_EQ(d.members[0].assignment, "A");
  EXPECT_EQ(c().Describe("nobody").state, GroupState::kDead);
}

}  // namespace
}  // namespace gregor::group::testing
