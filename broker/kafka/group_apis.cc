#include "broker/kafka/group_apis.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "broker/group/group_hash.h"
#include "common/logging.h"

namespace gregor::broker {

using kafka::ApiKey;
using E = KafkaErrorCode;

namespace {

// Decodes the request or answers `done` with a connection close (as Kafka does on a request it
// cannot parse). Returns nullopt when it closed.
template <typename Decode>
auto DecodeOr(const kafka::RequestHeader& h, Decode decode, const GroupApis::Done& done)
    -> std::optional<typename decltype(decode(h.body, h.api_version))::value_type> {
  auto request = decode(h.body, h.api_version);
  if (!request.ok()) {
    done(CloseConnection(std::string(request.status().message())));
    return std::nullopt;
  }
  return std::move(*request);
}

}  // namespace

GroupApis::GroupApis(const BrokerConfig& config, GroupHost* host, ControllerLink* link)
    : config_(config), host_(host), link_(link) {}

bool GroupApis::Handles(ApiKey key) {
  switch (key) {
    case ApiKey::kFindCoordinator:
    case ApiKey::kJoinGroup:
    case ApiKey::kSyncGroup:
    case ApiKey::kHeartbeat:
    case ApiKey::kLeaveGroup:
    case ApiKey::kOffsetCommit:
    case ApiKey::kOffsetFetch:
    case ApiKey::kListGroups:
    case ApiKey::kDescribeGroups:
    case ApiKey::kDeleteGroups:
    case ApiKey::kOffsetDelete:
      return true;
    default:
      return false;
  }
}

void GroupApis::Handle(const kafka::RequestHeader& h, const std::string& client_host, Done done) {
  switch (h.api_key) {
    case ApiKey::kFindCoordinator: return FindCoordinator(h, done);
    case ApiKey::kJoinGroup: return JoinGroup(h, client_host, done);
    case ApiKey::kSyncGroup: return SyncGroup(h, done);
    case ApiKey::kHeartbeat: return Heartbeat(h, done);
    case ApiKey::kLeaveGroup: return LeaveGroup(h, done);
    case ApiKey::kOffsetCommit: return OffsetCommit(h, done);
    case ApiKey::kOffsetFetch: return OffsetFetch(h, done);
    case ApiKey::kListGroups: return ListGroups(h, done);
    case ApiKey::kDescribeGroups: return DescribeGroups(h, done);
    case ApiKey::kDeleteGroups: return DeleteGroups(h, done);
    case ApiKey::kOffsetDelete: return OffsetDelete(h, done);
    default: return done(CloseConnection(absl::StrCat("not a group request: ", kafka::ApiKeyName(h.api_key))));
  }
}

// ---- FindCoordinator ----------------------------------------------------------------------------

void GroupApis::FindCoordinator(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeFindCoordinatorRequest, done);
  if (!request) return;
  kafka::FindCoordinatorResponse response;
  auto fail = [&](E error, std::string message) {
    response.error_code = error;
    response.error_message = std::move(message);
    response.node_id = -1;
    response.host = "";
    response.port = -1;
    done(EncodeOrClose(response, h.api_version, kafka::EncodeFindCoordinatorResponse));
  };
  if (request->key_type == 1) {
    // Gregor has no transactions. The one error every client treats as fatal here (librdkafka
    // retries any other until init_transactions times out): the producer fails at once, and
    // librdkafka and the Java client show the message.
    return fail(E::kTransactionalIdAuthorizationFailed, "transactions are not supported by Gregor");
  }
  if (request->key_type != 0) {
    return fail(E::kInvalidRequest, absl::StrCat("unknown key_type ", request->key_type));
  }
  auto image = link_->image();
  const metadata::TopicState* topic = image->FindTopic(kOffsetsTopic);
  if (topic == nullptr || topic->partitions.empty()) {
    StartCreatingOffsetsTopic();
    return fail(E::kCoordinatorNotAvailable, "the offsets topic is being created");
  }
  const int32_t p = group::OffsetsPartitionFor(request->key, static_cast<int32_t>(topic->partitions.size()));
  const int32_t leader = topic->partitions[p].leader;
  const metadata::BrokerRegistration* b = image->FindBroker(leader);
  if (leader == metadata::kNoLeader || b == nullptr || b->fenced) {
    Logger("group")->warn("group {}: {}-{} has no leader; its coordinator is not available",
                          request->key, kOffsetsTopic, p);
    return fail(E::kCoordinatorNotAvailable, absl::StrCat(kOffsetsTopic, "-", p, " has no leader"));
  }
  response.node_id = leader;
  response.host = b->kafka_host;
  response.port = b->kafka_port;
  done(EncodeOrClose(response, h.api_version, kafka::EncodeFindCoordinatorResponse));
}

