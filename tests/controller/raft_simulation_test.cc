// Seeded whole-cluster simulation of the Raft core (in the spirit of Kafka's
// RaftEventSimulationTest, TigerBeetle's VOPR and etcd-raft's interaction tests).
//
// One thread, one PRNG, one event queue ordered by (time, sequence number): node ticks (with
// drift), message deliveries (random delay, so reordering; drops; duplicates; partitions),
// driver loops (persist → send → apply, sometimes several Steps batched into one Ready), client
// proposals to whoever claims to lead, crashes that lose everything not yet persisted and
// restarts from exactly what the "disk" holds, and application snapshots (CompactTo) every N
// applied entries. After every event the invariants below are checked; at the end the network
// heals, every node restarts, and the cluster must converge (liveness).
//
// Invariants: election safety (one leader per term, over the whole run), log matching, leader
// completeness (every entry committed in a term < T is in the log or snapshot of a leader of
// T), state machine safety (the applied sequences of all nodes are prefixes of one another),
// the Ready contract (persisted state equals the node's state once its Ready is handled;
// committed entries arrive once, in order) and one (index, term) = one entry.
//
// A failure prints the seed. Rerun one seed with
//   GREGOR_RAFT_SEED=<seed> controller_test --gtest_filter=RaftSimulationTest.<Test>
// and add GREGOR_RAFT_VERBOSE=1 for the full event trace and the core's debug log.
// GREGOR_RAFT_SEEDS=<n> / GREGOR_RAFT_STEPS=<n> run n seeds / n chaos events per seed instead
// of the defaults (for a longer soak).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "controller/quorum/raft.h"
#include "gtest/gtest.h"
#include "tests/controller/simulation_env.h"

namespace gregor::quorum {
namespace {

using namespace ::gregor::quorum::sim_env;  // NOLINT: seeds and knobs of the run

constexpr int64_t kTickUnits = 10;  // simulated time units per node tick
constexpr int kLivenessEventsMax = 1'000'000;

// --- the simulated world ---

struct Stats {
  int64_t events = 0;
  int64_t leaders = 0;    // distinct (term, leader) pairs
  int64_t committed = 0;  // length of the longest applied sequence at the end
  int64_t proposals = 0;  // accepted by a leader
  int64_t crashes = 0;
  int64_t partitions = 0;
  int64_t snapshots_installed = 0;
  int64_t compactions = 0;
  int64_t truncations = 0;
  int64_t delivered = 0;
  int64_t dropped = 0;
  int64_t liveness_ticks = 0;  // the longest liveness phase

  void Add(const Stats& o) {
    events += o.events;
    leaders += o.leaders;
    committed += o.committed;
    proposals += o.proposals;
    crashes += o.crashes;
    partitions += o.partitions;
    snapshots_installed += o.snapshots_installed;
    compactions += o.compactions;
    truncations += o.truncations;
    delivered += o.delivered;
    dropped += o.dropped;
    liveness_ticks = std::max(liveness_ticks, o.liveness_ticks);
  }
  std::string ToString() const {
    return absl::StrCat(events, " events, ", leaders, " leaders, ", committed,
                        " entries committed, ", proposals, " proposals accepted, ", crashes,
                        " crashes, ", partitions, " partitions, ", snapshots_installed,
                        " snapshots installed, ", compactions, " compactions, ", truncations,
                        " log truncations, ", delivered, " messages delivered, ", dropped,
                        " dropped; longest liveness phase ", liveness_ticks, " ticks");
  }
};

class Simulation {
 public:
  Simulation(uint64_t seed, int num_nodes) : seed_(seed), rng_(seed * 0x9E3779B97F4A7C15ULL + 1) {
    // Per-seed world: how hostile the network is, how often things break, how the nodes are
    // configured.
    drop_pct_ = Uniform(0, 20);
    dup_pct_ = Uniform(0, 10);
    max_delay_ = Uniform(2, 25);
    ready_delay_max_ = Uniform(0, 6);
    snapshot_every_ = Uniform(3, 25);
    propose_gap_max_ = Uniform(3, 40);
    crash_gap_max_ = Uniform(50, 800);
    partition_gap_max_ = Uniform(50, 800);
    partition_ticks_max_ = Uniform(3, 40);
    election_ticks_ = static_cast<int>(Uniform(4, 10));
    heartbeat_ticks_ = static_cast<int>(Uniform(1, 2));
    const int64_t batch_choice = Uniform(0, 3);
    max_entries_per_append_ = batch_choice == 0   ? 1
                              : batch_choice == 1 ? 2
                              : batch_choice == 2 ? 4
                                                  : 256;

    for (int i = 0; i < num_nodes; ++i) voters_.push_back(i + 1);
    nodes_.resize(static_cast<size_t>(num_nodes));
    for (int i = 0; i < num_nodes; ++i) {
      nodes_[static_cast<size_t>(i)].id = i + 1;
      Start(nodes_[static_cast<size_t>(i)]);
      group_.push_back(0);
    }
    Schedule(Uniform(0, propose_gap_max_), Kind::kPropose);
    Schedule(Uniform(0, crash_gap_max_), Kind::kCrash);
    Schedule(Uniform(0, partition_gap_max_), Kind::kPartition);
  }

