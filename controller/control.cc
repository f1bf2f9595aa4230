#include "controller/control.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/check.h"
#include "common/metadata/topic_configs.h"
#include "common/metadata/topic_names.h"
#include "controller/partition_change.h"

namespace gregor::controller {

using metadata::BrokerRegistration;
using metadata::kNoLeader;
using metadata::MetadataImage;
using metadata::MetadataRecord;
using metadata::PartitionState;
using metadata::ValidateTopicName;

namespace {

void SetError(Error* error, KafkaErrorCode code, const std::string& message) {
  *error = MakeError(code, message);
}

std::function<bool(int32_t)> UsableIn(const MetadataImage& image) {
  return [&image](int32_t id) {
    const BrokerRegistration* b = image.FindBroker(id);
    return b != nullptr && b->usable();
  };
}

// A predicate that treats `excluded` as unusable on top of the image's view.
std::function<bool(int32_t)> UsableExcept(const MetadataImage& image, int32_t excluded) {
  return [&image, excluded](int32_t id) {
    if (id == excluded) return false;
    const BrokerRegistration* b = image.FindBroker(id);
    return b != nullptr && b->usable();
  };
}

// For every partition where `broker` is the leader or in the ISR: remove it from the ISR (never
// emptying it) and elect a new leader where it led. With `keep_sole_leader`, a partition whose
// ISR is only `broker` keeps it as leader (controlled shutdown cannot move it); counts those.
std::vector<MetadataRecord> MoveAwayFrom(const MetadataImage& image, int32_t broker,
                                         const ControlSettings& settings, bool keep_sole_leader,
                                         int32_t* stuck_leaderships) {
  std::vector<MetadataRecord> records;
  auto usable = UsableExcept(image, broker);
  for (const auto& [name, topic] : image.topics()) {
    bool unclean = UncleanAllowed(image, name, settings);
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const PartitionState& state = topic.partitions[p];
      if (state.leader != broker && !state.InIsr(broker)) continue;
      PartitionChange change;
      change.target_isr = IsrWithout(state.isr, broker);
      change.unclean_allowed = unclean;
      std::optional<PartitionState> next;
      bool sole = change.target_isr->size() == 1 && (*change.target_isr)[0] == broker;
      if (keep_sole_leader && sole && state.leader == broker) {
        // It keeps leading until a follower catches up and the leader adds it to the ISR. Only
        // partitions with such a follower are worth waiting for (with replication factor 1,
        // or every other replica down, the partition goes offline when the broker stops anyway).
        bool follower_alive = false;
        for (int32_t r : state.replicas) follower_alive = follower_alive || (r != broker && usable(r));
        if (stuck_leaderships && follower_alive) ++*stuck_leaderships;
        continue;
      }
      next = BuildPartitionChange(state, change, usable);
      if (next) records.push_back(metadata::MakePartitionRecord(name, static_cast<int32_t>(p), *next));
    }
  }
  return records;
}

// The current registration of `broker_id` if `broker_epoch` is its epoch; else nullptr and
// `error` says why (not registered / stale epoch).
const BrokerRegistration* CurrentRegistration(const MetadataImage& image, int32_t broker_id,
                                              int64_t broker_epoch, Error* error) {
  const BrokerRegistration* broker = image.FindBroker(broker_id);
  if (broker == nullptr) {
    SetError(error, KafkaErrorCode::kBrokerIdNotRegistered,
             absl::StrCat("broker ", broker_id, " is not registered"));
    return nullptr;
  }
  if (broker->epoch != broker_epoch) {
    SetError(error, KafkaErrorCode::kStaleBrokerEpoch,
             absl::StrCat("broker ", broker_id, " epoch ", broker_epoch,
                          " is stale; the current registration has epoch ", broker->epoch));
    return nullptr;
  }
  return broker;
}

}  // namespace

Error MakeError(KafkaErrorCode code, const std::string& message) {
  Error e;
  e.set_code(static_cast<int32_t>(code));
  e.set_message(message);
  return e;
}

bool UncleanAllowed(const MetadataImage& image, const std::string& topic,
                    const ControlSettings& settings) {
  if (auto v = image.TopicConfig(topic, "unclean.leader.election.enable")) return *v == "true";
  return settings.unclean_leader_election;
}

