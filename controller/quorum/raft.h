// The Raft core of the controller quorum: a pure state machine, in the style of etcd's RawNode.
//
// Inputs: Tick() (the driver calls it every tick_ms), Step(message) for every message received,
// Propose(data) on the leader. Outputs: Ready — what to persist, then what to send, then what to
// apply. The core does no I/O, reads no clock and draws randomness only from its seeded PRNG, so a
// whole cluster can be simulated deterministically in one thread.
//
// The driver's loop, in this order:
//   1. ready = node.TakeReady()
//   2. persist ready.snapshot (if any), truncate the log from ready.truncate_from (if set),
//      append ready.entries, persist ready.hard_state (if any) — and fsync all of it
//   3. send ready.messages
//   4. apply ready.snapshot_to_apply (if any), then ready.committed in order
// The driver may call Tick/Step/Propose several times between two TakeReady() calls; a Ready
// then describes the net effect (truncate_from is relative to the persisted entries plus the
// pending ones, entries are always contiguous with what remains after the truncation).
//
// Restart: the driver builds a PersistentState from what step 2 (and CompactTo, below) made
// durable. The node restarts with applied index = snapshot.last_index, so the application must
// restore its state machine from that snapshot itself: Ready.committed then re-delivers every
// entry after the snapshot up to the persisted commit index (entries the application may have
// applied before the crash), and later ones as they commit.
//
// Protocol: Raft (Ongaro's thesis) with
//   - pre-vote (§9.6): a node whose election timer fires first asks for pre-votes at term+1
//     without raising its term; only a majority of pre-votes starts a real election. A node
//     grants a (pre-)vote only if it has not heard from a live leader within the minimum
//     election timeout, so a partitioned node rejoining cannot depose a healthy leader;
//   - check-quorum: a leader that has not heard from a majority within an election timeout
//     steps down;
//   - a no-op entry appended by every new leader so it can commit entries of earlier terms;
//   - snapshots: the application compacts the log to a snapshot (CompactTo); a leader whose
//     follower needs entries older than its first log entry sends the snapshot instead.
// The voter set is fixed at construction (no membership changes).
//
// Thread-safety: none; one owner.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gregor::quorum {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

struct Entry {
  int64_t index = 0;
  int64_t term = 0;
  std::string data;  // empty: a leader's no-op
  bool operator==(const Entry&) const = default;
};

struct Snapshot {
  int64_t last_index = 0;  // the last entry the snapshot covers (0: none)
  int64_t last_term = 0;
  std::string data;        // the application's state, opaque to Raft
  bool operator==(const Snapshot&) const = default;
};

// What must be durable before the node may answer anything that depends on it.
struct HardState {
  int64_t term = 0;
  NodeId voted_for = kNoNode;
  int64_t commit = 0;  // persisted for faster restart; safety does not depend on it
  bool operator==(const HardState&) const = default;
};

enum class MessageType {
  kPreVote,
  kPreVoteResponse,
  kVote,
  kVoteResponse,
  kAppend,  // AppendEntries, also the heartbeat (no entries)
  kAppendResponse,
  kInstallSnapshot,
  kInstallSnapshotResponse,
};
const char* MessageTypeName(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  int64_t term = 0;  // the sender's term; for kPreVote the term it would campaign at

  // kPreVote / kVote: the candidate's last log position.
  int64_t last_log_index = 0;
  int64_t last_log_term = 0;
  // kPreVoteResponse / kVoteResponse.
  bool granted = false;

  // kAppend: entries follow (prev_log_index, prev_log_term); the leader's commit index.
  int64_t prev_log_index = 0;
  int64_t prev_log_term = 0;
  std::vector<Entry> entries;
  int64_t commit = 0;
  // kAppendResponse: success => the follower's log matches the leader's up to match_index.
  // Rejection => hint_index is where the leader should retry (the follower's last index + 1,
  // or the first index of the conflicting term).
  bool success = false;
  int64_t match_index = 0;
  int64_t hint_index = 0;

  // kInstallSnapshot: the leader's snapshot. kInstallSnapshotResponse: match_index =
  // snapshot.last_index on success (the follower's commit index instead if that is already
  // beyond the snapshot, which it then ignores).
  Snapshot snapshot;
};

