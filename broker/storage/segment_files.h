// The files of a segment swap (the log cleaner's crash-safe replacement of segments) and what a
// log load does with the leftovers of an interrupted one. Kafka's protocol and recovery rules
// (LocalLog.replaceSegments, LogLoader.load; ../shared/reference/log-compaction.md §2.5-§2.6):
//
//   1. the cleaned group is written as <B>.log.cleaned, .index.cleaned, .timeindex.cleaned, fsynced;
//   2. renamed to <B>.*.swap;
//   3. the replaced segments' files are renamed to *.deleted;
//   4. the new files are renamed to <B>.* (no suffix) and the directory fsynced;
//   5. the *.deleted files are removed.
//
// On load (CompleteInterruptedSwaps): every *.deleted goes; every *.swap whose base is at or
// above the smallest *.cleaned base goes (a swap whose renames did not all happen), then every
// *.cleaned; for each remaining <B>.log.swap the files of other segments with a base in
// [B, next offset of the swap segment) go; then every *.swap is renamed to its final name. A
// crash before step 2 completes leaves the old log; from then on, the new one.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace gregor::storage {

inline constexpr char kCleanedSuffix[] = ".cleaned";
inline constexpr char kSwapSuffix[] = ".swap";
inline constexpr char kDeletedSuffix[] = ".deleted";

// Called at each step of a swap with its name; crash tests end the process there.
using SwapHook = std::function<void(std::string_view step)>;

// Renames the existing files of segment `base` ("<base>.log", ".index", ".timeindex", each with
// `from` appended) to the same names with `to` appended. Missing index files are fine.
absl::Status RenameSegmentFiles(const std::string& dir, int64_t base, const std::string& from,
                                const std::string& to);
// Removes "<base>.log<suffix>", ".index<suffix>", ".timeindex<suffix>" (missing is fine).
absl::Status RemoveSegmentFiles(const std::string& dir, int64_t base, const std::string& suffix);

// The load-time rules above, applied to a partition directory. Logs what it finds and does.
absl::Status CompleteInterruptedSwaps(const std::string& dir);

}  // namespace gregor::storage