// ---- brokers ---------------------------------------------------------------------------------

ControllerResult<RegisterBrokerResponse> RegisterBroker(const MetadataImage& image,
                                                        const RegisterBrokerRequest& request,
                                                        const ControlSettings& settings) {
  ControllerResult<RegisterBrokerResponse> result;
  auto fail = [&](KafkaErrorCode code, const std::string& message) {
    SetError(result.reply.mutable_error(), code, message);
    return result;
  };
  if (request.broker_id() < 0) {
    return fail(KafkaErrorCode::kInvalidRequest, "broker id must not be negative");
  }
  if (request.kafka_host().empty() || request.kafka_port() <= 0 || request.kafka_port() > 65535 ||
      request.replication_host().empty() || request.replication_port() <= 0 ||
      request.replication_port() > 65535) {
    return fail(KafkaErrorCode::kInvalidRequest,
                "a broker registers with a Kafka listener and a replication listener (host and "
                "port 1-65535)");
  }
  if (request.incarnation_id().empty()) {
    return fail(KafkaErrorCode::kInvalidRequest, "incarnation id must not be empty");
  }
  if (const BrokerRegistration* old = image.FindBroker(request.broker_id())) {
    // A new process with the same id: the old one is gone. Fence it properly first so its
    // leaderships move and it leaves every ISR.
    if (!old->fenced) result.records = FenceBroker(image, request.broker_id(), settings);
  }
  MetadataRecord record;
  metadata::RegisterBrokerRecord* r = record.mutable_register_broker();
  r->set_broker_id(request.broker_id());
  r->set_incarnation_id(request.incarnation_id());
  r->set_kafka_host(request.kafka_host());
  r->set_kafka_port(request.kafka_port());
  r->set_replication_host(request.replication_host());
  r->set_replication_port(request.replication_port());
  r->set_rack(request.rack());
  result.records.push_back(std::move(record));
  // broker_epoch is filled in by the caller: it is the offset at which this batch commits.
  return result;
}

ControllerResult<BrokerHeartbeatResponse> BrokerHeartbeat(const MetadataImage& image,
                                                          const BrokerHeartbeatRequest& request,
                                                          const ControlSettings& settings) {
  ControllerResult<BrokerHeartbeatResponse> result;
  const BrokerRegistration* broker = CurrentRegistration(
      image, request.broker_id(), request.broker_epoch(), result.reply.mutable_error());
  if (broker == nullptr) return result;
  bool fenced = broker->fenced;
  if (request.want_fence()) {
    if (!fenced) result.records = FenceBroker(image, request.broker_id(), settings);
    fenced = true;
  } else if (fenced && request.metadata_offset() >= broker->epoch) {
    MetadataRecord record;
    record.mutable_unfence_broker()->set_broker_id(broker->id);
    record.mutable_unfence_broker()->set_broker_epoch(broker->epoch);
    result.records.push_back(std::move(record));
    // Partitions that are offline and can be led by this broker get it as leader now.
    MetadataImage after = image;
    (void)after.ApplyRecord(image.offset(), result.records.back());
    for (auto& r : ElectOfflineLeaders(after, settings)) result.records.push_back(std::move(r));
    fenced = false;
  }
  result.reply.set_fenced(fenced);
  result.reply.set_shutting_down(broker->shutting_down && !fenced);
  return result;
}

std::vector<MetadataRecord> FenceBroker(const MetadataImage& image, int32_t broker_id,
                                        const ControlSettings& settings) {
  const BrokerRegistration* broker = image.FindBroker(broker_id);
  if (broker == nullptr || broker->fenced) return {};
  std::vector<MetadataRecord> records =
      MoveAwayFrom(image, broker_id, settings, /*keep_sole_leader=*/false, nullptr);
  MetadataRecord fence;
  fence.mutable_fence_broker()->set_broker_id(broker_id);
  fence.mutable_fence_broker()->set_broker_epoch(broker->epoch);
  records.push_back(std::move(fence));
  return records;
}