struct Ready {
  std::optional<HardState> hard_state;  // changed since the last Ready
  // Received from the leader: persist it in place of the current snapshot and delete the
  // persisted entries with index <= snapshot->last_index (it covers them). Later entries stay
  // unless truncate_from says otherwise: Raft keeps them when they match the snapshot's last
  // entry, and sets truncate_from = last_index + 1 when they do not.
  std::optional<Snapshot> snapshot;
  std::optional<int64_t> truncate_from; // delete persisted entries with index >= this first
  std::vector<Entry> entries;           // then append these
  std::vector<Message> messages;        // send only after the above is durable
  std::optional<Snapshot> snapshot_to_apply;  // restore the state machine from it, then...
  std::vector<Entry> committed;         // ...apply these, in order (no-ops included)
  bool empty() const {
    return !hard_state && !snapshot && !truncate_from && entries.empty() && messages.empty() &&
           !snapshot_to_apply && committed.empty();
  }
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* RoleName(Role role);

struct RaftConfig {
  NodeId id = 0;
  std::vector<NodeId> voters;      // includes id
  int election_ticks = 10;         // election timeout is uniform in [election_ticks, 2*election_ticks)
  int heartbeat_ticks = 1;         // a leader sends appends at least this often
  uint64_t seed = 0;               // for the election timeout draws
  size_t max_entries_per_append = 256;
  size_t max_bytes_per_append = 1 << 20;
};

// What the node restarts with: exactly what earlier Readys made durable.
struct PersistentState {
  HardState hard_state;
  Snapshot snapshot;           // last_index 0 if none
  std::vector<Entry> entries;  // contiguous, starting at snapshot.last_index + 1
};

class RaftNode {
 public:
  RaftNode(RaftConfig config, PersistentState restored);

  void Tick();
  // Messages for another node or from a non-voter are ignored; stale terms are answered or
  // dropped as Raft says.
  void Step(const Message& message);
  // Appends `data` to the leader's log. FailedPrecondition if not the leader (the message names
  // the known leader, if any). Returns the entry's index.
  absl::StatusOr<int64_t> Propose(std::string data);

  bool HasReady() const;
  Ready TakeReady();

  // The application took a snapshot of its state covering entries up to `snapshot.last_index`
  // (which must be applied, i.e. <= the last committed index handed out, and
  // snapshot.last_term must be that entry's term). Drops those entries from memory. Persisting
  // the snapshot (and then deleting the persisted entries it covers) is the caller's job; it
  // does not appear in a Ready. A snapshot not newer than the current one is ignored.
  void CompactTo(Snapshot snapshot);

  // Checks a configuration and a restored state before construction (the constructor
  // GREGOR_CHECKs it, so a driver should call this first and treat an error as an operating
  // error: bad config or a corrupt data directory).
  static absl::Status Validate(const RaftConfig& config, const PersistentState& restored);

  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  int64_t term() const { return term_; }
  NodeId leader_id() const { return leader_id_; }
  NodeId voted_for() const { return voted_for_; }
  int64_t commit_index() const { return commit_; }
  // The last index handed out to the application (Ready.committed or snapshot_to_apply), or
  // the restored snapshot's last index.
  int64_t applied_index() const { return applied_; }
  int64_t last_index() const;
  int64_t last_term() const;
  int64_t first_index() const;  // first entry still in the log (snapshot.last_index + 1)
  const Snapshot& snapshot() const { return snapshot_; }
  // The term of entry `index` if known (snapshot boundary included), else nullopt.
  std::optional<int64_t> TermAt(int64_t index) const;
  // For invariant checks in tests: the entries currently in the log.
  const std::vector<Entry>& entries() const { return log_; }

