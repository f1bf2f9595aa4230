// Partition replication played through in one thread: a leader Partition and follower Partitions,
// each over its own PartitionLog in a temp dir. A follower "fetches" by building the request the
// replica fetcher builds (fetch offset = its log end, last fetched epoch = its latest epoch,
// current leader epoch = the epoch it follows), calling HandleFollowerFetch on the leader and
// applying the answer as ReplicaFetcher::Apply does (TruncateOnDivergence / AppendFromLeader /
// the OFFSET_OUT_OF_RANGE handling). The controller is a PartitionState in the fixture: leader
// changes bump the leader epoch and go to every live replica through ApplyState; ISR changes are
// CAS-checked against the partition epoch. Time is a simulated `now_`.
#include "broker/replication/partition.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/file.h"
#include "common/metadata/metadata_image.h"
#include "common/record_batch.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor {
// Readable KafkaErrorCode in gtest messages.
[[maybe_unused]] static void PrintTo(KafkaErrorCode code, std::ostream* os) {
  *os << KafkaErrorName(code) << " (" << static_cast<int>(code) << ")";
}
}  // namespace gregor

namespace gregor::broker {
namespace {

using storage::EpochEndOffset;
using storage::LogAppendInfo;
using storage::PartitionLog;
using storage::testing::MakeBatch;
using storage::testing::OpenLog;
using storage::testing::ReadAll;
using storage::testing::TempDir;
using Isr = std::vector<int32_t>;

constexpr int64_t kLagMs = 10000;
const storage::TopicPartition kTp{"t", 0};

class PartitionReplicationTest : public ::testing::Test {
 protected:
  struct Replica {
    std::shared_ptr<PartitionLog> log;
    std::unique_ptr<Partition> partition;
    bool up = false;
  };

  // What one follower fetch did, as the fetcher saw it.
  struct FetchOutcome {
    KafkaErrorCode error = KafkaErrorCode::kNone;
    std::optional<EpochEndOffset> diverging;
    PartitionOffsets offsets;
    size_t record_bytes = 0;
    bool truncated = false;
    bool isr_change = false;
  };

  // ---- cluster ---------------------------------------------------------------------------------

  void Start(const Isr& replicas, int32_t min_isr) {
    state_.replicas = replicas;
    min_isr_ = min_isr;
    for (int32_t id : replicas) Open(id);
  }

  std::string Dir(int32_t id) const { return dir_.Sub(absl::StrCat("broker-", id, "/t-0")); }

  // (Re)starts a broker's replica from its directory; it learns the partition state from the
  // next Publish()/Elect().
  void Open(int32_t id, std::optional<int64_t> checkpointed_hw = std::nullopt) {
    std::filesystem::create_directories(Dir(id));
    Replica& r = replicas_[id];
    std::unique_ptr<PartitionLog> log =
        OpenLog(Dir(id), config_, &clock_, /*clean=*/true, std::nullopt, checkpointed_hw);
    ASSERT_TRUE(log);
    r.log = std::move(log);
    r.partition = std::make_unique<Partition>(kTp, r.log, id, kLagMs);
    r.partition->SetMinInsyncReplicas(min_isr_);
    r.up = true;
  }

  // The broker stops (its process dies; the log is closed, what it holds stays on disk).
  void Crash(int32_t id) {
    Replica& r = replicas_.at(id);
    r.partition.reset();
    if (r.log) {
      absl::Status s = r.log->Close();
      EXPECT_TRUE(s.ok()) << s;
    }
    r.log.reset();
    r.up = false;
  }

  // The controller elects `leader` with a new leader epoch and tells every live replica.
  void Elect(int32_t leader, const Isr& isr) {
    state_.leader = leader;
    state_.isr = isr;
    ++state_.leader_epoch;
    ++state_.partition_epoch;
    Publish();
  }

  // Every live replica learns the controller's current state.
  void Publish() {
    for (auto& [id, r] : replicas_) {
      if (r.up) r.partition->ApplyState(state_, now_);
    }
  }

  // The controller's answer to an AlterPartition (CAS on leader and partition epochs).
  void CommitIsrChange(const IsrChange& change) {
    Replica& leader = replicas_.at(state_.leader);
    if (change.leader_epoch != state_.leader_epoch ||
        change.partition_epoch != state_.partition_epoch) {
      if (leader.up) leader.partition->OnIsrChangeResult(change, false, std::nullopt, now_);
      return;
    }
    state_.isr = change.new_isr;
    ++state_.partition_epoch;
    if (leader.up) leader.partition->OnIsrChangeResult(change, true, state_, now_);
    if (publish_isr_changes_) Publish();
  }

  void HandleIsrChange(const IsrChange& change) {
    proposals_.push_back(change);
    if (auto_commit_isr_) CommitIsrChange(change);
  }

  Partition& P(int32_t id) { return *replicas_.at(id).partition; }
  PartitionLog& Log(int32_t id) { return *replicas_.at(id).log; }
  int64_t Leo(int32_t id) { return Log(id).log_end_offset().value(); }
  int64_t Hw(int32_t id) { return Log(id).high_watermark().value(); }
  int64_t Lso(int32_t id) { return Log(id).log_start_offset().value(); }

  // ---- clients ---------------------------------------------------------------------------------

  absl::StatusOr<LogAppendInfo> TryProduce(int32_t leader, const std::string& prefix,
                                           int records = 1, int16_t acks = -1) {
    std::string batch = MakeBatch(records, clock_.WallMs(), 0, Compression::kNone, prefix);
    int32_t epoch = 0;
    auto info = P(leader).AppendAsLeader(absl::MakeSpan(batch), acks, &epoch);
    if (info.ok()) append_epoch_[info->first_offset.value()] = epoch;
    return info;
  }

  LogAppendInfo Produce(int32_t leader, const std::string& prefix, int records = 1,
                        int16_t acks = -1) {
    auto info = TryProduce(leader, prefix, records, acks);
    EXPECT_TRUE(info.ok()) << info.status();
    if (!info.ok()) return {};
    for (int64_t o = info->first_offset.value(); o <= info->last_offset.value(); ++o) {
      written_[o] = absl::StrCat(prefix, "-", o - info->first_offset.value());
    }
    return *info;
  }

  // The acks=all outcome of an append.
  std::optional<KafkaErrorCode> Outcome(int32_t leader, const LogAppendInfo& info) {
    return P(leader).CheckAppendCommitted(info.last_offset.value() + 1,
                                          append_epoch_[info.first_offset.value()]);
  }