void GroupApis::StartCreatingOffsetsTopic() {
  if (creating_.exchange(true)) return;
  auto job = [this] {
    auto image = link_->image();
    int32_t live = 0;
    for (const auto& [id, b] : image->brokers()) live += b.fenced ? 0 : 1;
    const int32_t rf = std::max(1, std::min<int32_t>(config_.offsets_topic_replication_factor, live));
    if (rf < config_.offsets_topic_replication_factor) {
      Logger("group")->warn(
          "creating {} with replication factor {} (offsets.topic.replication.factor={}, but only {} "
          "live broker(s))",
          kOffsetsTopic, rf, config_.offsets_topic_replication_factor, live);
    }
    controller::CreateTopicsRequest request;
    auto* t = request.add_topics();
    t->set_name(kOffsetsTopic);
    t->set_partitions(config_.offsets_topic_num_partitions);
    t->set_replication_factor(rf);
    (*t->mutable_configs())["cleanup.policy"] = "compact";
    (*t->mutable_configs())["segment.bytes"] = std::to_string(config_.offsets_topic_segment_bytes);
    (*t->mutable_configs())["compression.type"] = "producer";
    auto response = link_->client().Call(&controller::Controller::Stub::CreateTopics, request,
                                         absl::Seconds(10));
    if (!response.ok()) {
      Logger("group")->warn("creating {} failed: {}", kOffsetsTopic, response.status().message());
    } else {
      for (const auto& r : response->results()) {
        if (r.error().code() == 0) {
          Logger("group")->info("created {} ({} partitions, RF {})", kOffsetsTopic, r.partitions(),
                                r.replication_factor());
        } else if (r.error().code() != static_cast<int32_t>(E::kTopicAlreadyExists)) {
          Logger("group")->warn("creating {} failed: {}", kOffsetsTopic, r.error().message());
        }
      }
    }
    creating_ = false;
  };
  if (background_) {
    background_(std::move(job));
  } else {
    job();
  }
}

// ---- membership ---------------------------------------------------------------------------------

void GroupApis::JoinGroup(const kafka::RequestHeader& h, const std::string& client_host,
                          const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeJoinGroupRequest, done);
  if (!request) return;
  group::JoinRequest r;
  r.group_id = request->group_id;
  r.member_id = request->member_id;
  r.group_instance_id = request->group_instance_id;
  r.client_id = h.client_id.value_or("");
  r.client_host = client_host;
  r.session_timeout_ms = request->session_timeout_ms;
  // v0 has no rebalance timeout: the session timeout serves (a -1 would end every rebalance at
  // once, KAFKA-8653).
  r.rebalance_timeout_ms = h.api_version == 0 || request->rebalance_timeout_ms < 0
                               ? request->session_timeout_ms
                               : request->rebalance_timeout_ms;
  r.protocol_type = request->protocol_type;
  for (const auto& p : request->protocols) r.protocols.push_back({p.name, p.metadata});
  r.require_known_member_id = h.api_version >= 4;
  const int16_t version = h.api_version;
  host_->With([&](group::GroupCoordinator& c) {
    c.Join(r, [done, version](const group::JoinResult& result) {
      kafka::JoinGroupResponse response;
      response.error_code = result.error;
      response.generation_id = result.generation;
      response.protocol_name = result.protocol_name;
      response.leader = result.leader;
      response.member_id = result.member_id;
      for (const auto& m : result.members) {
        response.members.push_back({m.member_id, m.group_instance_id, m.metadata});
      }
      done(EncodeOrClose(response, version, kafka::EncodeJoinGroupResponse));
    });
  });
}