  // Runs `chaos_steps` events of the hostile world, then heals everything and runs until all
  // nodes applied the same sequence including a few new proposals (within `liveness_ticks`
  // ticks of simulated time, and kLivenessEventsMax events as a guard against livelock).
  // Returns the first violation, or "".
  std::string Run(int chaos_steps, int liveness_ticks) {
    for (int i = 0; i < chaos_steps && failure_.empty(); ++i) Step();
    if (!failure_.empty()) return Report();
    if (verbose_) std::fprintf(stderr, "end of chaos phase:%s\n", NodesSummary().c_str());

    // Heal: reliable network (delays stay, so reordering stays), no more faults, all up.
    chaos_ = false;
    drop_pct_ = 0;
    dup_pct_ = 0;
    max_delay_ = std::min<int64_t>(max_delay_, kTickUnits);
    std::fill(group_.begin(), group_.end(), 0);
    for (SimNode& n : nodes_) {
      if (!n.raft) Restart(n);
    }
    const size_t base = committed_.size();
    int heal_proposals_committed = 0;
    const int64_t heal_start = now_;
    const int64_t deadline = now_ + liveness_ticks * kTickUnits;
    int64_t next_propose = now_;
    int i = 0;
    for (; i < kLivenessEventsMax && now_ <= deadline && failure_.empty(); ++i) {
      if (now_ >= next_propose && heal_proposals_committed < 3) {
        next_propose = now_ + 2 * kTickUnits;
        if (SimNode* leader = AnyLeader()) {
          if (leader->raft->Propose(absl::StrCat("h", heal_counter_++)).ok()) {
            ++stats_.proposals;
            MaybeScheduleReady(*leader);
          }
        }
      }
      Step();
      heal_proposals_committed = 0;
      for (size_t k = base; k < committed_.size(); ++k) {
        if (committed_[k].find(":h") != std::string::npos) ++heal_proposals_committed;
      }
      if (heal_proposals_committed >= 3 && Converged()) break;
    }
    stats_.liveness_ticks = (now_ - heal_start) / kTickUnits;
    stats_.committed = static_cast<int64_t>(committed_.size());
    if (failure_.empty() && !(heal_proposals_committed >= 3 && Converged())) {
      Fail(absl::StrCat("liveness: no convergence ", (now_ - heal_start) / kTickUnits,
                        " ticks and ", i, " events after healing (", heal_proposals_committed,
                        " new proposals committed)"));
    }
    return failure_.empty() ? "" : Report();
  }

  const Stats& stats() const { return stats_; }

 private:
  enum class Kind { kTick, kDeliver, kProcessReady, kPropose, kCrash, kRestart, kPartition, kHeal };

