#include "broker/group/group.h"

#include <algorithm>

#include "broker/group/consumer_protocol.h"

namespace gregor::group {

KafkaErrorCode WriteErrorFor(KafkaErrorCode e, bool commit) {
  using E = KafkaErrorCode;
  switch (e) {
    case E::kNone: return E::kNone;
    case E::kUnknownTopicOrPartition:
    case E::kNotEnoughReplicas:
    case E::kNotEnoughReplicasAfterAppend: return E::kCoordinatorNotAvailable;
    case E::kNotLeaderOrFollower:
    case E::kKafkaStorageError:
    case E::kNotCoordinator: return E::kNotCoordinator;
    case E::kRequestTimedOut: return commit ? E::kRequestTimedOut : E::kRebalanceInProgress;
    case E::kMessageTooLarge:
    case E::kRecordListTooLarge:
    case E::kInvalidFetchSize: return commit ? E::kInvalidCommitOffsetSize : E::kUnknownServerError;
    default: return E::kUnknownServerError;
  }
}

const char* GroupStateName(GroupState state) {
  switch (state) {
    case GroupState::kEmpty: return "Empty";
    case GroupState::kPreparingRebalance: return "PreparingRebalance";
    case GroupState::kCompletingRebalance: return "CompletingRebalance";
    case GroupState::kStable: return "Stable";
    case GroupState::kDead: return "Dead";
  }
  return "Unknown";
}

std::string Member::MetadataFor(const std::string& protocol) const {
  for (const Protocol& p : protocols) {
    if (p.name == protocol) return p.metadata;
  }
  return "";
}

bool Group::AllMembersJoined() const {
  return pending_members.empty() && NumAwaitingJoin() == members.size();
}

size_t Group::NumAwaitingJoin() const {
  return static_cast<size_t>(std::count_if(members.begin(), members.end(), [](const auto& m) {
    return static_cast<bool>(m.second.awaiting_join);
  }));
}

int32_t Group::MaxRebalanceTimeoutMs() const {
  int32_t most = 0;
  for (const auto& [id, m] : members) most = std::max(most, m.rebalance_timeout_ms);
  return most;
}

std::string Group::SelectProtocol() const {
  if (members.empty()) return "";
  // Candidates: supported by every member, in the leader's (or first member's) order.
  const Member& first = leader_id && Has(*leader_id) ? members.at(*leader_id) : members.begin()->second;
  std::vector<std::string> candidates;
  for (const Protocol& p : first.protocols) {
    bool everyone = std::all_of(members.begin(), members.end(), [&](const auto& m) {
      return std::any_of(m.second.protocols.begin(), m.second.protocols.end(),
                         [&](const Protocol& q) { return q.name == p.name; });
    });
    if (everyone && std::find(candidates.begin(), candidates.end(), p.name) == candidates.end()) {
      candidates.push_back(p.name);
    }
  }
  if (candidates.empty()) return "";
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members) {
    for (const Protocol& p : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const std::string& c : candidates) {
    if (votes[c] > votes[best]) best = c;
  }
  return best;
}

bool Group::SupportsProtocols(const std::string& type, const std::vector<Protocol>& protocols) const {
  if (members.empty()) return !type.empty() && !protocols.empty();
  if (protocol_type != type) return false;
  for (const Protocol& p : protocols) {
    bool everyone = std::all_of(members.begin(), members.end(), [&](const auto& m) {
      return std::any_of(m.second.protocols.begin(), m.second.protocols.end(),
                         [&](const Protocol& q) { return q.name == p.name; });
    });
    if (everyone) return true;
  }
  return false;
}

bool Group::IsStaticMemberFenced(const std::optional<std::string>& instance_id,
                                 const std::string& member_id) const {
  if (!instance_id) return false;
  auto it = static_members.find(*instance_id);
  return it != static_members.end() && it->second != member_id;
}

std::optional<std::set<std::string>> Group::SubscribedTopics() const {
  if (!IsConsumerGroup() || !protocol_name) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& [id, m] : members) {
    auto parsed = ParseSubscriptionTopics(m.MetadataFor(*protocol_name));
    if (!parsed) return std::nullopt;
    topics.insert(parsed->begin(), parsed->end());
  }
  return topics;
}

GroupValue Group::ToRecord() const {
  GroupValue v;
  v.protocol_type = protocol_type.value_or("");
  v.generation = generation;
  v.protocol = protocol_name;
  v.leader = leader_id;
  v.current_state_timestamp = current_state_timestamp_ms;
  if (state == GroupState::kEmpty || state == GroupState::kDead) {
    v.protocol.reset();
    v.leader.reset();
    return v;
  }
  for (const auto& [id, m] : members) {
    MemberValue mv;
    mv.member_id = id;
    mv.group_instance_id = m.group_instance_id;
    mv.client_id = m.client_id;
    mv.client_host = m.client_host;
    mv.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mv.session_timeout_ms = m.session_timeout_ms;
    mv.subscription = protocol_name ? m.MetadataFor(*protocol_name) : "";
    mv.assignment = m.assignment;
    v.members.push_back(std::move(mv));
  }
  return v;
}

}  // namespace gregor::group
