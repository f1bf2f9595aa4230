// A GroupCoordinator driven in one thread: a manual clock, a store whose appends the test
// completes, and helpers that capture the answers of parked requests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "broker/group/group_coordinator.h"
#include "broker/group/consumer_protocol.h"
#include "common/clock.h"

namespace gregor::group::testing {

using E = KafkaErrorCode;

class FakeStore : public OffsetsStore {
 public:
  struct Write {
    int32_t partition = 0;
    std::vector<Record> records;
    std::function<void(KafkaErrorCode)> done;
  };
  void Append(int32_t partition, std::vector<Record> records,
              std::function<void(KafkaErrorCode)> done) override {
    written.push_back({partition, records, nullptr});
    pending.push_back({partition, std::move(records), std::move(done)});
    if (auto_complete) CompleteAll();
  }
  // Completes every pending write with `error` (in order; completions may append more).
  void CompleteAll(E error = E::kNone) {
    while (!pending.empty()) {
      Write w = std::move(pending.front());
      pending.erase(pending.begin());
      w.done(error);
    }
  }
  bool auto_complete = true;
  std::vector<Write> pending;
  std::vector<Write> written;  // every append, completed or not (done unset)
};

template <typename T>
struct Answer {
  std::shared_ptr<std::optional<T>> value = std::make_shared<std::optional<T>>();
  std::function<void(const T&)> callback() {
    return [v = value](const T& r) {
      EXPECT_FALSE(v->has_value()) << "answered twice";
      *v = r;
    };
  }
  bool ready() const { return value->has_value(); }
  const T& operator*() const { return **value; }
  const T* operator->() const { return &**value; }
};

class GroupFixture : public ::testing::Test {
 protected:
  GroupFixture() { Make(GroupConfig{.initial_rebalance_delay_ms = 0}); }

  void Make(GroupConfig config) {
    config_ = config;
    coordinator_ = std::make_unique<GroupCoordinator>(
        config, &clock_, &store_, [this](const std::string& t, int32_t) { return !deleted_.count(t); });
    coordinator_->SetPartitionCount(1);
    coordinator_->BeginLoading(0);
    coordinator_->Load(0, {});
  }

  GroupCoordinator& c() { return *coordinator_; }

  JoinRequest JoinReq(const std::string& member_id = "", std::vector<std::string> protocols = {"range"},
                      std::optional<std::string> instance = std::nullopt) {
    JoinRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.group_instance_id = instance;
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 30000;
    r.protocol_type = "consumer";
    for (const std::string& p : protocols) r.protocols.push_back({p, EncodeSubscriptionV0({"t"})});
    return r;
  }

  Answer<JoinResult> Join(const JoinRequest& r) {
    Answer<JoinResult> a;
    c().Join(r, a.callback());
    return a;
  }
  Answer<SyncResult> Sync(const std::string& member, int32_t generation,
                          std::map<std::string, std::string> assignments = {}) {
    Answer<SyncResult> a;
    SyncRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member;
    r.assignments = std::move(assignments);
    c().Sync(r, a.callback());
    return a;
  }
  E Heartbeat(const std::string& member, int32_t generation) {
    return c().Heartbeat({"g", generation, member, std::nullopt});
  }
  std::vector<E> Commit(const std::string& member, int32_t generation, int64_t offset,
                        const std::string& topic = "t", int32_t partition = 0) {
    Answer<std::vector<E>> a;
    CommitRequest r;
    r.group_id = "g";
    r.generation = generation;
    r.member_id = member;
    r.partitions.push_back({topic, partition, offset, -1, std::nullopt});
    c().CommitOffsets(r, a.callback());
    EXPECT_TRUE(a.ready());
    return a.ready() ? *a : std::vector<E>{};
  }
  int64_t Committed(const std::string& topic = "t", int32_t partition = 0) {
    auto r = c().FetchOffsets("g", std::vector<TopicPartitionKey>{{topic, partition}});
    return r.offsets.empty() ? -2 : r.offsets[0].offset;
  }
  GroupState State() { return c().Describe("g").state; }

  // A single-member stable group; returns the member id and generation.
  std::pair<std::string, int32_t> StableSingle() {
    auto j = Join(JoinReq());
    EXPECT_TRUE(j.ready());
    auto s = Sync(j->member_id, j->generation, {{j->member_id, "A"}});
    EXPECT_TRUE(s.ready());
    return {j->member_id, j->generation};
  }

  ManualClock clock_;
  FakeStore store_;
  GroupConfig config_;
  std::set<std::string> deleted_;
  std::unique_ptr<GroupCoordinator> coordinator_;
};

}  // namespace gregor::group::testing
