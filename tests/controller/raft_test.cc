// Unit scenarios for the pure Raft core (controller/quorum/raft.h), driven by hand: every
// message goes through a tiny in-test cluster that persists Readys into per-node "disks",
// applies committed entries and delivers (or drops) messages when told to.
#include "controller/quorum/raft.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "gtest/gtest.h"

namespace gregor::quorum {
namespace {

Entry E(int64_t index, int64_t term, std::string data = "") {
  return Entry{index, term, std::move(data)};
}

Message Msg(MessageType type, NodeId from, NodeId to, int64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

RaftConfig Config(NodeId id, std::vector<NodeId> voters) {
  RaftConfig c;
  c.id = id;
  c.voters = std::move(voters);
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.seed = 1000 + static_cast<uint64_t>(id);
  return c;
}

// A hand-driven cluster. Process() is the driver loop of one node: persist, queue the
// messages in the outbox, apply.
class TestCluster {
 public:
  explicit TestCluster(std::vector<NodeId> ids, std::map<NodeId, PersistentState> restored = {},
                       std::function<void(RaftConfig&)> tweak = nullptr)
      : ids_(ids), tweak_(std::move(tweak)) {
    for (NodeId id : ids_) {
      disks_[id] = restored.count(id) ? restored[id] : PersistentState{};
      Start(id);
    }
  }

  RaftNode& node(NodeId id) { return *nodes_.at(id); }
  const std::vector<Entry>& applied(NodeId id) { return applied_[id]; }
  const PersistentState& disk(NodeId id) { return disks_[id]; }
  std::deque<Message>& outbox() { return outbox_; }
  const std::vector<Ready>& readys(NodeId id) { return readys_[id]; }

  // Simulates a crash (in-memory state and unsent output lost) and a restart from disk.
  void Restart(NodeId id) { Start(id); }

  // Runs the driver loop once for `id`; with send = false the messages are only returned.
  Ready Process(NodeId id, bool send = true) {
    RaftNode& n = node(id);
    if (!n.HasReady()) return Ready{};
    Ready rd = n.TakeReady();
    PersistentState& d = disks_[id];
    if (rd.snapshot) {
      d.snapshot = *rd.snapshot;
      std::erase_if(d.entries, [&](const Entry& e) { return e.index <= rd.snapshot->last_index; });
    }
    if (rd.truncate_from) {
      std::erase_if(d.entries, [&](const Entry& e) { return e.index >= *rd.truncate_from; });
    }
    for (const Entry& e : rd.entries) {
      const int64_t expected =
          d.entries.empty() ? d.snapshot.last_index + 1 : d.entries.back().index + 1;
      EXPECT_EQ(e.index, expected) << "node " << id << " appended a non-contiguous entry";
      d.entries.push_back(e);
    }
    if (rd.hard_state) d.hard_state = *rd.hard_state;
    if (send) {
      for (const Message& m : rd.messages) outbox_.push_back(m);
    }
    if (rd.snapshot_to_apply) {
      applied_[id].clear();  // the state machine restarts from the snapshot
      applied_snapshot_[id] = rd.snapshot_to_apply->last_index;
    }
    for (const Entry& e : rd.committed) applied_[id].push_back(e);
    readys_[id].push_back(rd);
    return rd;
  }

  void ProcessAll() {
    for (NodeId id : ids_) Process(id);
  }

  bool Dropped(const Message& m) const {
    if (isolated_.count(m.from) || isolated_.count(m.to)) return true;
    return drop_ && drop_(m);
  }

  // Delivers messages until the cluster is quiet. Returns how many were delivered.
  int DeliverAll() {
    int delivered = 0;
    for (int round = 0; round < 1000; ++round) {
      ProcessAll();
      if (outbox_.empty()) return delivered;
      std::deque<Message> batch;
      batch.swap(outbox_);
      for (const Message& m : batch) {
        if (Dropped(m)) continue;
        node(m.to).Step(m);
        ++delivered;
      }
    }
    ADD_FAILURE() << "cluster did not quiesce";
    return delivered;
  }

  void TickAll(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      for (NodeId id : ids_) node(id).Tick();
      DeliverAll();
    }
  }

  // Ticks only `id` (delivering everything) until it leads.
  void ElectLeader(NodeId id) {
    for (int i = 0; i < 100 && node(id).role() != Role::kLeader; ++i) {
      node(id).Tick();
      DeliverAll();
    }
    ASSERT_EQ(node(id).role(), Role::kLeader);
    DeliverAll();
  }

  void Isolate(NodeId id) { isolated_.insert(id); }
  void Heal() {
    isolated_.clear();
    drop_ = nullptr;
  }
  void SetDrop(std::function<bool(const Message&)> drop) { drop_ = std::move(drop); }

 private:
  void Start(NodeId id) {
    RaftConfig c = Config(id, ids_);
    if (tweak_) tweak_(c);
    ASSERT_TRUE(RaftNode::Validate(c, disks_[id]).ok());
    nodes_[id] = std::make_unique<RaftNode>(c, disks_[id]);
    applied_[id].clear();
  }

  std::vector<NodeId> ids_;
  std::function<void(RaftConfig&)> tweak_;
  std::map<NodeId, std::unique_ptr<RaftNode>> nodes_;
  std::map<NodeId, PersistentState> disks_;
  std::map<NodeId, std::vector<Entry>> applied_;
  std::map<NodeId, int64_t> applied_snapshot_;
  std::map<NodeId, std::vector<Ready>> readys_;
  std::deque<Message> outbox_;
  std::set<NodeId> isolated_;
  std::function<bool(const Message&)> drop_;
};

std::vector<std::string> Data(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) out.push_back(e.data);
  return out;
}

class RaftTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { Logger("raft")->set_level(spdlog::level::warn); }
};

