// The shell around RaftNode: one thread that ticks the node, feeds it received messages and
// proposals, and carries out each Ready in Raft's order — persist (RaftStorage, fsync), send
// (gRPC Quorum.Send to peers, fire and forget), apply (the StateMachine), then complete the
// proposals whose entries were applied. It also takes snapshots when the log grows.
//
// Threads: Start() spawns the driver thread; Receive()/Propose() may be called from any thread
// (gRPC reactors) and only enqueue. StateMachine callbacks and proposal completions run on the
// driver thread and must not block on anything the driver thread would have to do.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/steady_waiter.h"
#include "controller/quorum/raft.h"
#include "controller/quorum/raft_storage.h"

namespace grpc {
class Channel;
}

namespace gregor::quorum {

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Replace the whole state with a snapshot's (at start-up and when the leader sends one).
  virtual absl::Status RestoreSnapshot(const Snapshot& snapshot) = 0;
  // Apply one committed entry (no-ops included, with empty data), in index order.
  virtual void Apply(const Entry& entry) = 0;
  // Serialize the state as of the last applied entry.
  virtual std::string TakeSnapshot() = 0;
  // Role or leader changes (for the active-controller switch).
  virtual void OnLeaderChange(Role role, int64_t term, NodeId leader) = 0;
};

struct QuorumOptions {
  NodeId id = 0;
  std::map<NodeId, std::string> voters;  // id -> host:port, includes id
  std::string data_dir;
  int tick_ms = 50;
  int election_timeout_ms = 500;   // randomized in [t, 2t)
  int heartbeat_interval_ms = 50;
  int64_t snapshot_after_bytes = 20 << 20;  // metadata.log.max.record.bytes.between.snapshots
  size_t max_inflight_per_peer = 256;       // messages beyond this are dropped (Raft retries)
  uint64_t seed = 0;
};

class QuorumDriver {
 public:
  // Opens the storage and restores the state machine from the snapshot.
  static absl::StatusOr<std::unique_ptr<QuorumDriver>> Create(QuorumOptions options,
                                                              StateMachine* state_machine);
  ~QuorumDriver();

  void Start();
  void Stop();

  // A message from a peer (the Quorum gRPC service calls this).
  void Receive(Message message);

  using ProposalDone = std::function<void(absl::StatusOr<int64_t> index)>;
  // Appends `data` if this node leads; `done` runs on the driver thread with the entry's index
  // once it is committed and applied, or with an error (not the leader, leadership lost, the
  // entry was overwritten).
  void Propose(std::string data, ProposalDone done);

  struct Status {
    Role role = Role::kFollower;
    int64_t term = 0;
    NodeId leader = kNoNode;
    int64_t commit = 0;
    int64_t applied = 0;
  };
  Status GetStatus() const;
  const QuorumOptions& options() const { return options_; }

 private:
  QuorumDriver(QuorumOptions options, StateMachine* state_machine,
               std::unique_ptr<RaftStorage> storage);
  void Run();
  void HandleReady(Ready ready);
  void NoticeRoleChange();
  void SendMessage(const Message& message);
  void FailPending(const absl::Status& status);

  struct Pending {
    int64_t term;
    ProposalDone done;
  };
  struct Peer;

  const QuorumOptions options_;
  StateMachine* const state_machine_;
  std::unique_ptr<RaftStorage> storage_;
  std::unique_ptr<RaftNode> node_;  // driver thread only
  // shared: in-flight RPC callbacks keep their peer alive after the driver is gone.
  std::map<NodeId, std::shared_ptr<Peer>> peers_;
  std::map<int64_t, Pending> pending_;  // by entry index; driver thread only
  int64_t applied_ = 0;                 // driver thread only
  int64_t bytes_since_snapshot_ = 0;    // driver thread only
  Role last_role_ = Role::kFollower;
  NodeId last_leader_ = kNoNode;
  int64_t last_term_ = 0;

  mutable absl::Mutex mu_;
  std::deque<Message> inbox_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<std::string, ProposalDone>> proposals_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SteadyWaiter waiter_;  // stopping_, inbox_, proposals_
  Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace gregor::quorum