std::vector<MetadataRecord> FenceDeadBroker(const MetadataImage& image, int32_t broker_id,
                                            int64_t broker_epoch, const ControlSettings& settings) {
  const BrokerRegistration* broker = image.FindBroker(broker_id);
  if (broker == nullptr || broker->epoch != broker_epoch) return {};
  return FenceBroker(image, broker_id, settings);
}

ControllerResult<ControlledShutdownResponse> ControlledShutdown(
    const MetadataImage& image, const ControlledShutdownRequest& request,
    const ControlSettings& settings) {
  ControllerResult<ControlledShutdownResponse> result;
  const BrokerRegistration* broker = CurrentRegistration(
      image, request.broker_id(), request.broker_epoch(), result.reply.mutable_error());
  if (broker == nullptr) return result;
  if (broker->fenced) return result;  // nothing to move
  int32_t stuck = 0;
  if (!broker->shutting_down) {
    MetadataRecord record;
    record.mutable_broker_shutting_down()->set_broker_id(broker->id);
    record.mutable_broker_shutting_down()->set_broker_epoch(broker->epoch);
    result.records.push_back(std::move(record));
  }
  for (auto& r : MoveAwayFrom(image, broker->id, settings, /*keep_sole_leader=*/true, &stuck)) {
    result.records.push_back(std::move(r));
  }
  result.reply.set_remaining_leaderships(stuck);
  return result;
}

// ---- partitions ------------------------------------------------------------------------------

