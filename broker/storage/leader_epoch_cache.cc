#include "broker/storage/leader_epoch_cache.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "broker/storage/checkpoint_file.h"
#include "common/file.h"
#include "common/check.h"
#include "common/status.h"
#include "common/strings.h"

namespace gregor::storage {

bool LeaderEpochCache::Assign(int32_t epoch, int64_t start_offset) {
  GREGOR_CHECK_MSG(epoch >= 0 && start_offset >= 0, "epoch ", epoch, " offset ", start_offset);
  if (!entries_.empty()) {
    const EpochEntry& latest = entries_.back();
    if (latest.epoch == epoch && latest.start_offset <= start_offset) return false;
  }
  while (!entries_.empty() &&
         (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
    entries_.pop_back();
  }
  entries_.push_back({epoch, start_offset});
  return true;
}

std::optional<EpochEntry> LeaderEpochCache::Latest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::optional<EpochEntry> LeaderEpochCache::Earliest() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front();
}

std::optional<int32_t> LeaderEpochCache::LatestEpoch() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.back().epoch;
}

EpochEndOffset LeaderEpochCache::EndOffsetFor(int32_t requested_epoch,
                                              int64_t log_end_offset) const {
  if (requested_epoch < 0 || entries_.empty()) return {};
  if (requested_epoch == entries_.back().epoch) return {requested_epoch, log_end_offset};
  // First entry with an epoch above the requested one.
  size_t higher = 0;
  while (higher < entries_.size() && entries_[higher].epoch <= requested_epoch) ++higher;
  if (higher == entries_.size()) return {};  // requested is above the latest epoch
  if (higher == 0) return {requested_epoch, entries_[0].start_offset};
  return {entries_[higher - 1].epoch, entries_[higher].start_offset};
}

std::optional<int32_t> LeaderEpochCache::EpochForOffset(int64_t offset) const {
  std::optional<int32_t> result;
  for (const EpochEntry& e : entries_) {
    if (e.start_offset > offset) break;
    result = e.epoch;
  }
  return result;
}

bool LeaderEpochCache::TruncateFromEnd(int64_t end_offset) {
  bool changed = false;
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) {
    entries_.pop_back();
    changed = true;
  }
  return changed;
}

bool LeaderEpochCache::TruncateFromStart(int64_t start_offset) {
  if (start_offset <= 0) return false;
  size_t removed = 0;
  while (removed < entries_.size() && entries_[removed].start_offset <= start_offset) ++removed;
  if (removed == 0) return false;
  EpochEntry covering{entries_[removed - 1].epoch, start_offset};
  bool changed = removed > 1 || entries_[removed - 1].start_offset != start_offset;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(removed));
  entries_.insert(entries_.begin(), covering);
  return changed;
}

std::string LeaderEpochCache::Format() const {
  std::string out = absl::StrCat("0\n", entries_.size(), "\n");
  for (const EpochEntry& e : entries_) absl::StrAppend(&out, e.epoch, " ", e.start_offset, "\n");
  return out;
}

absl::StatusOr<LeaderEpochCache> LeaderEpochCache::Parse(std::string_view text,
                                                         std::string_view source) {
  auto lines = CheckpointLines(text);
  auto bad = [&](size_t line, std::string_view why) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ":", line, ": ", ToAbsl(why)));
  };
  if (lines.size() < 2 || lines[0].second != "0") {
    return bad(lines.empty() ? 1 : lines[0].first, "missing or unsupported version");
  }
  size_t count = 0;
  if (!absl::SimpleAtoi(lines[1].second, &count) || lines.size() - 2 != count) {
    return bad(lines[1].first, "entry count does not match");
  }
  std::vector<EpochEntry> entries;
  for (size_t i = 2; i < lines.size(); ++i) {
    const auto& [number, line] = lines[i];
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    EpochEntry e;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &e.epoch) ||
        !absl::SimpleAtoi(parts[1], &e.start_offset) || e.epoch < 0 || e.start_offset < 0) {
      return bad(number, absl::StrCat("malformed entry '", line, "'"));
    }
    if (!entries.empty() &&
        (e.epoch <= entries.back().epoch || e.start_offset <= entries.back().start_offset)) {
      return bad(number, "epochs and offsets must increase");
    }
    entries.push_back(e);
  }
  return LeaderEpochCache(std::move(entries));
}

absl::Status LeaderEpochCache::Persist(const std::string& dir) const {
  return WriteFileAtomically(absl::StrCat(dir, "/", kLeaderEpochCheckpoint), Format());
}

absl::StatusOr<LeaderEpochCache> LeaderEpochCache::Load(const std::string& dir) {
  std::string path = absl::StrCat(dir, "/", kLeaderEpochCheckpoint);
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  return Parse(text, path);
}

}  // namespace gregor::storage
