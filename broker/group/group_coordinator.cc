#include "broker/group/group_coordinator.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/group/group_hash.h"

namespace gregor::group {
namespace {

using E = KafkaErrorCode;

// Java's UUID.randomUUID().toString() shape, as Kafka's member ids carry.
std::string RandomUuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & ~0xF000ULL) | 0x4000ULL;                  // version 4
  const uint64_t lo = (rng() & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // IETF variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF,
                         lo >> 48, lo & 0xFFFFFFFFFFFFULL);
}

JoinResult JoinError(E error, const std::string& member_id = "") {
  JoinResult r;
  r.error = error;
  r.member_id = member_id;
  return r;
}

SyncResult SyncError(E error) {
  SyncResult r;
  r.error = error;
  return r;
}

}  // namespace

GroupCoordinator::GroupCoordinator(GroupConfig config, Clock* clock, OffsetsStore* store,
                                   std::function<bool(const std::string&, int32_t)> topic_exists)
    : config_(config), clock_(clock), store_(store), topic_exists_(std::move(topic_exists)) {}

GroupCoordinator::~GroupCoordinator() = default;

// ---- ownership ----------------------------------------------------------------------------------

void GroupCoordinator::SetPartitionCount(int32_t partitions) {
  if (partitions > 0) partition_count_ = partitions;
}

int32_t GroupCoordinator::PartitionFor(const std::string& group_id) const {
  return OffsetsPartitionFor(group_id, partition_count_);
}

void GroupCoordinator::BeginLoading(int32_t partition) {
  Unload(partition);
  loading_.insert(partition);
}

void GroupCoordinator::Load(int32_t partition, LoadedPartition loaded) {
  if (loading_.erase(partition) == 0) return;
  owned_.insert(partition);
  const int64_t now = clock_->SteadyMs();
  for (auto& [id, lg] : loaded.groups) {
    if (PartitionFor(id) != partition) continue;  // written under another partition count
    auto g = std::make_shared<Group>(id);
    g->offsets = std::move(lg.offsets);
    if (lg.metadata) {
      const GroupValue& v = *lg.metadata;
      if (!v.protocol_type.empty()) g->protocol_type = v.protocol_type;
      g->generation = v.generation;
      g->current_state_timestamp_ms = v.current_state_timestamp;
      if (!v.members.empty() && v.protocol) {
        g->protocol_name = v.protocol;
        g->leader_id = v.leader;
        for (const MemberValue& mv : v.members) {
          Member m;
          m.member_id = mv.member_id;
          m.group_instance_id = mv.group_instance_id;
          m.client_id = mv.client_id;
          m.client_host = mv.client_host;
          m.rebalance_timeout_ms = mv.rebalance_timeout_ms;
          m.session_timeout_ms = mv.session_timeout_ms;
          m.protocols = {{*v.protocol, mv.subscription}};
          m.assignment = mv.assignment;
          m.last_heartbeat_ms = now;  // a fresh session: no rebalance because of the failover
          if (m.group_instance_id) g->static_members[*m.group_instance_id] = m.member_id;
          g->members.emplace(m.member_id, std::move(m));
        }
        if (!g->leader_id || !g->Has(*g->leader_id)) g->leader_id = g->members.begin()->first;
        g->state = GroupState::kStable;
      }
    }
    groups_[id] = g;
    Emit(*g, "loaded");
  }
}

void GroupCoordinator::Unload(int32_t partition) {
  loading_.erase(partition);
  if (owned_.erase(partition) == 0) return;
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (PartitionFor(it->first) != partition) {
      ++it;
      continue;
    }
    Group& g = *it->second;
    g.state = GroupState::kDead;
    for (auto& [id, m] : g.members) {
      if (m.awaiting_join) std::exchange(m.awaiting_join, nullptr)(JoinError(E::kNotCoordinator, id));
      if (m.awaiting_sync) std::exchange(m.awaiting_sync, nullptr)(SyncError(E::kNotCoordinator));
    }
    Emit(g, "unloaded");
    it = groups_.erase(it);
  }
}