TEST_F(RaftTest, SingleNode_ElectsItselfAndCommits) {
  RaftNode n(Config(1, {1}), PersistentState{});
  for (int i = 0; i < 20 && n.role() != Role::kLeader; ++i) n.Tick();
  ASSERT_EQ(n.role(), Role::kLeader);
  EXPECT_EQ(n.term(), 1);
  EXPECT_EQ(n.leader_id(), 1);

  Ready rd = n.TakeReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(*rd.hard_state, (HardState{1, 1, 1}));
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(1, 1)});  // the leader's no-op
  EXPECT_EQ(rd.committed, std::vector<Entry>{E(1, 1)});
  EXPECT_TRUE(rd.messages.empty());
  EXPECT_FALSE(n.HasReady());

  ASSERT_EQ(*n.Propose("a"), 2);
  rd = n.TakeReady();
  EXPECT_EQ(rd.entries, std::vector<Entry>{E(2, 1, "a")});
  EXPECT_EQ(rd.committed, std::vector<Entry>{E(2, 1, "a")});
  ASSERT_TRUE(rd.hard_state.has_value());  // the commit index moved
  EXPECT_EQ(rd.hard_state->commit, 2);

  // Nothing changed: nothing to hand out, and committed entries are never handed out twice.
  for (int i = 0; i < 30; ++i) n.Tick();
  EXPECT_EQ(n.role(), Role::kLeader);
  EXPECT_FALSE(n.HasReady());
  EXPECT_TRUE(n.TakeReady().empty());
}

