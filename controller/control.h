// The controller's decisions, as pure functions of (metadata image, request, now):
// each returns the metadata records to commit and the reply to send once they are committed
// (Kafka's `ControllerResult`). No I/O, no clock reads, no randomness except the injected PRNG.
//
// Decisions covered: broker registration, heartbeats (unfence / fence on request), fencing on
// session expiry, controlled shutdown, AlterPartition (ISR compare-and-swap), topic creation and
// deletion with placement, partition addition, topic configs, preferred leader election.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/errors.h"
#include "common/metadata/metadata_image.h"
#include "controller/placement.h"
#include "proto/controller.pb.h"

namespace gregor::controller {

template <typename Reply>
struct ControllerResult {
  std::vector<metadata::MetadataRecord> records;
  Reply reply;
};

// Cluster-wide defaults and policies the decisions need (from the controller's config).
struct ControlSettings {
  int32_t default_partitions = 1;           // num.partitions
  int16_t default_replication_factor = 1;   // default.replication.factor
  bool unclean_leader_election = false;     // unclean.leader.election.enable (cluster default)
  int32_t leader_imbalance_per_broker_percentage = 10;  // leader.imbalance.per.broker.percentage
  int32_t max_partitions_per_request = 100000;
};

// ---- brokers ---------------------------------------------------------------------------------

// Registers a broker (new epoch = offset of the record). A live earlier incarnation with the
// same id is fenced in the same batch first (its leaderships move, it leaves every ISR).
ControllerResult<RegisterBrokerResponse> RegisterBroker(const metadata::MetadataImage& image,
                                                        const RegisterBrokerRequest& request,
                                                        const ControlSettings& settings);

// A heartbeat: unfences a fenced broker that has caught up with the metadata log up to its own
// registration; fences a broker that asks for it (it is stopping).
ControllerResult<BrokerHeartbeatResponse> BrokerHeartbeat(const metadata::MetadataImage& image,
                                                          const BrokerHeartbeatRequest& request,
                                                          const ControlSettings& settings);

// Fences `broker_id` (session expired or asked): removes it from every ISR and moves every
// leadership it held, then records the fence. Empty if already fenced or unknown.
std::vector<metadata::MetadataRecord> FenceBroker(const metadata::MetadataImage& image,
                                                  int32_t broker_id,
                                                  const ControlSettings& settings);

// Fences the registration `broker_epoch` of `broker_id`, whose process was found gone (its
// connection closed and its listeners refuse). Empty if that registration is no longer current
// (a new process registered meanwhile) or already fenced.
std::vector<metadata::MetadataRecord> FenceDeadBroker(const metadata::MetadataImage& image,
                                                      int32_t broker_id, int64_t broker_epoch,
                                                      const ControlSettings& settings);

// Controlled shutdown: marks the broker shutting down, moves its leaderships to other in-sync
// replicas and removes it from ISRs where it is not the last member.
ControllerResult<ControlledShutdownResponse> ControlledShutdown(
    const metadata::MetadataImage& image, const ControlledShutdownRequest& request,
    const ControlSettings& settings);

// ---- partitions ------------------------------------------------------------------------------

ControllerResult<AlterPartitionResponse> AlterPartition(const metadata::MetadataImage& image,
                                                        const AlterPartitionRequest& request);

// Moves leadership back to preferred replicas (replicas[0], when in the ISR and usable) for every
// broker whose share of non-preferred leaders exceeds the imbalance threshold.
// `may_lead` (optional) says which brokers may take preferred leaderships back now (a broker
// that just came back waits until clients can reach it again).
std::vector<metadata::MetadataRecord> PreferredLeaderElection(
    const metadata::MetadataImage& image, const ControlSettings& settings,
    const std::function<bool(int32_t)>& may_lead = nullptr);

// Elects leaders for offline partitions that can have one now (after an unfence, or when a
// topic enabled unclean election).
std::vector<metadata::MetadataRecord> ElectOfflineLeaders(const metadata::MetadataImage& image,
                                                          const ControlSettings& settings);

// ---- topics ----------------------------------------------------------------------------------

ControllerResult<CreateTopicsResponse> CreateTopics(const metadata::MetadataImage& image,
                                                    const CreateTopicsRequest& request,
                                                    const ControlSettings& settings,
                                                    std::mt19937_64* rng);

ControllerResult<DeleteTopicsResponse> DeleteTopics(const metadata::MetadataImage& image,
                                                    const DeleteTopicsRequest& request);

ControllerResult<CreatePartitionsResponse> CreatePartitions(const metadata::MetadataImage& image,
                                                            const CreatePartitionsRequest& request);

ControllerResult<AlterConfigsResponse> AlterConfigs(const metadata::MetadataImage& image,
                                                    const AlterConfigsRequest& request,
                                                    const ControlSettings& settings);

// ElectLeaders: preferred (replicas[0], if in the ISR and usable; else
// PREFERRED_LEADER_NOT_AVAILABLE) or unclean (only for a partition without a leader: any usable
// replica, whatever the topic's unclean.leader.election.enable; else
// ELIGIBLE_LEADERS_NOT_AVAILABLE). ELECTION_NOT_NEEDED when the partition already has the leader
// asked for, UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist.
ControllerResult<ElectLeadersResponse> ElectLeaders(const metadata::MetadataImage& image,
                                                    const ElectLeadersRequest& request);

// ---- helpers (exposed for tests and tools) ---------------------------------------------------

// Whether unclean leader election applies to `topic` (its config, else the cluster default).
bool UncleanAllowed(const metadata::MetadataImage& image, const std::string& topic,
                    const ControlSettings& settings);

Error MakeError(KafkaErrorCode code, const std::string& message);

}  // namespace gregor::controller