bool GroupCoordinator::IsLoading(int32_t partition) const { return loading_.count(partition) > 0; }
bool GroupCoordinator::Owns(int32_t partition) const { return owned_.count(partition) > 0; }
std::vector<int32_t> GroupCoordinator::OwnedPartitions() const {
  return {owned_.begin(), owned_.end()};
}

GroupCoordinator::Access GroupCoordinator::AccessFor(const std::string& group_id) const {
  const int32_t p = PartitionFor(group_id);
  if (owned_.count(p)) return Access::kOk;
  if (loading_.count(p)) return Access::kLoading;
  return Access::kNotCoordinator;
}

std::shared_ptr<Group> GroupCoordinator::Find(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second;
}

std::shared_ptr<Group> GroupCoordinator::GetOrCreate(const std::string& group_id) {
  auto& g = groups_[group_id];
  if (!g) {
    g = std::make_shared<Group>(group_id);
    g->current_state_timestamp_ms = clock_->WallMs();
  }
  return g;
}

void GroupCoordinator::Forget(const std::string& group_id) { groups_.erase(group_id); }

void GroupCoordinator::SetState(Group& g, GroupState state) {
  g.state = state;
  g.current_state_timestamp_ms = clock_->WallMs();
}

void GroupCoordinator::Emit(const Group& g, const std::string& what, const std::string& reason) {
  if (events_) events_({g.id(), what, g.generation, g.members.size(), reason});
}

// ---- JoinGroup ----------------------------------------------------------------------------------

void GroupCoordinator::Join(const JoinRequest& r, JoinCallback done) {
  if (r.group_id.empty()) return done(JoinError(E::kInvalidGroupId, r.member_id));
  switch (AccessFor(r.group_id)) {
    case Access::kNotCoordinator: return done(JoinError(E::kNotCoordinator, r.member_id));
    case Access::kLoading: return done(JoinError(E::kCoordinatorLoadInProgress, r.member_id));
    case Access::kOk: break;
  }
  if (r.session_timeout_ms < config_.min_session_timeout_ms ||
      r.session_timeout_ms > config_.max_session_timeout_ms) {
    return done(JoinError(E::kInvalidSessionTimeout, r.member_id));
  }
  const bool unknown_member = r.member_id.empty();
  std::shared_ptr<Group> g = Find(r.group_id);
  if (!g) {
    if (!unknown_member) return done(JoinError(E::kUnknownMemberId, r.member_id));
    g = GetOrCreate(r.group_id);
  }
  // group.max.size: an existing member (awaiting, while preparing) always; others up to the size.
  bool accept = true;
  switch (g->state) {
    case GroupState::kEmpty:
    case GroupState::kDead: break;
    case GroupState::kPreparingRebalance:
      accept = (g->Has(r.member_id) && g->members.at(r.member_id).awaiting_join) ||
               static_cast<int64_t>(g->NumAwaitingJoin()) < config_.max_size;
      break;
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      accept = g->Has(r.member_id) || static_cast<int64_t>(g->members.size()) < config_.max_size;
      break;
  }
  if (!accept) {
    if (g->Has(r.member_id)) RemoveMember(g, r.member_id, "the group is at group.max.size");
    if (g->members.empty() && g->offsets.empty() && g->state == GroupState::kEmpty) Forget(g->id());
    return done(JoinError(E::kGroupMaxSizeReached, ""));
  }
  if (!g->SupportsProtocols(r.protocol_type, r.protocols)) {
    if (g->members.empty() && g->offsets.empty() && g->state == GroupState::kEmpty) Forget(g->id());
    return done(JoinError(E::kInconsistentGroupProtocol, r.member_id));
  }
  if (unknown_member) {
    JoinUnknownMember(g, r, std::move(done));
  } else {
    JoinKnownMember(g, r, std::move(done));
  }
}