TEST_F(RaftTest, Election_ThreeNodesPreVoteThenVote) {
  TestCluster c({1, 2, 3});
  // Node 1's timer fires: it asks for pre-votes at term 1 without raising its own term.
  int ticks = 0;
  while (c.node(1).role() == Role::kFollower && ticks < 100) {
    c.node(1).Tick();
    ++ticks;
  }
  EXPECT_GE(ticks, 10);  // timeout drawn from [election_ticks, 2 * election_ticks)
  EXPECT_LT(ticks, 20);
  ASSERT_EQ(c.node(1).role(), Role::kPreCandidate);
  EXPECT_EQ(c.node(1).term(), 0);
  Ready rd = c.node(1).TakeReady();
  EXPECT_FALSE(rd.hard_state.has_value());  // pre-vote changes nothing durable
  ASSERT_EQ(rd.messages.size(), 2u);
  for (const Message& m : rd.messages) {
    EXPECT_EQ(m.type, MessageType::kPreVote);
    EXPECT_EQ(m.term, 1);
  }
  for (const Message& m : rd.messages) c.node(m.to).Step(m);
  EXPECT_EQ(c.node(2).term(), 0);  // granting a pre-vote changes nothing either
  EXPECT_EQ(c.node(2).voted_for(), kNoNode);

  c.DeliverAll();
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(c.node(id).term(), 1) << id;
    EXPECT_EQ(c.node(id).leader_id(), 1) << id;
    EXPECT_EQ(c.node(id).commit_index(), 1) << id;  // the no-op
    EXPECT_EQ(c.applied(id), std::vector<Entry>{E(1, 1)}) << id;
    EXPECT_EQ(c.disk(id).hard_state.term, 1) << id;
  }
  EXPECT_EQ(c.disk(2).hard_state.voted_for, 1);

  ASSERT_TRUE(c.node(1).Propose("x").ok());
  c.DeliverAll();
  c.TickAll(1);  // followers learn the new commit index
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(Data(c.applied(id)), (std::vector<std::string>{"", "x"})) << id;
  }
  absl::StatusOr<int64_t> not_leader = c.node(2).Propose("y");
  EXPECT_EQ(not_leader.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(not_leader.status().message().find("leader is 1"), absl::string_view::npos);
}

TEST_F(RaftTest, Vote_RejectedForStaleLogAndSecondCandidate) {
  // Nodes 2 and 3 have an entry of term 2 that node 1 lacks.
  PersistentState behind{HardState{2, kNoNode, 1}, Snapshot{}, {E(1, 1)}};
  PersistentState ahead{HardState{2, kNoNode, 1}, Snapshot{}, {E(1, 1), E(2, 2, "x")}};
  TestCluster c({1, 2, 3}, {{1, behind}, {2, ahead}, {3, ahead}});

  // Direct requests: a real vote at a higher term from a stale log is rejected (though the term
  // is adopted), an up-to-date one granted, and a second candidate in that term refused.
  Message req = Msg(MessageType::kVote, 1, 2, 3);
  req.last_log_index = 1;
  req.last_log_term = 1;
  c.node(2).Step(req);
  Ready rd = c.node(2).TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].granted);
  EXPECT_EQ(c.node(2).term(), 3);
  EXPECT_EQ(c.node(2).voted_for(), kNoNode);

  Message req3 = Msg(MessageType::kVote, 3, 2, 3);
  req3.last_log_index = 2;
  req3.last_log_term = 2;
  c.node(2).Step(req3);
  rd = c.node(2).TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].granted);
  EXPECT_EQ(rd.messages[0].term, 3);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->voted_for, 3);  // persisted before the grant is sent

  Message req1_uptodate = req;
  req1_uptodate.last_log_index = 5;
  req1_uptodate.last_log_term = 2;
  c.node(2).Step(req1_uptodate);
  rd = c.node(2).TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].granted) << "already voted for 3 in term 3";

  // Through the cluster: node 1 cannot even win the pre-vote, so its term stays put.
  TestCluster c2({1, 2, 3}, {{1, behind}, {2, ahead}, {3, ahead}});
  for (int i = 0; i < 60; ++i) {
    c2.node(1).Tick();
    c2.DeliverAll();
  }
  EXPECT_NE(c2.node(1).role(), Role::kLeader);
  EXPECT_NE(c2.node(1).role(), Role::kCandidate);
  EXPECT_EQ(c2.node(1).term(), 2);
  EXPECT_EQ(c2.node(2).term(), 2);
  c2.ElectLeader(2);
  c2.TickAll(2);
  EXPECT_EQ(c2.node(1).leader_id(), 2);
  EXPECT_EQ(c2.node(1).entries(), c2.node(2).entries());
}