  // Asserts the append is acknowledged (acks=all) and remembers its records as acknowledged.
  void ExpectAcked(int32_t leader, const LogAppendInfo& info, const std::string& prefix) {
    EXPECT_EQ(Outcome(leader, info), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone))
        << prefix << " at " << info.first_offset.value();
    for (int64_t o = info.first_offset.value(); o <= info.last_offset.value(); ++o) {
      acked_[o] = absl::StrCat(prefix, "-", o - info.first_offset.value());
    }
  }

  // ---- followers -------------------------------------------------------------------------------

  // The request ReplicaFetcher::BuildRequest sends for this follower.
  Partition::FollowerFetch Request(int32_t follower) {
    Partition::FollowerFetch fetch;
    fetch.replica = follower;
    fetch.current_leader_epoch = P(follower).leader_epoch();
    fetch.fetch_offset = Leo(follower);
    auto epoch = Log(follower).LatestEpoch();
    fetch.last_fetched_epoch = epoch ? epoch->value() : -1;
    fetch.max_bytes = max_bytes_;
    return fetch;
  }

  Partition::FollowerFetchResult Send(int32_t leader, const Partition::FollowerFetch& fetch) {
    auto eligible = [this](int32_t b) { return !ineligible_.count(b); };
    Partition::FollowerFetchResult result = P(leader).HandleFollowerFetch(fetch, now_, eligible);
    if (result.isr_change) HandleIsrChange(*result.isr_change);
    return result;
  }

  // ReplicaFetcher::Apply for one partition.
  FetchOutcome Apply(int32_t follower, const Partition::FollowerFetchResult& result) {
    FetchOutcome out;
    out.error = result.error;
    out.diverging = result.diverging;
    out.offsets = result.offsets;
    out.isr_change = result.isr_change.has_value();
    Partition& p = P(follower);
    PartitionLog& log = Log(follower);
    int64_t before = Leo(follower);
    if (result.error == KafkaErrorCode::kNone && result.diverging) {
      auto leo = p.TruncateOnDivergence(*result.diverging);
      EXPECT_TRUE(leo.ok()) << leo.status();
      out.truncated = Leo(follower) < before;
      return out;
    }
    switch (result.error) {
      case KafkaErrorCode::kNone: {
        std::string bytes;
        if (result.records.size > 0) {
          auto read = ReadSlice(result.records);
          EXPECT_TRUE(read.ok()) << read.status();
          if (read.ok()) bytes = std::move(*read);
        }
        out.record_bytes = bytes.size();
        absl::Status s = p.AppendFromLeader(bytes, result.offsets.high_watermark.value(),
                                            result.offsets.log_start_offset.value());
        EXPECT_TRUE(s.ok()) << s;
        break;
      }
      case KafkaErrorCode::kOffsetOutOfRange: {
        absl::Status s;
        if (before < result.offsets.log_start_offset.value()) {
          s = log.TruncateFullyAndStartAt(result.offsets.log_start_offset);
          out.truncated = true;
        } else if (before > result.offsets.log_end_offset.value()) {
          s = log.TruncateTo(result.offsets.log_end_offset);
          out.truncated = true;
        }
        EXPECT_TRUE(s.ok()) << s;
        break;
      }
      default:
        break;  // metadata is moving: the fetcher backs off
    }
    return out;
  }

  // One fetch round trip of `follower` from the leader it follows.
  FetchOutcome Fetch(int32_t follower) {
    int32_t leader = P(follower).leader();
    EXPECT_TRUE(replicas_.count(leader) && replicas_.at(leader).up)
        << "replica " << follower << " follows " << leader << ", which is down";
    return Apply(follower, Send(leader, Request(follower)));
  }

  // Fetch rounds (every live follower once per round) until nothing moves. Returns the rounds.
  int Replicate(int max_rounds = 50) {
    for (int round = 1; round <= max_rounds; ++round) {
      bool progress = false;
      auto before = Snapshot();
      for (auto& [id, r] : replicas_) {
        if (!r.up || r.partition->is_leader()) continue;
        int32_t leader = r.partition->leader();
        if (!replicas_.count(leader) || !replicas_.at(leader).up) continue;
        FetchOutcome out = Fetch(id);
        if (out.record_bytes > 0 || out.truncated || out.isr_change) progress = true;
      }
      if (!progress && Snapshot() == before) return round;
    }
    ADD_FAILURE() << "replication did not settle in " << max_rounds << " rounds";
    return max_rounds;
  }

  // Log end, high watermark and log start of every live replica, plus the partition epoch.
  std::vector<int64_t> Snapshot() {
    std::vector<int64_t> out{state_.partition_epoch};
    for (auto& [id, r] : replicas_) {
      if (!r.up) continue;
      out.insert(out.end(), {id, Leo(id), Hw(id), Lso(id)});
    }
    return out;
  }

  // ---- checks ----------------------------------------------------------------------------------

  // The raw bytes of the batches in [from, to) (batch boundaries).
  std::string Bytes(int32_t id, int64_t from, int64_t to) {
    std::string out;
    int64_t next = from;
    while (next < to) {
      auto slice = Log(id).Read(Offset(next), 1 << 30, Offset(to));
      if (!slice.ok()) {
        ADD_FAILURE() << "replica " << id << " read at " << next << ": " << slice.status();
        break;
      }
      if (slice->size == 0) break;
      auto bytes = ReadSlice(*slice);
      if (!bytes.ok()) {
        ADD_FAILURE() << bytes.status();
        break;
      }
      record::BatchIterator it(*bytes);
      record::BatchHeader header;
      std::string_view batch;
      int64_t before = next;
      while (it.Next(&header, &batch)) next = header.next_offset();
      out += *bytes;
      if (next <= before) break;
    }
    return out;
  }

  // Every live replica holds the leader's bytes below the leader's high watermark.
  void ExpectConsistentBelowHw() {
    int32_t leader = state_.leader;
    int64_t hw = Hw(leader);
    int64_t start = Lso(leader);
    for (auto& [id, r] : replicas_) {
      if (r.up) start = std::max(start, Lso(id));
    }
    std::string want = Bytes(leader, start, hw);
    EXPECT_EQ(want.empty(), start >= hw);
    for (auto& [id, r] : replicas_) {
      if (!r.up || id == leader) continue;
      EXPECT_GE(Leo(id), hw) << "replica " << id;
      EXPECT_LE(Hw(id), hw) << "replica " << id;
      EXPECT_TRUE(Bytes(id, start, hw) == want)
          << "replica " << id << " differs from leader " << leader << " in [" << start << ", "
          << hw << ")";
    }
  }

