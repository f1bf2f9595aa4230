// The group coordinator's state machine (Kafka's classic GroupCoordinator + the offsets part of
// GroupMetadataManager), free of I/O: requests come in as calls with a callback, time from the
// injected clock, writes to __consumer_offsets go out through OffsetsStore and come back through
// its completion. Every request for a group first checks that this broker coordinates it
// (owns its offsets partition, loaded).
//
// Thread-compatible: the caller serialises all calls (one mutex), including the completions it
// delivers from OffsetsStore and Tick(). Callbacks are invoked from inside these calls and must
// not call back in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/group/group.h"
#include "broker/group/group_config.h"
#include "broker/group/group_loader.h"
#include "common/clock.h"
#include "common/errors.h"

namespace gregor::group {


// Appends to the offsets partitions (acks=all) and reports when the records are committed.
class OffsetsStore {
 public:
  struct Record {
    std::string key;
    std::optional<std::string> value;  // nullopt: a tombstone
  };
  virtual ~OffsetsStore() = default;
  // One batch to `partition`; `done` runs later, under the caller's serialisation, with NONE
  // once the batch is below the high watermark, or NOT_COORDINATOR (leadership moved),
  // REQUEST_TIMED_OUT, or another error.
  virtual void Append(int32_t partition, std::vector<Record> records,
                      std::function<void(KafkaErrorCode)> done) = 0;
};

struct JoinRequest {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;  // JoinGroup v0: pass the session timeout
  std::string protocol_type;
  std::vector<Protocol> protocols;
  bool require_known_member_id = false;  // JoinGroup v4+ (KIP-394)
};

struct SyncRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;  // SyncGroup v5+ only
  std::optional<std::string> protocol_name;
  std::map<std::string, std::string> assignments;  // from the leader
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct LeaveMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};
struct LeaveResult {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  std::vector<std::pair<LeaveMember, KafkaErrorCode>> members;
};

struct CommitPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};
struct CommitRequest {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_ms = -1;  // OffsetCommit v2-4
  std::vector<CommitPartition> partitions;
};
// Per partition, in request order.
using CommitCallback = std::function<void(const std::vector<KafkaErrorCode>&)>;

struct FetchedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::string metadata;
  KafkaErrorCode error = KafkaErrorCode::kNone;
};
struct FetchOffsetsResult {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  std::vector<FetchedOffset> offsets;
};

struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  GroupState state = GroupState::kEmpty;
};

struct MemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::string metadata;    // for the chosen protocol (Stable only)
  std::string assignment;  // Stable only
};
struct GroupDescription {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  std::string group_id;
  GroupState state = GroupState::kDead;
  std::string protocol_type;
  std::string protocol;  // Stable only
  std::vector<MemberDescription> members;
};

class GroupCoordinator {
 public:
  // `topic_exists(topic, partition)`: whether a commit names a partition that exists.
  GroupCoordinator(GroupConfig config, Clock* clock, OffsetsStore* store,
                   std::function<bool(const std::string&, int32_t)> topic_exists);
  ~GroupCoordinator();

  // ---- ownership of the offsets partitions -------------------------------------------------
  void SetPartitionCount(int32_t partitions);
  int32_t partition_count() const { return partition_count_; }
  int32_t PartitionFor(const std::string& group_id) const;
  // This broker became leader of `partition`: its groups answer COORDINATOR_LOAD_IN_PROGRESS
  // until Load.
  void BeginLoading(int32_t partition);
  // The partition's log was read: its groups are served from now on. Ignored unless loading.
  void Load(int32_t partition, LoadedPartition loaded);
  // This broker no longer leads `partition`: its groups are dropped at once; parked requests
  // get NOT_COORDINATOR.
  void Unload(int32_t partition);
  bool IsLoading(int32_t partition) const;
  bool Owns(int32_t partition) const;
  std::vector<int32_t> OwnedPartitions() const;

  // ---- membership -------------------------------------------------------------------------
  void Join(const JoinRequest& request, JoinCallback done);
  void Sync(const SyncRequest& request, SyncCallback done);
  KafkaErrorCode Heartbeat(const HeartbeatRequest& request);
  LeaveResult Leave(const std::string& group_id, const std::vector<LeaveMember>& members);

