// One consumer group as the classic group protocol sees it (Kafka's GroupMetadata /
// MemberMetadata): its state, generation, protocol, leader, members with their parked
// JoinGroup/SyncGroup answers and timers, and its committed offsets. Plain data with a few
// queries; the state machine that changes it is GroupCoordinator (group_coordinator.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/group/offsets_records.h"
#include "common/errors.h"

namespace gregor::group {

// What a failed write to __consumer_offsets is reported as (Kafka's storeGroup / storeOffsets
// mappings): a group write's timeout means "rebalance" (27), a commit's REQUEST_TIMED_OUT.
KafkaErrorCode WriteErrorFor(KafkaErrorCode written, bool commit);

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
// Kafka's names: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
const char* GroupStateName(GroupState state);

struct Protocol {
  std::string name;
  std::string metadata;
  bool operator==(const Protocol&) const = default;
};

// A JoinGroup answer (JoinGroup response fields).
struct JoinResult {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::string protocol_name;  // "" when none (never null below JoinGroup v7)
  std::string leader;
  std::string member_id;
  struct Member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string metadata;
  };
  std::vector<Member> members;  // only in the leader's answer
};
using JoinCallback = std::function<void(const JoinResult&)>;

struct SyncResult {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string assignment;
};
using SyncCallback = std::function<void(const SyncResult&)>;

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  std::vector<Protocol> protocols;  // in the member's order of preference
  std::string assignment;
  JoinCallback awaiting_join;  // a parked JoinGroup
  SyncCallback awaiting_sync;  // a parked SyncGroup
  bool is_new = false;         // joined, not yet answered: the new-member join timeout applies
  int64_t join_started_ms = 0;   // steady
  int64_t last_heartbeat_ms = 0; // steady: session expiry

  // The member's metadata for `protocol` ("" if it does not list it).
  std::string MetadataFor(const std::string& protocol) const;
};

struct TopicPartitionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartitionKey&) const = default;
};

class Group {
 public:
  explicit Group(std::string id) : id_(std::move(id)) {}
  const std::string& id() const { return id_; }

  GroupState state = GroupState::kEmpty;
  std::optional<std::string> protocol_type;  // unset: an offsets-only group
  std::optional<std::string> protocol_name;
  int32_t generation = 0;
  std::optional<std::string> leader_id;
  int64_t current_state_timestamp_ms = -1;  // wall; when the state last changed

  std::map<std::string, Member> members;                 // by member id
  std::map<std::string, std::string> static_members;     // group.instance.id -> member id
  std::map<std::string, int64_t> pending_members;        // JoinGroup v4+ ids -> expiry (steady)
  std::set<std::string> pending_sync;                    // expected to SyncGroup this generation
  int64_t pending_sync_deadline_ms = 0;                  // steady

  // PreparingRebalance: when the join completes at the latest. The first join of an Empty
  // group waits group.initial.rebalance.delay.ms, extended while members keep arriving.
  int64_t join_deadline_ms = 0;
  bool initial_delay = false;
  int64_t initial_delay_remaining_ms = 0;
  bool new_member_added = false;

  std::map<TopicPartitionKey, OffsetValue> offsets;

  bool Has(const std::string& member_id) const { return members.count(member_id) > 0; }
  bool IsLeader(const std::string& member_id) const { return leader_id == member_id; }
  bool IsConsumerGroup() const { return protocol_type == "consumer"; }
  bool AllMembersJoined() const;
  int32_t MaxRebalanceTimeoutMs() const;
  size_t NumAwaitingJoin() const;

  // Protocols every member supports, then each member votes for its first such; most votes
  // wins, ties go to the leader's order (Kafka breaks them in hash order). "" if none.
  std::string SelectProtocol() const;
  // Whether a member with these protocols may join (Kafka's supportsProtocols).
  bool SupportsProtocols(const std::string& protocol_type, const std::vector<Protocol>& protocols) const;
  // A static member whose id does not match the one its instance id maps to.
  bool IsStaticMemberFenced(const std::optional<std::string>& instance_id,
                            const std::string& member_id) const;
  // The topics the members subscribe to (consumer groups whose subscriptions parse); nullopt
  // if unknown.
  std::optional<std::set<std::string>> SubscribedTopics() const;
  // What goes to __consumer_offsets for the group as it is now.
  GroupValue ToRecord() const;

 private:
  std::string id_;
};

}  // namespace gregor::group