  // Every live replica holds exactly the leader's log (all of it committed).
  void ExpectIdenticalLogs() {
    int32_t leader = state_.leader;
    EXPECT_EQ(Hw(leader), Leo(leader)) << "not everything is committed";
    ExpectConsistentBelowHw();
    for (auto& [id, r] : replicas_) {
      if (!r.up) continue;
      EXPECT_EQ(Leo(id), Leo(leader)) << "replica " << id;
      EXPECT_EQ(Hw(id), Hw(leader)) << "replica " << id;
      EXPECT_EQ(Lso(id), Lso(leader)) << "replica " << id;
      EXPECT_TRUE(Bytes(id, Lso(id), Leo(id)) == Bytes(leader, Lso(leader), Leo(leader)))
          << "replica " << id;
    }
  }

  // Offset -> value of the records a live replica holds.
  std::map<int64_t, std::string> Values(int32_t id) {
    std::map<int64_t, std::string> out;
    for (auto& r : ReadAll(Log(id), Lso(id))) out[r.offset] = r.value.value_or("<null>");
    return out;
  }

  // No acknowledged record is missing from (or replaced on) any live replica.
  void ExpectNoAckedLoss() {
    for (auto& [id, r] : replicas_) {
      if (!r.up) continue;
      auto values = Values(id);
      for (const auto& [offset, value] : acked_) {
        if (offset < Lso(id)) continue;
        auto it = values.find(offset);
        EXPECT_TRUE(it != values.end() && it->second == value)
            << "replica " << id << " lost acknowledged record " << value << " at " << offset
            << (it == values.end() ? " (missing)" : absl::StrCat(" (holds ", it->second, ")"));
      }
    }
  }

  TempDir dir_;
  ManualClock clock_;
  storage::LogConfig config_;
  std::map<int32_t, Replica> replicas_;
  metadata::PartitionState state_;  // the controller's view
  int32_t min_isr_ = 1;
  int64_t now_ = 1000;
  int32_t max_bytes_ = 1 << 20;
  bool auto_commit_isr_ = true;
  bool publish_isr_changes_ = true;
  std::set<int32_t> ineligible_;
  std::vector<IsrChange> proposals_;
  std::map<int64_t, std::string> written_;
  std::map<int64_t, int32_t> append_epoch_;  // first offset -> epoch of its append
  std::map<int64_t, std::string> acked_;
};

// ---- steady state ------------------------------------------------------------------------------

// KIP-74's byte rule, shared by consumer and follower fetches.
TEST(FetchReadLimitTest, AtLeastOneBatchOnlyWhileTheBudgetLasts) {
  FetchReadLimit first = FetchReadLimitFor(1 << 20, 10 << 20, /*nothing_read_yet=*/true);
  EXPECT_EQ(first.max_bytes, 1 << 20);
  EXPECT_TRUE(first.min_one_batch);
  // Less budget than the partition's limit: the budget bounds it.
  FetchReadLimit tight = FetchReadLimitFor(1 << 20, 1000, false);
  EXPECT_EQ(tight.max_bytes, 1000);
  EXPECT_TRUE(tight.min_one_batch);
  // Budget spent: nothing more, unless nothing was read yet.
  FetchReadLimit spent = FetchReadLimitFor(1 << 20, -500, false);
  EXPECT_EQ(spent.max_bytes, 0);
  EXPECT_FALSE(spent.min_one_batch);
  EXPECT_TRUE(FetchReadLimitFor(1 << 20, 0, true).min_one_batch);
  // A negative partition limit reads nothing beyond the one-batch rule.
  EXPECT_EQ(FetchReadLimitFor(-1, 1000, true).max_bytes, 0);
}

TEST_F(PartitionReplicationTest, ThreeReplicasReplicateProduceTraffic) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  EXPECT_TRUE(P(1).is_leader());
  EXPECT_FALSE(P(2).is_leader());

  LogAppendInfo m0 = Produce(1, "m0", 3);
  EXPECT_EQ(m0.first_offset, Offset(0));
  EXPECT_EQ(Outcome(1, m0), std::nullopt);  // waiting for the ISR

  // Each follower's first fetch brings the batch; the leader learns they have it only from
  // their next fetch offset.
  FetchOutcome f2 = Fetch(2);
  EXPECT_EQ(f2.error, KafkaErrorCode::kNone);
  EXPECT_GT(f2.record_bytes, 0u);
  EXPECT_EQ(Leo(2), 3);
  FetchOutcome f3 = Fetch(3);
  EXPECT_GT(f3.record_bytes, 0u);
  EXPECT_EQ(Leo(3), 3);
  EXPECT_EQ(Hw(1), 0);
  Fetch(2);  // 2 is at 3, 3 still reported 0
  EXPECT_EQ(Hw(1), 0);
  EXPECT_EQ(Outcome(1, m0), std::nullopt);
  FetchOutcome again = Fetch(3);
  EXPECT_EQ(Hw(1), 3);
  ExpectAcked(1, m0, "m0");
  // The follower's HW trails the leader's by a fetch.
  EXPECT_EQ(again.offsets.high_watermark, Offset(3));
  EXPECT_EQ(Hw(3), 3);
  EXPECT_EQ(Hw(2), 0);
  ExpectConsistentBelowHw();
  Replicate();
  EXPECT_EQ(Hw(2), 3);

  // Traffic interleaved with fetches of varying reach.
  std::vector<std::pair<LogAppendInfo, std::string>> pending;
  for (int i = 1; i <= 30; ++i) {
    std::string prefix = absl::StrCat("m", i);
    pending.emplace_back(Produce(1, prefix, 1 + i % 4), prefix);
    if (i % 3 == 0) Fetch(2);
    if (i % 5 == 0) Fetch(3);
    if (i % 7 == 0) Replicate();
    ExpectConsistentBelowHw();
    for (auto it = pending.begin(); it != pending.end();) {
      if (Outcome(1, it->first) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
        ExpectAcked(1, it->first, it->second);
        it = pending.erase(it);
      } else {
        EXPECT_EQ(Outcome(1, it->first), std::nullopt);
        ++it;
      }
    }
  }
  Replicate();
  for (auto& [info, prefix] : pending) ExpectAcked(1, info, prefix);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2, 3}));
  EXPECT_TRUE(proposals_.empty());
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(2), written_);
  // Every follower recorded the leader's epoch from the batches it copied.
  EXPECT_EQ(Log(2).EpochEntries(), Log(1).EpochEntries());
  EXPECT_EQ(Log(3).EpochEntries(), Log(1).EpochEntries());
}

TEST_F(PartitionReplicationTest, SmallFetchesCopyWholeBatchesOneAtATime) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  for (int i = 0; i < 5; ++i) Produce(1, absl::StrCat("b", i), 2);
  max_bytes_ = 1;  // at least one whole batch per fetch
  FetchOutcome f = Fetch(2);
  EXPECT_EQ(Leo(2), 2);
  EXPECT_GT(f.record_bytes, 0u);
  EXPECT_EQ(Replicate(), 6);  // four more batches, then one round that brings nothing
  ExpectIdenticalLogs();
}

