#include "controller/quorum/quorum_driver.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/logging.h"
#include "common/status.h"
#include "controller/quorum/raft_proto.h"
#include "proto/quorum.grpc.pb.h"

namespace gregor::quorum {

struct QuorumDriver::Peer {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<Quorum::Stub> stub;
  std::atomic<size_t> inflight{0};
};

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<QuorumDriver>> QuorumDriver::Create(QuorumOptions options,
                                                                   StateMachine* state_machine) {
  if (!options.voters.count(options.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("node ", options.id, " is not among the quorum voters"));
  }
  if (options.tick_ms <= 0 || options.election_timeout_ms < 2 * options.tick_ms ||
      options.heartbeat_interval_ms < options.tick_ms) {
    return absl::InvalidArgumentError(
        "quorum timing: need tick > 0, election timeout >= 2 ticks, heartbeat >= 1 tick");
  }
  ASSIGN_OR_RETURN(auto storage, RaftStorage::Open(options.data_dir));
  if (storage->restored().snapshot.last_index > 0) {
    RETURN_IF_ERROR(state_machine->RestoreSnapshot(storage->restored().snapshot));
  }
  return std::unique_ptr<QuorumDriver>(
      new QuorumDriver(std::move(options), state_machine, std::move(storage)));
}

QuorumDriver::QuorumDriver(QuorumOptions options, StateMachine* state_machine,
                           std::unique_ptr<RaftStorage> storage)
    : options_(std::move(options)), state_machine_(state_machine), storage_(std::move(storage)) {
  RaftConfig config;
  config.id = options_.id;
  for (const auto& [id, address] : options_.voters) config.voters.push_back(id);
  config.election_ticks = options_.election_timeout_ms / options_.tick_ms;
  config.heartbeat_ticks = options_.heartbeat_interval_ms / options_.tick_ms;
  config.seed = options_.seed != 0 ? options_.seed
                                   : static_cast<uint64_t>(NowMs()) * 1000003u + options_.id;
  node_ = std::make_unique<RaftNode>(config, storage_->restored());
  applied_ = storage_->restored().snapshot.last_index;

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(512 << 20);
  args.SetMaxSendMessageSize(512 << 20);
  // Reconnect quickly after a peer restarts: failover time depends on it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  for (const auto& [id, address] : options_.voters) {
    if (id == options_.id) continue;
    auto peer = std::make_shared<Peer>();
    peer->channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    peer->stub = Quorum::NewStub(peer->channel);
    peers_[id] = std::move(peer);
  }
}

QuorumDriver::~QuorumDriver() { Stop(); }

void QuorumDriver::Start() { thread_ = std::thread([this] { Run(); }); }

void QuorumDriver::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  waiter_.Notify();
  if (thread_.joinable()) thread_.join();
}

void QuorumDriver::Receive(Message message) {
  {
    absl::MutexLock lock(&mu_);
    if (inbox_.size() >= 10000) return;  // overloaded: drop, Raft retries
    inbox_.push_back(std::move(message));
  }
  waiter_.Notify();
}

void QuorumDriver::Propose(std::string data, ProposalDone done) {
  {
    absl::MutexLock lock(&mu_);
    proposals_.emplace_back(std::move(data), std::move(done));
  }
  waiter_.Notify();
}

QuorumDriver::Status QuorumDriver::GetStatus() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

void QuorumDriver::Run() {
  auto log = Logger("quorum");
  int64_t next_tick = NowMs() + options_.tick_ms;
  while (true) {
    std::deque<Message> inbox;
    std::deque<std::pair<std::string, ProposalDone>> proposals;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] { return stopping_ || !inbox_.empty() || !proposals_.empty(); };
      int64_t wait_ms = std::max<int64_t>(0, next_tick - NowMs());
      waiter_.WaitFor(mu_, absl::Milliseconds(wait_ms), ready);
      if (stopping_) break;
      inbox.swap(inbox_);
      proposals.swap(proposals_);
    }
    int64_t now = NowMs();
    if (now >= next_tick) {
      node_->Tick();
      next_tick += options_.tick_ms;
      if (next_tick < now) next_tick = now + options_.tick_ms;  // we fell behind; don't burst
    }
    for (const Message& m : inbox) node_->Step(m);
    for (auto& [data, done] : proposals) {
      auto index = node_->Propose(std::move(data));
      if (!index.ok()) {
        done(index.status());
      } else {
        pending_[*index] = {node_->term(), std::move(done)};
      }
    }
    // Role changes are announced before the Ready is handled: a single-node quorum commits its
    // new term's no-op in the same Ready, and the state machine must know it leads by then.
    NoticeRoleChange();
    while (node_->HasReady()) HandleReady(node_->TakeReady());
    NoticeRoleChange();
    Role role = node_->role();
    absl::MutexLock lock(&mu_);
    status_ = {role, node_->term(), node_->leader_id(), node_->commit_index(), applied_};
  }
  FailPending(absl::UnavailableError("the controller is shutting down"));
  absl::MutexLock lock(&mu_);
  for (auto& [data, done] : proposals_) done(absl::UnavailableError("the controller is shutting down"));
  proposals_.clear();
}