void GroupCoordinator::JoinUnknownMember(const std::shared_ptr<Group>& g, const JoinRequest& r,
                                         JoinCallback done) {
  if (g->state == GroupState::kDead) return done(JoinError(E::kCoordinatorNotAvailable));
  const std::string member_id =
      absl::StrCat(r.group_instance_id ? *r.group_instance_id : r.client_id, "-", RandomUuid());
  if (r.group_instance_id) {
    if (g->static_members.count(*r.group_instance_id)) return ReplaceStaticMember(g, r, std::move(done));
    return AddMemberAndRebalance(g, r, member_id, std::move(done));
  }
  if (r.require_known_member_id) {
    // KIP-394: hand out the id first; the member joins again with it.
    g->pending_members[member_id] = clock_->SteadyMs() + r.session_timeout_ms;
    return done(JoinError(E::kMemberIdRequired, member_id));
  }
  AddMemberAndRebalance(g, r, member_id, std::move(done));
}

void GroupCoordinator::JoinKnownMember(const std::shared_ptr<Group>& g, const JoinRequest& r,
                                       JoinCallback done) {
  if (g->state == GroupState::kDead) return done(JoinError(E::kCoordinatorNotAvailable, r.member_id));
  if (g->pending_members.count(r.member_id)) {
    return AddMemberAndRebalance(g, r, r.member_id, std::move(done));
  }
  if (g->IsStaticMemberFenced(r.group_instance_id, r.member_id)) {
    return done(JoinError(E::kFencedInstanceId, r.member_id));
  }
  if (!g->Has(r.member_id) ||
      (r.group_instance_id && !g->static_members.count(*r.group_instance_id))) {
    return done(JoinError(E::kUnknownMemberId, r.member_id));
  }
  Member& m = g->members.at(r.member_id);
  switch (g->state) {
    case GroupState::kPreparingRebalance:
      return UpdateMemberAndRebalance(g, m, r, std::move(done));
    case GroupState::kCompletingRebalance:
      if (m.protocols == r.protocols) {
        // A retried join (its answer was lost): the current generation again.
        return done(CurrentJoinResult(*g, r.member_id, g->IsLeader(r.member_id)));
      }
      return UpdateMemberAndRebalance(g, m, r, std::move(done));
    case GroupState::kStable:
      if (g->IsLeader(r.member_id) || m.protocols != r.protocols) {
        // The leader rejoining, or a member with a changed subscription: a new assignment.
        return UpdateMemberAndRebalance(g, m, r, std::move(done));
      }
      m.last_heartbeat_ms = clock_->SteadyMs();
      return done(CurrentJoinResult(*g, r.member_id, false));
    case GroupState::kEmpty:
    case GroupState::kDead:
      return done(JoinError(E::kUnknownMemberId, r.member_id));
  }
}

JoinResult GroupCoordinator::CurrentJoinResult(const Group& g, const std::string& member_id,
                                               bool with_members) const {
  JoinResult r;
  r.generation = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name.value_or("");
  r.leader = g.leader_id.value_or("");
  r.member_id = member_id;
  if (with_members && g.protocol_name) {
    for (const auto& [id, m] : g.members) {
      r.members.push_back({id, m.group_instance_id, m.MetadataFor(*g.protocol_name)});
    }
  }
  return r;
}

void GroupCoordinator::AddMemberAndRebalance(const std::shared_ptr<Group>& g, const JoinRequest& r,
                                             const std::string& member_id, JoinCallback done) {
  const int64_t now = clock_->SteadyMs();
  Member m;
  m.member_id = member_id;
  m.group_instance_id = r.group_instance_id;
  m.client_id = r.client_id;
  m.client_host = r.client_host;
  m.rebalance_timeout_ms = r.rebalance_timeout_ms;
  m.session_timeout_ms = r.session_timeout_ms;
  m.protocols = r.protocols;
  m.awaiting_join = std::move(done);
  m.is_new = true;
  m.join_started_ms = now;
  m.last_heartbeat_ms = now;
  if (g->members.empty()) {
    g->protocol_type = r.protocol_type;
    g->leader_id = member_id;
  }
  if (r.group_instance_id) g->static_members[*r.group_instance_id] = member_id;
  g->pending_members.erase(member_id);
  g->members.emplace(member_id, std::move(m));
  if (g->state == GroupState::kPreparingRebalance && g->initial_delay) g->new_member_added = true;
  MaybePrepareRebalance(g, absl::StrCat("member ", member_id, " joined"));
  MaybeCompleteJoin(g);
}

