#include "controller/quorum/raft.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/logging.h"

namespace gregor::quorum {
namespace {

spdlog::logger& Log() {
  static const std::shared_ptr<spdlog::logger> logger = Logger("raft");
  return *logger;
}

}  // namespace

RaftNode::RaftNode(RaftConfig config, PersistentState restored)
    : config_(std::move(config)), rng_(config_.seed) {
  absl::Status valid = Validate(config_, restored);
  GREGOR_CHECK_MSG(valid.ok(), valid.ToString());
  std::sort(config_.voters.begin(), config_.voters.end());

  term_ = restored.hard_state.term;
  voted_for_ = restored.hard_state.voted_for;
  snapshot_ = std::move(restored.snapshot);
  log_ = std::move(restored.entries);
  commit_ = std::max(restored.hard_state.commit, snapshot_.last_index);
  applied_ = snapshot_.last_index;
  last_hard_state_ = restored.hard_state;
  BecomeFollower(term_, kNoNode);
  CheckInvariants();
}

// --- log access ---

int64_t RaftNode::last_index() const {
  return log_.empty() ? snapshot_.last_index : log_.back().index;
}

int64_t RaftNode::last_term() const {
  return log_.empty() ? snapshot_.last_term : log_.back().term;
}

int64_t RaftNode::first_index() const { return snapshot_.last_index + 1; }

std::optional<int64_t> RaftNode::TermAt(int64_t index) const {
  if (index == snapshot_.last_index) return snapshot_.last_term;
  if (index < snapshot_.last_index || index > last_index()) return std::nullopt;
  return EntryAt(index).term;
}

const Entry& RaftNode::EntryAt(int64_t index) const {
  GREGOR_CHECK_MSG(index >= first_index() && index <= last_index(), "index ", index,
                   " outside the log [", first_index(), ", ", last_index(), "]");
  const Entry& e = log_[static_cast<size_t>(index - first_index())];
  GREGOR_CHECK(e.index == index);
  return e;
}

bool RaftNode::LogUpToDate(int64_t index, int64_t term) const {
  return term > last_term() || (term == last_term() && index >= last_index());
}

void RaftNode::AppendToLog(std::vector<Entry> entries) {
  for (Entry& e : entries) {
    GREGOR_CHECK_MSG(e.index == last_index() + 1, "appending entry ", e.index, " after ",
                     last_index());
    GREGOR_CHECK_MSG(e.term >= last_term() && e.term <= term_, "appending entry of term ", e.term,
                     " after term ", last_term(), " at term ", term_);
    pending_entries_.push_back(e);
    log_.push_back(std::move(e));
  }
}

void RaftNode::TruncateLogFrom(int64_t index) {
  GREGOR_CHECK_MSG(index > commit_, "truncating committed entries: from ", index, ", commit ",
                   commit_);
  GREGOR_CHECK(index >= first_index() && index <= last_index());
  // pending_entries_ is a suffix of log_: when the cut reaches below it, persisted entries go.
  const bool cuts_persisted = pending_entries_.empty() || index < pending_entries_.front().index;
  if (cuts_persisted) {
    pending_truncate_from_ =
        pending_truncate_from_ ? std::min(*pending_truncate_from_, index) : index;
  }
  log_.resize(static_cast<size_t>(index - first_index()));
  while (!pending_entries_.empty() && pending_entries_.back().index >= index) {
    pending_entries_.pop_back();
  }
}

// --- roles and timers ---

void RaftNode::ResetElectionTimer() {
  election_elapsed_ = 0;
  randomized_election_timeout_ =
      config_.election_ticks +
      static_cast<int>(rng_() % static_cast<uint64_t>(config_.election_ticks));
}

void RaftNode::BecomeFollower(int64_t term, NodeId leader) {
  GREGOR_CHECK(term >= term_);
  const bool changed = term != term_ || role_ != Role::kFollower || leader != leader_id_;
  if (term > term_) {
    term_ = term;
    voted_for_ = kNoNode;
  }
  const Role old_role = role_;
  role_ = Role::kFollower;
  leader_id_ = leader;
  progress_.clear();
  votes_granted_.clear();
  votes_rejected_.clear();
  heartbeat_elapsed_ = 0;
  ResetElectionTimer();
  if (changed) {
    Log().info("node {} became follower at term {} (was {}), leader {}", config_.id, term_,
               RoleName(old_role), leader_id_);
  }
}

void RaftNode::BecomePreCandidate() {
  GREGOR_CHECK(role_ != Role::kLeader);
  role_ = Role::kPreCandidate;
  leader_id_ = kNoNode;
  votes_granted_.clear();
  votes_rejected_.clear();
  ResetElectionTimer();
  Log().info("node {} became pre-candidate at term {}", config_.id, term_);
  // Our own pre-vote, then ask the others without touching term_ or voted_for_.
  if (Poll(config_.id, true).first >= Quorum()) {
    BecomeCandidate();
    return;
  }
  RequestVotes(MessageType::kPreVote, term_ + 1);
}

void RaftNode::BecomeCandidate() {
  GREGOR_CHECK(role_ != Role::kLeader);
  ++term_;
  voted_for_ = config_.id;
  role_ = Role::kCandidate;
  leader_id_ = kNoNode;
  votes_granted_.clear();
  votes_rejected_.clear();
  ResetElectionTimer();
  Log().info("node {} became candidate at term {}", config_.id, term_);
  if (Poll(config_.id, true).first >= Quorum()) {
    BecomeLeader();
    return;
  }
  RequestVotes(MessageType::kVote, term_);
}

void RaftNode::RequestVotes(MessageType type, int64_t term) {
  for (NodeId peer : config_.voters) {
    if (peer == config_.id) continue;
    Message m;
    m.type = type;
    m.to = peer;
    m.term = term;
    m.last_log_index = last_index();
    m.last_log_term = last_term();
    Send(std::move(m));
  }
}

void RaftNode::BecomeLeader() {
  GREGOR_CHECK(role_ == Role::kCandidate);
  role_ = Role::kLeader;
  leader_id_ = config_.id;
  votes_granted_.clear();
  votes_rejected_.clear();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  progress_.clear();
  for (NodeId peer : config_.voters) {
    if (peer == config_.id) continue;
    Progress pr;
    pr.id = peer;
    pr.next_index = last_index() + 1;
    progress_.push_back(pr);
  }
  Log().info("node {} became leader at term {}", config_.id, term_);
  // The no-op lets this leader commit (and so learn the commit point of) earlier terms.
  AppendToLog({Entry{last_index() + 1, term_, ""}});
  MaybeAdvanceCommit();
  BroadcastAppend(/*heartbeat=*/true);
}

std::pair<int, int> RaftNode::Poll(NodeId from, bool granted) {
  const bool seen =
      std::find(votes_granted_.begin(), votes_granted_.end(), from) != votes_granted_.end() ||
      std::find(votes_rejected_.begin(), votes_rejected_.end(), from) != votes_rejected_.end();
  if (!seen) (granted ? votes_granted_ : votes_rejected_).push_back(from);
  return {static_cast<int>(votes_granted_.size()), static_cast<int>(votes_rejected_.size())};
}

bool RaftNode::InLease() const {
  // A leader is its own lease (check-quorum makes it step down when it loses the majority).
  if (role_ == Role::kLeader) return true;
  return leader_id_ != kNoNode && election_elapsed_ < config_.election_ticks;
}

void RaftNode::Tick() {
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
  CheckInvariants();
}

void RaftNode::TickElection() {
  ++election_elapsed_;
  if (election_elapsed_ >= randomized_election_timeout_) BecomePreCandidate();
}

void RaftNode::TickHeartbeat() {
  ++heartbeat_elapsed_;
  // Check-quorum: step down as soon as fewer than a majority (self included) were heard from
  // within the last election timeout, so a partitioned leader stops serving; by then the
  // followers' leases have expired too and the majority side can elect.
  int active = 1;
  for (Progress& pr : progress_) {
    if (++pr.ticks_since_heard < config_.election_ticks) ++active;
    if (pr.snapshot_in_flight && ++pr.snapshot_ticks >= config_.election_ticks) {
      pr.snapshot_in_flight = false;  // presumed lost: the next heartbeat resends it
    }
  }
  if (active < Quorum()) {
    Log().info("node {} stepping down at term {}: heard from {} of {} voters", config_.id, term_,
               active, config_.voters.size());
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    BroadcastAppend(/*heartbeat=*/true);
  }
}

// --- proposals and replication ---

absl::StatusOr<int64_t> RaftNode::Propose(std::string data) {
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError(
        leader_id_ == kNoNode
            ? absl::StrCat("node ", config_.id, " is not the leader; leader unknown")
            : absl::StrCat("node ", config_.id, " is not the leader; leader is ", leader_id_));
  }
  const int64_t index = last_index() + 1;
  AppendToLog({Entry{index, term_, std::move(data)}});
  MaybeAdvanceCommit();
  BroadcastAppend(/*heartbeat=*/false);
  CheckInvariants();
  return index;
}