// ---- acks=all ------------------------------------------------------------------------------------

TEST_F(PartitionReplicationTest, AcksAllRejectedUpFrontWhenIsrBelowMinInsync) {
  Start({1, 2, 3}, 2);
  Elect(1, {1});
  auto rejected = TryProduce(1, "x", 1, -1);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(ToKafkaErrorCode(rejected.status()), KafkaErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(Leo(1), 0);  // nothing written

  // acks=1 and acks=0 are taken, but not committed: the ISR is below min.insync.replicas.
  ASSERT_TRUE(TryProduce(1, "a1", 1, 1).ok());
  ASSERT_TRUE(TryProduce(1, "a0", 1, 0).ok());
  EXPECT_EQ(Leo(1), 2);
  EXPECT_EQ(Hw(1), 0);

  // Follower 2 catches up and is added back; the HW moves and acks=all works again.
  ineligible_ = {3};
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 2);
  LogAppendInfo ok = Produce(1, "ok", 1, -1);
  Replicate();
  ExpectAcked(1, ok, "ok");
}

TEST_F(PartitionReplicationTest, AcksAllNotEnoughReplicasAfterAppendWhenIsrShrinks) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();  // both followers fetched once in this epoch
  LogAppendInfo info = Produce(1, "w", 2, -1);
  EXPECT_EQ(Outcome(1, info), std::nullopt);

  // The followers stop fetching. Past replica.lag.time.max.ms the leader asks to remove them.
  auto_commit_isr_ = false;
  now_ += kLagMs / 2;
  EXPECT_EQ(P(1).MaybeShrinkIsr(now_), std::nullopt);
  now_ += kLagMs;
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  EXPECT_EQ(shrink->new_isr, (Isr{1}));
  EXPECT_EQ(shrink->leader_epoch, state_.leader_epoch);
  EXPECT_EQ(shrink->partition_epoch, state_.partition_epoch);
  // Until the controller commits the shrink the write may still be committed by the old ISR.
  EXPECT_EQ(Outcome(1, info), std::nullopt);
  EXPECT_EQ(P(1).MaybeShrinkIsr(now_), std::nullopt);  // one change in flight
  CommitIsrChange(*shrink);
  EXPECT_EQ(P(1).state().isr, (Isr{1}));
  EXPECT_EQ(Outcome(1, info),
            std::optional<KafkaErrorCode>(KafkaErrorCode::kNotEnoughReplicasAfterAppend));
  EXPECT_EQ(Hw(1), 0);  // and nothing got committed under a too-small ISR
}

TEST_F(PartitionReplicationTest, AcksAllNotEnoughReplicasAfterAppendWhenIsrShrinksAfterCommit) {
  // Kafka's checkEnoughReplicasReachOffset: HW past the write, but the (maximal) ISR is now
  // below min.insync.replicas.
  Start({1, 2}, 2);
  Elect(1, {1, 2});
  LogAppendInfo info = Produce(1, "w", 1, -1);
  Replicate();
  EXPECT_EQ(Hw(1), 1);
  Crash(2);
  Produce(1, "more", 1, 1);  // 2 is no longer at the log end
  now_ += 2 * kLagMs;
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  // While the shrink is in flight the maximal ISR still has 2.
  EXPECT_EQ(Outcome(1, info), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
  CommitIsrChange(*shrink);
  EXPECT_EQ(P(1).state().isr, (Isr{1}));
  EXPECT_EQ(Outcome(1, info),
            std::optional<KafkaErrorCode>(KafkaErrorCode::kNotEnoughReplicasAfterAppend));
}

TEST_F(PartitionReplicationTest, AcksAllNotLeaderAfterLeaderChange) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  LogAppendInfo info = Produce(1, "w", 1, -1);
  EXPECT_EQ(Outcome(1, info), std::nullopt);
  EXPECT_EQ(P(1).ApplyState(state_, now_), Partition::Transition::kNone);
  Elect(2, {1, 2, 3});
  EXPECT_FALSE(P(1).is_leader());
  EXPECT_EQ(Outcome(1, info), std::optional<KafkaErrorCode>(KafkaErrorCode::kNotLeaderOrFollower));
  auto again = TryProduce(1, "again", 1, -1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(ToKafkaErrorCode(again.status()), KafkaErrorCode::kNotLeaderOrFollower);
}

// A parked acks=all produce carries the leader epoch of its append: after the leadership moved
// away and back, its record may have been truncated, so it is not reported as committed.
TEST_F(PartitionReplicationTest, AcksAllOutcomeAfterLeadershipMovedAwayAndBack) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  Replicate();
  LogAppendInfo x = Produce(1, "x", 1, -1);  // offset 0, epoch 1, only on broker 1
  EXPECT_EQ(Outcome(1, x), std::nullopt);
  // Broker 1 is slow: the controller moves the leadership to 2 (clean: 2 is in the ISR).
  Elect(2, {2});
  LogAppendInfo y = Produce(2, "y", 1, -1);  // offset 0, epoch 2
  ExpectAcked(2, y, "y");
  Replicate();  // 1 truncates x away and copies y
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "y-0"}}));
  // The leadership comes back to 1 before its parked produce of x is looked at again.
  Elect(1, {1, 2});
  Replicate();
  EXPECT_GE(Hw(1), 1);
  EXPECT_NE(Outcome(1, x), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone))
      << "x was truncated away, yet its acks=all produce would be answered as committed";
}

// ---- ISR changes through fetches -------------------------------------------------------------

TEST_F(PartitionReplicationTest, CaughtUpFollowerIsAddedBackOneChangeAtATime) {
  Start({1, 2, 3}, 1);
  Elect(1, {1});
  for (int i = 0; i < 3; ++i) Produce(1, absl::StrCat("p", i), 2, 1);
  EXPECT_EQ(Hw(1), 6);  // the leader alone is the ISR
  auto_commit_isr_ = false;

  FetchOutcome f = Fetch(2);  // copies everything (LEO 0 < HW 6: not yet)
  EXPECT_FALSE(f.isr_change);
  f = Fetch(2);  // now at 6 = HW: propose adding 2
  ASSERT_TRUE(f.isr_change);
  ASSERT_EQ(proposals_.size(), 1u);
  EXPECT_EQ(proposals_[0].new_isr, (Isr{1, 2}));
  EXPECT_EQ(proposals_[0].tp, kTp);
  EXPECT_EQ(proposals_[0].leader_epoch, state_.leader_epoch);
  EXPECT_EQ(proposals_[0].partition_epoch, state_.partition_epoch);

  // 3 catches up while the first change is in flight: no second proposal.
  Fetch(3);
  f = Fetch(3);
  EXPECT_FALSE(f.isr_change);
  // Meanwhile the maximal ISR includes 2: a write is committed only once 2 has it.
  Produce(1, "q", 1, 1);
  EXPECT_EQ(Hw(1), 6);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 7);

  CommitIsrChange(proposals_[0]);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  f = Fetch(3);  // at 6, below the HW (7): copies q, no proposal yet
  EXPECT_FALSE(f.isr_change);
  f = Fetch(3);
  ASSERT_TRUE(f.isr_change);
  EXPECT_EQ(proposals_.back().new_isr, (Isr{1, 2, 3}));
  CommitIsrChange(proposals_.back());
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2, 3}));
  auto_commit_isr_ = true;
  Replicate();
  ExpectIdenticalLogs();
}