void GroupCoordinator::UpdateMemberAndRebalance(const std::shared_ptr<Group>& g, Member& m,
                                                const JoinRequest& r, JoinCallback done) {
  m.protocols = r.protocols;
  m.rebalance_timeout_ms = r.rebalance_timeout_ms;
  m.session_timeout_ms = r.session_timeout_ms;
  m.client_id = r.client_id;
  m.client_host = r.client_host;
  if (m.awaiting_join) {
    // A second JoinGroup while the first is parked: the newer one waits, the older is told.
    std::exchange(m.awaiting_join, nullptr)(JoinError(E::kRebalanceInProgress, m.member_id));
  }
  m.awaiting_join = std::move(done);
  m.last_heartbeat_ms = clock_->SteadyMs();
  MaybePrepareRebalance(g, absl::StrCat("member ", m.member_id, " rejoined"));
  MaybeCompleteJoin(g);
}

void GroupCoordinator::ReplaceStaticMember(const std::shared_ptr<Group>& g, const JoinRequest& r,
                                           JoinCallback done) {
  const std::string old_id = g->static_members.at(*r.group_instance_id);
  const std::string new_id = absl::StrCat(*r.group_instance_id, "-", RandomUuid());
  const std::optional<std::string> old_leader = g->leader_id;
  auto node = g->members.extract(old_id);
  Member& old = node.mapped();
  if (old.awaiting_join) std::exchange(old.awaiting_join, nullptr)(JoinError(E::kFencedInstanceId, old_id));
  if (old.awaiting_sync) std::exchange(old.awaiting_sync, nullptr)(SyncError(E::kFencedInstanceId));
  node.key() = new_id;
  Member& m = node.mapped();
  m.member_id = new_id;
  m.client_id = r.client_id;
  m.client_host = r.client_host;
  m.session_timeout_ms = r.session_timeout_ms;
  m.rebalance_timeout_ms = r.rebalance_timeout_ms;
  m.last_heartbeat_ms = clock_->SteadyMs();
  m.protocols = r.protocols;
  g->members.insert(std::move(node));
  g->static_members[*r.group_instance_id] = new_id;
  if (g->leader_id == old_id) g->leader_id = new_id;
  if (g->pending_sync.erase(old_id)) g->pending_sync.insert(new_id);
  Member& member = g->members.at(new_id);

  switch (g->state) {
    case GroupState::kStable:
      if (g->protocol_name == g->SelectProtocol()) {
        // No rebalance: persist the new id, answer with the current generation and the old
        // leader id (so a returning leader does not assign again, JoinGroup < 9).
        const int32_t generation = g->generation;
        std::weak_ptr<Group> weak = g;
        StoreGroup(g, [this, weak, new_id, generation, old_leader,
                       done = std::move(done)](KafkaErrorCode e) {
          auto g = weak.lock();
          if (!g || g->state == GroupState::kDead) return done(JoinError(E::kNotCoordinator, new_id));
          if (e != E::kNone) return done(JoinError(WriteErrorFor(e, /*commit=*/false), new_id));
          JoinResult result = CurrentJoinResult(*g, new_id, false);
          result.generation = generation;
          result.leader = old_leader.value_or("");
          done(result);
        });
        return;
      }
      member.awaiting_join = std::move(done);
      PrepareRebalance(g, absl::StrCat("static member ", *r.group_instance_id,
                                       " rejoined with other protocols"));
      break;
    case GroupState::kCompletingRebalance:
      member.awaiting_join = std::move(done);
      PrepareRebalance(g, absl::StrCat("static member ", *r.group_instance_id,
                                       " replaced during CompletingRebalance"));
      break;
    case GroupState::kPreparingRebalance:
      member.awaiting_join = std::move(done);
      break;
    case GroupState::kEmpty:
    case GroupState::kDead:
      member.awaiting_join = std::move(done);
      MaybePrepareRebalance(g, "static member joined");
      break;
  }
  MaybeCompleteJoin(g);
}