 private:
  // Replication state of one follower, kept by the leader.
  struct Progress {
    NodeId id = kNoNode;
    int64_t next_index = 1;   // the next entry to send
    int64_t match_index = 0;  // highest index known to match the leader's log
    // Probing: where the follower's log diverges is unknown, so send one append at a time and
    // do not advance next_index until it answers. Replicating (after a success): pipeline up
    // to kMaxInflightAppends appends, next_index advancing as entries are sent.
    bool probing = true;
    bool probe_sent = false;        // probing and an append is outstanding
    std::vector<int64_t> inflight;  // replicating: last index of each unacknowledged append
    int64_t commit_sent = 0;        // highest commit index sent in an append
    int ticks_since_heard = 0;      // for check-quorum; 0 on becoming leader (a grace period)
    bool snapshot_in_flight = false;
    int snapshot_ticks = 0;  // ticks since the snapshot was sent (resent after a timeout)
  };

  void BecomeFollower(int64_t term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  // Asks every other voter for a (pre-)vote at `term` with our last log position.
  void RequestVotes(MessageType type, int64_t term);
  void ResetElectionTimer();
  void TickElection();
  void TickHeartbeat();
  // The leader's lease: heard from a live leader within the minimum election timeout.
  bool InLease() const;
  void Send(Message message);
  void SendAppend(Progress& pr, bool heartbeat);
  void SendSnapshot(Progress& pr);
  void BroadcastAppend(bool heartbeat);
  // After the commit index moved: appends to followers with something to receive, an empty
  // append to those that are caught up (see SendAppend).
  void BroadcastCommit();
  bool MaybeAdvanceCommit();
  void HandleAppend(const Message& m);
  void HandleAppendResponse(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleSnapshotResponse(const Message& m);
  void HandleVoteRequest(const Message& m);
  void HandleVoteResponse(const Message& m);
  // Records one (pre-)vote; returns {granted, rejected} counts including self.
  std::pair<int, int> Poll(NodeId from, bool granted);
  bool LogUpToDate(int64_t last_index, int64_t last_term) const;
  const Entry& EntryAt(int64_t index) const;  // must be in log_
  void AppendToLog(std::vector<Entry> entries);
  void TruncateLogFrom(int64_t index);
  Progress* FindProgress(NodeId id);
  bool IsVoter(NodeId id) const;
  void CheckInvariants() const;
  int Quorum() const { return static_cast<int>(config_.voters.size()) / 2 + 1; }

  // Unacknowledged appends (with entries) per follower while replicating; bounds the memory
  // and bandwidth spent on a slow follower.
  static constexpr size_t kMaxInflightAppends = 16;

  RaftConfig config_;  // voters sorted
  std::mt19937_64 rng_;

  Role role_ = Role::kFollower;
  int64_t term_ = 0;
  NodeId voted_for_ = kNoNode;
  NodeId leader_id_ = kNoNode;  // known leader of term_ (self when leader), or kNoNode
  // Invariant: snapshot_.last_index <= applied_ <= commit_ <= last_index(), except that
  // applied_ < snapshot_.last_index while a received snapshot waits in
  // pending_snapshot_to_apply_.
  int64_t commit_ = 0;
  int64_t applied_ = 0;  // last index handed out in Ready.committed (or restored from snapshot)

  Snapshot snapshot_;
  std::vector<Entry> log_;  // entries after snapshot_.last_index, contiguous

  int election_elapsed_ = 0;  // ticks since the leader was heard from / election started
  int randomized_election_timeout_ = 0;
  int heartbeat_elapsed_ = 0;
  std::vector<NodeId> votes_granted_;  // current (pre-)election, self included
  std::vector<NodeId> votes_rejected_;
  std::vector<Progress> progress_;  // leader only, one per other voter, sorted by id

  // Pending output, handed out by TakeReady(). pending_entries_ is always a suffix of log_.
  HardState last_hard_state_;
  std::optional<Snapshot> pending_snapshot_;
  std::optional<int64_t> pending_truncate_from_;
  std::vector<Entry> pending_entries_;
  std::vector<Message> pending_messages_;
  std::optional<Snapshot> pending_snapshot_to_apply_;
};

}  // namespace gregor::quorum
