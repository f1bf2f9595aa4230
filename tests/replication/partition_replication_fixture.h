// The fixture of the partition replication tests (partition_replication_*_test.cc): a leader
// Partition and follower Partitions played through in one thread, each over its own PartitionLog
// in a temp dir. A follower "fetches" by building the request the replica fetcher builds (fetch
// offset = its log end, last fetched epoch = its latest epoch, current leader epoch = the epoch it
// follows), calling HandleFollowerFetch on the leader and applying the answer as
// ReplicaFetcher::Apply does (TruncateOnDivergence / AppendFromLeader / the OFFSET_OUT_OF_RANGE
// handling). The controller is a PartitionState in the fixture: leader changes bump the leader
// epoch and go to every live replica through ApplyState; ISR changes are CAS-checked against the
// partition epoch. Time is a simulated `now_`.
#pragma once

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
inline void PrintTo(KafkaErrorCode code, std::ostream* os) {
  *os << KafkaErrorName(code) << " (" << static_cast<int>(code) << ")";
}
}  // namespace gregor

namespace gregor::broker::replication_testing {

using storage::EpochEndOffset;
using storage::LogAppendInfo;
using storage::PartitionLog;
using storage::testing::MakeBatch;
using storage::testing::OpenLog;
using storage::testing::ReadAll;
using storage::testing::TempDir;
using Isr = std::vector<int32_t>;

constexpr int64_t kLagMs = 10000;
inline const storage::TopicPartition kTp{"t", 0};

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
    const int32_t epoch = p.leader_epoch();  // the epoch the fetch was sent at
    if (result.error == KafkaErrorCode::kNone && result.diverging) {
      auto leo = p.TruncateOnDivergence(*result.diverging, epoch);
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
        absl::Status s = p.AppendFromLeader(epoch, bytes, result.offsets.high_watermark.value(),
                                            result.offsets.log_start_offset.value());
        EXPECT_TRUE(s.ok()) << s;
        break;
      }
      case KafkaErrorCode::kOffsetOutOfRange: {
        absl::Status s = p.TruncateToLeaderRange(epoch, result.offsets.log_start_offset.value(),
                                                 result.offsets.log_end_offset.value());
        out.truncated = Leo(follower) < before ||
                        before < result.offsets.log_start_offset.value();
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

}  // namespace gregor::broker::replication_testing