TEST_F(PartitionReplicationTest, IneligibleFollowerIsNotAddedBack) {
  Start({1, 2}, 1);
  Elect(1, {1});
  Produce(1, "p", 2, 1);
  ineligible_ = {2};  // e.g. fenced, or fetching with a stale broker epoch
  Replicate();
  EXPECT_EQ(Leo(2), Leo(1));
  EXPECT_TRUE(proposals_.empty());
  EXPECT_EQ(state_.isr, (Isr{1}));
  ineligible_.clear();
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
}

TEST_F(PartitionReplicationTest, RejectedIsrChangeCanBeProposedAgain) {
  Start({1, 2}, 1);
  Elect(1, {1});
  Produce(1, "p", 1, 1);
  auto_commit_isr_ = false;
  Fetch(2);
  ASSERT_TRUE(Fetch(2).isr_change);
  EXPECT_FALSE(Fetch(2).isr_change);  // in flight
  P(1).OnIsrChangeResult(proposals_.back(), false, std::nullopt, now_);
  ASSERT_TRUE(Fetch(2).isr_change);
  // A stale proposal (the partition epoch moved meanwhile) is refused by the controller.
  IsrChange stale = proposals_.back();
  stale.partition_epoch -= 1;
  CommitIsrChange(stale);
  EXPECT_EQ(state_.isr, (Isr{1}));
  ASSERT_TRUE(Fetch(2).isr_change);
  CommitIsrChange(proposals_.back());
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
}

TEST_F(PartitionReplicationTest, LaggingFollowerIsShrunkAndHighWatermarkMovesOn) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 0);  // 3 holds it back
  now_ += kLagMs + 1;
  // 2 keeps fetching (it is at the leader's log end); 3 is gone.
  Fetch(2);
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 1);  // moved as soon as the controller's answer came back
  ExpectAcked(1, w, "w");
}

TEST_F(PartitionReplicationTest, ControllerRemovingADeadReplicaLetsTheHighWatermarkMove) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  Replicate();
  Crash(3);
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  EXPECT_EQ(Hw(1), 0);
  EXPECT_EQ(Outcome(1, w), std::nullopt);
  // The controller fences 3 and drops it from the ISR (a new partition epoch, same leader epoch).
  state_.isr = {1, 2};
  ++state_.partition_epoch;
  Publish();
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2}));
  EXPECT_EQ(Hw(1), 1);
  ExpectAcked(1, w, "w");
}

// Metadata that lags an ISR change the leader already applied (same leader epoch, older
// partition epoch) must not roll the ISR back.
TEST_F(PartitionReplicationTest, StalePartitionEpochDoesNotRollBackTheIsr) {
  Start({1, 2}, 1);
  Elect(1, {1});
  metadata::PartitionState before_expand = state_;
  publish_isr_changes_ = false;  // the metadata stream lags behind the AlterPartition response
  Produce(1, "p", 1, 1);
  Replicate();
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  ASSERT_EQ(P(1).state().isr, (Isr{1, 2}));
  ASSERT_GT(state_.partition_epoch, before_expand.partition_epoch);

  // An image from before the expand reaches broker 1 now.
  P(1).ApplyState(before_expand, now_);
  EXPECT_EQ(P(1).state().isr, (Isr{1, 2})) << "ISR rolled back by a stale partition epoch";

  LogAppendInfo w = Produce(1, "w", 1, -1);
  EXPECT_NE(Outcome(1, w), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone))
      << "acknowledged before replica 2 (in the controller's ISR) has it";
  if (Outcome(1, w) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
    acked_[w.first_offset.value()] = "w-0";
  }
  // 1 dies; 2, in the controller's ISR, is a clean choice.
  Crash(1);
  Elect(2, {2});
  ExpectNoAckedLoss();
}

// An answer to an older ISR change must not end the change in flight now.
TEST_F(PartitionReplicationTest, StaleIsrChangeAnswerDoesNotEndTheCurrentInFlightChange) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Replicate();
  auto_commit_isr_ = false;
  Produce(1, "p", 1, 1);
  Fetch(2);
  Fetch(2);
  now_ += kLagMs + 1;
  Fetch(2);
  std::optional<IsrChange> shrink = P(1).MaybeShrinkIsr(now_);  // 3 lags: {1,2}, epoch 1
  ASSERT_TRUE(shrink.has_value());
  ASSERT_EQ(shrink->new_isr, (Isr{1, 2}));
  // While that AlterPartition is on its way, the controller moves to leader epoch 2 (3 fenced and
  // dropped from the ISR by the controller itself; 1 stays leader).
  Elect(1, {1, 2});
  Fetch(2);
  ASSERT_EQ(Hw(1), 1);
  // 3 is back, catches up and 1 proposes adding it (in flight: 3 now counts for the HW).
  Fetch(3);
  ASSERT_EQ(Leo(3), 1);
  ASSERT_TRUE(Fetch(3).isr_change);
  IsrChange expand = proposals_.back();
  ASSERT_EQ(expand.new_isr, (Isr{1, 2, 3}));
  ASSERT_EQ(expand.leader_epoch, 2);
  // A write reaches 2; the expand in flight keeps the HW at 3's log end.
  LogAppendInfo w = Produce(1, "w", 1, -1);
  Fetch(2);
  Fetch(2);
  ASSERT_EQ(Leo(2), 2);
  ASSERT_EQ(Hw(1), 1);
  // The controller's answer to the old shrink arrives: refused (stale leader epoch).
  CommitIsrChange(*shrink);
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  // 2's next fetch: the HW is recomputed (before the expand is proposed again).
  Fetch(2);
  EXPECT_EQ(Hw(1), 1) << "HW advanced without 3, whose addition to the ISR is in flight";
  EXPECT_EQ(Outcome(1, w), std::nullopt);
  if (Outcome(1, w) == std::optional<KafkaErrorCode>(KafkaErrorCode::kNone)) {
    acked_[w.first_offset.value()] = "w-0";
  }
  // The controller commits the expand; 1 dies; 3 (in the ISR) is a clean choice.
  CommitIsrChange(expand);
  ASSERT_EQ(state_.isr, (Isr{1, 2, 3}));
  Crash(1);
  Elect(3, {2, 3});
  Replicate();
  ExpectNoAckedLoss();
}