ControllerResult<AlterPartitionResponse> AlterPartition(const MetadataImage& image,
                                                        const AlterPartitionRequest& request) {
  ControllerResult<AlterPartitionResponse> result;
  const BrokerRegistration* sender = image.FindBroker(request.broker_id());
  if (sender == nullptr || sender->epoch != request.broker_epoch()) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kStaleBrokerEpoch,
             absl::StrCat("broker ", request.broker_id(), " epoch ", request.broker_epoch(),
                          " is not the current registration"));
    return result;
  }
  std::set<std::pair<std::string, int32_t>> seen;
  for (const PartitionIsrChange& change : request.changes()) {
    PartitionIsrResult* out = result.reply.add_results();
    out->set_topic(change.topic());
    out->set_partition(change.partition());
    const PartitionState* state = image.FindPartition(change.topic(), change.partition());
    auto reject = [&](KafkaErrorCode code, const std::string& message) {
      SetError(out->mutable_error(), code, message);
      if (state) {
        *out->mutable_state() =
            metadata::MakePartitionRecord(change.topic(), change.partition(), *state).partition();
      }
    };
    std::string name = absl::StrCat(change.topic(), "-", change.partition());
    if (state == nullptr) {
      reject(KafkaErrorCode::kUnknownTopicOrPartition, absl::StrCat("no partition ", name));
      continue;
    }
    if (!seen.insert({change.topic(), change.partition()}).second) {
      reject(KafkaErrorCode::kInvalidRequest, absl::StrCat(name, " appears twice in the request"));
      continue;
    }
    if (change.leader_epoch() != state->leader_epoch) {
      reject(change.leader_epoch() < state->leader_epoch ? KafkaErrorCode::kFencedLeaderEpoch
                                                         : KafkaErrorCode::kUnknownLeaderEpoch,
             absl::StrCat(name, ": leader epoch ", change.leader_epoch(), " but the current is ",
                          state->leader_epoch));
      continue;
    }
    if (state->leader != request.broker_id()) {
      reject(KafkaErrorCode::kNotLeaderOrFollower,
             absl::StrCat(name, ": broker ", request.broker_id(), " is not the leader (",
                          state->leader, " is)"));
      continue;
    }
    if (change.partition_epoch() != state->partition_epoch) {
      reject(KafkaErrorCode::kInvalidUpdateVersion,
             absl::StrCat(name, ": partition epoch ", change.partition_epoch(),
                          " but the current is ", state->partition_epoch));
      continue;
    }
    std::vector<int32_t> isr(change.new_isr().begin(), change.new_isr().end());
    std::set<int32_t> unique(isr.begin(), isr.end());
    if (isr.empty() || unique.size() != isr.size() || !unique.count(state->leader)) {
      reject(KafkaErrorCode::kInvalidRequest,
             absl::StrCat(name, ": the ISR must be non-empty, without duplicates, and contain the "
                          "leader; got [", absl::StrJoin(isr, ","), "]"));
      continue;
    }
    bool ok = true;
    for (int32_t b : isr) {
      if (!state->IsReplica(b)) {
        reject(KafkaErrorCode::kInvalidRequest,
               absl::StrCat(name, ": broker ", b, " is not a replica"));
        ok = false;
        break;
      }
      // Only brokers joining the ISR must be usable: a shutting-down sole leader must still be
      // able to add a caught-up follower so its leadership can move.
      if (state->InIsr(b)) continue;
      const BrokerRegistration* broker = image.FindBroker(b);
      if (broker == nullptr || !broker->usable()) {
        reject(KafkaErrorCode::kIneligibleReplica,
               absl::StrCat(name, ": broker ", b, " is fenced or shutting down"));
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    PartitionChange pc;
    pc.target_isr = isr;
    // The leader stays unless it is shutting down and a usable in-sync replica can take over
    // now (the way a shutting-down sole leader hands its partition over).
    auto next = BuildPartitionChange(*state, pc, UsableIn(image));
    PartitionState now = next ? *next : *state;
    GREGOR_CHECK(now.leader == state->leader || !UsableIn(image)(state->leader));
    if (next) result.records.push_back(metadata::MakePartitionRecord(change.topic(), change.partition(), *next));
    *out->mutable_state() =
        metadata::MakePartitionRecord(change.topic(), change.partition(), now).partition();
  }
  return result;
}

std::vector<MetadataRecord> PreferredLeaderElection(const MetadataImage& image,
                                                    const ControlSettings& settings,
                                                    const std::function<bool(int32_t)>& may_lead) {
  // Per preferred broker: how many partitions prefer it, and which of those it does not lead
  // though it could.
  std::map<int32_t, int> preferred_count;
  std::map<int32_t, int> not_led;  // partitions whose preferred replica does not lead them
  std::map<int32_t, std::vector<std::pair<std::string, int32_t>>> movable;
  auto usable = UsableIn(image);
  for (const auto& [name, topic] : image.topics()) {
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const PartitionState& s = topic.partitions[p];
      if (s.replicas.empty()) continue;
      int32_t preferred = s.replicas[0];
      preferred_count[preferred]++;
      if (s.leader != preferred) not_led[preferred]++;
      if (s.leader != preferred && s.InIsr(preferred) && usable(preferred) &&
          (!may_lead || may_lead(preferred))) {
        movable[preferred].emplace_back(name, static_cast<int32_t>(p));
      }
    }
  }
  std::vector<MetadataRecord> records;
  for (const auto& [broker, partitions] : movable) {
    int total = preferred_count[broker];
    // Kafka: rebalance when (not-led preferred) / (all preferred) > threshold %, counting every
    // partition the broker does not lead, then move those that can move now.
    if (total == 0 || static_cast<int64_t>(not_led[broker]) * 100 <=
                          static_cast<int64_t>(total) * settings.leader_imbalance_per_broker_percentage) {
      continue;
    }
    for (const auto& [name, p] : partitions) {
      PartitionChange change;
      change.election = Election::kPreferred;
      auto next = BuildPartitionChange(*image.FindPartition(name, p), change, usable);
      if (next) records.push_back(metadata::MakePartitionRecord(name, p, *next));
    }
  }
  return records;
}

std::vector<MetadataRecord> ElectOfflineLeaders(const MetadataImage& image,
                                                const ControlSettings& settings) {
  std::vector<MetadataRecord> records;
  auto usable = UsableIn(image);
  for (const auto& [name, topic] : image.topics()) {
    bool unclean = UncleanAllowed(image, name, settings);
    for (size_t p = 0; p < topic.partitions.size(); ++p) {
      const PartitionState& s = topic.partitions[p];
      if (s.leader != kNoLeader) continue;
      PartitionChange change;
      change.unclean_allowed = unclean;
      auto next = BuildPartitionChange(s, change, usable);
      if (next && next->leader != kNoLeader) {
        records.push_back(metadata::MakePartitionRecord(name, static_cast<int32_t>(p), *next));
      }
    }
  }
  return records;
}

// ---- topics ----------------------------------------------------------------------------------

