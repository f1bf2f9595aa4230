// The producer ids a broker hands out (broker/kafka/producer_ids.h): its block first, a new one
// from the controller when it is used up, the controller's error when none can be had.
#include "broker/kafka/producer_ids.h"

#include <vector>

#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

TEST(ProducerIdManagerTest, HandsOutItsBlocksInOrder) {
  std::vector<std::pair<int64_t, int32_t>> blocks = {{1000, 3}, {5000, 2}};
  size_t asked = 0;
  ProducerIdManager ids([&]() -> absl::StatusOr<std::pair<int64_t, int32_t>> {
    if (asked == blocks.size()) return absl::UnavailableError("no controller");
    return blocks[asked++];
  });
  std::vector<int64_t> got;
  for (int i = 0; i < 5; ++i) {
    auto id = ids.Next();
    ASSERT_TRUE(id.ok()) << id.status();
    got.push_back(*id);
  }
  EXPECT_EQ(got, (std::vector<int64_t>{1000, 1001, 1002, 5000, 5001}));
  EXPECT_EQ(asked, 2u);
  EXPECT_TRUE(absl::IsUnavailable(ids.Next().status()));
}

TEST(ProducerIdManagerTest, AnImpossibleBlockIsAnError) {
  ProducerIdManager ids([]() -> absl::StatusOr<std::pair<int64_t, int32_t>> {
    return std::make_pair(int64_t{7}, int32_t{0});
  });
  EXPECT_FALSE(ids.Next().ok());
}

}  // namespace
}  // namespace gregor::broker