TEST_F(RaftTest, PreVote_PartitionedNodeDoesNotDisruptLeader) {
  TestCluster c({1, 2, 3});
  c.ElectLeader(1);
  ASSERT_EQ(c.node(1).term(), 1);

  // No proposals meanwhile, so node 3's log stays as up to date as everyone's: only pre-vote
  // and the leader lease stand between it and a new election.
  c.Isolate(3);
  for (int i = 0; i < 100; ++i) c.TickAll(1);
  // Node 3 timed out again and again but never won a pre-vote: its term did not move.
  EXPECT_EQ(c.node(3).term(), 1);
  EXPECT_NE(c.node(3).role(), Role::kCandidate);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(3).last_index(), c.node(1).last_index());

  // Force node 3 to ask right after rejoining. Its pre-vote at term 2 is refused by the leader
  // and by node 2, which heard from the leader within the lease.
  c.Heal();
  for (int i = 0; i < 100 && !c.node(3).HasReady(); ++i) c.node(3).Tick();
  ASSERT_EQ(c.node(3).role(), Role::kPreCandidate);
  ASSERT_TRUE(c.node(3).HasReady());
  c.DeliverAll();
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).term(), 1);
  EXPECT_EQ(c.node(2).term(), 1);
  c.TickAll(5);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(3).role(), Role::kFollower);
  EXPECT_EQ(c.node(3).leader_id(), 1);
  EXPECT_EQ(c.node(3).term(), 1);

  // Same with a log that fell behind while partitioned; it catches up without an election.
  c.Isolate(3);
  for (int i = 0; i < 50; ++i) {
    c.TickAll(1);
    if (i % 10 == 0) {
      ASSERT_TRUE(c.node(1).Propose(absl::StrCat("p", i)).ok());
    }
  }
  EXPECT_EQ(c.node(3).term(), 1);
  c.Heal();
  c.TickAll(5);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).term(), 1);
  EXPECT_EQ(c.node(3).commit_index(), c.node(1).commit_index());
  EXPECT_EQ(c.applied(3), c.applied(1));
  EXPECT_EQ(c.applied(3).size(), 6u);
}

TEST_F(RaftTest, Vote_LeaseRefusesHigherTermCandidate) {
  TestCluster c({1, 2, 3});
  c.ElectLeader(1);
  // A (real) vote request at a higher term, e.g. from a node that rejoins with an inflated term:
  // node 2 heard from the leader just now, so it refuses without adopting the term.
  Message req = Msg(MessageType::kVote, 3, 2, 7);
  req.last_log_index = 100;
  req.last_log_term = 1;
  c.node(2).Step(req);
  Ready rd = c.node(2).TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].granted);
  EXPECT_EQ(c.node(2).term(), 1);
  EXPECT_EQ(c.node(2).leader_id(), 1);
  // Once the leader has been silent for an election timeout, the same request wins the vote.
  c.Isolate(1);
  for (int i = 0; i < 10; ++i) c.node(2).Tick();
  c.node(2).Step(req);
  rd = c.node(2).TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].granted);
  EXPECT_EQ(c.node(2).term(), 7);
}

TEST_F(RaftTest, CheckQuorum_IsolatedLeaderStepsDown) {
  TestCluster c({1, 2, 3});
  c.ElectLeader(1);
  c.Isolate(1);
  for (int i = 0; i < 10 && c.node(1).role() == Role::kLeader; ++i) c.TickAll(1);
  EXPECT_EQ(c.node(1).role(), Role::kFollower);
  EXPECT_EQ(c.node(1).leader_id(), kNoNode);
  EXPECT_EQ(c.node(1).term(), 1);
  // Its proposals are refused from now on.
  EXPECT_FALSE(c.node(1).Propose("late").ok());
  // The majority side elects a new leader; the old one follows it after healing.
  c.TickAll(40);
  const NodeId new_leader = c.node(2).role() == Role::kLeader ? 2 : 3;
  ASSERT_EQ(c.node(new_leader).role(), Role::kLeader);
  EXPECT_GT(c.node(new_leader).term(), 1);
  c.Heal();
  c.TickAll(3);
  EXPECT_EQ(c.node(1).leader_id(), new_leader);
  EXPECT_EQ(c.node(1).term(), c.node(new_leader).term());
}