  struct Event {
    int64_t time = 0;
    uint64_t seq = 0;
    Kind kind = Kind::kTick;
    NodeId node = kNoNode;
    uint64_t incarnation = 0;  // ticks and driver loops of an earlier incarnation are dropped
    Message message;
    bool operator<(const Event& o) const { return std::tie(time, seq) < std::tie(o.time, o.seq); }
  };

  // What the driver made durable.
  struct Disk {
    HardState hard_state;
    Snapshot snapshot;
    std::vector<Entry> entries;
  };

  struct SimNode {
    NodeId id = kNoNode;
    std::unique_ptr<RaftNode> raft;  // null while crashed
    Disk disk;
    std::vector<std::string> sm;  // the state machine: "term:data" of every applied entry
    uint64_t incarnation = 0;
    bool ready_scheduled = false;
  };

  struct TraceLine {
    int64_t time;
    Kind kind;
    NodeId node;
    bool has_message;
    MessageType type;
    NodeId from, to;
    int64_t term;
    size_t entries;
    int64_t prev, commit, match, hint;
    bool success;
    bool dropped;
  };

  int64_t Uniform(int64_t lo, int64_t hi) {  // inclusive; libstdc++-independent
    return lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Percent(int64_t pct) { return Uniform(0, 99) < pct; }

  SimNode& node(NodeId id) { return nodes_[static_cast<size_t>(id - 1)]; }

  void Schedule(int64_t delay, Kind kind, NodeId node_id = kNoNode, uint64_t incarnation = 0,
                Message message = {}) {
    Event ev;
    ev.time = now_ + delay;
    ev.seq = next_seq_++;
    ev.kind = kind;
    ev.node = node_id;
    ev.incarnation = incarnation;
    ev.message = std::move(message);
    events_.insert(std::move(ev));
  }

  void Start(SimNode& n) {
    ++n.incarnation;
    RaftConfig config;
    config.id = n.id;
    config.voters = voters_;
    config.election_ticks = election_ticks_;
    config.heartbeat_ticks = heartbeat_ticks_;
    config.seed = seed_ * 1000003 + static_cast<uint64_t>(n.id) * 7919 + n.incarnation;
    config.max_entries_per_append = static_cast<size_t>(max_entries_per_append_);
    PersistentState restored{n.disk.hard_state, n.disk.snapshot, n.disk.entries};
    absl::Status valid = RaftNode::Validate(config, restored);
    if (!valid.ok()) {
      Fail(absl::StrCat("node ", n.id, " cannot restart from its disk: ", valid.ToString()));
      return;
    }
    n.raft = std::make_unique<RaftNode>(config, std::move(restored));
    // The application restores its state from the snapshot; Raft re-delivers the rest.
    n.sm.clear();
    if (n.disk.snapshot.last_index > 0) {
      n.sm = absl::StrSplit(n.disk.snapshot.data, '\n');
    }
    if (static_cast<int64_t>(n.sm.size()) != n.disk.snapshot.last_index) {
      Fail(absl::StrCat("node ", n.id, " snapshot holds ", n.sm.size(), " entries, expected ",
                        n.disk.snapshot.last_index));
    }
    CheckPrefix(n, 0);
    n.ready_scheduled = false;
    Schedule(Uniform(1, kTickUnits), Kind::kTick, n.id, n.incarnation);
    MaybeScheduleReady(n);
  }

  void Restart(SimNode& n) {
    if (n.raft) return;
    Start(n);
  }

  void MaybeScheduleReady(SimNode& n) {
    if (!n.raft || n.ready_scheduled || !n.raft->HasReady()) return;
    n.ready_scheduled = true;
    Schedule(Uniform(0, ready_delay_max_), Kind::kProcessReady, n.id, n.incarnation);
  }

  SimNode* AnyLeader() {
    std::vector<SimNode*> leaders;
    for (SimNode& n : nodes_) {
      if (n.raft && n.raft->role() == Role::kLeader) leaders.push_back(&n);
    }
    if (leaders.empty()) return nullptr;
    return leaders[static_cast<size_t>(Uniform(0, static_cast<int64_t>(leaders.size()) - 1))];
  }

  void Send(const Message& m) {
    const int copies = Percent(dup_pct_) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      if (Percent(drop_pct_)) {
        ++stats_.dropped;
        continue;
      }
      Schedule(Uniform(1, max_delay_), Kind::kDeliver, m.to, 0, m);
    }
  }

