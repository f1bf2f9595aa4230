// Incremental fetch sessions (broker/kafka/fetch_sessions.h): Kafka's FetchSession rules, driven
// directly with a hand-moved clock.
#include "broker/kafka/fetch_sessions.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

using ::testing::ElementsAre;
using Request = FetchSessionCache::Request;

FetchSessionRead Read(const std::string& topic, int32_t partition, int64_t offset) {
  return {{topic, partition}, offset, 1 << 20, -1, -1};
}

FetchSessionAnswer Quiet(int64_t hw) { return {false, false, false, hw, 0}; }
FetchSessionAnswer Data(int64_t hw) { return {true, false, false, hw, 0}; }

std::vector<std::string> Keys(const FetchSessionCache::Context& c) {
  std::vector<std::string> out;
  for (const auto& r : c.reads) out.push_back(r.key.topic + "-" + std::to_string(r.key.partition));
  return out;
}

// Opens a session over a-0, a-1, b-0 (all at HW 10) and returns its id.
int32_t OpenThree(FetchSessionCache& cache, int64_t now = 0) {
  Request full{0, FetchSessionCache::kInitialEpoch, {Read("a", 0, 5), Read("a", 1, 5), Read("b", 0, 5)}, {}};
  auto context = cache.Open(full, now);
  EXPECT_TRUE(context.open_session);
  EXPECT_FALSE(context.incremental);
  return cache.CreateSession(context, {Quiet(10), Quiet(10), Quiet(10)}, now);
}

