// The log cleaner (Kafka's LogCleaner + LogCleanerManager): `log.cleaner.threads` threads that
// each pick the dirtiest eligible compacted log, clean it (cleaner_pass.h), record the new first
// dirty offset in `<log.dir>/cleaner-offset-checkpoint`, and print Kafka's per-clean summary. A
// log the cleaner fails on is marked uncleanable and reported; the threads never die and other
// logs keep being cleaned.
//
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/steady_waiter.h"
#include "broker/storage/cleaner_pass.h"
#include "broker/storage/partition_log.h"
#include "common/clock.h"

namespace gregor::storage {

inline constexpr char kCleanerOffsetCheckpoint[] = "cleaner-offset-checkpoint";


// What the cleaner knows of one partition (for `gregor topic describe` and tests).
struct CleanerPartitionState {
  int64_t checkpoint = -1;  // the first dirty offset; -1 before the first clean
  double dirty_ratio = 0;   // as of the last look
  int64_t cleanable_bytes = 0;
  std::string uncleanable;  // why the cleaner gave up on it; empty if it did not
  int64_t cleans = 0;
  std::optional<CleanPassResult> last;
};

class LogCleaner {
 public:
  struct LogRef {
    std::shared_ptr<PartitionLog> log;
    std::string log_dir;
  };
  // The logs the cleaner may look at, with the log directory holding each.
  using LogLister = std::function<std::vector<LogRef>()>;

  LogCleaner(CleanerConfig config, Clock* clock, LogLister lister);
  ~LogCleaner();

  // Reads `cleaner-offset-checkpoint` of each directory (missing is fine; malformed is an error).
  absl::Status LoadCheckpoints(const std::vector<std::string>& log_dirs);
  void Start();
  // Stops the threads after their current step (a clean in progress is abandoned; its
  // .cleaned files are removed at the next load).
  void Stop();

  // One round on the calling thread: cleans the dirtiest eligible log. True if one was cleaned
  // (or failed); false if nothing was due.
  bool CleanFilthiestLog(int thread_id);

  CleanerPartitionState StateOf(const TopicPartition& tp) const;
  // A partition is about to be deleted: aborts a clean of it in progress and waits until that
  // clean has stopped writing in its directory, then forgets it (its checkpoint entry goes at
  // the next write).
  void OnLogDeleted(const TopicPartition& tp);
  // Tests: called at every step of each segment swap.
  void SetSwapHook(SwapHook hook);

 private:
  void Run(int thread_id);
  absl::Status WriteCheckpoint(const std::string& log_dir) ABSL_LOCKS_EXCLUDED(mu_);
  void LogSummary(int thread_id, const TopicPartition& tp, const CleanPassResult& r) const;

  const CleanerConfig config_;
  Clock* const clock_;
  const LogLister lister_;
  IoThrottle throttle_;
  std::atomic<bool> cancelled_{false};  // the cleaner stops
  std::vector<std::thread> threads_;
  std::vector<std::unique_ptr<cleaner::OffsetMap>> maps_;  // one per thread id, made on first use

  mutable absl::Mutex mu_;
  std::map<TopicPartition, CleanerPartitionState> states_ ABSL_GUARDED_BY(mu_);
  // Logs being cleaned, each with the flag that aborts its clean.
  std::map<TopicPartition, std::shared_ptr<std::atomic<bool>>> in_progress_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SteadyWaiter waiter_;  // stopping_
  SwapHook hook_ ABSL_GUARDED_BY(mu_);
  absl::Mutex checkpoint_mu_;  // one writer of the checkpoint files at a time
};

}  // namespace gregor::storage