void GroupCoordinator::MaybePrepareRebalance(const std::shared_ptr<Group>& g, const std::string& reason) {
  if (g->state == GroupState::kStable || g->state == GroupState::kCompletingRebalance ||
      g->state == GroupState::kEmpty) {
    PrepareRebalance(g, reason);
  }
}

void GroupCoordinator::PrepareRebalance(const std::shared_ptr<Group>& g, const std::string& reason) {
  if (g->state == GroupState::kCompletingRebalance) PropagateAssignmentError(*g, E::kRebalanceInProgress);
  const int64_t now = clock_->SteadyMs();
  const int32_t timeout = g->MaxRebalanceTimeoutMs();
  if (g->state == GroupState::kEmpty && config_.initial_rebalance_delay_ms > 0) {
    g->initial_delay = true;
    g->new_member_added = false;
    g->join_deadline_ms = now + config_.initial_rebalance_delay_ms;
    g->initial_delay_remaining_ms = std::max<int64_t>(timeout - config_.initial_rebalance_delay_ms, 0);
  } else {
    g->initial_delay = false;
    g->join_deadline_ms = now + timeout;
  }
  g->pending_sync.clear();
  SetState(*g, GroupState::kPreparingRebalance);
  Emit(*g, "rebalancing", reason);
  MaybeCompleteJoin(g);  // e.g. the last member left: the group empties at once
}

void GroupCoordinator::PropagateAssignmentError(Group& g, KafkaErrorCode error) {
  for (auto& [id, m] : g.members) {
    m.assignment.clear();
    if (m.awaiting_sync) std::exchange(m.awaiting_sync, nullptr)(SyncError(error));
  }
}

void GroupCoordinator::MaybeCompleteJoin(const std::shared_ptr<Group>& g) {
  if (g->state == GroupState::kPreparingRebalance && !g->initial_delay && g->AllMembersJoined()) {
    CompleteJoin(g);
  }
}

void GroupCoordinator::CompleteJoin(const std::shared_ptr<Group>& g) {
  const int64_t now = clock_->SteadyMs();
  g->initial_delay = false;
  // Dynamic members that did not rejoin in time are gone; static ones stay until their session
  // expires.
  std::vector<std::string> gone;
  for (const auto& [id, m] : g->members) {
    if (!m.awaiting_join && !m.group_instance_id) gone.push_back(id);
  }
  for (const std::string& id : gone) {
    g->members.erase(id);
    if (g->leader_id == id) g->leader_id.reset();
  }
  if (!g->leader_id || !g->Has(*g->leader_id) || !g->members.at(*g->leader_id).awaiting_join) {
    g->leader_id.reset();
    for (const auto& [id, m] : g->members) {
      if (m.awaiting_join) {
        g->leader_id = id;
        break;
      }
    }
  }
  if (!g->members.empty() && !g->leader_id) {
    // Only static members that have not rejoined: wait for them (or their session expiry).
    g->join_deadline_ms = now + g->MaxRebalanceTimeoutMs();
    return;
  }
  g->generation += 1;
  if (g->members.empty()) {
    g->protocol_name.reset();
    g->leader_id.reset();
    SetState(*g, GroupState::kEmpty);
    Emit(*g, "empty");
    StoreGroup(g, [](KafkaErrorCode) {});
    return;
  }
  g->protocol_name = g->SelectProtocol();
  SetState(*g, GroupState::kCompletingRebalance);
  g->pending_sync.clear();
  for (const auto& [id, m] : g->members) g->pending_sync.insert(id);
  g->pending_sync_deadline_ms = now + g->MaxRebalanceTimeoutMs();
  for (auto& [id, m] : g->members) {
    if (!m.awaiting_join) continue;
    JoinResult result = CurrentJoinResult(*g, id, g->IsLeader(id));
    m.is_new = false;
    m.last_heartbeat_ms = now;
    std::exchange(m.awaiting_join, nullptr)(result);
  }
  Emit(*g, "joined");
}

