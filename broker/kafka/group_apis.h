// The Kafka group APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete. Each
// decodes its request, asks the group coordinator (through GroupHost) and encodes the answer
// for the request's version. JoinGroup, SyncGroup, OffsetCommit, DeleteGroups and OffsetDelete
// answer later (a rebalance, a replicated write): every handler reports through `done`, which
// may run on any thread, exactly once.
//
// FindCoordinator creates __consumer_offsets on first use (offsets.topic.* configs) and answers
// COORDINATOR_NOT_AVAILABLE until the group's partition has a leader.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "broker/broker_config.h"
#include "broker/controller_link.h"
#include "broker/group_host.h"
#include "broker/kafka/kafka_apis.h"
#include "common/kafka/api.h"

namespace gregor::broker {

class GroupApis {
 public:
  GroupApis(const BrokerConfig& config, GroupHost* host, ControllerLink* link);

  static bool Handles(kafka::ApiKey key);
  using Done = std::function<void(KafkaApis::Outcome)>;
  // `client_host`: the client's address as Kafka shows it ("/127.0.0.1").
  void Handle(const kafka::RequestHeader& header, const std::string& client_host, Done done);

  // Where the creation of __consumer_offsets runs (a controller round trip); unset: inline.
  void SetBackgroundRunner(KafkaApis::BackgroundRunner run) { background_ = std::move(run); }

 private:
  void FindCoordinator(const kafka::RequestHeader& h, const Done& done);
  void JoinGroup(const kafka::RequestHeader& h, const std::string& client_host, const Done& done);
  void SyncGroup(const kafka::RequestHeader& h, const Done& done);
  void Heartbeat(const kafka::RequestHeader& h, const Done& done);
  void LeaveGroup(const kafka::RequestHeader& h, const Done& done);
  void OffsetCommit(const kafka::RequestHeader& h, const Done& done);
  void OffsetFetch(const kafka::RequestHeader& h, const Done& done);
  void ListGroups(const kafka::RequestHeader& h, const Done& done);
  void DescribeGroups(const kafka::RequestHeader& h, const Done& done);
  void DeleteGroups(const kafka::RequestHeader& h, const Done& done);
  void OffsetDelete(const kafka::RequestHeader& h, const Done& done);
  // Asks the controller, once at a time, to create __consumer_offsets.
  void StartCreatingOffsetsTopic();

  const BrokerConfig config_;
  GroupHost* const host_;
  ControllerLink* const link_;
  KafkaApis::BackgroundRunner background_;
  std::atomic<bool> creating_{false};
};

}  // namespace gregor::broker
