#include "controller/quorum/raft_storage.h"

#include <filesystem>

#include "absl/base/internal/endian.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/crc32c.h"
#include "common/logging.h"
#include "common/status.h"
#include "common/strings.h"
#include "proto/quorum.pb.h"

namespace gregor::quorum {
namespace {

constexpr char kHardStateFile[] = "quorum-state";
constexpr char kLogFile[] = "raft-log";
constexpr char kSnapshotFile[] = "raft-snapshot";
constexpr size_t kRecordHeader = 8;
constexpr uint32_t kMaxRecordBytes = 256u << 20;

std::string EncodeEntry(const Entry& entry) {
  RaftEntry proto;
  proto.set_index(entry.index);
  proto.set_term(entry.term);
  proto.set_data(entry.data);
  std::string body = proto.SerializeAsString();
  std::string record(kRecordHeader, '\0');
  absl::big_endian::Store32(record.data(), static_cast<uint32_t>(body.size()));
  absl::big_endian::Store32(record.data() + 4, Crc32c(body));
  record += body;
  return record;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RaftStorage>> RaftStorage::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::unique_ptr<RaftStorage> storage(new RaftStorage(dir));
  RETURN_IF_ERROR(storage->LoadHardState());
  RETURN_IF_ERROR(storage->LoadSnapshot());
  RETURN_IF_ERROR(storage->LoadLog());
  return storage;
}

absl::Status RaftStorage::LoadHardState() {
  std::string path = absl::StrCat(dir_, "/", kHardStateFile);
  auto text = ReadWholeFile(path);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(line, ' ');
    bool ok = kv.size() == 2;
    if (ok && kv[0] == "term") ok = absl::SimpleAtoi(kv[1], &hard_state_.term);
    else if (ok && kv[0] == "voted_for") ok = absl::SimpleAtoi(kv[1], &hard_state_.voted_for);
    else if (ok && kv[0] == "commit") ok = absl::SimpleAtoi(kv[1], &hard_state_.commit);
    else ok = false;
    if (!ok) return absl::DataLossError(absl::StrCat("malformed line '", line, "' in ", path));
  }
  restored_.hard_state = hard_state_;
  return absl::OkStatus();
}

absl::Status RaftStorage::LoadSnapshot() {
  std::string path = absl::StrCat(dir_, "/", kSnapshotFile);
  auto bytes = ReadWholeFile(path);
  if (absl::IsNotFound(bytes.status())) return absl::OkStatus();
  if (!bytes.ok()) return bytes.status();
  RaftSnapshot proto;
  if (!proto.ParseFromString(*bytes)) return absl::DataLossError(absl::StrCat("corrupt snapshot ", path));
  restored_.snapshot = {proto.last_index(), proto.last_term(), proto.data()};
  return absl::OkStatus();
}

absl::Status RaftStorage::LoadLog() {
  std::string path = absl::StrCat(dir_, "/", kLogFile);
  ASSIGN_OR_RETURN(log_, File::Open(path, /*create=*/true));
  ASSIGN_OR_RETURN(int64_t size, log_->Size());
  if (size == 0) RETURN_IF_ERROR(SyncDirectory(dir_));  // a new file's directory entry
  std::string bytes(static_cast<size_t>(size), '\0');
  RETURN_IF_ERROR(log_->ReadExactly(0, bytes.size(), bytes.data()));
  int64_t position = 0;
  std::vector<Entry> entries;
  std::vector<int64_t> positions;
  std::string why;
  while (position < size) {
    if (size - position < static_cast<int64_t>(kRecordHeader)) {
      why = "partial record header";
      break;
    }
    uint32_t length = absl::big_endian::Load32(bytes.data() + position);
    uint32_t crc = absl::big_endian::Load32(bytes.data() + position + 4);
    if (length > kMaxRecordBytes || static_cast<int64_t>(length) > size - position - 8) {
      why = "record runs past the end";
      break;
    }
    std::string_view body(bytes.data() + position + kRecordHeader, length);
    RaftEntry proto;
    if (Crc32c(body) != crc || !proto.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      why = "corrupt record";
      break;
    }
    Entry entry{proto.index(), proto.term(), proto.data()};
    if (!entries.empty() && entry.index != entries.back().index + 1) {
      why = absl::StrCat("entry ", entry.index, " does not follow ", entries.back().index);
      break;
    }
    positions.push_back(position);
    entries.push_back(std::move(entry));
    position += static_cast<int64_t>(kRecordHeader + length);
  }
  if (position < size) {
    Logger("quorum")->warn("cutting raft log {} at byte {} of {}: {}", path, position, size, why);
    RETURN_IF_ERROR(log_->Truncate(position));
    RETURN_IF_ERROR(log_->Sync());
  }
  log_bytes_ = position;
  // Entries covered by the snapshot are dropped from what the node restarts with.
  const int64_t snapshot_index = restored_.snapshot.last_index;
  size_t skip = 0;
  while (skip < entries.size() && entries[skip].index <= snapshot_index) ++skip;
  if (skip < entries.size() && entries[skip].index != snapshot_index + 1) {
    return absl::DataLossError(absl::StrCat("raft log in ", dir_, " starts at entry ",
                                            entries[skip].index, " but the snapshot ends at ",
                                            snapshot_index));
  }
  first_index_ = entries.empty() ? snapshot_index + 1 : entries.front().index;
  positions_ = std::move(positions);
  restored_.entries.assign(std::make_move_iterator(entries.begin() + static_cast<ptrdiff_t>(skip)),
                           std::make_move_iterator(entries.end()));
  return absl::OkStatus();
}

absl::Status RaftStorage::WriteHardState(const HardState& state) {
  RETURN_IF_ERROR(WriteFileAtomically(
      absl::StrCat(dir_, "/", kHardStateFile),
      absl::StrCat("term ", state.term, "\nvoted_for ", state.voted_for, "\ncommit ", state.commit, "\n")));
  hard_state_ = state;
  return absl::OkStatus();
}

absl::Status RaftStorage::WriteSnapshot(const Snapshot& snapshot) {
  RaftSnapshot proto;
  proto.set_last_index(snapshot.last_index);
  proto.set_last_term(snapshot.last_term);
  proto.set_data(snapshot.data);
  return WriteFileAtomically(absl::StrCat(dir_, "/", kSnapshotFile), proto.SerializeAsString());
}

absl::Status RaftStorage::TruncateFrom(int64_t index) {
  if (index < first_index_) index = first_index_;
  size_t keep = static_cast<size_t>(index - first_index_);
  if (keep >= positions_.size()) return absl::OkStatus();
  int64_t position = positions_[keep];
  RETURN_IF_ERROR(log_->Truncate(position));
  positions_.resize(keep);
  log_bytes_ = position;
  return absl::OkStatus();
}

absl::Status RaftStorage::Append(const std::vector<Entry>& entries) {
  std::string bytes;
  for (const Entry& e : entries) {
    int64_t expected = first_index_ + static_cast<int64_t>(positions_.size());
    if (positions_.empty()) {
      first_index_ = e.index;  // first entry after a snapshot or an empty log
    } else if (e.index != expected) {
      return absl::InternalError(absl::StrCat("raft storage: appending entry ", e.index,
                                              " after ", expected - 1));
    }
    positions_.push_back(log_bytes_ + static_cast<int64_t>(bytes.size()));
    bytes += EncodeEntry(e);
  }
  RETURN_IF_ERROR(log_->WriteAt(log_bytes_, bytes));
  log_bytes_ += static_cast<int64_t>(bytes.size());
  return absl::OkStatus();
}

absl::Status RaftStorage::Persist(const Ready& ready) {
  bool sync_log = false;
  if (ready.snapshot) {
    RETURN_IF_ERROR(WriteSnapshot(*ready.snapshot));
    // The log restarts after the snapshot unless it already holds the following entries.
    RETURN_IF_ERROR(CompactThrough(ready.snapshot->last_index));
  }
  if (ready.truncate_from) {
    RETURN_IF_ERROR(TruncateFrom(*ready.truncate_from));
    sync_log = true;
  }
  if (!ready.entries.empty()) {
    RETURN_IF_ERROR(Append(ready.entries));
    sync_log = true;
  }
  if (sync_log) RETURN_IF_ERROR(log_->Sync());
  // Term and vote must be durable before answering; the commit index alone is not worth an
  // fsync (it is re-learned from the leader after a restart).
  if (ready.hard_state && (ready.hard_state->term != hard_state_.term ||
                           ready.hard_state->voted_for != hard_state_.voted_for)) {
    RETURN_IF_ERROR(WriteHardState(*ready.hard_state));
  }
  return absl::OkStatus();
}

absl::Status RaftStorage::SaveSnapshotAndCompact(const Snapshot& snapshot) {
  RETURN_IF_ERROR(WriteSnapshot(snapshot));
  return CompactThrough(snapshot.last_index);
}

absl::Status RaftStorage::CompactThrough(int64_t last_index) {
  // Re-read the entries to keep from the current file, write them to a new file, swap.
  std::string kept;
  std::vector<int64_t> positions;
  int64_t first = last_index + 1;
  for (size_t i = 0; i < positions_.size(); ++i) {
    int64_t index = first_index_ + static_cast<int64_t>(i);
    if (index <= last_index) continue;
    int64_t start = positions_[i];
    int64_t end = i + 1 < positions_.size() ? positions_[i + 1] : log_bytes_;
    std::string record(static_cast<size_t>(end - start), '\0');
    RETURN_IF_ERROR(log_->ReadExactly(start, record.size(), record.data()));
    if (positions.empty()) first = index;
    positions.push_back(static_cast<int64_t>(kept.size()));
    kept += record;
  }
  std::string path = absl::StrCat(dir_, "/", kLogFile);
  RETURN_IF_ERROR(WriteFileAtomically(path, kept));
  ASSIGN_OR_RETURN(log_, File::Open(path, /*create=*/false));
  positions_ = std::move(positions);
  first_index_ = first;
  log_bytes_ = static_cast<int64_t>(kept.size());
  return absl::OkStatus();
}

}  // namespace gregor::quorum