RaftNode::Progress* RaftNode::FindProgress(NodeId id) {
  for (Progress& pr : progress_) {
    if (pr.id == id) return &pr;
  }
  return nullptr;
}

bool RaftNode::IsVoter(NodeId id) const {
  return std::binary_search(config_.voters.begin(), config_.voters.end(), id);
}

void RaftNode::Send(Message message) {
  message.from = config_.id;
  Log().trace("node {} (term {}) sends {} to {} at term {}", config_.id, term_,
              MessageTypeName(message.type), message.to, message.term);
  pending_messages_.push_back(std::move(message));
}

void RaftNode::BroadcastAppend(bool heartbeat) {
  for (Progress& pr : progress_) SendAppend(pr, heartbeat);
}

void RaftNode::SendSnapshot(Progress& pr) {
  Message m;
  m.type = MessageType::kInstallSnapshot;
  m.to = pr.id;
  m.term = term_;
  m.snapshot = snapshot_;
  m.commit = commit_;
  pr.snapshot_in_flight = true;
  pr.snapshot_ticks = 0;
  Log().debug("node {} sending snapshot at {} to {}", config_.id, snapshot_.last_index, pr.id);
  Send(std::move(m));
}

void RaftNode::SendAppend(Progress& pr, bool heartbeat) {
  if (pr.snapshot_in_flight) return;
  if (pr.next_index < first_index()) {
    SendSnapshot(pr);
    return;
  }
  // One append at prev = next_index - 1, with entries from next_index up to the limits or
  // none. Returns the last index sent (0 if none).
  auto send_one = [&](bool with_entries) {
    Message m;
    m.type = MessageType::kAppend;
    m.to = pr.id;
    m.term = term_;
    m.prev_log_index = pr.next_index - 1;
    std::optional<int64_t> prev_term = TermAt(m.prev_log_index);
    GREGOR_CHECK(prev_term.has_value());
    m.prev_log_term = *prev_term;
    size_t bytes = 0;
    for (int64_t i = pr.next_index; with_entries && i <= last_index(); ++i) {
      const Entry& e = EntryAt(i);
      if (m.entries.size() >= config_.max_entries_per_append) break;
      if (!m.entries.empty() && bytes + e.data.size() > config_.max_bytes_per_append) break;
      bytes += e.data.size();
      m.entries.push_back(e);
    }
    m.commit = commit_;
    pr.commit_sent = std::max(pr.commit_sent, commit_);
    const int64_t last_sent = m.entries.empty() ? 0 : m.entries.back().index;
    Send(std::move(m));
    return last_sent;
  };

  if (pr.probing) {
    // One probe at a time; a heartbeat repeats it in case it was lost.
    if (pr.probe_sent && !heartbeat) return;
    if (pr.next_index > last_index() && !heartbeat) return;
    send_one(/*with_entries=*/true);
    pr.probe_sent = true;
    return;
  }
  // Replicating: pipeline up to kMaxInflightAppends appends.
  bool sent = false;
  while (pr.next_index <= last_index() && pr.inflight.size() < kMaxInflightAppends) {
    const int64_t last_sent = send_one(/*with_entries=*/true);
    pr.next_index = last_sent + 1;
    pr.inflight.push_back(last_sent);
    sent = true;
  }
  if (sent) return;
  // A heartbeat with nothing new to send is an empty append at next_index - 1: it carries the
  // commit index, and if earlier appends were lost the follower rejects it and we rewind. A
  // caught-up follower that has not been told the commit index gets one right away (prev is
  // its match index then, so it cannot be rejected).
  const bool idle_behind_commit = pr.inflight.empty() && pr.commit_sent < commit_;
  if (heartbeat || idle_behind_commit) send_one(/*with_entries=*/false);
}