void GroupApis::SyncGroup(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeSyncGroupRequest, done);
  if (!request) return;
  group::SyncRequest r;
  r.group_id = request->group_id;
  r.generation = request->generation_id;
  r.member_id = request->member_id;
  r.group_instance_id = request->group_instance_id;
  for (auto& a : request->assignments) r.assignments[a.member_id] = std::move(a.assignment);
  const int16_t version = h.api_version;
  host_->With([&](group::GroupCoordinator& c) {
    c.Sync(r, [done, version](const group::SyncResult& result) {
      kafka::SyncGroupResponse response;
      response.error_code = result.error;
      response.assignment = result.assignment;
      done(EncodeOrClose(response, version, kafka::EncodeSyncGroupResponse));
    });
  });
}

void GroupApis::Heartbeat(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeHeartbeatRequest, done);
  if (!request) return;
  group::HeartbeatRequest r{request->group_id, request->generation_id, request->member_id,
                            request->group_instance_id};
  kafka::HeartbeatResponse response;
  host_->With([&](group::GroupCoordinator& c) { response.error_code = c.Heartbeat(r); });
  done(EncodeOrClose(response, h.api_version, kafka::EncodeHeartbeatResponse));
}

void GroupApis::LeaveGroup(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeLeaveGroupRequest, done);
  if (!request) return;
  std::vector<group::LeaveMember> members;
  if (h.api_version < 3) {
    members.push_back({request->member_id, std::nullopt});
  } else {
    for (const auto& m : request->members) members.push_back({m.member_id, m.group_instance_id});
  }
  group::LeaveResult result;
  host_->With([&](group::GroupCoordinator& c) { result = c.Leave(request->group_id, members); });
  kafka::LeaveGroupResponse response;
  response.error_code = result.error;
  if (h.api_version < 3) {
    // One member: its error is the answer's.
    if (response.error_code == E::kNone && !result.members.empty()) {
      response.error_code = result.members.front().second;
    }
  } else {
    for (const auto& [m, error] : result.members) {
      response.members.push_back({m.member_id, m.group_instance_id, error});
    }
  }
  done(EncodeOrClose(response, h.api_version, kafka::EncodeLeaveGroupResponse));
}

// ---- offsets ------------------------------------------------------------------------------------

void GroupApis::OffsetCommit(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeOffsetCommitRequest, done);
  if (!request) return;
  group::CommitRequest r;
  r.group_id = request->group_id;
  r.generation = request->generation_id;
  r.member_id = request->member_id;
  r.group_instance_id = request->group_instance_id;
  r.retention_ms = request->retention_time_ms;
  for (const auto& t : request->topics) {
    for (const auto& p : t.partitions) {
      r.partitions.push_back({t.name, p.partition_index, p.committed_offset,
                              p.committed_leader_epoch, p.committed_metadata});
    }
  }
  // The answer has the request's shape; errors come back flat, in request order.
  std::vector<std::pair<std::string, std::vector<int32_t>>> shape;
  for (const auto& t : request->topics) {
    std::vector<int32_t> ps;
    for (const auto& p : t.partitions) ps.push_back(p.partition_index);
    shape.push_back({t.name, std::move(ps)});
  }
  const int16_t version = h.api_version;
  host_->With([&](group::GroupCoordinator& c) {
    c.CommitOffsets(r, [done, version, shape](const std::vector<E>& errors) {
      kafka::OffsetCommitResponse response;
      size_t i = 0;
      for (const auto& [name, partitions] : shape) {
        kafka::OffsetCommitResponseTopic topic;
        topic.name = name;
        for (int32_t p : partitions) {
          topic.partitions.push_back({p, i < errors.size() ? errors[i] : E::kUnknownServerError});
          ++i;
        }
        response.topics.push_back(std::move(topic));
      }
      done(EncodeOrClose(response, version, kafka::EncodeOffsetCommitResponse));
    });
  });
}

void GroupApis::OffsetFetch(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeOffsetFetchRequest, done);
  if (!request) return;
  std::optional<std::vector<group::TopicPartitionKey>> wanted;
  if (request->topics) {
    wanted.emplace();
    for (const auto& t : *request->topics) {
      for (int32_t p : t.partition_indexes) wanted->push_back({t.name, p});
    }
  }
  group::FetchOffsetsResult result;
  host_->With([&](group::GroupCoordinator& c) { result = c.FetchOffsets(request->group_id, wanted); });
  kafka::OffsetFetchResponse response;
  if (result.error != E::kNone) {
    if (h.api_version >= 2) {
      response.error_code = result.error;
    } else if (wanted) {
      // v1 has no group-level error: every partition carries it, offset -1.
      for (const auto& tp : *wanted) result.offsets.push_back({tp.topic, tp.partition, -1, -1, "", result.error});
    }
  }
  std::map<std::string, size_t> index;
  for (const group::FetchedOffset& f : result.offsets) {
    auto [it, fresh] = index.emplace(f.topic, response.topics.size());
    if (fresh) response.topics.push_back({f.topic, {}});
    kafka::OffsetFetchResponsePartition p;
    p.partition_index = f.partition;
    p.committed_offset = f.offset;
    p.metadata = f.metadata;
    p.error_code = f.error;
    response.topics[it->second].partitions.push_back(std::move(p));
  }
  done(EncodeOrClose(response, h.api_version, kafka::EncodeOffsetFetchResponse));
}

