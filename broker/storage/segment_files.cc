#include "broker/storage/segment_files.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/log_segment.h"
#include "common/file.h"
#include "common/logging.h"
#include "common/record_batch.h"
#include "common/status.h"

namespace gregor::storage {
namespace fs = std::filesystem;
namespace {

constexpr const char* kKinds[] = {".log", ".index", ".timeindex"};

// A file name of a segment: "<20 digits><kind><suffix>".
struct SegmentFileNameParts {
  int64_t base = 0;
  std::string kind;    // ".log", ".index", ".timeindex"
  std::string suffix;  // "", ".cleaned", ".swap", ".deleted"
};

std::optional<SegmentFileNameParts> ParseName(const std::string& name) {
  if (name.size() < 21) return std::nullopt;
  SegmentFileNameParts parts;
  if (!absl::SimpleAtoi(name.substr(0, 20), &parts.base) || parts.base < 0) return std::nullopt;
  std::string rest = name.substr(20);
  for (const char* kind : kKinds) {
    if (!absl::StartsWith(rest, kind)) continue;
    std::string suffix = rest.substr(std::string_view(kind).size());
    if (suffix.empty() || suffix == kCleanedSuffix || suffix == kSwapSuffix ||
        suffix == kDeletedSuffix) {
      // ".index" is a prefix of nothing else, but ".log" must not match ".logx".
      parts.kind = kind;
      parts.suffix = suffix;
      return parts;
    }
  }
  return std::nullopt;
}

absl::Status Remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoError("cannot remove", path, errno);
  return absl::OkStatus();
}

// One past the last offset of the batches in a segment file (its base if it has none). Stops at
// the first malformed header: the swap file was fsynced whole before it was renamed.
absl::StatusOr<int64_t> ReadNextOffset(const std::string& path, int64_t base) {
  ASSIGN_OR_RETURN(auto file, File::Open(path, /*create=*/false));
  ASSIGN_OR_RETURN(int64_t size, file->Size());
  int64_t next = base;
  int64_t position = 0;
  char header[record::kBatchHeaderSize];
  while (position + static_cast<int64_t>(record::kBatchHeaderSize) <= size) {
    RETURN_IF_ERROR(file->ReadExactly(position, sizeof header, header));
    auto parsed = record::ParseBatchHeader(std::string_view(header, sizeof header));
    if (!parsed.ok()) break;
    next = parsed->next_offset();
    position += static_cast<int64_t>(parsed->size_bytes());
  }
  return next;
}

}  // namespace

absl::Status RenameSegmentFiles(const std::string& dir, int64_t base, const std::string& from,
                                const std::string& to) {
  for (const char* kind : kKinds) {
    std::string source = SegmentFileName(dir, base, kind) + from;
    std::string target = SegmentFileName(dir, base, kind) + to;
    if (::rename(source.c_str(), target.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(absl::StrCat("cannot rename to ", target, ":"), source, errno);
    }
  }
  return absl::OkStatus();
}

absl::Status RemoveSegmentFiles(const std::string& dir, int64_t base, const std::string& suffix) {
  for (const char* kind : kKinds) RETURN_IF_ERROR(Remove(SegmentFileName(dir, base, kind) + suffix));
  return absl::OkStatus();
}

absl::Status CompleteInterruptedSwaps(const std::string& dir) {
  std::vector<SegmentFileNameParts> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (auto parts = ParseName(entry.path().filename().string())) files.push_back(*parts);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  auto path_of = [&](const SegmentFileNameParts& p) {
    return SegmentFileName(dir, p.base, p.kind.c_str()) + p.suffix;
  };

  // P1: *.deleted go; *.swap at or above the smallest *.cleaned base go, then every *.cleaned.
  int64_t min_cleaned = INT64_MAX;
  for (const auto& f : files) {
    if (f.suffix == kCleanedSuffix) min_cleaned = std::min(min_cleaned, f.base);
  }
  bool changed = false;
  std::vector<SegmentFileNameParts> kept;
  for (const auto& f : files) {
    bool drop = f.suffix == kDeletedSuffix || f.suffix == kCleanedSuffix ||
                (f.suffix == kSwapSuffix && f.base >= min_cleaned);
    if (drop) {
      if (f.suffix != kDeletedSuffix) {
        Logger("storage")->warn("removing {} left by an interrupted log clean", path_of(f));
      }
      RETURN_IF_ERROR(Remove(path_of(f)));
      changed = true;
    } else {
      kept.push_back(f);
    }
  }

  // P2: a complete swap replaces every other segment in [base, its next offset).
  std::map<int64_t, int64_t> swaps;  // base -> next offset
  for (const auto& f : kept) {
    if (f.suffix == kSwapSuffix && f.kind == ".log") {
      ASSIGN_OR_RETURN(swaps[f.base], ReadNextOffset(path_of(f), f.base));
    }
  }
  std::vector<SegmentFileNameParts> swap_files;
  for (const auto& f : kept) {
    if (f.suffix == kSwapSuffix) {
      swap_files.push_back(f);
      continue;
    }
    for (const auto& [base, next] : swaps) {
      if (f.base >= base && f.base < std::max(next, base + 1)) {
        Logger("storage")->info("removing {}: replaced by the cleaned segment {}", path_of(f), base);
        RETURN_IF_ERROR(Remove(path_of(f)));
        changed = true;
        break;
      }
    }
  }

  // P3: finish the renames.
  for (const auto& f : swap_files) {
    SegmentFileNameParts final_name = f;
    final_name.suffix.clear();
    std::string target = path_of(final_name);
    if (::rename(path_of(f).c_str(), target.c_str()) != 0) {
      return ErrnoError(absl::StrCat("cannot rename to ", target, ":"), path_of(f), errno);
    }
    Logger("storage")->info("completed the swap of {}", target);
  }
  if (changed || !swap_files.empty()) RETURN_IF_ERROR(SyncDirectory(dir));
  return absl::OkStatus();
}

}  // namespace gregor::storage