void RaftNode::BroadcastCommit() {
  for (Progress& pr : progress_) SendAppend(pr, /*heartbeat=*/false);
}

bool RaftNode::MaybeAdvanceCommit() {
  std::vector<int64_t> matches;
  matches.reserve(config_.voters.size());
  matches.push_back(last_index());
  for (const Progress& pr : progress_) matches.push_back(pr.match_index);
  std::sort(matches.begin(), matches.end(), std::greater<int64_t>());
  const int64_t quorum_index = matches[static_cast<size_t>(Quorum() - 1)];
  // Only an entry of the current term is committed by counting replicas (thesis §3.6.2,
  // Figure 3.7); earlier ones are committed indirectly with it.
  if (quorum_index <= commit_ || TermAt(quorum_index) != term_) return false;
  Log().trace("node {} commit {} -> {}", config_.id, commit_, quorum_index);
  commit_ = quorum_index;
  return true;
}

// --- Step ---

void RaftNode::Step(const Message& m) {
  if (m.to != config_.id || m.from == config_.id || !IsVoter(m.from)) return;
  Log().trace("node {} (term {}) got {} from {} at term {}", config_.id, term_,
              MessageTypeName(m.type), m.from, m.term);

  const bool vote_request = m.type == MessageType::kPreVote || m.type == MessageType::kVote;
  if (m.term > term_) {
    if (vote_request && InLease()) {
      // A live leader was heard from recently: refuse without adopting the term, so a node
      // that was partitioned away cannot depose it.
      Message resp;
      resp.type = m.type == MessageType::kPreVote ? MessageType::kPreVoteResponse
                                                  : MessageType::kVoteResponse;
      resp.to = m.from;
      resp.term = term_;
      resp.granted = false;
      Send(std::move(resp));
      CheckInvariants();
      return;
    }
    if (m.type == MessageType::kPreVote) {
      // Never change term for a pre-vote.
    } else if (m.type == MessageType::kPreVoteResponse && m.granted) {
      // Granted at the term we would campaign at; term_ moves only once a majority agrees.
    } else {
      const bool from_leader =
          m.type == MessageType::kAppend || m.type == MessageType::kInstallSnapshot;
      BecomeFollower(m.term, from_leader ? m.from : kNoNode);
    }
  } else if (m.term < term_) {
    if (m.type == MessageType::kAppend || m.type == MessageType::kInstallSnapshot) {
      // A stale leader: tell it our term so it steps down.
      Message resp;
      resp.type = m.type == MessageType::kAppend ? MessageType::kAppendResponse
                                                 : MessageType::kInstallSnapshotResponse;
      resp.to = m.from;
      resp.term = term_;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResponse;
      resp.to = m.from;
      resp.term = term_;
      resp.granted = false;
      Send(std::move(resp));
    }
    // Anything else from an older term is dropped.
    CheckInvariants();
    return;
  }

  switch (m.type) {
    case MessageType::kPreVote:
    case MessageType::kVote:
      HandleVoteRequest(m);
      break;
    case MessageType::kPreVoteResponse:
    case MessageType::kVoteResponse:
      HandleVoteResponse(m);
      break;
    case MessageType::kAppend:
    case MessageType::kInstallSnapshot:
      if (role_ == Role::kLeader) {
        Log().error("node {} is leader at term {} but got {} from {} at the same term", config_.id,
                    term_, MessageTypeName(m.type), m.from);
        break;
      }
      if (role_ != Role::kFollower || leader_id_ != m.from) BecomeFollower(term_, m.from);
      if (m.type == MessageType::kAppend) {
        HandleAppend(m);
      } else {
        HandleSnapshot(m);
      }
      break;
    case MessageType::kAppendResponse:
      if (role_ == Role::kLeader) HandleAppendResponse(m);
      break;
    case MessageType::kInstallSnapshotResponse:
      if (role_ == Role::kLeader) HandleSnapshotResponse(m);
      break;
  }
  CheckInvariants();
}