  // The driver loop: persist, send, apply (and maybe snapshot).
  void ProcessReady(SimNode& n) {
    n.ready_scheduled = false;
    if (!n.raft->HasReady()) return;
    Ready rd = n.raft->TakeReady();
    Disk& d = n.disk;
    if (rd.snapshot) {
      if (rd.snapshot->last_index <= d.snapshot.last_index) {
        Fail(absl::StrCat("node ", n.id, " got Ready.snapshot at ", rd.snapshot->last_index,
                          " not newer than its snapshot at ", d.snapshot.last_index));
      }
      d.snapshot = *rd.snapshot;
      std::erase_if(d.entries, [&](const Entry& e) { return e.index <= rd.snapshot->last_index; });
      ++stats_.snapshots_installed;
    }
    if (rd.truncate_from) {
      if (*rd.truncate_from <= d.hard_state.commit && !rd.snapshot) {
        Fail(absl::StrCat("node ", n.id, " truncates from ", *rd.truncate_from,
                          " below its persisted commit ", d.hard_state.commit));
      }
      std::erase_if(d.entries, [&](const Entry& e) { return e.index >= *rd.truncate_from; });
      ++stats_.truncations;
    }
    for (const Entry& e : rd.entries) {
      const int64_t expected =
          d.entries.empty() ? d.snapshot.last_index + 1 : d.entries.back().index + 1;
      if (e.index != expected) {
        Fail(
            absl::StrCat("node ", n.id, " Ready appends entry ", e.index, ", expected ", expected));
        return;
      }
      auto [it, inserted] = entry_data_.emplace(std::make_pair(e.index, e.term), e.data);
      if (!inserted && it->second != e.data) {
        Fail(absl::StrCat("two different entries at index ", e.index, " term ", e.term));
      }
      d.entries.push_back(e);
    }
    if (rd.hard_state) {
      if (rd.hard_state->term < d.hard_state.term) {
        Fail(absl::StrCat("node ", n.id, " persisted term went back"));
      }
      d.hard_state = *rd.hard_state;
    }

    for (const Message& m : rd.messages) Send(m);

    if (rd.snapshot_to_apply) {
      const Snapshot& s = *rd.snapshot_to_apply;
      n.sm = absl::StrSplit(s.data, '\n');
      if (static_cast<int64_t>(n.sm.size()) != s.last_index) {
        Fail(absl::StrCat("node ", n.id, " applied a snapshot holding ", n.sm.size(),
                          " entries at index ", s.last_index));
      }
      CheckPrefix(n, 0);
    }
    for (const Entry& e : rd.committed) {
      if (e.index != static_cast<int64_t>(n.sm.size()) + 1) {
        Fail(absl::StrCat("node ", n.id, " got committed entry ", e.index, " after applying ",
                          n.sm.size()));
        return;
      }
      n.sm.push_back(absl::StrCat(e.term, ":", e.data));
      CheckPrefix(n, n.sm.size() - 1);
      if (n.sm.size() % static_cast<size_t>(snapshot_every_) == 0) {
        Snapshot snap{e.index, e.term, absl::StrJoin(n.sm, "\n")};
        n.raft->CompactTo(snap);
        if (snap.last_index > d.snapshot.last_index) {
          d.snapshot = std::move(snap);
          std::erase_if(d.entries, [&](const Entry& x) { return x.index <= e.index; });
          ++stats_.compactions;
        }
      }
    }
  }

  // State machine safety: the applied sequences are prefixes of one another. committed_ is
  // the longest one seen.
  void CheckPrefix(const SimNode& n, size_t from) {
    for (size_t k = from; k < n.sm.size(); ++k) {
      if (k < committed_.size()) {
        if (committed_[k] != n.sm[k]) {
          Fail(absl::StrCat("state machine safety: node ", n.id, " applied '", n.sm[k],
                            "' at index ", k + 1, " where another node applied '", committed_[k],
                            "'"));
          return;
        }
      } else if (k == committed_.size()) {
        committed_.push_back(n.sm[k]);
      } else {
        Fail("state machine gap");
        return;
      }
    }
  }