TEST_F(RaftTest, Append_ConflictRepairedWithTruncateFrom) {
  // Term 2: node 2 led (votes of 2 and 3) and appended 2..5 that never left it. Term 3: node 1
  // led (votes of 1 and 3) and replicated 2..4 to node 3. Node 1 now wins term 4.
  PersistentState n1{
      HardState{3, 1, 1}, Snapshot{}, {E(1, 1), E(2, 3, "a"), E(3, 3, "b"), E(4, 3, "c")}};
  PersistentState n2{HardState{2, 2, 1},
                     Snapshot{},
                     {E(1, 1), E(2, 2, "w"), E(3, 2, "x"), E(4, 2, "y"), E(5, 2, "z")}};
  TestCluster c({1, 2, 3}, {{1, n1}, {2, n2}, {3, n1}});
  c.SetDrop([](const Message& m) { return m.to == 2 || m.from == 2; });
  c.ElectLeader(1);
  ASSERT_EQ(c.node(1).term(), 4);
  c.DeliverAll();
  c.Heal();
  c.outbox().clear();

  // Heartbeat: the leader probes at prev = (4, 3); node 2 has term 2 there and answers with
  // the first index of its conflicting term.
  c.node(1).Tick();
  c.Process(1);
  std::deque<Message> out;
  out.swap(c.outbox());
  for (const Message& m : out) {
    if (m.to == 2) {
      EXPECT_EQ(m.prev_log_index, 4);
      EXPECT_EQ(m.prev_log_term, 3);
      c.node(2).Step(m);
    }
  }
  Ready rd = c.Process(2, /*send=*/false);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].success);
  EXPECT_EQ(rd.messages[0].hint_index, 2);  // skips the whole term-2 suffix in one round trip

  // The leader retries from index 2: node 2 truncates its term-2 suffix and takes the leader's.
  c.node(1).Step(rd.messages[0]);
  c.Process(1);
  out.clear();
  out.swap(c.outbox());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prev_log_index, 1);
  c.node(2).Step(out[0]);
  rd = c.Process(2, /*send=*/false);
  ASSERT_TRUE(rd.truncate_from.has_value());
  EXPECT_EQ(*rd.truncate_from, 2);
  EXPECT_EQ(rd.entries, (std::vector<Entry>{E(2, 3, "a"), E(3, 3, "b"), E(4, 3, "c"), E(5, 4)}));
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].success);
  EXPECT_EQ(rd.messages[0].match_index, 5);
  c.node(1).Step(rd.messages[0]);
  c.DeliverAll();
  c.TickAll(2);
  EXPECT_EQ(c.node(2).entries(), c.node(1).entries());
  EXPECT_EQ(c.node(2).commit_index(), 5);
  EXPECT_EQ(Data(c.applied(2)), (std::vector<std::string>{"", "a", "b", "c", ""}));
}

TEST_F(RaftTest, Append_PendingTruncationMergesWithinOneReady) {
  // Two appends before one TakeReady: the first extends the log, the second cuts into what the
  // first added. The Ready must describe the net effect relative to the persisted log.
  PersistentState st{HardState{1, kNoNode, 1}, Snapshot{}, {E(1, 1), E(2, 1, "a")}};
  RaftNode n(Config(2, {1, 2, 3}), st);
  Message a1 = Msg(MessageType::kAppend, 1, 2, 2);
  a1.prev_log_index = 2;
  a1.prev_log_term = 1;
  a1.entries = {E(3, 2, "b"), E(4, 2, "c")};
  n.Step(a1);
  Message a2 = Msg(MessageType::kAppend, 3, 2, 3);
  a2.prev_log_index = 3;
  a2.prev_log_term = 2;
  a2.entries = {E(4, 3, "d")};
  n.Step(a2);
  Ready rd = n.TakeReady();
  EXPECT_FALSE(rd.truncate_from.has_value());  // nothing persisted was cut
  EXPECT_EQ(rd.entries, (std::vector<Entry>{E(3, 2, "b"), E(4, 3, "d")}));
  // Now a cut into persisted entries and a pending append, in one Ready.
  Message a3 = Msg(MessageType::kAppend, 1, 2, 4);
  a3.prev_log_index = 2;
  a3.prev_log_term = 1;
  a3.entries = {E(3, 4, "e")};
  n.Step(a3);
  Message a4 = a3;
  a4.prev_log_index = 3;
  a4.prev_log_term = 4;
  a4.entries = {E(4, 4, "f"), E(5, 4, "g")};
  n.Step(a4);
  rd = n.TakeReady();
  ASSERT_TRUE(rd.truncate_from.has_value());
  EXPECT_EQ(*rd.truncate_from, 3);
  EXPECT_EQ(rd.entries, (std::vector<Entry>{E(3, 4, "e"), E(4, 4, "f"), E(5, 4, "g")}));
  // A duplicate of an older append must not cut entries that already match.
  n.Step(a3);
  rd = n.TakeReady();
  EXPECT_FALSE(rd.truncate_from.has_value());
  EXPECT_TRUE(rd.entries.empty());
  EXPECT_EQ(n.last_index(), 5);
}