void RaftNode::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  // Same term: only one vote per term, and none while following a known leader of that term.
  const bool can_vote = voted_for_ == m.from || (voted_for_ == kNoNode && leader_id_ == kNoNode) ||
                        (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  resp.to = m.from;
  if (can_vote && LogUpToDate(m.last_log_index, m.last_log_term)) {
    resp.term = m.term;
    resp.granted = true;
    if (!pre) {
      voted_for_ = m.from;
      ResetElectionTimer();
      Log().info("node {} voted for {} at term {}", config_.id, m.from, term_);
    }
  } else {
    resp.term = term_;
    resp.granted = false;
  }
  Send(std::move(resp));
}

void RaftNode::HandleVoteResponse(const Message& m) {
  if (m.type == MessageType::kPreVoteResponse) {
    if (role_ != Role::kPreCandidate) return;
    // Granted responses carry term_ + 1, rejections our own term (higher ones made us follow).
    if (m.granted && m.term != term_ + 1) return;
    auto [granted, rejected] = Poll(m.from, m.granted);
    if (granted >= Quorum()) {
      BecomeCandidate();
    } else if (rejected >= Quorum()) {
      BecomeFollower(term_, kNoNode);
    }
    return;
  }
  if (role_ != Role::kCandidate) return;
  auto [granted, rejected] = Poll(m.from, m.granted);
  if (granted >= Quorum()) {
    BecomeLeader();
  } else if (rejected >= Quorum()) {
    BecomeFollower(term_, kNoNode);
  }
}

