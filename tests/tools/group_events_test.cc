// What `gregor cluster watch` prints about consumer groups (tools/group_events.h).
#include "tools/group_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "broker/group/offsets_records.h"

namespace gregor::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string GroupValueBytes(int32_t generation, int members) {
  group::GroupValue v;
  v.protocol_type = "consumer";
  v.generation = generation;
  if (members > 0) {
    v.protocol = "range";
    v.leader = "m0";
  }
  for (int i = 0; i < members; ++i) v.members.push_back({"m" + std::to_string(i), {}, "c", "/h", 1, 1, "", ""});
  return group::EncodeGroupValue(v);
}

TEST(GroupEventTrackerTest, RebalancesFromPollsAndRecords) {
  GroupEventTracker t;
  EXPECT_THAT(t.OnPoll({{"g", "Stable", 2, 1}}, /*initial=*/true),
              ElementsAre("[now] group g: Stable, 2 member(s), coordinator broker 1"));
  EXPECT_THAT(t.OnRecord(group::EncodeGroupKey("g"), GroupValueBytes(4, 2)),
              ElementsAre("group g: rebalance completed: generation 4, 2 member(s), assignor range"));
  EXPECT_THAT(t.OnPoll({{"g", "PreparingRebalance", 3, 1}}, false),
              ElementsAre("group g: rebalance started (2 member(s), generation 4)"));
  EXPECT_THAT(t.OnPoll({{"g", "PreparingRebalance", 3, 1}}, false), IsEmpty());
  EXPECT_THAT(t.OnRecord(group::EncodeGroupKey("g"), GroupValueBytes(5, 3)),
              ElementsAre("group g: rebalance completed: generation 5, 3 member(s), assignor range"));
  EXPECT_THAT(t.OnPoll({{"g", "Stable", 3, 2}}, false),
              ElementsAre("group g: coordinator moved from broker 1 to broker 2"));
  EXPECT_THAT(t.OnPoll({}, false), IsEmpty()) << "missing while its coordinator moves: not reported";
  EXPECT_THAT(t.OnRecord(group::EncodeGroupKey("g"), GroupValueBytes(5, 3)),
              ElementsAre("group g: a static member rejoined without a rebalance (generation 5, 3 member(s))"));
  EXPECT_THAT(t.OnRecord(group::EncodeGroupKey("g"), GroupValueBytes(6, 0)),
              ElementsAre("group g: empty (generation 6)"));
  EXPECT_THAT(t.OnRecord(group::EncodeGroupKey("g"), std::nullopt), ElementsAre("group g: deleted"));
  EXPECT_THAT(t.OnRecord(group::EncodeOffsetKey({"g", "t", 0}), std::string("x")), IsEmpty());
}

TEST(GroupEventTrackerTest, NewGroupsAppear) {
  GroupEventTracker t;
  EXPECT_THAT(t.OnPoll({}, /*initial=*/false), IsEmpty());
  EXPECT_THAT(t.OnPoll({{"new", "PreparingRebalance", 1, 3}}, false),
              ElementsAre("group new: appeared (PreparingRebalance, 1 member(s), coordinator broker 3)"));
}

}  // namespace
}  // namespace gregor::tools