ControllerResult<CreateTopicsResponse> CreateTopics(const MetadataImage& image,
                                                    const CreateTopicsRequest& request,
                                                    const ControlSettings& settings,
                                                    std::mt19937_64* rng) {
  ControllerResult<CreateTopicsResponse> result;
  std::vector<int32_t> usable = image.UsableBrokers();
  MetadataImage working = image;  // sees the topics created earlier in this request
  std::map<std::string, int> name_count;
  for (const TopicSpec& spec : request.topics()) name_count[spec.name()]++;
  // All the topics of one request are committed as one batch: bound its size as a whole.
  int64_t partitions_in_request = 0;
  for (const TopicSpec& spec : request.topics()) {
    TopicResult* out = result.reply.add_results();
    out->set_name(spec.name());
    auto fail = [&](KafkaErrorCode code, const std::string& message) {
      SetError(out->mutable_error(), code, message);
    };
    if (name_count[spec.name()] > 1) {
      // As Kafka: every entry of a duplicated name fails, none is created.
      fail(KafkaErrorCode::kInvalidRequest,
           absl::StrCat("topic '", spec.name(), "' is named more than once in the request"));
      continue;
    }
    if (auto s = ValidateTopicName(working, spec.name()); !s.ok()) {
      fail(KafkaErrorCode::kInvalidTopicException, std::string(s.message()));
      continue;
    }
    if (working.FindTopic(spec.name())) {
      fail(KafkaErrorCode::kTopicAlreadyExists, absl::StrCat("topic '", spec.name(), "' already exists"));
      continue;
    }
    bool config_ok = true;
    for (const auto& [key, value] : spec.configs()) {
      if (auto s = metadata::ValidateTopicConfig(key, value); !s.ok()) {
        fail(KafkaErrorCode::kInvalidConfig, std::string(s.message()));
        config_ok = false;
        break;
      }
    }
    if (!config_ok) continue;

    std::vector<std::vector<int32_t>> assignment;
    if (spec.assignments_size() > 0) {
      if (spec.partitions() > 0 || spec.replication_factor() > 0) {
        fail(KafkaErrorCode::kInvalidRequest,
             "give either a replica assignment or partitions and replication factor, not both");
        continue;
      }
      std::map<int32_t, std::vector<int32_t>> by_partition;
      bool ok = true;
      for (const ReplicaAssignment& a : spec.assignments()) {
        std::vector<int32_t> replicas(a.replicas().begin(), a.replicas().end());
        std::set<int32_t> unique(replicas.begin(), replicas.end());
        if (replicas.empty() || unique.size() != replicas.size() || by_partition.count(a.partition())) {
          ok = false;
          break;
        }
        for (int32_t b : replicas) ok = ok && image.FindBroker(b) != nullptr;
        by_partition[a.partition()] = replicas;
      }
      size_t rf = by_partition.empty() ? 0 : by_partition.begin()->second.size();
      for (const auto& [p, replicas] : by_partition) ok = ok && replicas.size() == rf;
      if (ok && (by_partition.begin()->first != 0 ||
                 by_partition.rbegin()->first != static_cast<int32_t>(by_partition.size()) - 1)) {
        ok = false;
      }
      if (!ok) {
        fail(KafkaErrorCode::kInvalidReplicaAssignment,
             "the replica assignment must cover partitions 0..n-1, each with the same number of "
             "distinct, registered brokers");
        continue;
      }
      for (auto& [p, replicas] : by_partition) {
        bool any_usable = false;
        for (int32_t b : replicas) any_usable = any_usable || image.FindBroker(b)->usable();
        if (!any_usable) {
          ok = false;
          break;
        }
        assignment.push_back(replicas);
      }
      if (!ok) {
        fail(KafkaErrorCode::kInvalidReplicaAssignment,
             "every partition needs at least one live (unfenced) broker among its replicas");
        continue;
      }
    } else {
      int32_t partitions = spec.partitions() == -1 ? settings.default_partitions : spec.partitions();
      int32_t rf = spec.replication_factor() == -1 ? settings.default_replication_factor
                                                   : spec.replication_factor();
      if (partitions <= 0) {
        fail(KafkaErrorCode::kInvalidPartitions,
             absl::StrCat("number of partitions must be positive, got ", partitions));
        continue;
      }
      if (partitions > settings.max_partitions_per_request) {
        fail(KafkaErrorCode::kInvalidPartitions,
             absl::StrCat("at most ", settings.max_partitions_per_request,
                          " partitions per request, got ", partitions));
        continue;
      }
      if (rf <= 0) {
        fail(KafkaErrorCode::kInvalidReplicationFactor,
             absl::StrCat("replication factor must be positive, got ", rf));
        continue;
      }
      if (rf > static_cast<int32_t>(usable.size())) {
        fail(KafkaErrorCode::kInvalidReplicationFactor,
             absl::StrCat("unable to replicate the partition ", rf,
                          " time(s): the target replication factor of ", rf,
                          " cannot be reached because only ", usable.size(),
                          " broker(s) are registered and alive"));
        continue;
      }
      assignment = PlaceReplicas(usable, 0, partitions, rf,
                                 static_cast<uint64_t>(working.PartitionCount()) +
                                     static_cast<uint64_t>(working.topics().size()) * 7,
                                 RacksOf(working));
    }
    if (partitions_in_request + static_cast<int64_t>(assignment.size()) >
        settings.max_partitions_per_request) {
      fail(KafkaErrorCode::kInvalidPartitions,
           absl::StrCat("at most ", settings.max_partitions_per_request,
                        " partitions per request in all; this topic would make ",
                        partitions_in_request + static_cast<int64_t>(assignment.size())));
      continue;
    }
    partitions_in_request += static_cast<int64_t>(assignment.size());
    out->set_partitions(static_cast<int32_t>(assignment.size()));
    out->set_replication_factor(static_cast<int32_t>(assignment[0].size()));
    if (request.validate_only()) {
      // Later entries of this request must see the name (collisions, duplicates).
      MetadataRecord placeholder;
      placeholder.mutable_topic()->set_name(spec.name());
      (void)working.ApplyRecord(working.offset(), placeholder);
      continue;
    }

    std::string topic_id(16, '\0');
    for (char& c : topic_id) c = static_cast<char>((*rng)() & 0xff);
    out->set_topic_id(topic_id);
    std::vector<MetadataRecord> records;
    MetadataRecord topic;
    topic.mutable_topic()->set_name(spec.name());
    topic.mutable_topic()->set_topic_id(topic_id);
    records.push_back(std::move(topic));
    auto usable_now = UsableIn(image);
    for (size_t p = 0; p < assignment.size(); ++p) {
      PartitionState state;
      state.replicas = assignment[p];
      for (int32_t r : state.replicas) {
        if (usable_now(r)) state.isr.push_back(r);
      }

      state.leader = kNoLeader;
      for (int32_t r : state.replicas) {
        if (usable_now(r)) {
          state.leader = r;
          break;
        }
      }
      records.push_back(metadata::MakePartitionRecord(spec.name(), static_cast<int32_t>(p), state));
    }
    for (const auto& [key, value] : spec.configs()) {
      MetadataRecord config;
      config.mutable_config()->set_topic(spec.name());
      config.mutable_config()->set_name(key);
      config.mutable_config()->set_value(value);
      records.push_back(std::move(config));
    }
    for (MetadataRecord& r : records) {
      (void)working.ApplyRecord(working.offset(), r);
      result.records.push_back(std::move(r));
    }
  }
  return result;
}