void RaftNode::HandleAppend(const Message& m) {
  election_elapsed_ = 0;
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  resp.term = term_;
  if (m.prev_log_index < commit_) {
    // Everything up to our commit index matches any current leader's log.
    resp.success = true;
    resp.match_index = commit_;
    Send(std::move(resp));
    return;
  }
  std::optional<int64_t> prev_term = TermAt(m.prev_log_index);
  if (prev_term != m.prev_log_term) {
    resp.success = false;
    if (!prev_term) {
      resp.hint_index = last_index() + 1;  // we are missing prev_log_index
    } else {
      // Skip the whole conflicting term in one round trip (never into committed entries).
      int64_t hint = m.prev_log_index;
      while (hint - 1 > commit_ && TermAt(hint - 1) == prev_term) --hint;
      resp.hint_index = hint;
    }
    Send(std::move(resp));
    return;
  }
  // prev matches. Append what is new; truncate only at a real conflict (a stale or duplicated
  // append must not cut entries we already have).
  size_t k = 0;
  for (; k < m.entries.size(); ++k) {
    const Entry& e = m.entries[k];
    GREGOR_CHECK(e.index == m.prev_log_index + 1 + static_cast<int64_t>(k));
    if (e.index > last_index()) break;
    if (TermAt(e.index) != e.term) {
      TruncateLogFrom(e.index);
      break;
    }
  }
  if (k < m.entries.size()) {
    AppendToLog(
        std::vector<Entry>(m.entries.begin() + static_cast<std::ptrdiff_t>(k), m.entries.end()));
  }
  const int64_t last_new = m.prev_log_index + static_cast<int64_t>(m.entries.size());
  commit_ = std::max(commit_, std::min(m.commit, last_new));
  resp.success = true;
  resp.match_index = last_new;
  Send(std::move(resp));
}

