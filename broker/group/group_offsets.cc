// GroupCoordinator: committed offsets, deletion, expiry and the read-only views (Kafka's
// GroupCoordinator.handleCommitOffsets/handleFetchOffsets/handleDeleteGroups/handleDeleteOffsets
// and GroupMetadataManager's expiry).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "broker/group/group_coordinator.h"

namespace gregor::group {
namespace {

using E = KafkaErrorCode;

}  // namespace

void GroupCoordinator::CommitOffsets(const CommitRequest& r, CommitCallback done) {
  const size_t n = r.partitions.size();
  auto all = [&](E e) { done(std::vector<E>(n, e)); };
  switch (AccessFor(r.group_id)) {
    case Access::kNotCoordinator: return all(E::kNotCoordinator);
    case Access::kLoading: return all(E::kCoordinatorLoadInProgress);
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(r.group_id);
  if (!g) {
    // Not relying on Kafka for group management (an admin or a simple consumer): allowed. A
    // generation for a group that does not exist is from a group long gone.
    if (r.generation >= 0) return all(E::kIllegalGeneration);
    g = GetOrCreate(r.group_id);
  }
  if (g->state == GroupState::kDead) return all(E::kCoordinatorNotAvailable);
  if (g->IsStaticMemberFenced(r.group_instance_id, r.member_id)) return all(E::kFencedInstanceId);
  if (!(r.generation < 0 && g->state == GroupState::kEmpty)) {
    if (!g->Has(r.member_id)) return all(E::kUnknownMemberId);
    if (r.generation != g->generation) return all(E::kIllegalGeneration);
    if (g->state == GroupState::kCompletingRebalance) return all(E::kRebalanceInProgress);
    g->members.at(r.member_id).last_heartbeat_ms = clock_->SteadyMs();
  }
  const int64_t now = clock_->WallMs();
  std::vector<E> errors(n, E::kNone);
  std::vector<OffsetsStore::Record> records;
  std::vector<std::pair<TopicPartitionKey, OffsetValue>> values;
  for (size_t i = 0; i < n; ++i) {
    const CommitPartition& p = r.partitions[i];
    if (!topic_exists_(p.topic, p.partition)) {
      errors[i] = E::kUnknownTopicOrPartition;
      continue;
    }
    if (p.metadata && static_cast<int64_t>(p.metadata->size()) > config_.offset_metadata_max_bytes) {
      errors[i] = E::kOffsetMetadataTooLarge;
      continue;
    }
    OffsetValue v;
    v.offset = p.offset;
    v.leader_epoch = p.leader_epoch;
    v.metadata = p.metadata.value_or("");
    v.commit_timestamp = now;
    if (r.retention_ms >= 0) v.expire_timestamp = now + r.retention_ms;
    records.push_back({EncodeOffsetKey({r.group_id, p.topic, p.partition}), EncodeOffsetValue(v)});
    values.push_back({{p.topic, p.partition}, std::move(v)});
  }
  if (records.empty()) return done(errors);
  std::weak_ptr<Group> weak = g;
  store_->Append(PartitionFor(r.group_id), std::move(records),
                 [weak, errors, values = std::move(values), done = std::move(done)](E e) mutable {
                   auto g = weak.lock();
                   if (e == E::kNone && g && g->state != GroupState::kDead) {
                     for (auto& [tp, v] : values) g->offsets[tp] = std::move(v);
                   } else if (e == E::kNone) {
                     e = E::kNotCoordinator;  // committed, but the group moved meanwhile
                   }
                   for (E& x : errors) {
                     if (x == E::kNone) x = WriteErrorFor(e, /*commit=*/true);
                   }
                   done(errors);
                 });
}

FetchOffsetsResult GroupCoordinator::FetchOffsets(
    const std::string& group_id, const std::optional<std::vector<TopicPartitionKey>>& partitions) {
  FetchOffsetsResult result;
  switch (AccessFor(group_id)) {
    case Access::kNotCoordinator: result.error = E::kNotCoordinator; return result;
    case Access::kLoading: result.error = E::kCoordinatorLoadInProgress; return result;
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(group_id);
  auto fill = [&](const TopicPartitionKey& tp) {
    FetchedOffset f;
    f.topic = tp.topic;
    f.partition = tp.partition;
    if (g) {
      auto it = g->offsets.find(tp);
      if (it != g->offsets.end()) {
        f.offset = it->second.offset;
        f.leader_epoch = it->second.leader_epoch;
        f.metadata = it->second.metadata;
      }
    }
    result.offsets.push_back(std::move(f));
  };
  if (partitions) {
    for (const TopicPartitionKey& tp : *partitions) fill(tp);
  } else if (g) {
    for (const auto& [tp, v] : g->offsets) fill(tp);
  }
  return result;
}

void GroupCoordinator::WriteTombstones(const std::string& group_id,
                                       std::vector<OffsetsStore::Record> records) {
  if (records.empty()) return;
  store_->Append(PartitionFor(group_id), std::move(records), [](E) {});
}

void GroupCoordinator::DeleteGroups(const std::vector<std::string>& group_ids,
                                    std::function<void(const std::vector<E>&)> done) {
  auto errors = std::make_shared<std::vector<E>>(group_ids.size(), E::kNone);
  auto waiting = std::make_shared<size_t>(1);
  auto finish = [errors, waiting, done = std::move(done)] {
    if (--*waiting == 0) done(*errors);
  };
  for (size_t i = 0; i < group_ids.size(); ++i) {
    const std::string& id = group_ids[i];
    switch (AccessFor(id)) {
      case Access::kNotCoordinator: (*errors)[i] = E::kNotCoordinator; continue;
      case Access::kLoading: (*errors)[i] = E::kCoordinatorLoadInProgress; continue;
      case Access::kOk: break;
    }
    std::shared_ptr<Group> g = Find(id);
    if (!g || g->state == GroupState::kDead) {
      (*errors)[i] = E::kGroupIdNotFound;
      continue;
    }
    if (g->state != GroupState::kEmpty) {
      (*errors)[i] = E::kNonEmptyGroup;
      continue;
    }
    std::vector<OffsetsStore::Record> records;
    for (const auto& [tp, v] : g->offsets) {
      records.push_back({EncodeOffsetKey({id, tp.topic, tp.partition}), std::nullopt});
    }
    records.push_back({EncodeGroupKey(id), std::nullopt});
    SetState(*g, GroupState::kDead);
    Emit(*g, "deleted");
    Forget(id);
    ++*waiting;
    store_->Append(PartitionFor(id), std::move(records), [errors, i, finish](E e) {
      if (e != E::kNone) (*errors)[i] = WriteErrorFor(e, /*commit=*/true);
      finish();
    });
  }
  finish();
}

void GroupCoordinator::DeleteOffsets(const std::string& group_id,
                                     const std::vector<TopicPartitionKey>& partitions,
                                     std::function<void(E, const std::vector<E>&)> done) {
  std::vector<E> errors(partitions.size(), E::kNone);
  switch (AccessFor(group_id)) {
    case Access::kNotCoordinator: return done(E::kNotCoordinator, {});
    case Access::kLoading: return done(E::kCoordinatorLoadInProgress, {});
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(group_id);
  if (!g || g->state == GroupState::kDead) return done(E::kGroupIdNotFound, {});
  std::optional<std::set<std::string>> subscribed;
  if (g->state != GroupState::kEmpty) {
    if (!g->IsConsumerGroup()) return done(E::kNonEmptyGroup, {});
    subscribed = g->SubscribedTopics();
    if (!subscribed) return done(E::kNonEmptyGroup, {});  // cannot tell which topics it reads
  }
  std::vector<OffsetsStore::Record> records;
  for (size_t i = 0; i < partitions.size(); ++i) {
    const TopicPartitionKey& tp = partitions[i];
    if (subscribed && subscribed->count(tp.topic)) {
      errors[i] = E::kGroupSubscribedToTopic;
      continue;
    }
    if (g->offsets.erase(tp)) {
      records.push_back({EncodeOffsetKey({group_id, tp.topic, tp.partition}), std::nullopt});
    }
  }
  if (records.empty()) return done(E::kNone, errors);
  store_->Append(PartitionFor(group_id), std::move(records),
                 [errors, done = std::move(done)](E e) mutable {
                   if (e != E::kNone) return done(WriteErrorFor(e, /*commit=*/true), {});
                   done(E::kNone, errors);
                 });
}

void GroupCoordinator::RemoveOffsetsOfDeletedTopics() {
  RemoveOffsetsIf([this](const TopicPartitionKey& tp) { return !topic_exists_(tp.topic, tp.partition); });
}

void GroupCoordinator::RemoveOffsetsOfTopics(const std::set<std::string>& topics) {
  RemoveOffsetsIf([&](const TopicPartitionKey& tp) { return topics.count(tp.topic) > 0; });
}

void GroupCoordinator::RemoveOffsetsIf(const std::function<bool(const TopicPartitionKey&)>& gone) {
  for (const auto& [id, g] : groups_) {
    std::vector<OffsetsStore::Record> records;
    for (auto it = g->offsets.begin(); it != g->offsets.end();) {
      if (!gone(it->first)) {
        ++it;
        continue;
      }
      records.push_back({EncodeOffsetKey({id, it->first.topic, it->first.partition}), std::nullopt});
      it = g->offsets.erase(it);
    }
    WriteTombstones(id, std::move(records));
  }
}

void GroupCoordinator::ExpireOffsets() {
  const int64_t now = clock_->WallMs();
  const int64_t retention = config_.offsets_retention_ms;
  std::vector<std::string> dead;
  for (const auto& [id, g] : groups_) {
    // Never while rebalancing (KAFKA-13636).
    if (g->state == GroupState::kPreparingRebalance || g->state == GroupState::kCompletingRebalance ||
        g->state == GroupState::kDead) {
      continue;
    }
    // Kafka's rules (GroupMetadata.removeExpiredOffsets): an Empty consumer group counts from
    // when it became Empty; a Stable one only expires topics it no longer subscribes to; an
    // offsets-only group counts from each commit. An explicit expire timestamp (OffsetCommit
    // v2-4 retention_time_ms) wins.
    enum class Base { kNone, kStateChange, kCommit } base = Base::kNone;
    std::set<std::string> subscribed;
    if (g->protocol_type && g->state == GroupState::kEmpty) {
      base = Base::kStateChange;
    } else if (g->IsConsumerGroup() && g->state == GroupState::kStable) {
      auto topics = g->SubscribedTopics();
      if (topics) {
        base = Base::kCommit;
        subscribed = std::move(*topics);
      }
    } else if (!g->protocol_type) {
      base = Base::kCommit;
    }
    std::vector<OffsetsStore::Record> records;
    for (auto it = g->offsets.begin(); base != Base::kNone && it != g->offsets.end();) {
      const OffsetValue& v = it->second;
      bool expire = false;
      if (subscribed.count(it->first.topic)) {
        expire = false;
      } else if (v.expire_timestamp) {
        expire = now >= *v.expire_timestamp;
      } else {
        const int64_t from = base == Base::kStateChange && g->current_state_timestamp_ms >= 0
                                 ? g->current_state_timestamp_ms
                                 : v.commit_timestamp;
        expire = now - from >= retention;
      }
      if (!expire) {
        ++it;
        continue;
      }
      records.push_back({EncodeOffsetKey({id, it->first.topic, it->first.partition}), std::nullopt});
      it = g->offsets.erase(it);
    }
    if (g->state == GroupState::kEmpty && g->offsets.empty()) {
      records.push_back({EncodeGroupKey(id), std::nullopt});
      dead.push_back(id);
    }
    WriteTombstones(id, std::move(records));
  }
  for (const std::string& id : dead) {
    auto g = Find(id);
    SetState(*g, GroupState::kDead);
    Emit(*g, "expired");
    Forget(id);
  }
}

KafkaErrorCode GroupCoordinator::ListGroups(std::vector<GroupListing>* out) const {
  for (const auto& [id, g] : groups_) {
    if (g->state == GroupState::kDead) continue;
    out->push_back({id, g->protocol_type.value_or(""), g->state});
  }
  return loading_.empty() ? E::kNone : E::kCoordinatorLoadInProgress;
}

GroupDescription GroupCoordinator::Describe(const std::string& group_id) const {
  GroupDescription d;
  d.group_id = group_id;
  switch (AccessFor(group_id)) {
    case Access::kNotCoordinator: d.error = E::kNotCoordinator; return d;
    case Access::kLoading: d.error = E::kCoordinatorLoadInProgress; return d;
    case Access::kOk: break;
  }
  std::shared_ptr<Group> g = Find(group_id);
  if (!g) return d;  // Dead, no members (Kafka 3.x)
  d.state = g->state;
  d.protocol_type = g->protocol_type.value_or("");
  const bool stable = g->state == GroupState::kStable;
  if (stable) d.protocol = g->protocol_name.value_or("");
  for (const auto& [id, m] : g->members) {
    MemberDescription md;
    md.member_id = id;
    md.group_instance_id = m.group_instance_id;
    md.client_id = m.client_id;
    md.client_host = m.client_host;
    if (stable && g->protocol_name) {
      md.metadata = m.MetadataFor(*g->protocol_name);
      md.assignment = m.assignment;
    }
    d.members.push_back(std::move(md));
  }
  return d;
}

}  // namespace gregor::group