// ---- admin --------------------------------------------------------------------------------------

void GroupApis::ListGroups(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeListGroupsRequest, done);
  if (!request) return;
  std::vector<group::GroupListing> groups;
  kafka::ListGroupsResponse response;
  host_->With([&](group::GroupCoordinator& c) { response.error_code = c.ListGroups(&groups); });
  for (const auto& g : groups) response.groups.push_back({g.group_id, g.protocol_type});
  done(EncodeOrClose(response, h.api_version, kafka::EncodeListGroupsResponse));
}

void GroupApis::DescribeGroups(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeDescribeGroupsRequest, done);
  if (!request) return;
  std::vector<group::GroupDescription> described;
  host_->With([&](group::GroupCoordinator& c) {
    for (const std::string& id : request->groups) described.push_back(c.Describe(id));
  });
  kafka::DescribeGroupsResponse response;
  for (const auto& d : described) {
    kafka::DescribedGroup g;
    g.error_code = d.error;
    g.group_id = d.group_id;
    g.group_state = group::GroupStateName(d.state);
    g.protocol_type = d.protocol_type;
    g.protocol_data = d.protocol;
    for (const auto& m : d.members) {
      g.members.push_back({m.member_id, m.group_instance_id, m.client_id, m.client_host, m.metadata,
                           m.assignment});
    }
    response.groups.push_back(std::move(g));
  }
  done(EncodeOrClose(response, h.api_version, kafka::EncodeDescribeGroupsResponse));
}

void GroupApis::DeleteGroups(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeDeleteGroupsRequest, done);
  if (!request) return;
  const int16_t version = h.api_version;
  std::vector<std::string> ids = request->groups_names;
  host_->With([&](group::GroupCoordinator& c) {
    c.DeleteGroups(ids, [done, version, ids](const std::vector<E>& errors) {
      kafka::DeleteGroupsResponse response;
      for (size_t i = 0; i < ids.size(); ++i) response.results.push_back({ids[i], errors[i]});
      done(EncodeOrClose(response, version, kafka::EncodeDeleteGroupsResponse));
    });
  });
}

void GroupApis::OffsetDelete(const kafka::RequestHeader& h, const Done& done) {
  auto request = DecodeOr(h, kafka::DecodeOffsetDeleteRequest, done);
  if (!request) return;
  std::vector<group::TopicPartitionKey> partitions;
  std::vector<std::pair<std::string, std::vector<int32_t>>> shape;
  for (const auto& t : request->topics) {
    std::vector<int32_t> ps;
    for (const auto& p : t.partitions) {
      partitions.push_back({t.name, p.partition_index});
      ps.push_back(p.partition_index);
    }
    shape.push_back({t.name, std::move(ps)});
  }
  const int16_t version = h.api_version;
  host_->With([&](group::GroupCoordinator& c) {
    c.DeleteOffsets(request->group_id, partitions,
                    [done, version, shape](E error, const std::vector<E>& errors) {
                      kafka::OffsetDeleteResponse response;
                      response.error_code = error;
                      size_t i = 0;
                      if (error == E::kNone) {
                        for (const auto& [name, ps] : shape) {
                          kafka::OffsetDeleteResponseTopic topic;
                          topic.name = name;
                          for (int32_t p : ps) {
                            topic.partitions.push_back({p, i < errors.size() ? errors[i] : E::kNone});
                            ++i;
                          }
                          response.topics.push_back(std::move(topic));
                        }
                      }
                      done(EncodeOrClose(response, version, kafka::EncodeOffsetDeleteResponse));
                    });
  });
}

}  // namespace gregor::broker
