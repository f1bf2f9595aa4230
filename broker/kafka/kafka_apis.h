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
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "broker/broker_config.h"
#include "broker/controller_link.h"
#include "broker/kafka/outcome.h"
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
  };
  // Appends every partition's batches. nullopt body in Outcome for acks=0 is decided in Finish.
  absl::StatusOr<ProduceState> BeginProduce(const kafka::RequestHeader& header);
  bool ProduceSatisfied(ProduceState& state);
  Outcome FinishProduce(ProduceState& state, bool timed_out);

  // ---- Fetch ----------------------------------------------------------------------------------
  struct FetchState {
    kafka::FetchRequest request;
    kafka::FetchResponse response;
    size_t bytes = 0;
    bool has_error = false;
    std::vector<storage::TopicPartition> partitions;
  };
  absl::StatusOr<FetchState> ReadFetch(const kafka::RequestHeader& header);
  // Re-reads the partitions of a waiting fetch.
  void RereadFetch(FetchState& state);
  bool FetchSatisfied(const FetchState& state) const;
  Outcome FinishFetch(FetchState& state);

  ReplicaManager* replicas() { return replicas_; }

  // Where controller round trips that no client waits for (topic auto-creation) run, so a slow
  // or lost controller never holds a request thread. Set once, before serving; unset, they
  // run inline.
  using BackgroundRunner = std::function<void(std::function<void()>)>;
  void SetBackgroundRunner(BackgroundRunner run) { background_ = std::move(run); }

 private:
  Outcome HandleApiVersions(const kafka::RequestHeader& header);
  Outcome HandleListOffsets(const kafka::RequestHeader& header);
  Outcome HandleCreateTopics(const kafka::RequestHeader& header);
  Outcome HandleDeleteTopics(const kafka::RequestHeader& header);
  void FillFetch(FetchState& state);
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
  absl::Mutex auto_create_mu_;
  std::set<std::string> auto_creating_ ABSL_GUARDED_BY(auto_create_mu_);
};

}  // namespace gregor::broker
