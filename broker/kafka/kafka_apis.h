// The broker's Kafka request handlers: decode a request body, act on the replica manager, the
// metadata image or the controller, and encode the response body.
//
// Handlers are synchronous and may block briefly (disk appends, a controller round trip); the
// server runs them off its network threads. Fetch and acks=all Produce may have to wait for a
// partition to change; they are split into a first pass (Begin*), a check (*Satisfied) that the
// server re-runs when a waited-on partition changes, and the final encoding (Finish*).
//
// Thread-safety: all methods are thread-safe (state lives in the replica manager and link).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/broker_config.h"
#include "broker/controller_link.h"
#include "broker/kafka/fetch_sessions.h"
#include "broker/kafka/outcome.h"
#include "broker/kafka/producer_ids.h"
#include "common/kafka/api.h"
#include "common/kafka/messages.h"
#include "broker/peer_liveness.h"
#include "broker/replica_manager.h"
#include "common/clock.h"

namespace gregor::broker {

class KafkaApis {
 public:
  KafkaApis(const BrokerConfig& config, ReplicaManager* replicas, ControllerLink* link,
            PeerLiveness* peers, Clock* clock);

  using Outcome = KafkaOutcome;

  // ApiVersions, Metadata, ListOffsets, CreateTopics, DeleteTopics (and unknown or unsupported
  // requests, which close the connection).
  Outcome HandleSimple(const kafka::RequestHeader& header);
  // Metadata; with `may_hold`, an answer that would name a leader this broker just lost its
  // connection to is not given: wait_for_metadata instead.
  Outcome HandleMetadata(const kafka::RequestHeader& header, bool may_hold);

  // ---- Produce ------------------------------------------------------------------------------
  struct ProduceState {
    kafka::ProduceRequest request;
    kafka::ProduceResponse response;
    struct Pending {  // an acks=all append waiting for the high watermark
      size_t topic = 0, partition = 0;
      storage::TopicPartition tp;
      int64_t required_offset = 0;  // HW must reach this
      int32_t leader_epoch = 0;     // the epoch it was appended in
    };
    std::vector<Pending> pending;
    std::vector<storage::TopicPartition> touched;
    int32_t timeout_ms = 0;
    int16_t version = 3;
  };
  // Appends every partition's batches. nullopt body in Outcome for acks=0 is decided in Finish.
  absl::StatusOr<ProduceState> BeginProduce(const kafka::RequestHeader& header);
  bool ProduceSatisfied(ProduceState& state);
  Outcome FinishProduce(ProduceState& state, bool timed_out);

  // ---- Fetch ----------------------------------------------------------------------------------
  // Fetch v4-11. v7+ may use an incremental fetch session (fetch_sessions.h): the partitions
  // read are then the session's, and the answer carries only those with news.
  struct FetchState {
    int16_t version = 4;
    kafka::FetchRequest request;
    FetchSessionCache::Context session;  // what to read, in answer order
    std::vector<kafka::FetchResponsePartition> results;  // one per session.reads
    size_t bytes = 0;
    bool has_error = false;
    std::vector<storage::TopicPartition> partitions;  // to wait on
  };
  absl::StatusOr<FetchState> ReadFetch(const kafka::RequestHeader& header);
  // Re-reads the partitions of a waiting fetch.
  void RereadFetch(FetchState& state);
  bool FetchSatisfied(const FetchState& state) const;
  Outcome FinishFetch(FetchState& state);
  const FetchSessionCache& fetch_sessions() const { return fetch_sessions_; }

  // ---- DeleteRecords (kafka_admin.cc) ---------------------------------------------------------
  struct DeleteRecordsState {
    int16_t version = 0;
    kafka::DeleteRecordsRequest request;
    kafka::DeleteRecordsResponse response;
    struct Pending {  // a partition whose in-sync replicas have not all moved yet
      size_t topic = 0, partition = 0;
      storage::TopicPartition tp;
      int64_t target = 0;
    };
    std::vector<Pending> pending;
    std::vector<storage::TopicPartition> partitions;  // to wait on
  };
  absl::StatusOr<DeleteRecordsState> BeginDeleteRecords(const kafka::RequestHeader& header);
  bool DeleteRecordsSatisfied(DeleteRecordsState& state);
  Outcome FinishDeleteRecords(DeleteRecordsState& state, bool timed_out);

  ReplicaManager* replicas() { return replicas_; }

  // Where controller round trips that no client waits for (topic auto-creation) run, so a slow
  // or lost controller never holds a request thread. Set once, before serving; unset, they
  // run inline.
  using BackgroundRunner = std::function<void(std::function<void()>)>;
  void SetBackgroundRunner(BackgroundRunner run) { background_ = std::move(run); }