  void Step() {
    if (events_.empty()) {
      Fail("event queue ran dry");
      return;
    }
    Event ev = std::move(events_.extract(events_.begin()).value());
    now_ = ev.time;
    ++stats_.events;
    const Message& em = ev.message;
    TraceLine line{now_,
                   ev.kind,
                   ev.node,
                   ev.kind == Kind::kDeliver,
                   em.type,
                   em.from,
                   em.to,
                   em.term,
                   em.entries.size(),
                   em.prev_log_index,
                   em.commit,
                   em.match_index,
                   em.hint_index,
                   em.success,
                   false};

    switch (ev.kind) {
      case Kind::kTick: {
        SimNode& n = node(ev.node);
        if (!n.raft || n.incarnation != ev.incarnation) break;
        n.raft->Tick();
        MaybeScheduleReady(n);
        Schedule(kTickUnits + Uniform(-1, 1), Kind::kTick, n.id, n.incarnation);  // drift
        break;
      }
      case Kind::kDeliver: {
        SimNode& n = node(ev.node);
        const Message& m = ev.message;
        if (!n.raft ||
            group_[static_cast<size_t>(m.from - 1)] != group_[static_cast<size_t>(m.to - 1)]) {
          ++stats_.dropped;
          line.dropped = true;
          break;
        }
        ++stats_.delivered;
        n.raft->Step(m);
        MaybeScheduleReady(n);
        break;
      }
      case Kind::kProcessReady: {
        SimNode& n = node(ev.node);
        if (!n.raft || n.incarnation != ev.incarnation) break;
        ProcessReady(n);
        MaybeScheduleReady(n);
        break;
      }
      case Kind::kPropose: {
        if (!chaos_) break;
        Schedule(Uniform(1, propose_gap_max_), Kind::kPropose);
        SimNode* target = AnyLeader();
        if (target == nullptr || Percent(10)) {
          // Sometimes the client picks a random node; non-leaders must refuse.
          target = &node(static_cast<NodeId>(Uniform(1, static_cast<int64_t>(nodes_.size()))));
          if (!target->raft) break;
        }
        const bool leader = target->raft->role() == Role::kLeader;
        absl::StatusOr<int64_t> index = target->raft->Propose(absl::StrCat("c", counter_++));
        if (index.ok() != leader) {
          Fail(absl::StrCat("node ", target->id, " (", RoleName(target->raft->role()),
                            ") Propose returned ", index.status().ToString()));
        } else if (index.ok()) {
          ++stats_.proposals;
          if (*index != target->raft->last_index()) Fail("Propose returned a wrong index");
        } else if (index.status().code() != absl::StatusCode::kFailedPrecondition) {
          Fail(absl::StrCat("Propose on a follower: ", index.status().ToString()));
        }
        MaybeScheduleReady(*target);
        break;
      }
      case Kind::kCrash: {
        if (!chaos_) break;
        Schedule(Uniform(1, crash_gap_max_), Kind::kCrash);
        SimNode& n = node(static_cast<NodeId>(Uniform(1, static_cast<int64_t>(nodes_.size()))));
        if (!n.raft) break;
        n.raft.reset();  // the unpersisted Ready and the state machine are gone
        n.sm.clear();
        n.ready_scheduled = false;
        ++stats_.crashes;
        line.node = n.id;
        Schedule(Uniform(kTickUnits, 40 * kTickUnits), Kind::kRestart, n.id);
        break;
      }
      case Kind::kRestart: {
        if (!chaos_) break;
        Restart(node(ev.node));
        break;
      }
      case Kind::kPartition: {
        if (!chaos_) break;
        // Random two-way split (possibly isolating one node, possibly no split at all).
        for (size_t k = 0; k < group_.size(); ++k) group_[k] = static_cast<int>(Uniform(0, 1));
        ++stats_.partitions;
        Schedule(Uniform(2 * kTickUnits, partition_ticks_max_ * kTickUnits), Kind::kHeal);
        break;
      }
      case Kind::kHeal: {
        if (!chaos_) break;
        std::fill(group_.begin(), group_.end(), 0);
        Schedule(Uniform(1, partition_gap_max_), Kind::kPartition);
        break;
      }
    }
    if (verbose_) std::fprintf(stderr, "%s\n", FormatTrace(line).c_str());
    trace_[trace_next_++ % trace_.size()] = line;
    CheckInvariants();
  }