// ---- fetch errors ------------------------------------------------------------------------------

TEST_F(PartitionReplicationTest, FetchErrors) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "p", 3, 1);
  Partition::FollowerFetch ok = Request(2);
  ASSERT_EQ(ok.current_leader_epoch, 1);

  // A follower still on an older leader epoch.
  Partition::FollowerFetch fenced = ok;
  fenced.current_leader_epoch = 0;
  fenced.fetch_offset = 3;
  auto r = Send(1, fenced);
  EXPECT_EQ(r.error, KafkaErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(r.records.size, 0);
  // A follower that knows a newer epoch than the leader (the leader's metadata is behind).
  Partition::FollowerFetch unknown = ok;
  unknown.current_leader_epoch = 2;
  unknown.fetch_offset = 3;
  EXPECT_EQ(Send(1, unknown).error, KafkaErrorCode::kUnknownLeaderEpoch);
  // Not a replica of this partition.
  Partition::FollowerFetch stranger = ok;
  stranger.replica = 9;
  stranger.fetch_offset = 3;
  EXPECT_EQ(Send(1, stranger).error, KafkaErrorCode::kNotLeaderOrFollower);
  // Not the leader.
  EXPECT_EQ(Send(2, Request(3)).error, KafkaErrorCode::kNotLeaderOrFollower);
  // None of the refused fetches counted as a follower position.
  EXPECT_EQ(Hw(1), 0);

  // Past the leader's log end (no epoch to check divergence with).
  Partition::FollowerFetch beyond = ok;
  beyond.fetch_offset = 7;
  r = Send(1, beyond);
  EXPECT_EQ(r.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(r.offsets.log_end_offset, Offset(3));
  EXPECT_EQ(r.offsets.log_start_offset, Offset(0));
  EXPECT_FALSE(r.diverging.has_value());
  EXPECT_EQ(Hw(1), 0);

  // Below the leader's log start.
  Replicate();
  ASSERT_TRUE(Log(1).MaybeIncrementLogStartOffset(Offset(2)).ok());
  Partition::FollowerFetch below = Request(3);
  below.fetch_offset = 1;
  below.last_fetched_epoch = -1;
  r = Send(1, below);
  EXPECT_EQ(r.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(r.offsets.log_start_offset, Offset(2));

  // A well-formed fetch at the log end: no error, nothing to read.
  r = Send(1, Request(2));
  EXPECT_EQ(r.error, KafkaErrorCode::kNone);
  EXPECT_EQ(r.records.size, 0);
  EXPECT_FALSE(r.diverging.has_value());
}

TEST_F(PartitionReplicationTest, FollowerOnAStaleEpochIsFencedUntilItLearnsTheNewOne) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "a", 2, 1);
  Replicate();
  // New epoch, same leader; broker 3 has not seen it yet.
  state_.leader_epoch += 1;
  state_.partition_epoch += 1;
  P(1).ApplyState(state_, now_);
  P(2).ApplyState(state_, now_);
  Produce(1, "b", 2, 1);
  FetchOutcome f = Fetch(3);
  EXPECT_EQ(f.error, KafkaErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(Leo(3), 2);
  P(3).ApplyState(state_, now_);
  Replicate();
  ExpectIdenticalLogs();
}

// ---- log start ---------------------------------------------------------------------------------

TEST_F(PartitionReplicationTest, FollowerBelowLeaderLogStartStartsOverThere) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  Produce(1, "a", 3, -1);
  Replicate();  // everyone holds [0, 3)
  Crash(3);
  Produce(1, "b0", 2, -1);  // 3 is at the log end no more
  now_ += kLagMs + 1;
  Replicate();  // 2 keeps up
  auto shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  ASSERT_EQ(state_.isr, (Isr{1, 2}));
  for (int i = 1; i < 4; ++i) Produce(1, absl::StrCat("b", i), 2, -1);
  Replicate();
  // Records below 7 are deleted (DeleteRecords / retention); 2 learns the new log start.
  ASSERT_TRUE(Log(1).MaybeIncrementLogStartOffset(Offset(7)).ok());
  Replicate();
  EXPECT_EQ(Lso(2), 7);
  Produce(1, "c", 1, -1);

  // 3 comes back at log end 3 (epoch 1), below the leader's log start.
  Open(3);
  Publish();
  FetchOutcome f = Fetch(3);
  EXPECT_EQ(f.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Lso(3), 7);
  EXPECT_EQ(Leo(3), 7);
  Replicate();
  EXPECT_EQ(state_.isr, (Isr{1, 2, 3}));
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(3), Values(1));
}

// ---- leader changes: KIP-101 -------------------------------------------------------------------

// KIP-101 scenario 1: the follower restarts before it learns the HW that covers its last record
// (its checkpointed HW is stale), then becomes leader. Truncating to the local HW would lose an
// acknowledged record; Gregor keeps it (truncation is by leader epoch, on divergence only).
TEST_F(PartitionReplicationTest, Kip101HighWatermarkTruncationDoesNotLoseCommittedRecord) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m1 = Produce(1, "m1", 1, -1);
  Replicate();
  ExpectAcked(1, m1, "m1");
  LogAppendInfo m2 = Produce(1, "m2", 1, -1);
  Fetch(2);  // B copies m2
  // B's next fetch tells A it has m2: A's HW covers m2 and the produce is acknowledged...
  Partition::FollowerFetchResult lost = Send(1, Request(2));
  EXPECT_EQ(lost.offsets.high_watermark, Offset(2));
  ExpectAcked(1, m2, "m2");
  // ...but B restarts before it applies that response: its HW is still 1.
  ASSERT_EQ(Hw(2), 1);
  Crash(2);
  Open(2, /*checkpointed_hw=*/1);
  Publish();
  EXPECT_EQ(Leo(2), 2) << "a restarting follower must not truncate to its HW";
  // A dies; B is elected.
  Crash(1);
  Elect(2, {2});
  EXPECT_EQ(Leo(2), 2);
  EXPECT_EQ(Hw(2), 2);  // alone in the ISR
  LogAppendInfo m3 = Produce(2, "m3", 1, -1);
  ExpectAcked(2, m3, "m3");
  // A comes back and follows B.
  Open(1);
  Publish();
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "m1-0"}, {1, "m2-0"}, {2, "m3-0"}}));
  EXPECT_EQ(state_.isr, (Isr{2, 1}));
}