void RaftNode::HandleSnapshot(const Message& m) {
  election_elapsed_ = 0;
  const Snapshot& s = m.snapshot;
  Message resp;
  resp.type = MessageType::kInstallSnapshotResponse;
  resp.to = m.from;
  resp.term = term_;
  resp.success = true;
  if (s.last_index <= commit_) {
    // Already have (and may have applied) everything it covers.
    resp.match_index = commit_;
    Send(std::move(resp));
    return;
  }
  if (TermAt(s.last_index) == s.last_term) {
    // Our log contains the snapshot's last entry: keep what follows it (Figure 13, step 6).
    const auto keep_from = static_cast<size_t>(s.last_index - first_index() + 1);
    log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(keep_from));
    while (!pending_entries_.empty() && pending_entries_.front().index <= s.last_index) {
      pending_entries_.erase(pending_entries_.begin());
    }
  } else {
    // Discard the whole log (step 7). The snapshot covers persisted entries up to its last
    // index; anything persisted after it goes too.
    log_.clear();
    pending_entries_.clear();
    pending_truncate_from_ = pending_truncate_from_
                                 ? std::min(*pending_truncate_from_, s.last_index + 1)
                                 : s.last_index + 1;
  }
  snapshot_ = s;
  commit_ = s.last_index;
  pending_snapshot_ = s;
  pending_snapshot_to_apply_ = s;
  Log().info("node {} installed snapshot at index {} term {} from {}", config_.id, s.last_index,
             s.last_term, m.from);
  resp.match_index = s.last_index;
  Send(std::move(resp));
}

void RaftNode::HandleAppendResponse(const Message& m) {
  Progress* pr = FindProgress(m.from);
  if (pr == nullptr) return;
  pr->ticks_since_heard = 0;
  if (m.success) {
    if (m.match_index > last_index()) {
      Log().error("node {} got match index {} beyond its last index {} from {}", config_.id,
                  m.match_index, last_index(), m.from);
      return;
    }
    const bool advanced = m.match_index > pr->match_index;
    if (advanced) pr->match_index = m.match_index;
    pr->next_index = std::max(pr->next_index, pr->match_index + 1);
    if (pr->probing) pr->inflight.clear();
    pr->probing = false;
    pr->probe_sent = false;
    std::erase_if(pr->inflight, [&](int64_t last) { return last <= pr->match_index; });
    if (advanced && MaybeAdvanceCommit()) {
      BroadcastCommit();  // tell everyone the new commit index
    } else {
      SendAppend(*pr, /*heartbeat=*/false);
    }
    return;
  }
  // Rejected: retry from the hint, never below what is known to match. An answer to the
  // latest append always moves next_index back (it rejected prev = next_index - 1 >=
  // match_index + 1); one that does not is stale or duplicated.
  const int64_t retry = std::max(m.hint_index, pr->match_index + 1);
  if (retry >= pr->next_index) return;
  pr->next_index = retry;
  pr->probing = true;
  pr->probe_sent = false;
  pr->inflight.clear();
  SendAppend(*pr, /*heartbeat=*/false);
}