  bool Converged() const {
    for (const SimNode& n : nodes_) {
      if (!n.raft || n.sm.size() != committed_.size()) return false;
    }
    return true;
  }

  void CheckInvariants() {
    if (!failure_.empty()) return;
    // Election safety, and recording what leaders committed (for leader completeness).
    for (const SimNode& n : nodes_) {
      if (!n.raft || n.raft->role() != Role::kLeader) continue;
      const int64_t term = n.raft->term();
      auto [it, inserted] = leader_by_term_.emplace(term, n.id);
      if (inserted) ++stats_.leaders;
      if (it->second != n.id) {
        Fail(absl::StrCat("election safety: nodes ", it->second, " and ", n.id, " both led term ",
                          term));
        return;
      }
      int64_t& c = max_commit_by_term_[term];
      c = std::max(c, n.raft->commit_index());
    }
    // Leader completeness: entries committed by leaders of earlier terms are in the log (or
    // snapshot) of every leader of a later term.
    for (const SimNode& n : nodes_) {
      if (!n.raft || n.raft->role() != Role::kLeader) continue;
      const RaftNode& r = *n.raft;
      int64_t committed_before = 0;
      for (auto it = max_commit_by_term_.begin();
           it != max_commit_by_term_.end() && it->first < r.term(); ++it) {
        committed_before = std::max(committed_before, it->second);
      }
      const int64_t upto = std::min<int64_t>(committed_before, committed_.size());
      for (int64_t i = std::max<int64_t>(1, r.snapshot().last_index); i <= upto; ++i) {
        const std::optional<int64_t> t = r.TermAt(i);
        const std::string& applied = committed_[static_cast<size_t>(i - 1)];
        if (!t || applied.compare(0, applied.find(':'), absl::StrCat(*t)) != 0) {
          Fail(absl::StrCat("leader completeness: leader ", n.id, " of term ", r.term(),
                            " has term ", t ? absl::StrCat(*t) : "none", " at committed index ", i,
                            " (applied as '", applied, "')"));
          return;
        }
      }
    }
    // Log matching: if two logs have an entry with the same index and term, they are
    // identical up to it.
    for (size_t a = 0; a < nodes_.size(); ++a) {
      if (!nodes_[a].raft) continue;
      for (size_t b = a + 1; b < nodes_.size(); ++b) {
        if (!nodes_[b].raft) continue;
        const RaftNode& x = *nodes_[a].raft;
        const RaftNode& y = *nodes_[b].raft;
        const int64_t lo = std::max(x.snapshot().last_index, y.snapshot().last_index);
        const int64_t hi = std::min(x.last_index(), y.last_index());
        bool matched = false;
        for (int64_t i = hi; i >= lo; --i) {
          const std::optional<int64_t> tx = x.TermAt(i);
          const std::optional<int64_t> ty = y.TermAt(i);
          if (matched && tx != ty) {
            Fail(absl::StrCat("log matching: nodes ", x.id(), " and ", y.id(),
                              " agree on a later entry but differ at index ", i));
            return;
          }
          if (tx == ty) matched = true;
        }
      }
    }
    // The Ready contract: once a node's Ready is handled, the disk holds exactly its state and
    // the application has everything it committed.
    for (const SimNode& n : nodes_) {
      if (!n.raft || n.raft->HasReady()) continue;
      const RaftNode& r = *n.raft;
      const HardState hs{r.term(), r.voted_for(), r.commit_index()};
      if (n.disk.hard_state != hs || n.disk.snapshot != r.snapshot() ||
          n.disk.entries != r.entries()) {
        Fail(absl::StrCat("node ", n.id, " disk differs from its state after its Ready: disk ",
                          n.disk.hard_state.term, "/", n.disk.hard_state.voted_for, "/",
                          n.disk.hard_state.commit, " snapshot ", n.disk.snapshot.last_index,
                          " entries ", n.disk.entries.size(), "; node ", hs.term, "/", hs.voted_for,
                          "/", hs.commit, " snapshot ", r.snapshot().last_index, " entries ",
                          r.entries().size()));
        return;
      }
      if (r.applied_index() != static_cast<int64_t>(n.sm.size()) ||
          r.applied_index() != r.commit_index()) {
        Fail(absl::StrCat("node ", n.id, " applied ", n.sm.size(), " but the core says applied ",
                          r.applied_index(), ", commit ", r.commit_index()));
        return;
      }
    }
  }