// Figure 8 of the Raft paper (thesis Figure 3.7): an entry from an earlier term stored on a
// majority is not committed by counting replicas; a leader of a later term may still overwrite
// it. It only becomes committed together with an entry of the leader's own term.
TEST_F(RaftTest, Commit_Figure8OldTermEntryNotCommittedByCounting) {
  // State (c) of the figure: S1 led term 2 and stored 2@2; S5 led term 3 and stored 2@3 only
  // on itself. S1 is about to be elected for term 4.
  PersistentState base{HardState{3, kNoNode, 1}, Snapshot{}, {E(1, 1)}};
  PersistentState s1{HardState{3, kNoNode, 1}, Snapshot{}, {E(1, 1), E(2, 2, "old")}};
  PersistentState s5{HardState{3, 5, 1}, Snapshot{}, {E(1, 1), E(2, 3, "s5")}};
  auto one_entry = [](RaftConfig& c) { c.max_entries_per_append = 1; };
  TestCluster c({1, 2, 3, 4, 5}, {{1, s1}, {2, base}, {3, base}, {4, base}, {5, s5}}, one_entry);

  // S1 wins term 4 without S5. The network loses every append that would store S1's no-op
  // (3@4) anywhere, but not the probes the followers reject, so S1 backs up and stores 2@2 on
  // S2, S3 and S4: the term-2 entry is on a majority and S1 knows it.
  c.SetDrop([&c](const Message& m) {
    if (m.from == 5 || m.to == 5) return true;
    if (m.type != MessageType::kAppend) return false;
    const bool has_noop =
        std::any_of(m.entries.begin(), m.entries.end(), [](const Entry& e) { return e.term == 4; });
    return has_noop && c.node(m.to).TermAt(m.prev_log_index) == m.prev_log_term;
  });
  c.ElectLeader(1);
  ASSERT_EQ(c.node(1).term(), 4);
  c.TickAll(3);
  ASSERT_EQ(c.node(1).role(), Role::kLeader);
  for (NodeId id : {2, 3, 4}) {
    ASSERT_EQ(c.node(id).TermAt(2), 2) << id;
    EXPECT_EQ(c.node(id).last_index(), 2) << id;
  }
  EXPECT_EQ(c.node(1).commit_index(), 1) << "2@2 is on a majority but must not be committed";
  EXPECT_EQ(Data(c.applied(1)), std::vector<std::string>{""});

  // S1 crashes. S5, whose last entry is of term 3, can win term 5 (the others' pre-votes are
  // lost so that it is S5 that does) and overwrites 2@2 everywhere.
  c.SetDrop([](const Message& m) {
    return m.from == 1 || m.to == 1 || (m.type == MessageType::kPreVote && m.from != 5);
  });
  for (int i = 0; i < 200 && c.node(5).role() != Role::kLeader; ++i) c.TickAll(1);
  ASSERT_EQ(c.node(5).role(), Role::kLeader);
  EXPECT_GE(c.node(5).term(), 5);
  c.TickAll(3);
  for (NodeId id : {2, 3, 4, 5}) {
    EXPECT_EQ(c.node(id).TermAt(2), 3) << id;
    EXPECT_EQ(c.node(id).commit_index(), 3) << id;
    EXPECT_EQ(Data(c.applied(id)), (std::vector<std::string>{"", "s5", ""})) << id;
  }
}

