// The Raft core's names (for logs) and the check of a node's configuration and restored state
// before it starts (RaftNode::Validate). Kept apart from raft.cc, which is the protocol.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "controller/quorum/raft.h"

namespace gregor::quorum {

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kInstallSnapshot:
      return "InstallSnapshot";
    case MessageType::kInstallSnapshotResponse:
      return "InstallSnapshotResponse";
  }
  return "Unknown";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

absl::Status RaftNode::Validate(const RaftConfig& config, const PersistentState& restored) {
  if (config.voters.empty()) return absl::InvalidArgumentError("raft: no voters");
  std::vector<NodeId> voters = config.voters;
  std::sort(voters.begin(), voters.end());
  if (std::adjacent_find(voters.begin(), voters.end()) != voters.end()) {
    return absl::InvalidArgumentError("raft: duplicate voter");
  }
  if (voters.front() < 0) return absl::InvalidArgumentError("raft: negative voter id");
  if (!std::binary_search(voters.begin(), voters.end(), config.id)) {
    return absl::InvalidArgumentError(absl::StrCat("raft: node ", config.id, " is not a voter"));
  }
  if (config.heartbeat_ticks < 1 || config.election_ticks <= config.heartbeat_ticks) {
    return absl::InvalidArgumentError(
        absl::StrCat("raft: need 1 <= heartbeat_ticks < election_ticks, got ",
                     config.heartbeat_ticks, " and ", config.election_ticks));
  }
  if (config.max_entries_per_append < 1 || config.max_bytes_per_append < 1) {
    return absl::InvalidArgumentError("raft: append limits must be positive");
  }

  const HardState& hs = restored.hard_state;
  const Snapshot& snap = restored.snapshot;
  if (hs.term < 0 || snap.last_index < 0 || snap.last_term < 0 || hs.commit < 0) {
    return absl::DataLossError("raft: negative term or index in restored state");
  }
  if ((snap.last_index == 0) != (snap.last_term == 0)) {
    return absl::DataLossError("raft: snapshot index and term must both be 0 or both positive");
  }
  if (hs.voted_for != kNoNode && !std::binary_search(voters.begin(), voters.end(), hs.voted_for)) {
    return absl::DataLossError(absl::StrCat("raft: voted for unknown node ", hs.voted_for));
  }
  int64_t expected_index = snap.last_index + 1;
  int64_t prev_term = snap.last_term;
  for (const Entry& e : restored.entries) {
    if (e.index != expected_index) {
      return absl::DataLossError(absl::StrCat("raft: restored entries not contiguous at index ",
                                              e.index, ", expected ", expected_index));
    }
    if (e.term < prev_term) {
      return absl::DataLossError(absl::StrCat("raft: entry ", e.index, " has term ", e.term,
                                              " below the previous term ", prev_term));
    }
    ++expected_index;
    prev_term = e.term;
  }
  if (prev_term > hs.term) {
    return absl::DataLossError(
        absl::StrCat("raft: log term ", prev_term, " is above the current term ", hs.term));
  }
  if (hs.commit > expected_index - 1) {
    return absl::DataLossError(absl::StrCat("raft: commit index ", hs.commit,
                                            " is beyond the last entry ", expected_index - 1));
  }
  return absl::OkStatus();
}

}  // namespace gregor::quorum