  void Fail(std::string what) {
    if (failure_.empty()) failure_ = absl::StrCat("t=", now_, ": ", what);
  }

  static const char* KindName(Kind k) {
    switch (k) {
      case Kind::kTick:
        return "tick";
      case Kind::kDeliver:
        return "deliver";
      case Kind::kProcessReady:
        return "ready";
      case Kind::kPropose:
        return "propose";
      case Kind::kCrash:
        return "crash";
      case Kind::kRestart:
        return "restart";
      case Kind::kPartition:
        return "partition";
      case Kind::kHeal:
        return "heal";
    }
    return "?";
  }

  static std::string FormatTrace(const TraceLine& l) {
    std::string s = absl::StrCat("  t=", l.time, " ", KindName(l.kind));
    if (l.node != kNoNode) absl::StrAppend(&s, " node ", l.node);
    if (l.has_message) {
      absl::StrAppend(&s, " ", MessageTypeName(l.type), " ", l.from, "->", l.to, " term ", l.term);
      switch (l.type) {
        case MessageType::kAppend:
          absl::StrAppend(&s, " prev ", l.prev, " entries ", l.entries, " commit ", l.commit);
          break;
        case MessageType::kAppendResponse:
        case MessageType::kInstallSnapshotResponse:
          absl::StrAppend(&s, l.success ? " ok match " : " rejected hint ",
                          l.success ? l.match : l.hint);
          break;
        default:
          break;
      }
      if (l.dropped) absl::StrAppend(&s, " (dropped)");
    }
    return s;
  }

  std::string Report() {
    std::string s = absl::StrCat(
        failure_, "\n  world: drop ", drop_pct_, "% dup ", dup_pct_, "% delay<=", max_delay_,
        " election_ticks ", election_ticks_, " heartbeat_ticks ", heartbeat_ticks_,
        " snapshot_every ", snapshot_every_, " max_entries ", max_entries_per_append_,
        " partition_ticks<=", partition_ticks_max_, "\n  nodes:", NodesSummary());
    absl::StrAppend(&s, "\n  last events:");
    const size_t count = std::min<size_t>(trace_next_, trace_.size());
    for (size_t k = trace_next_ - count; k < trace_next_; ++k) {
      absl::StrAppend(&s, "\n", FormatTrace(trace_[k % trace_.size()]));
    }
    return s;
  }

  std::string NodesSummary() const {
    std::string s;
    for (const SimNode& n : nodes_) {
      if (!n.raft) {
        absl::StrAppend(&s, "\n    ", n.id, ": down");
        continue;
      }
      const RaftNode& r = *n.raft;
      absl::StrAppend(&s, "\n    ", n.id, ": ", RoleName(r.role()), " term ", r.term(), " leader ",
                      r.leader_id(), " commit ", r.commit_index(), " snapshot ",
                      r.snapshot().last_index, " last ", r.last_index(), "@", r.last_term(),
                      " applied ", n.sm.size());
    }
    return s;
  }

  const uint64_t seed_;
  std::mt19937_64 rng_;
  const bool verbose_ = Verbose();