  // ---- offsets --------------------------------------------------------------------------------
  void CommitOffsets(const CommitRequest& request, CommitCallback done);
  // `partitions` nullopt: every committed partition of the group.
  FetchOffsetsResult FetchOffsets(const std::string& group_id,
                                  const std::optional<std::vector<TopicPartitionKey>>& partitions);
  // Per group, in request order.
  void DeleteGroups(const std::vector<std::string>& group_ids,
                    std::function<void(const std::vector<KafkaErrorCode>&)> done);
  // Group-level error and per-partition errors (request order).
  void DeleteOffsets(const std::string& group_id, const std::vector<TopicPartitionKey>& partitions,
                     std::function<void(KafkaErrorCode, const std::vector<KafkaErrorCode>&)> done);
  // Offsets of topics that no longer exist go (with tombstones).
  void RemoveOffsetsOfDeletedTopics();
  // Offsets of these topics go (deleted, or deleted and created again: a new topic of the same
  // name must not inherit them).
  void RemoveOffsetsOfTopics(const std::set<std::string>& topics);

  // ---- views ------------------------------------------------------------------------------------
  // Groups this broker coordinates; COORDINATOR_LOAD_IN_PROGRESS while a partition loads.
  KafkaErrorCode ListGroups(std::vector<GroupListing>* out) const;
  GroupDescription Describe(const std::string& group_id) const;

  // ---- time -------------------------------------------------------------------------------------
  // Fires what is due: session expiry, join and sync deadlines, pending member expiry.
  void Tick();
  // The next time (steady ms) Tick has something to do; INT64_MAX if nothing.
  int64_t NextDeadline() const;
  // Expires offsets past offsets.retention.ms (Kafka's removeExpiredOffsets) and drops Empty
  // groups left without offsets.
  void ExpireOffsets();

  // Group events for `gregor cluster watch` and the log: a rebalance began or completed.
  struct Event {
    std::string group_id;
    std::string what;  // "rebalancing", "stable", "empty", "loaded", "unloaded", "deleted"
    int32_t generation = 0;
    size_t members = 0;
    std::string reason;
  };
  void SetEventListener(std::function<void(const Event&)> listener) { events_ = std::move(listener); }

 private:
  enum class Access { kOk, kNotCoordinator, kLoading };
  Access AccessFor(const std::string& group_id) const;
  std::shared_ptr<Group> Find(const std::string& group_id) const;
  std::shared_ptr<Group> GetOrCreate(const std::string& group_id);
  void Forget(const std::string& group_id);

  // The state machine (group_coordinator.cc).
  void JoinUnknownMember(const std::shared_ptr<Group>& g, const JoinRequest& r, JoinCallback done);
  void JoinKnownMember(const std::shared_ptr<Group>& g, const JoinRequest& r, JoinCallback done);
  void AddMemberAndRebalance(const std::shared_ptr<Group>& g, const JoinRequest& r,
                             const std::string& member_id, JoinCallback done);
  void UpdateMemberAndRebalance(const std::shared_ptr<Group>& g, Member& m, const JoinRequest& r,
                                JoinCallback done);
  void ReplaceStaticMember(const std::shared_ptr<Group>& g, const JoinRequest& r, JoinCallback done);
  void MaybePrepareRebalance(const std::shared_ptr<Group>& g, const std::string& reason);
  void PrepareRebalance(const std::shared_ptr<Group>& g, const std::string& reason);
  void MaybeCompleteJoin(const std::shared_ptr<Group>& g);
  void CompleteJoin(const std::shared_ptr<Group>& g);
  void RemoveMember(const std::shared_ptr<Group>& g, const std::string& member_id,
                    const std::string& reason);
  void PropagateAssignmentError(Group& g, KafkaErrorCode error);
  void SetState(Group& g, GroupState state);
  JoinResult CurrentJoinResult(const Group& g, const std::string& member_id, bool with_members) const;
  void StoreGroup(const std::shared_ptr<Group>& g, std::function<void(KafkaErrorCode)> done);
  void TickGroup(const std::shared_ptr<Group>& g, int64_t now);
  void Emit(const Group& g, const std::string& what, const std::string& reason = "");

  // Offsets (group_offsets.cc).
  void RemoveOffsetsIf(const std::function<bool(const TopicPartitionKey&)>& gone);
  void WriteTombstones(const std::string& group_id, std::vector<OffsetsStore::Record> records);

  const GroupConfig config_;
  Clock* const clock_;
  OffsetsStore* const store_;
  const std::function<bool(const std::string&, int32_t)> topic_exists_;
  std::function<void(const Event&)> events_;

  int32_t partition_count_ = 50;
  std::set<int32_t> loading_;
  std::set<int32_t> owned_;
  std::map<std::string, std::shared_ptr<Group>> groups_;
  uint64_t next_member_seq_ = 0;
};

}  // namespace gregor::group