// KIP-101 scenario 2: both brokers fail; B lost m2 (unflushed), restarts first, becomes leader
// and writes m3 at m2's offset. A returns with m2 and an HW covering it: without epochs it would
// keep m2 and the logs would diverge for good. With epochs A truncates m2 and copies m3. (m2,
// acknowledged, is lost: every copy that survived the double failure lacks it. KIP-101 fixes
// divergence, not that.)
TEST_F(PartitionReplicationTest, Kip101ReplicaDivergenceAfterDoubleFailure) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m1 = Produce(1, "m1", 1, -1);
  LogAppendInfo m2 = Produce(1, "m2", 1, -1);
  Replicate();
  ExpectAcked(1, m1, "m1");
  EXPECT_EQ(Outcome(1, m2), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
  EXPECT_EQ(Hw(1), 2);
  EXPECT_EQ(Hw(2), 2);
  // Power failure: B had not flushed m2.
  ASSERT_TRUE(Log(2).TruncateTo(Offset(1)).ok());
  Crash(2);
  Crash(1);
  Open(2);
  Elect(2, {2});
  LogAppendInfo m3 = Produce(2, "m3", 1, -1);
  ASSERT_EQ(m3.first_offset, Offset(1));  // at m2's offset
  ExpectAcked(2, m3, "m3");
  Open(1, /*checkpointed_hw=*/2);
  Publish();
  ASSERT_EQ(Hw(1), 2);

  FetchOutcome f = Fetch(1);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 1}));  // B ends epoch 1 at offset 1
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Leo(1), 1);
  EXPECT_LE(Hw(1), 1);
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "m1-0"}, {1, "m3-0"}}));
}

// A new leader records (epoch, log end) at once (KAFKA-7415) and answers divergence for a
// follower holding an uncommitted tail of the previous epoch before it wrote anything itself.
TEST_F(PartitionReplicationTest, NewLeaderTruncatesFollowersUncommittedTailBeforeItWrites) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Produce(1, "tail", 3, -1);  // only 2 copies it
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  ASSERT_EQ(Leo(3), 2);
  Crash(1);
  Elect(3, {2, 3});
  EXPECT_EQ(Log(3).EpochEntries(),
            (std::vector<storage::EpochEntry>{{1, 0}, {2, 2}}));  // (new epoch, LEO) at once
  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 2}));
  EXPECT_EQ(Leo(2), 2);
  Replicate();
  ExpectIdenticalLogs();
  LogAppendInfo b = Produce(3, "b", 1, -1);
  Replicate();
  ExpectAcked(3, b, "b");
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
}

// ---- leader changes: KIP-279 -------------------------------------------------------------------

// KAFKA-6361 / KIP-279: A writes m1 (not replicated), B takes over and writes m2 at the same
// offset, then A takes over again before B fetched anything. B's epoch (2) is unknown to A, which
// answers with its largest epoch below it (1) and where that ends (2 — where A's epoch 3 starts).
// Truncating to min(2, B's LEO) would keep m2 (pre-KIP-279 divergence); B must match epoch 1 to
// its own end of epoch 1 (offset 1).
TEST_F(PartitionReplicationTest, Kip279FastLeaderChangesDoNotDiverge) {
  Start({1, 2}, 1);  // A = 1, B = 2
  Elect(1, {1, 2});
  LogAppendInfo m0 = Produce(1, "m0", 1, -1);
  Replicate();
  ExpectAcked(1, m0, "m0");
  Produce(1, "m1", 1, 1);  // offset 1, epoch 1, only on A
  Elect(2, {1, 2});
  Produce(2, "m2", 1, 1);  // offset 1, epoch 2, only on B
  Elect(1, {1, 2});
  Produce(1, "m3", 1, 1);  // offset 2, epoch 3

  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 2}));
  EXPECT_EQ(Leo(2), 1) << "B must drop m2 (epoch 2), which A never had";
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(2), (std::map<int64_t, std::string>{{0, "m0-0"}, {1, "m1-0"}, {2, "m3-0"}}));
  EXPECT_EQ(Log(2).EpochEntries(), Log(1).EpochEntries());
}

// The iterative case: the leader answers with an epoch the follower never had; the follower cuts
// back to the end of its own epoch below that and asks again with an older last epoch.
//   1 (epoch 1): m0..m2 committed everywhere; m3, m4 copied by 2 only.
//   3 (epoch 2): writes c3..c7 at offsets 3..7, nobody copies them.
//   2 (epoch 3): writes b5, b6 at offsets 5, 6.
//   3 (epoch 4): writes c8.
// 2 follows 3 with last epoch 3 -> diverging (2, 8): 2 has no epoch 2, cuts to its end of epoch
// 1 (5) and asks again with last epoch 1 -> diverging (1, 3) -> truncates to 3 and copies.
TEST_F(PartitionReplicationTest, Kip279IterativeTruncationWhenFollowerLacksLeadersEpoch) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  std::vector<LogAppendInfo> m;
  for (int i = 0; i < 3; ++i) m.push_back(Produce(1, absl::StrCat("m", i), 1, -1));
  Replicate();
  for (int i = 0; i < 3; ++i) ExpectAcked(1, m[i], absl::StrCat("m", i));
  Produce(1, "m3", 1, -1);
  Produce(1, "m4", 1, -1);
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  ASSERT_EQ(Leo(3), 3);
  EXPECT_EQ(Hw(1), 3);

  Crash(1);
  Elect(3, {2, 3});
  for (int i = 3; i <= 7; ++i) Produce(3, absl::StrCat("c", i), 1, 1);
  Elect(2, {2, 3});
  Produce(2, "b5", 1, 1);
  Produce(2, "b6", 1, 1);
  Elect(3, {2, 3});
  Produce(3, "c8", 1, 1);
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {3, 5}}));
  ASSERT_EQ(Log(3).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {2, 3}, {4, 8}}));

  FetchOutcome f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{2, 8}));
  EXPECT_EQ(Leo(2), 5);
  EXPECT_EQ(Log(2).LatestEpoch(), LeaderEpoch(1));
  f = Fetch(2);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 3}));
  EXPECT_EQ(Leo(2), 3);
  f = Fetch(2);
  EXPECT_FALSE(f.diverging.has_value());
  EXPECT_GT(f.record_bytes, 0u);

  // A comes back with m3, m4 of epoch 1 and follows 3 too.
  Open(1);
  Publish();
  Replicate();
  ExpectIdenticalLogs();
  ExpectNoAckedLoss();
  EXPECT_EQ(Values(1), Values(3));
  auto values = Values(2);
  EXPECT_EQ(values[3], "c3-0");
  EXPECT_EQ(values[8], "c8-0");
}