TEST_F(RaftTest, Commit_Figure8CurrentTermEntryCommitsEarlierOnes) {
  // Same start, but S1's no-op of term 4 reaches a majority: 2@2 commits with it.
  PersistentState base{HardState{3, kNoNode, 1}, Snapshot{}, {E(1, 1)}};
  PersistentState s1{HardState{3, kNoNode, 1}, Snapshot{}, {E(1, 1), E(2, 2, "old")}};
  PersistentState s5{HardState{3, 5, 1}, Snapshot{}, {E(1, 1), E(2, 3, "s5")}};
  TestCluster c({1, 2, 3, 4, 5}, {{1, s1}, {2, s1}, {3, base}, {4, base}, {5, s5}});
  c.SetDrop([](const Message& m) { return m.from == 5 || m.to == 5; });
  c.ElectLeader(1);
  c.TickAll(2);
  EXPECT_EQ(c.node(1).commit_index(), 3);
  EXPECT_EQ(Data(c.applied(1)), (std::vector<std::string>{"", "old", ""}));
  // S5 cannot win any more: a majority has a log ending in term 4.
  c.SetDrop([](const Message& m) { return m.from == 1 || m.to == 1; });
  for (int i = 0; i < 60; ++i) c.TickAll(1);
  EXPECT_NE(c.node(5).role(), Role::kLeader);
  for (NodeId id : {2, 3, 4, 5}) EXPECT_EQ(c.node(id).TermAt(2), 2) << id;
}

TEST_F(RaftTest, Snapshot_LaggingFollowerGetsSnapshot) {
  TestCluster c({1, 2, 3});
  c.ElectLeader(1);
  c.Isolate(3);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(1).Propose(absl::StrCat("v", i)).ok());
  c.DeliverAll();
  c.TickAll(1);
  ASSERT_EQ(c.node(1).commit_index(), 11);
  ASSERT_EQ(c.node(1).applied_index(), 11);
  // The leader's application snapshots its state and compacts the log.
  c.node(1).CompactTo(Snapshot{11, 1, "state@11"});
  EXPECT_EQ(c.node(1).first_index(), 12);
  EXPECT_TRUE(c.node(1).entries().empty());
  ASSERT_TRUE(c.node(1).Propose("after").ok());
  c.DeliverAll();

  c.Heal();
  c.TickAll(3);
  const Ready* with_snapshot = nullptr;
  for (const Ready& rd : c.readys(3)) {
    if (rd.snapshot) with_snapshot = &rd;
  }
  ASSERT_NE(with_snapshot, nullptr);
  EXPECT_EQ(with_snapshot->snapshot->last_index, 11);
  EXPECT_EQ(with_snapshot->snapshot->data, "state@11");
  ASSERT_TRUE(with_snapshot->snapshot_to_apply.has_value());
  ASSERT_TRUE(with_snapshot->truncate_from.has_value());  // its old entries do not match
  EXPECT_EQ(*with_snapshot->truncate_from, 12);
  EXPECT_EQ(c.node(3).snapshot().last_index, 11);
  EXPECT_EQ(c.node(3).entries(), c.node(1).entries());
  EXPECT_EQ(c.node(3).commit_index(), 12);
  EXPECT_EQ(Data(c.applied(3)), std::vector<std::string>{"after"});  // after the snapshot
  EXPECT_EQ(c.disk(3).snapshot.last_index, 11);
  EXPECT_EQ(c.disk(3).entries, c.node(3).entries());
}

TEST_F(RaftTest, Snapshot_MatchingSuffixIsKept) {
  // The follower already has 1..4 of the leader's log; a snapshot at 3 keeps 4.
  PersistentState st{
      HardState{1, kNoNode, 1}, Snapshot{}, {E(1, 1), E(2, 1, "a"), E(3, 1, "b"), E(4, 1, "c")}};
  RaftNode n(Config(2, {1, 2, 3}), st);
  Message m = Msg(MessageType::kInstallSnapshot, 1, 2, 1);
  m.snapshot = Snapshot{3, 1, "s3"};
  n.Step(m);
  Ready rd = n.TakeReady();
  ASSERT_TRUE(rd.snapshot.has_value());
  EXPECT_FALSE(rd.truncate_from.has_value());
  ASSERT_TRUE(rd.snapshot_to_apply.has_value());
  EXPECT_TRUE(rd.committed.empty());  // the snapshot covers 1..3; 4 is not known committed
  EXPECT_EQ(n.entries(), std::vector<Entry>{E(4, 1, "c")});
  EXPECT_EQ(n.commit_index(), 3);
  EXPECT_EQ(n.applied_index(), 3);
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::kInstallSnapshotResponse);
  EXPECT_EQ(rd.messages[0].match_index, 3);
}