void GroupCoordinator::RemoveMember(const std::shared_ptr<Group>& g, const std::string& member_id,
                                    const std::string& reason) {
  auto it = g->members.find(member_id);
  if (it == g->members.end()) return;
  Member& m = it->second;
  if (m.awaiting_join) std::exchange(m.awaiting_join, nullptr)(JoinError(E::kUnknownMemberId, member_id));
  if (m.awaiting_sync) std::exchange(m.awaiting_sync, nullptr)(SyncError(E::kUnknownMemberId));
  if (m.group_instance_id) g->static_members.erase(*m.group_instance_id);
  g->members.erase(it);
  g->pending_sync.erase(member_id);
  if (g->leader_id == member_id) {
    g->leader_id.reset();
    if (!g->members.empty()) g->leader_id = g->members.begin()->first;
  }
  switch (g->state) {
    case GroupState::kStable:
    case GroupState::kCompletingRebalance: PrepareRebalance(g, reason); break;
    case GroupState::kPreparingRebalance: MaybeCompleteJoin(g); break;
    case GroupState::kEmpty:
    case GroupState::kDead: break;
  }
}

// ---- SyncGroup, Heartbeat, LeaveGroup -----------------------------------------------------------

void GroupCoordinator::Sync(const SyncRequest& r, SyncCallback done) {
  if (r.group_id.empty()) return done(SyncError(E::kInvalidGroupId));
  switch (AccessFor(r.group_id)) {
    case Access::kNotCoordinator: return done(SyncError(E::kNotCoordinator));
    // Old clients do not expect 14 here: they rejoin on 27.
    case Access::kLoading: return done(SyncError(E::kRebalanceInProgress));
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(r.group_id);
  if (!g) return done(SyncError(E::kUnknownMemberId));
  if (g->state == GroupState::kDead) return done(SyncError(E::kCoordinatorNotAvailable));
  if (g->IsStaticMemberFenced(r.group_instance_id, r.member_id)) return done(SyncError(E::kFencedInstanceId));
  if (!g->Has(r.member_id)) return done(SyncError(E::kUnknownMemberId));
  if (r.generation != g->generation) return done(SyncError(E::kIllegalGeneration));
  if ((r.protocol_type && r.protocol_type != g->protocol_type) ||
      (r.protocol_name && r.protocol_name != g->protocol_name)) {
    return done(SyncError(E::kInconsistentGroupProtocol));
  }
  Member& m = g->members.at(r.member_id);
  switch (g->state) {
    case GroupState::kEmpty: return done(SyncError(E::kUnknownMemberId));
    case GroupState::kPreparingRebalance: return done(SyncError(E::kRebalanceInProgress));
    case GroupState::kDead: return done(SyncError(E::kCoordinatorNotAvailable));
    case GroupState::kStable: {
      g->pending_sync.erase(r.member_id);
      m.last_heartbeat_ms = clock_->SteadyMs();
      SyncResult result;
      result.protocol_type = g->protocol_type;
      result.protocol_name = g->protocol_name;
      result.assignment = m.assignment;
      return done(result);
    }
    case GroupState::kCompletingRebalance: break;
  }
  m.awaiting_sync = std::move(done);
  m.last_heartbeat_ms = clock_->SteadyMs();
  g->pending_sync.erase(r.member_id);
  if (!g->IsLeader(r.member_id)) return;
  // The leader's assignment: persist it, then everyone gets theirs (members it left out get an
  // empty one).
  std::map<std::string, std::string> assignment;
  for (const auto& [id, member] : g->members) {
    auto it = r.assignments.find(id);
    assignment[id] = it == r.assignments.end() ? "" : it->second;
  }
  for (auto& [id, member] : g->members) member.assignment = assignment[id];
  const int32_t generation = g->generation;
  std::weak_ptr<Group> weak = g;
  StoreGroup(g, [this, weak, generation](KafkaErrorCode e) {
    auto g = weak.lock();
    if (!g || g->state != GroupState::kCompletingRebalance || g->generation != generation) return;
    if (e != E::kNone) {
      PropagateAssignmentError(*g, WriteErrorFor(e, /*commit=*/false));
      PrepareRebalance(g, "storing the assignment failed");
      return;
    }
    SetState(*g, GroupState::kStable);
    for (auto& [id, member] : g->members) {
      if (!member.awaiting_sync) continue;
      SyncResult result;
      result.protocol_type = g->protocol_type;
      result.protocol_name = g->protocol_name;
      result.assignment = member.assignment;
      std::exchange(member.awaiting_sync, nullptr)(result);
    }
    Emit(*g, "stable");
  });
}

KafkaErrorCode GroupCoordinator::Heartbeat(const HeartbeatRequest& r) {
  if (r.group_id.empty()) return E::kInvalidGroupId;
  switch (AccessFor(r.group_id)) {
    case Access::kNotCoordinator: return E::kNotCoordinator;
    case Access::kLoading: return E::kNone;  // old clients do not expect 14 here
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(r.group_id);
  if (!g) return E::kUnknownMemberId;
  if (g->state == GroupState::kDead) return E::kCoordinatorNotAvailable;
  if (g->IsStaticMemberFenced(r.group_instance_id, r.member_id)) return E::kFencedInstanceId;
  if (!g->Has(r.member_id)) return E::kUnknownMemberId;
  if (r.generation != g->generation) return E::kIllegalGeneration;
  Member& m = g->members.at(r.member_id);
  switch (g->state) {
    case GroupState::kEmpty: return E::kUnknownMemberId;
    case GroupState::kPreparingRebalance:
      m.last_heartbeat_ms = clock_->SteadyMs();
      return E::kRebalanceInProgress;
    case GroupState::kCompletingRebalance:
    case GroupState::kStable:
      m.last_heartbeat_ms = clock_->SteadyMs();
      return E::kNone;
    case GroupState::kDead: break;
  }
  return E::kCoordinatorNotAvailable;
}

LeaveResult GroupCoordinator::Leave(const std::string& group_id, const std::vector<LeaveMember>& members) {
  LeaveResult result;
  if (group_id.empty()) {
    result.error = E::kInvalidGroupId;
    return result;
  }
  switch (AccessFor(group_id)) {
    case Access::kNotCoordinator: result.error = E::kNotCoordinator; return result;
    case Access::kLoading: result.error = E::kCoordinatorLoadInProgress; return result;
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(group_id);
  if (!g) {
    for (const LeaveMember& m : members) result.members.push_back({m, E::kUnknownMemberId});
    return result;
  }
  if (g->state == GroupState::kDead) {
    result.error = E::kCoordinatorNotAvailable;
    return result;
  }
  for (const LeaveMember& lm : members) {
    std::string id = lm.member_id;
    E error = E::kNone;
    if (id.empty() && lm.group_instance_id) {
      // An admin removing a static member by its instance id.
      auto it = g->static_members.find(*lm.group_instance_id);
      if (it == g->static_members.end()) error = E::kUnknownMemberId;
      else id = it->second;
    } else if (g->IsStaticMemberFenced(lm.group_instance_id, id)) {
      error = E::kFencedInstanceId;
    } else if (g->pending_members.erase(id)) {
      MaybeCompleteJoin(g);
      result.members.push_back({lm, E::kNone});
      continue;
    } else if (!g->Has(id)) {
      error = E::kUnknownMemberId;
    }
    if (error == E::kNone) RemoveMember(g, id, absl::StrCat("member ", id, " left the group"));
    result.members.push_back({lm, error});
  }
  return result;
}

// ---- timers -------------------------------------------------------------------------------------

int64_t GroupCoordinator::NextDeadline() const {
  int64_t next = INT64_MAX;
  for (const auto& [id, g] : groups_) {
    if (g->state == GroupState::kPreparingRebalance) next = std::min(next, g->join_deadline_ms);
    if (!g->pending_sync.empty() && (g->state == GroupState::kCompletingRebalance ||
                                     g->state == GroupState::kStable)) {
      next = std::min(next, g->pending_sync_deadline_ms);
    }
    for (const auto& [pid, deadline] : g->pending_members) next = std::min(next, deadline);
    for (const auto& [mid, m] : g->members) {
      if (m.awaiting_join) {
        if (m.is_new) next = std::min(next, m.join_started_ms + config_.new_member_join_timeout_ms);
      } else if (!m.awaiting_sync) {
        next = std::min(next, m.last_heartbeat_ms + m.session_timeout_ms);
      }
    }
  }
  return next;
}

void GroupCoordinator::Tick() {
  const int64_t now = clock_->SteadyMs();
  std::vector<std::shared_ptr<Group>> groups;
  for (const auto& [id, g] : groups_) groups.push_back(g);
  for (const auto& g : groups) {
    if (g->state != GroupState::kDead) TickGroup(g, now);
  }
}

void GroupCoordinator::TickGroup(const std::shared_ptr<Group>& g, int64_t now) {
  for (auto it = g->pending_members.begin(); it != g->pending_members.end();) {
    it = it->second <= now ? g->pending_members.erase(it) : std::next(it);
  }
  std::vector<std::pair<std::string, std::string>> expired;  // member, reason
  for (const auto& [id, m] : g->members) {
    if (m.awaiting_join) {
      if (m.is_new && now >= m.join_started_ms + config_.new_member_join_timeout_ms) {
        expired.push_back({id, "its first JoinGroup was not answered within 5 minutes"});
      }
    } else if (!m.awaiting_sync && now >= m.last_heartbeat_ms + m.session_timeout_ms) {
      expired.push_back({id, absl::StrCat("no heartbeat within its session timeout (",
                                          m.session_timeout_ms, " ms)")});
    }
  }
  for (const auto& [id, reason] : expired) {
    if (g->Has(id)) RemoveMember(g, id, absl::StrCat("member ", id, " removed: ", reason));
  }
  if (g->state == GroupState::kPreparingRebalance) {
    if (now >= g->join_deadline_ms) {
      if (g->initial_delay && g->new_member_added && g->initial_delay_remaining_ms > 0) {
        const int64_t delay = std::min<int64_t>(config_.initial_rebalance_delay_ms,
                                                g->initial_delay_remaining_ms);
        g->initial_delay_remaining_ms -= delay;
        g->new_member_added = false;
        g->join_deadline_ms = now + delay;
      } else {
        CompleteJoin(g);
      }
    } else {
      MaybeCompleteJoin(g);
    }
  }
  if ((g->state == GroupState::kCompletingRebalance || g->state == GroupState::kStable) &&
      !g->pending_sync.empty() && now >= g->pending_sync_deadline_ms) {
    std::vector<std::string> late(g->pending_sync.begin(), g->pending_sync.end());
    g->pending_sync.clear();
    for (const std::string& id : late) {
      if (g->Has(id)) RemoveMember(g, id, absl::StrCat("member ", id, " sent no SyncGroup in time"));
    }
  }
}

// ---- persistence --------------------------------------------------------------------------------

void GroupCoordinator::StoreGroup(const std::shared_ptr<Group>& g, std::function<void(KafkaErrorCode)> done) {
  std::vector<OffsetsStore::Record> records;
  records.push_back({EncodeGroupKey(g->id()), EncodeGroupValue(g->ToRecord())});
  store_->Append(PartitionFor(g->id()), std::move(records), std::move(done));
}

}  // namespace gregor::group