void QuorumDriver::NoticeRoleChange() {
  Role role = node_->role();
  if (role == last_role_ && node_->leader_id() == last_leader_ && node_->term() == last_term_) return;
  if (last_role_ == Role::kLeader && role != Role::kLeader) {
    FailPending(absl::UnavailableError("this controller lost its leadership"));
  }
  if (node_->leader_id() != last_leader_ || role != last_role_) {
    Logger("quorum")->info("quorum node {}: {} at term {}, leader {}", options_.id, RoleName(role),
                           node_->term(), node_->leader_id());
  }
  last_role_ = role;
  last_leader_ = node_->leader_id();
  last_term_ = node_->term();
  state_machine_->OnLeaderChange(role, last_term_, last_leader_);
}

void QuorumDriver::HandleReady(Ready ready) {
  absl::Status persisted = storage_->Persist(ready);
  // Without durable state Raft's promises are void: stop rather than answer.
  GREGOR_CHECK_MSG(persisted.ok(), "cannot persist quorum state: ", persisted.ToString());
  for (const Message& m : ready.messages) SendMessage(m);
  if (ready.snapshot_to_apply) {
    absl::Status restored = state_machine_->RestoreSnapshot(*ready.snapshot_to_apply);
    GREGOR_CHECK_MSG(restored.ok(), "cannot restore snapshot: ", restored.ToString());
    applied_ = ready.snapshot_to_apply->last_index;
    bytes_since_snapshot_ = 0;
  }
  for (const Entry& entry : ready.committed) {
    state_machine_->Apply(entry);
    applied_ = entry.index;
    bytes_since_snapshot_ += static_cast<int64_t>(entry.data.size());
    // Proposals at or below this index are decided now.
    while (!pending_.empty() && pending_.begin()->first <= entry.index) {
      auto [index, pending] = std::move(*pending_.begin());
      pending_.erase(pending_.begin());
      if (index == entry.index && pending.term == entry.term) {
        pending.done(index);
      } else {
        pending.done(absl::AbortedError("the proposal was overwritten by another leader"));
      }
    }
  }
  if (bytes_since_snapshot_ >= options_.snapshot_after_bytes && applied_ > node_->snapshot().last_index) {
    auto term = node_->TermAt(applied_);
    if (term) {
      Snapshot snapshot{applied_, *term, state_machine_->TakeSnapshot()};
      absl::Status saved = storage_->SaveSnapshotAndCompact(snapshot);
      GREGOR_CHECK_MSG(saved.ok(), "cannot save snapshot: ", saved.ToString());
      node_->CompactTo(std::move(snapshot));
      bytes_since_snapshot_ = 0;
      Logger("quorum")->info("took a metadata snapshot at offset {}", applied_);
    }
  }
}

void QuorumDriver::SendMessage(const Message& message) {
  auto it = peers_.find(message.to);
  if (it == peers_.end()) return;
  std::shared_ptr<Peer> peer = it->second;
  if (peer->inflight.load() >= options_.max_inflight_per_peer) return;  // Raft will retry
  peer->inflight++;
  struct Call {
    grpc::ClientContext context;
    RaftMessage request;
    SendAck response;
  };
  auto* call = new Call;
  call->request = ToProto(message);
  int timeout_ms = message.type == MessageType::kInstallSnapshot ? 30000 : 2000;
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  peer->stub->async()->Send(&call->context, &call->request, &call->response,
                            [call, peer](grpc::Status) {
                              peer->inflight--;
                              delete call;
                            });
}

void QuorumDriver::FailPending(const absl::Status& status) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [index, p] : pending) p.done(status);
}

}  // namespace gregor::quorum
