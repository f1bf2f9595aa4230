#include "controller/quorum/raft_proto.h"

namespace gregor::quorum {

RaftMessage ToProto(const Message& m) {
  RaftMessage p;
  p.set_type(static_cast<RaftMessage::Type>(static_cast<int>(m.type)));
  p.set_from(m.from);
  p.set_to(m.to);
  p.set_term(m.term);
  p.set_last_log_index(m.last_log_index);
  p.set_last_log_term(m.last_log_term);
  p.set_granted(m.granted);
  p.set_prev_log_index(m.prev_log_index);
  p.set_prev_log_term(m.prev_log_term);
  for (const Entry& e : m.entries) {
    RaftEntry* pe = p.add_entries();
    pe->set_index(e.index);
    pe->set_term(e.term);
    pe->set_data(e.data);
  }
  p.set_commit(m.commit);
  p.set_success(m.success);
  p.set_match_index(m.match_index);
  p.set_hint_index(m.hint_index);
  if (m.type == MessageType::kInstallSnapshot) {
    p.mutable_snapshot()->set_last_index(m.snapshot.last_index);
    p.mutable_snapshot()->set_last_term(m.snapshot.last_term);
    p.mutable_snapshot()->set_data(m.snapshot.data);
  }
  return p;
}

bool FromProto(const RaftMessage& p, Message* m) {
  int type = static_cast<int>(p.type());
  if (type < 0 || type > static_cast<int>(MessageType::kInstallSnapshotResponse)) return false;
  m->type = static_cast<MessageType>(type);
  m->from = p.from();
  m->to = p.to();
  m->term = p.term();
  m->last_log_index = p.last_log_index();
  m->last_log_term = p.last_log_term();
  m->granted = p.granted();
  m->prev_log_index = p.prev_log_index();
  m->prev_log_term = p.prev_log_term();
  m->entries.clear();
  m->entries.reserve(static_cast<size_t>(p.entries_size()));
  for (const RaftEntry& e : p.entries()) m->entries.push_back({e.index(), e.term(), e.data()});
  m->commit = p.commit();
  m->success = p.success();
  m->match_index = p.match_index();
  m->hint_index = p.hint_index();
  m->snapshot = {p.snapshot().last_index(), p.snapshot().last_term(), p.snapshot().data()};
  return true;
}

}  // namespace gregor::quorum