ControllerResult<DeleteTopicsResponse> DeleteTopics(const MetadataImage& image,
                                                    const DeleteTopicsRequest& request) {
  ControllerResult<DeleteTopicsResponse> result;
  std::set<std::string> done;
  for (const std::string& name : request.names()) {
    TopicResult* out = result.reply.add_results();
    out->set_name(name);
    const metadata::TopicState* topic = image.FindTopic(name);
    if (topic == nullptr) {
      SetError(out->mutable_error(), KafkaErrorCode::kUnknownTopicOrPartition,
               absl::StrCat("topic '", name, "' does not exist"));
      continue;
    }
    if (!done.insert(name).second) continue;
    out->set_topic_id(topic->topic_id);
    MetadataRecord record;
    record.mutable_remove_topic()->set_name(name);
    record.mutable_remove_topic()->set_topic_id(topic->topic_id);
    result.records.push_back(std::move(record));
  }
  return result;
}

ControllerResult<CreatePartitionsResponse> CreatePartitions(const MetadataImage& image,
                                                            const CreatePartitionsRequest& request) {
  ControllerResult<CreatePartitionsResponse> result;
  const metadata::TopicState* topic = image.FindTopic(request.topic());
  if (topic == nullptr) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kUnknownTopicOrPartition,
             absl::StrCat("topic '", request.topic(), "' does not exist"));
    return result;
  }
  int32_t current = static_cast<int32_t>(topic->partitions.size());
  if (request.total_count() <= current) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidPartitions,
             absl::StrCat("topic '", request.topic(), "' has ", current,
                          " partitions; the new count must be larger, got ", request.total_count()));
    return result;
  }
  if (request.total_count() - current > 100000) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidPartitions,
             "at most 100000 partitions can be added at once");
    return result;
  }
  int32_t rf = topic->partitions.empty() ? 1 : static_cast<int32_t>(topic->partitions[0].replicas.size());
  std::vector<int32_t> usable = image.UsableBrokers();
  std::vector<std::vector<int32_t>> placement;
  if (request.assignments_size() > 0) {
    if (request.assignments_size() != request.total_count() - current) {
      SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidReplicaAssignment,
               absl::StrCat("the assignment names ", request.assignments_size(),
                            " partition(s), but ", request.total_count() - current, " are added"));
      return result;
    }
    for (const ReplicaAssignment& a : request.assignments()) {
      std::vector<int32_t> replicas(a.replicas().begin(), a.replicas().end());
      std::set<int32_t> unique(replicas.begin(), replicas.end());
      bool ok = static_cast<int32_t>(replicas.size()) == rf && unique.size() == replicas.size();
      bool any_usable = false;
      for (int32_t b : replicas) {
        const metadata::BrokerRegistration* broker = image.FindBroker(b);
        ok = ok && broker != nullptr;
        any_usable = any_usable || (broker != nullptr && broker->usable());
      }
      if (!ok || !any_usable) {
        SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidReplicaAssignment,
                 absl::StrCat("each new partition needs ", rf,
                              " distinct registered brokers (the topic's replication factor), "
                              "at least one of them live"));
        return result;
      }
      placement.push_back(std::move(replicas));
    }
  } else if (rf > static_cast<int32_t>(usable.size())) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidReplicationFactor,
             absl::StrCat("the topic's replication factor ", rf, " exceeds the ", usable.size(),
                          " live broker(s)"));
    return result;
  } else {
    placement = PlaceReplicas(usable, current, request.total_count() - current, rf,
                              static_cast<uint64_t>(image.PartitionCount()), RacksOf(image));
  }
  if (request.validate_only()) return result;
  for (size_t i = 0; i < placement.size(); ++i) {
    PartitionState state;
    state.replicas = placement[i];
    // Replicas on fenced brokers join the ISR when they catch up; the leader is a live one.
    for (int32_t b : placement[i]) {
      if (image.FindBroker(b)->usable()) state.isr.push_back(b);
    }
    state.leader = state.isr.front();
    result.records.push_back(metadata::MakePartitionRecord(
        request.topic(), current + static_cast<int32_t>(i), state));
  }
  return result;
}