// Metadata that lags an ISR change the leader already applied (same leader epoch, older
// partition epoch) must not roll the ISR back.
TEST_F(PartitionReplicationTest, FollowerThatLedAnEmptyEpochCatchesUp) {
  Start({1, 2}, 2);
  Elect(1, {1, 2});
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Elect(2, {1, 2});  // e.g. a preferred-leader election bouncing back and forth
  Elect(1, {1, 2});
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {2, 2}}));
  LogAppendInfo b = Produce(1, "b", 1, -1);
  for (int i = 0; i < 5; ++i) Fetch(2);
  EXPECT_EQ(Leo(2), Leo(1)) << "follower stuck on diverging epoch answers";
  EXPECT_EQ(Log(2).LatestEpoch(), LeaderEpoch(3));
  EXPECT_EQ(Outcome(1, b), std::optional<KafkaErrorCode>(KafkaErrorCode::kNone));
}

// The same for the KIP-279 branch: the follower lacks the leader's epoch.
TEST_F(PartitionReplicationTest, FollowerThatLedAnEmptyEpochAndLacksTheLeadersEpochConverges) {
  Start({1, 2, 3}, 1);
  Elect(1, {1, 2, 3});
  for (int i = 0; i < 3; ++i) Produce(1, absl::StrCat("m", i), 1, -1);
  Replicate();
  Produce(1, "m3", 1, -1);
  Produce(1, "m4", 1, -1);
  Fetch(2);
  ASSERT_EQ(Leo(2), 5);
  Crash(1);
  Elect(3, {2, 3});
  Produce(3, "c3", 1, 1);
  Produce(3, "c4", 1, 1);
  Elect(2, {2, 3});
  Elect(3, {2, 3});
  Produce(3, "c5", 1, 1);
  ASSERT_EQ(Log(2).EpochEntries(), (std::vector<storage::EpochEntry>{{1, 0}, {3, 5}}));
  for (int i = 0; i < 6; ++i) Fetch(2);
  EXPECT_EQ(Leo(2), Leo(3));
  EXPECT_EQ(Values(2), Values(3));
}

// ---- unclean election ---------------------------------------------------------------------------

// 2 is out of the ISR and down while 1 commits more (ISR {1}); then 1 dies and 2 is elected
// uncleanly. 1 returns ahead of the new leader, with an HW past the new leader's log end: it
// truncates to where epoch 1 ends on 2 and copies 2's log. (The records only 1 had are lost —
// that is what an unclean election means.)
TEST_F(PartitionReplicationTest, FollowerAheadOfUncleanlyElectedLeaderTruncates) {
  Start({1, 2}, 1);
  Elect(1, {1, 2});
  LogAppendInfo a = Produce(1, "a", 1, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  Crash(2);
  Produce(1, "b", 2, -1);
  EXPECT_EQ(Hw(1), 1);
  now_ += kLagMs + 1;
  auto shrink = P(1).MaybeShrinkIsr(now_);
  ASSERT_TRUE(shrink.has_value());
  CommitIsrChange(*shrink);
  EXPECT_EQ(Hw(1), 3);
  Produce(1, "c", 1, -1);
  EXPECT_EQ(Hw(1), 4);
  Crash(1);
  Open(2);
  Elect(2, {2});  // unclean: 2 was not in the ISR
  Produce(2, "n", 1, -1);
  EXPECT_EQ(Leo(2), 2);

  Open(1, /*checkpointed_hw=*/4);
  Publish();
  ASSERT_EQ(Hw(1), 4);
  FetchOutcome f = Fetch(1);
  ASSERT_TRUE(f.diverging.has_value());
  EXPECT_EQ(*f.diverging, (EpochEndOffset{1, 1}));
  EXPECT_EQ(Leo(1), 1);
  EXPECT_LE(Hw(1), 1);
  Replicate();
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(1), (std::map<int64_t, std::string>{{0, "a-0"}, {1, "n-0"}}));
  EXPECT_EQ(state_.isr, (Isr{2, 1}));
}

// The fetcher's other OFFSET_OUT_OF_RANGE branch: a follower past the leader's log end with no
// epoch to compare (its batches carry no leader epoch) truncates to the leader's log end.
TEST_F(PartitionReplicationTest, FollowerAheadWithoutEpochsTruncatesToLeaderLogEnd) {
  Start({1, 2}, 1);
  std::string batch = MakeBatch(5, clock_.WallMs(), 0, Compression::kNone, "old");
  record::SetPartitionLeaderEpoch(batch.data(), -1);
  auto old = Log(2).AppendAsFollower(batch);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_EQ(Leo(2), 5);
  ASSERT_FALSE(Log(2).LatestEpoch().has_value());
  Elect(1, {1});  // unclean: 1 has nothing
  FetchOutcome f = Fetch(2);
  EXPECT_EQ(f.error, KafkaErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(f.offsets.log_end_offset, Offset(0));
  EXPECT_TRUE(f.truncated);
  EXPECT_EQ(Leo(2), 0);
  LogAppendInfo a = Produce(1, "a", 2, -1);
  Replicate();
  ExpectAcked(1, a, "a");
  EXPECT_EQ(state_.isr, (Isr{1, 2}));
  ExpectIdenticalLogs();
  EXPECT_EQ(Values(2), (std::map<int64_t, std::string>{{0, "a-0"}, {1, "a-1"}}));
}

// Leadership moves around several times with traffic and replicas restarting; after every
// change the replicas converge and nothing acknowledged is lost.
TEST_F(PartitionReplicationTest, RepeatedLeaderChangesConverge) {
  Start({1, 2, 3}, 2);
  Elect(1, {1, 2, 3});
  const std::vector<int32_t> leaders{2, 3, 1, 3, 2, 1};
  int n = 0;
  for (int32_t next : leaders) {
    int32_t leader = state_.leader;
    for (int i = 0; i < 3; ++i, ++n) {
      std::string prefix = absl::StrCat("r", n);
      LogAppendInfo info = Produce(leader, prefix, 1 + n % 3, -1);
      Replicate();
      ExpectAcked(leader, info, prefix);
    }
    // An uncommitted tail on the old leader only, then a clean election (all in the ISR).
    Produce(leader, absl::StrCat("tail", n), 2, 1);
    Elect(next, {1, 2, 3});
    Produce(next, absl::StrCat("first", n), 1, 1);
    Replicate();
    ExpectIdenticalLogs();
    ExpectNoAckedLoss();
  }
}

}  // namespace
}  // namespace gregor::broker