void RaftNode::HandleSnapshotResponse(const Message& m) {
  Progress* pr = FindProgress(m.from);
  if (pr == nullptr) return;
  pr->ticks_since_heard = 0;
  if (!m.success) return;
  if (m.match_index > last_index()) return;
  pr->snapshot_in_flight = false;
  const bool advanced = m.match_index > pr->match_index;
  if (advanced) pr->match_index = m.match_index;
  pr->next_index = std::max(pr->next_index, pr->match_index + 1);
  pr->probing = false;
  pr->probe_sent = false;
  pr->inflight.clear();
  if (advanced && MaybeAdvanceCommit()) {
    BroadcastCommit();
  } else {
    SendAppend(*pr, /*heartbeat=*/false);
  }
}

// --- output ---

bool RaftNode::HasReady() const {
  return HardState{term_, voted_for_, commit_} != last_hard_state_ || pending_snapshot_ ||
         pending_truncate_from_ || !pending_entries_.empty() || !pending_messages_.empty() ||
         pending_snapshot_to_apply_ || commit_ > applied_;
}

Ready RaftNode::TakeReady() {
  Ready rd;
  const HardState hs{term_, voted_for_, commit_};
  if (hs != last_hard_state_) {
    rd.hard_state = hs;
    last_hard_state_ = hs;
  }
  rd.snapshot = std::move(pending_snapshot_);
  pending_snapshot_.reset();
  rd.truncate_from = pending_truncate_from_;
  pending_truncate_from_.reset();
  rd.entries = std::move(pending_entries_);
  pending_entries_.clear();
  rd.messages = std::move(pending_messages_);
  pending_messages_.clear();
  if (pending_snapshot_to_apply_) {
    applied_ = pending_snapshot_to_apply_->last_index;
    rd.snapshot_to_apply = std::move(pending_snapshot_to_apply_);
    pending_snapshot_to_apply_.reset();
  }
  if (commit_ > applied_) {
    rd.committed.reserve(static_cast<size_t>(commit_ - applied_));
    for (int64_t i = applied_ + 1; i <= commit_; ++i) rd.committed.push_back(EntryAt(i));
    applied_ = commit_;
  }
  CheckInvariants();
  return rd;
}

void RaftNode::CompactTo(Snapshot snapshot) {
  GREGOR_CHECK_MSG(snapshot.last_index <= applied_, "compacting to ", snapshot.last_index,
                   " beyond the applied index ", applied_);
  if (snapshot.last_index <= snapshot_.last_index) return;
  GREGOR_CHECK_MSG(TermAt(snapshot.last_index) == snapshot.last_term, "snapshot at ",
                   snapshot.last_index, " has term ", snapshot.last_term);
  const auto drop = static_cast<size_t>(snapshot.last_index - first_index() + 1);
  log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_ = std::move(snapshot);
  Log().debug("node {} compacted its log to {}", config_.id, snapshot_.last_index);
  CheckInvariants();
}

void RaftNode::CheckInvariants() const {
  GREGOR_CHECK_MSG(snapshot_.last_index <= commit_ && commit_ <= last_index(), "node ", config_.id,
                   ": snapshot ", snapshot_.last_index, " commit ", commit_, " last ",
                   last_index());
  GREGOR_CHECK_MSG(applied_ <= commit_, "node ", config_.id, ": applied ", applied_,
                   " beyond commit ", commit_);
  GREGOR_CHECK(pending_snapshot_to_apply_ || applied_ >= snapshot_.last_index);
  GREGOR_CHECK(log_.empty() || log_.front().index == first_index());
  GREGOR_CHECK(pending_entries_.empty() || pending_entries_.back().index == last_index());
  GREGOR_CHECK(last_term() <= term_);
  GREGOR_CHECK((role_ == Role::kLeader) == (leader_id_ == config_.id));
  GREGOR_CHECK(role_ != Role::kCandidate || voted_for_ == config_.id);
}

}  // namespace gregor::quorum