TEST(FetchSessionsTest, SessionlessFullFetchCreatesNothing) {
  FetchSessionCache cache(10, 1000, 1);
  auto context = cache.Open({0, FetchSessionCache::kFinalEpoch, {Read("a", 0, 0)}, {}}, 0);
  EXPECT_EQ(context.error, KafkaErrorCode::kNone);
  EXPECT_FALSE(context.open_session);
  EXPECT_FALSE(context.incremental);
  EXPECT_THAT(Keys(context), ElementsAre("a-0"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(FetchSessionsTest, IncrementalFetchAnswersOnlyWhatChanged) {
  FetchSessionCache cache(10, 1000, 1);
  const int32_t id = OpenThree(cache);
  ASSERT_NE(id, 0);
  EXPECT_EQ(cache.partitions_cached(), 3);
  // Epoch 1, nothing named: every partition of the session is read.
  auto context = cache.Open({id, 1, {}, {}}, 10);
  ASSERT_EQ(context.error, KafkaErrorCode::kNone);
  EXPECT_TRUE(context.incremental);
  EXPECT_EQ(context.session_id, id);
  EXPECT_THAT(Keys(context), ElementsAre("a-0", "a-1", "b-0"));
  EXPECT_EQ(context.reads[0].fetch_offset, 5);  // the cached position
  // a-1 has records, b-0 a new high watermark, a-0 nothing new.
  EXPECT_THAT(cache.SelectIncremental(context, {Quiet(10), Data(12), Quiet(11)}, 10),
              ElementsAre(false, true, true));
  // a-1 returned records: it moves to the end. The same answers again: b-0's HW is known now.
  auto next = cache.Open({id, 2, {Read("a", 1, 12)}, {}}, 20);
  EXPECT_THAT(Keys(next), ElementsAre("a-0", "b-0", "a-1"));
  EXPECT_EQ(next.reads[2].fetch_offset, 12);  // updated by the request
  EXPECT_THAT(cache.SelectIncremental(next, {Quiet(10), Quiet(11), Quiet(12)}, 20),
              ElementsAre(false, false, false));
}

TEST(FetchSessionsTest, ErrorsAreAlwaysSentAndResentOnceGone) {
  FetchSessionCache cache(10, 1000, 1);
  const int32_t id = OpenThree(cache);
  auto c1 = cache.Open({id, 1, {}, {}}, 0);
  FetchSessionAnswer error{false, true, false, -1, -1};
  EXPECT_THAT(cache.SelectIncremental(c1, {error, Quiet(10), Quiet(10)}, 0),
              ElementsAre(true, false, false));
  // The error is gone, the HW is what it was before: still sent (the cache forgot it).
  auto c2 = cache.Open({id, 2, {}, {}}, 0);
  EXPECT_THAT(cache.SelectIncremental(c2, {Quiet(10), Quiet(10), Quiet(10)}, 0),
              ElementsAre(true, false, false));
}

TEST(FetchSessionsTest, AddAndForgetPartitions) {
  FetchSessionCache cache(10, 1000, 1);
  const int32_t id = OpenThree(cache);
  auto context = cache.Open({id, 1, {Read("c", 0, 0)}, {{"a", 0}, {"zz", 9}}}, 0);
  EXPECT_THAT(Keys(context), ElementsAre("a-1", "b-0", "c-0"));
  // A new partition is always sent the first time.
  EXPECT_THAT(cache.SelectIncremental(context, {Quiet(10), Quiet(10), Quiet(0)}, 0),
              ElementsAre(false, false, true));
  // Forgetting every partition ends the session: a sessionless answer.
  auto last = cache.Open({id, 2, {}, {{"a", 1}, {"b", 0}, {"c", 0}}}, 0);
  EXPECT_FALSE(last.incremental);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(FetchSessionsTest, UnknownSessionAndWrongEpoch) {
  FetchSessionCache cache(10, 1000, 1);
  const int32_t id = OpenThree(cache);
  EXPECT_EQ(cache.Open({id + 1, 1, {}, {}}, 0).error, KafkaErrorCode::kFetchSessionIdNotFound);
  EXPECT_EQ(cache.Open({id, 2, {}, {}}, 0).error, KafkaErrorCode::kInvalidFetchSessionEpoch);
  // A rejected request does not move the epoch: 1 still works, then 2.
  EXPECT_EQ(cache.Open({id, 1, {}, {}}, 0).error, KafkaErrorCode::kNone);
  EXPECT_EQ(cache.Open({id, 1, {}, {}}, 0).error, KafkaErrorCode::kInvalidFetchSessionEpoch);
  EXPECT_EQ(cache.Open({id, 2, {}, {}}, 0).error, KafkaErrorCode::kNone);
}

TEST(FetchSessionsTest, FullFetchClosesTheSessionItNames) {
  FetchSessionCache cache(10, 1000, 1);
  const int32_t id = OpenThree(cache);
  auto context = cache.Open({id, FetchSessionCache::kFinalEpoch, {Read("a", 0, 0)}, {}}, 0);
  EXPECT_FALSE(context.open_session);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Open({id, 1, {}, {}}, 0).error, KafkaErrorCode::kFetchSessionIdNotFound);
  // Epoch 0 with an id closes that one and opens another.
  const int32_t second = OpenThree(cache);
  auto reopen = cache.Open({second, FetchSessionCache::kInitialEpoch, {Read("a", 0, 0)}, {}}, 0);
  EXPECT_TRUE(reopen.open_session);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_NE(cache.CreateSession(reopen, {Quiet(1)}, 0), 0);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(FetchSessionsTest, TheCacheIsBoundedAndEvictsLikeKafka) {
  FetchSessionCache cache(/*max_slots=*/2, /*eviction_ms=*/1000, 1);
  const int32_t first = OpenThree(cache, 0);
  const int32_t second = OpenThree(cache, 100);
  ASSERT_NE(first, 0);
  ASSERT_NE(second, 0);
  // Full, and neither session is old: no slot for a third.
  EXPECT_EQ(OpenThree(cache, 500), 0);
  // Past eviction_ms since the first was last used: it gives its slot.
  cache.Open({second, 1, {}, {}}, 1050);  // the second stays in use
  const int32_t third = OpenThree(cache, 1050);
  EXPECT_NE(third, 0);
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.Open({first, 1, {}, {}}, 1050).error, KafkaErrorCode::kFetchSessionIdNotFound);
  // Both in use; the second has lived eviction_ms: a bigger session takes its slot, a smaller
  // one does not.
  cache.Open({third, 1, {}, {}}, 1200);
  auto small = cache.Open({0, 0, {Read("x", 0, 0)}, {}}, 1200);
  EXPECT_EQ(cache.CreateSession(small, {Quiet(0)}, 1200), 0);
  auto big = cache.Open({0, 0, {Read("x", 0, 0), Read("x", 1, 0), Read("x", 2, 0), Read("x", 3, 0)}, {}}, 1200);
  EXPECT_NE(cache.CreateSession(big, {Quiet(0), Quiet(0), Quiet(0), Quiet(0)}, 1200), 0);
  EXPECT_EQ(cache.Open({second, 2, {}, {}}, 1200).error, KafkaErrorCode::kFetchSessionIdNotFound);
}

TEST(FetchSessionsTest, NoSlotsMeansNoSessions) {
  FetchSessionCache cache(0, 1000, 1);
  EXPECT_EQ(OpenThree(cache), 0);
  EXPECT_EQ(cache.size(), 0u);
}

}  // namespace
}  // namespace gregor::broker