TEST_F(RaftTest, Restart_KeepsTermVoteAndRedeliversCommitted) {
  RaftNode n(Config(2, {1, 2, 3}), PersistentState{});
  Message req = Msg(MessageType::kVote, 1, 2, 5);
  n.Step(req);
  Ready rd = n.TakeReady();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(*rd.hard_state, (HardState{5, 1, 0}));

  RaftNode restarted(Config(2, {1, 2, 3}), PersistentState{*rd.hard_state, {}, {}});
  EXPECT_EQ(restarted.term(), 5);
  EXPECT_EQ(restarted.voted_for(), 1);
  EXPECT_FALSE(restarted.HasReady());
  Message other = Msg(MessageType::kVote, 3, 2, 5);
  restarted.Step(other);
  rd = restarted.TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_FALSE(rd.messages[0].granted) << "already voted for 1 in term 5";
  restarted.Step(req);  // the same candidate asking again is granted again
  rd = restarted.TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_TRUE(rd.messages[0].granted);

  // Committed entries after the snapshot are handed out again, once.
  PersistentState st{
      HardState{2, kNoNode, 5}, Snapshot{3, 1, "s"}, {E(4, 1, "d"), E(5, 2, "e"), E(6, 2, "f")}};
  RaftNode r2(Config(2, {1, 2, 3}), st);
  EXPECT_EQ(r2.applied_index(), 3);
  EXPECT_EQ(r2.commit_index(), 5);
  ASSERT_TRUE(r2.HasReady());
  rd = r2.TakeReady();
  EXPECT_FALSE(rd.hard_state.has_value());
  EXPECT_EQ(rd.committed, (std::vector<Entry>{E(4, 1, "d"), E(5, 2, "e")}));
  EXPECT_FALSE(r2.HasReady());
}

TEST_F(RaftTest, Validate_RejectsBadConfigAndCorruptState) {
  EXPECT_TRUE(RaftNode::Validate(Config(1, {1, 2, 3}), {}).ok());
  EXPECT_FALSE(RaftNode::Validate(Config(4, {1, 2, 3}), {}).ok());
  EXPECT_FALSE(RaftNode::Validate(Config(1, {1, 1, 2}), {}).ok());
  RaftConfig slow = Config(1, {1});
  slow.heartbeat_ticks = slow.election_ticks;
  EXPECT_FALSE(RaftNode::Validate(slow, {}).ok());
  PersistentState gap{HardState{1, kNoNode, 0}, Snapshot{}, {E(1, 1), E(3, 1)}};
  EXPECT_EQ(RaftNode::Validate(Config(1, {1}), gap).code(), absl::StatusCode::kDataLoss);
  PersistentState commit_beyond{HardState{1, kNoNode, 2}, Snapshot{}, {E(1, 1)}};
  EXPECT_FALSE(RaftNode::Validate(Config(1, {1}), commit_beyond).ok());
  PersistentState term_beyond{HardState{1, kNoNode, 0}, Snapshot{}, {E(1, 2)}};
  EXPECT_FALSE(RaftNode::Validate(Config(1, {1}), term_beyond).ok());
}

TEST_F(RaftTest, Step_IgnoresMessagesForOthersAndNonVoters) {
  RaftNode n(Config(2, {1, 2, 3}), PersistentState{});
  Message m = Msg(MessageType::kAppend, 9, 2, 7);
  n.Step(m);
  m.from = 1;
  m.to = 3;
  n.Step(m);
  EXPECT_EQ(n.term(), 0);
  EXPECT_FALSE(n.HasReady());
}

TEST_F(RaftTest, Step_AnswersStaleLeaderWithCurrentTerm) {
  RaftNode n(Config(2, {1, 2, 3}), PersistentState{HardState{4, kNoNode, 0}, {}, {}});
  Message stale = Msg(MessageType::kAppend, 1, 2, 3);
  n.Step(stale);
  Ready rd = n.TakeReady();
  ASSERT_EQ(rd.messages.size(), 1u);
  EXPECT_EQ(rd.messages[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(rd.messages[0].term, 4);
  EXPECT_EQ(n.term(), 4);
}

}  // namespace
}  // namespace gregor::quorum