  int64_t drop_pct_, dup_pct_, max_delay_, ready_delay_max_, snapshot_every_;
  int64_t propose_gap_max_, crash_gap_max_, partition_gap_max_, partition_ticks_max_;
  int64_t max_entries_per_append_;
  int election_ticks_, heartbeat_ticks_;

  std::vector<NodeId> voters_;
  std::vector<SimNode> nodes_;
  std::vector<int> group_;  // partition: messages pass only within a group
  std::set<Event> events_;
  int64_t now_ = 0;
  uint64_t next_seq_ = 0;
  bool chaos_ = true;
  int64_t counter_ = 0;
  int64_t heal_counter_ = 0;

  std::vector<std::string> committed_;             // longest applied sequence
  std::map<int64_t, NodeId> leader_by_term_;       // over the whole run
  std::map<int64_t, int64_t> max_commit_by_term_;  // commit index reached by a leader
  std::map<std::pair<int64_t, int64_t>, std::string> entry_data_;  // (index, term) -> data

  std::vector<TraceLine> trace_ = std::vector<TraceLine>(40);
  size_t trace_next_ = 0;
  std::string failure_;
  Stats stats_;
};

struct SweepResult {
  int seeds = 0;
  int failures = 0;
  uint64_t slowest_liveness_seed = 0;
  Stats stats;
  double seconds = 0;
};

SweepResult Sweep(int num_nodes, uint64_t first_seed, int seeds, int chaos_steps,
                  int liveness_ticks) {
  SweepResult result;
  chaos_steps = EnvInt("GREGOR_RAFT_STEPS", chaos_steps);
  const auto start = std::chrono::steady_clock::now();  // reporting only
  std::vector<uint64_t> to_run;
  if (std::optional<uint64_t> one = SeedFromEnv()) {
    to_run.push_back(*one);
  } else {
    seeds = EnvInt("GREGOR_RAFT_SEEDS", seeds);
    for (int i = 0; i < seeds; ++i) to_run.push_back(first_seed + static_cast<uint64_t>(i));
  }
  auto previous = std::signal(SIGABRT, OnAbort);
  g_abort_nodes = num_nodes;
  for (uint64_t seed : to_run) {
    g_abort_seed = seed;
    Simulation sim(seed, num_nodes);
    const std::string failure = sim.Run(chaos_steps, liveness_ticks);
    ++result.seeds;
    if (sim.stats().liveness_ticks > result.stats.liveness_ticks) {
      result.slowest_liveness_seed = seed;
    }
    result.stats.Add(sim.stats());
    if (!failure.empty()) {
      ++result.failures;
      ADD_FAILURE() << num_nodes << "-node simulation failed at seed " << seed
                    << " (rerun with GREGOR_RAFT_SEED=" << seed << "): " << failure;
      if (result.failures >= 3) break;
    }
  }
  std::signal(SIGABRT, previous);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ sim      ] %d nodes: %d seeds x %d chaos events in %.1f s: %s (seed %llu)\n",
              num_nodes, result.seeds, chaos_steps, result.seconds, result.stats.ToString().c_str(),
              static_cast<unsigned long long>(result.slowest_liveness_seed));
  return result;
}

class RaftSimulationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Logger("raft")->set_level(Verbose() ? spdlog::level::debug : spdlog::level::off);
  }
};

TEST_F(RaftSimulationTest, ThreeNodes) {
  SweepResult r = Sweep(3, /*first_seed=*/1, /*seeds=*/2000, /*chaos_steps=*/5000,
                        /*liveness_ticks=*/200);
  EXPECT_EQ(r.failures, 0);
  EXPECT_GT(r.stats.committed, 0);
}

TEST_F(RaftSimulationTest, FiveNodes) {
  SweepResult r = Sweep(5, /*first_seed=*/1, /*seeds=*/500, /*chaos_steps=*/8000,
                        /*liveness_ticks=*/200);
  EXPECT_EQ(r.failures, 0);
  EXPECT_GT(r.stats.committed, 0);
}

}  // namespace
}  // namespace gregor::quorum