ControllerResult<AlterConfigsResponse> AlterConfigs(const MetadataImage& image,
                                                    const AlterConfigsRequest& request,
                                                    const ControlSettings& settings) {
  ControllerResult<AlterConfigsResponse> result;
  if (image.FindTopic(request.topic()) == nullptr) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kUnknownTopicOrPartition,
             absl::StrCat("topic '", request.topic(), "' does not exist"));
    return result;
  }
  std::vector<MetadataRecord> records;
  for (const auto& [key, value] : request.set()) {
    if (auto s = metadata::ValidateTopicConfig(key, value); !s.ok()) {
      SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidConfig, std::string(s.message()));
      return result;
    }
    MetadataRecord r;
    r.mutable_config()->set_topic(request.topic());
    r.mutable_config()->set_name(key);
    r.mutable_config()->set_value(value);
    records.push_back(std::move(r));
  }
  for (const std::string& key : request.remove()) {
    if (auto s = metadata::ValidateTopicConfig(key, "0"); !s.ok() && absl::StrContains(s.message(), "unknown")) {
      SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidConfig, std::string(s.message()));
      return result;
    }
    MetadataRecord r;
    r.mutable_config()->set_topic(request.topic());
    r.mutable_config()->set_name(key);
    records.push_back(std::move(r));
  }
  if (request.validate_only()) return result;
  // Enabling unclean election takes effect at once for offline partitions of the topic.
  MetadataImage after = image;
  for (const MetadataRecord& r : records) (void)after.ApplyRecord(image.offset(), r);
  for (MetadataRecord& r : ElectOfflineLeaders(after, settings)) {
    if (r.partition().topic() == request.topic()) records.push_back(std::move(r));
  }
  result.records = std::move(records);
  return result;
}