 private:
  Outcome HandleApiVersions(const kafka::RequestHeader& header);
  Outcome HandleListOffsets(const kafka::RequestHeader& header);
  Outcome HandleOffsetForLeaderEpoch(const kafka::RequestHeader& header);
  Outcome HandleCreateTopics(const kafka::RequestHeader& header);
  Outcome HandleDeleteTopics(const kafka::RequestHeader& header);
  // kafka_admin.cc
  Outcome HandleDescribeConfigs(const kafka::RequestHeader& header);
  Outcome HandleAlterConfigs(const kafka::RequestHeader& header);
  Outcome HandleIncrementalAlterConfigs(const kafka::RequestHeader& header);
  Outcome HandleCreatePartitions(const kafka::RequestHeader& header);
  Outcome HandleDescribeCluster(const kafka::RequestHeader& header);
  Outcome HandleDescribeLogDirs(const kafka::RequestHeader& header);
  Outcome HandleElectLeaders(const kafka::RequestHeader& header);
  // kafka_producers.cc
  Outcome HandleInitProducerId(const kafka::RequestHeader& header);
  Outcome HandleDescribeProducers(const kafka::RequestHeader& header);
  // A block of producer ids from the controller (producer_ids.h).
  absl::StatusOr<std::pair<int64_t, int32_t>> AllocateProducerIdBlock();
  // Makes `wanted` the topic's overrides (what it lacks goes back to the default), through the
  // controller.
  absl::Status AlterTopicConfigs(const std::string& topic,
                                 const std::map<std::string, std::string>& wanted,
                                 bool validate_only);
  // A config change of one resource (AlterConfigs, IncrementalAlterConfigs): for a topic,
  // `wanted` turns its current overrides into the new set; brokers have no dynamic configs.
  using WantedConfigs = std::function<absl::StatusOr<std::map<std::string, std::string>>(
      const std::map<std::string, std::string>&)>;
  absl::Status AlterResourceConfigs(int8_t type, const std::string& name,
                                    const std::vector<std::string>& keys, bool validate_only,
                                    const WantedConfigs& wanted);
  absl::Duration ControllerTimeout(int32_t timeout_ms) const;

  // The brokers clients may use (unfenced), or this broker alone while the image lists none.
  struct LiveBroker {
    int32_t node_id = -1;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
  };
  std::vector<LiveBroker> LiveBrokers() const;
  std::string ClusterId() const;

  // Metadata v8+ / DescribeCluster: the operations a client may perform, as a bit field of
  // Kafka's AclOperation codes. Gregor has no authorizer, so every operation a resource type
  // supports is allowed (as Kafka answers without an authorizer). Topics: READ 3, WRITE 4,
  // CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11. Cluster:
  // CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
  // IDEMPOTENT_WRITE 12.
  static constexpr int32_t kTopicOperations = 0b1101'1111'1000;
  static constexpr int32_t kClusterOperations = 0b1'1111'1010'0000;
  void FillFetch(FetchState& state);
  // KIP-392: the replica a consumer should read `read` from instead of this leader, if any.
  std::optional<int32_t> PreferredReplica(const FetchState& state, const Partition& partition,
                                          const FetchSessionRead& read,
                                          const metadata::MetadataImage& image) const;
  // Logs, once per partition and client rack, that this follower serves consumers.
  void NoteFollowerRead(const FetchSessionKey& key, const std::string& client_rack);
  // The error for a partition this broker does not host: NOT_LEADER_OR_FOLLOWER if it exists.
  KafkaErrorCode NotHostedError(const std::string& topic, int32_t partition) const;
  // Asks the controller, in the background, to create `topics` with broker defaults
  // (auto-creation); names already being created are skipped.
  void StartAutoCreate(const std::vector<std::string>& topics);
  void AutoCreateTopics(const std::vector<std::string>& topics);

  const BrokerConfig config_;
  ReplicaManager* const replicas_;
  ControllerLink* const link_;
  PeerLiveness* const peers_;
  Clock* const clock_;
  BackgroundRunner background_;
  FetchSessionCache fetch_sessions_;
  ProducerIdManager producer_ids_;
  absl::Mutex follower_reads_mu_;
  std::set<std::string> follower_reads_ ABSL_GUARDED_BY(follower_reads_mu_);
  absl::Mutex auto_create_mu_;
  std::set<std::string> auto_creating_ ABSL_GUARDED_BY(auto_create_mu_);
};

}  // namespace gregor::broker