ControllerResult<ElectLeadersResponse> ElectLeaders(const MetadataImage& image,
                                                    const ElectLeadersRequest& request) {
  ControllerResult<ElectLeadersResponse> result;
  const bool preferred = request.election_type() == 0;
  if (request.election_type() != 0 && request.election_type() != 1) {
    SetError(result.reply.mutable_error(), KafkaErrorCode::kInvalidRequest,
             absl::StrCat("unknown election type ", request.election_type()));
    return result;
  }
  std::vector<std::pair<std::string, int32_t>> partitions;
  if (request.all()) {
    for (const auto& [name, topic] : image.topics()) {
      for (size_t p = 0; p < topic.partitions.size(); ++p) {
        partitions.emplace_back(name, static_cast<int32_t>(p));
      }
    }
  } else {
    for (const PartitionRef& ref : request.partitions()) partitions.emplace_back(ref.topic(), ref.partition());
  }
  auto usable = [&image](int32_t b) {
    const metadata::BrokerRegistration* broker = image.FindBroker(b);
    return broker != nullptr && broker->usable();
  };
  std::set<std::pair<std::string, int32_t>> done;
  for (const auto& [topic, partition] : partitions) {
    if (!done.insert({topic, partition}).second) continue;
    KafkaErrorCode error = KafkaErrorCode::kNone;
    std::string message;
    const PartitionState* state = image.FindPartition(topic, partition);
    if (state == nullptr) {
      error = KafkaErrorCode::kUnknownTopicOrPartition;
      message = absl::StrCat(topic, "-", partition, " does not exist");
    } else if (preferred) {
      const int32_t wanted = state->replicas.empty() ? kNoLeader : state->replicas.front();
      if (state->leader == wanted) {
        error = KafkaErrorCode::kElectionNotNeeded;
        message = absl::StrCat("broker ", wanted, ", the preferred replica, leads already");
      } else if (!state->InIsr(wanted) || !usable(wanted)) {
        error = KafkaErrorCode::kPreferredLeaderNotAvailable;
        message = absl::StrCat("the preferred replica, broker ", wanted, ", is not a live in-sync replica");
      } else if (auto next = BuildPartitionChange(*state, {std::nullopt, Election::kPreferred, false}, usable)) {
        result.records.push_back(metadata::MakePartitionRecord(topic, partition, *next));
      }
    } else {
      if (state->leader != kNoLeader) {
        error = KafkaErrorCode::kElectionNotNeeded;
        message = absl::StrCat("broker ", state->leader, " leads");
      } else {
        auto next = BuildPartitionChange(*state, {std::nullopt, Election::kKeepOrAny, true}, usable);
        if (!next || next->leader == kNoLeader) {
          error = KafkaErrorCode::kEligibleLeadersNotAvailable;
          message = "no replica of the partition is on a live broker";
        } else {
          result.records.push_back(metadata::MakePartitionRecord(topic, partition, *next));
        }
      }
    }
    if (request.all() && error == KafkaErrorCode::kElectionNotNeeded) continue;
    PartitionElectionResult* r = result.reply.add_results();
    r->set_topic(topic);
    r->set_partition(partition);
    if (error != KafkaErrorCode::kNone) SetError(r->mutable_error(), error, message);
  }
  return result;
}

}  // namespace gregor::controller
