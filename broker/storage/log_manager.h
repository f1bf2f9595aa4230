// Owns every partition log of a broker across its `log.dirs`.
//
// Start-up: takes an exclusive lock on each log directory, reads the checkpoint files
// (recovery points, log start offsets, high watermarks) and the clean-shutdown marker, opens
// every `<topic>-<partition>` directory (recovering after an unclean stop), then removes the
// marker so that a crash from now on is seen as unclean. Shutdown does the reverse.
//
// Thread-safety: all methods are thread-safe. Logs are handed out as shared_ptr so a log
// being deleted stays valid for whoever still holds it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "broker/storage/log_cleaner.h"
#include "broker/storage/log_config.h"
#include "broker/storage/partition_log.h"
#include "common/clock.h"

namespace gregor::storage {

inline constexpr char kCleanShutdownFile[] = ".kafka_cleanshutdown";
inline constexpr char kLockFile[] = ".lock";

struct LogManagerConfig {
  std::vector<std::string> log_dirs;                      // log.dirs
  LogConfig default_log_config;                           // log.* defaults for every topic
  int64_t retention_check_interval_ms = 300000;           // log.retention.check.interval.ms
  int64_t producer_id_expiration_ms = 86400000;           // producer.id.expiration.ms (1 day)
  int64_t recovery_point_checkpoint_interval_ms = 60000;  // log.flush.offset.checkpoint.interval.ms
  int64_t high_watermark_checkpoint_interval_ms = 5000;   // replica.high.watermark.checkpoint.interval.ms
  CleanerConfig cleaner;                                  // log.cleaner.*

  absl::Status Validate() const;
};

class LogManager {
 public:
  static absl::StatusOr<std::unique_ptr<LogManager>> Open(LogManagerConfig config, Clock* clock);
  ~LogManager();

  std::shared_ptr<PartitionLog> GetLog(const TopicPartition& tp) const;
  // Returns the existing log, or creates it in the log directory holding the fewest partitions.
  absl::StatusOr<std::shared_ptr<PartitionLog>> GetOrCreateLog(const TopicPartition& tp,
                                                               const LogConfig& config);
  // Removes the log and its directory. No-op if it does not exist.
  absl::Status DeleteLog(const TopicPartition& tp);
  std::vector<TopicPartition> Partitions() const;
  // The log.dirs entry holding `tp`'s log ("" if none).
  std::string LogDirOf(const TopicPartition& tp) const;
  const LogManagerConfig& config() const { return config_; }
  // Whether the previous stop of these directories was clean (all of them had the marker).
  bool had_clean_shutdown() const { return had_clean_shutdown_; }

  // Periodic work, due by the intervals above: retention (and idle producer ids), flush.ms,
  // checkpoint files.
  // Call often (e.g. every 100 ms); it does what is due at `clock->SteadyMs()`.
  absl::Status Tick();
  absl::Status CheckpointRecoveryPoints();
  absl::Status CheckpointHighWatermarks();
  absl::Status RunRetention();

  // Clean shutdown: stops the log cleaner, closes every log, writes all checkpoints, then the
  // clean-shutdown marker. A failed log dir gets no checkpoint and no marker, so the next
  // start recovers it.
  absl::Status Shutdown();

  // Log dir failure (a full or broken disk). A write that fails in a log dir (a partition's
  // append, roll, truncation, flush, or a checkpoint file) marks the dir failed: its logs go
  // offline (KAFKA_STORAGE_ERROR), new logs go elsewhere, and `handler` is called once per dir,
  // from the thread whose write failed. Set it before the logs are used.
  using LogDirFailureHandler = std::function<void(const std::string& dir, const absl::Status&)>;
  void SetLogDirFailureHandler(LogDirFailureHandler handler);
  std::vector<std::string> FailedLogDirs() const;

  // The log cleaner's view of a partition (checkpoint, dirty ratio, uncleanable).
  CleanerPartitionState CleanerState(const TopicPartition& tp) const;
  LogCleaner& cleaner() { return *cleaner_; }

 private:
  LogManager(LogManagerConfig config, Clock* clock) : config_(std::move(config)), clock_(clock) {}
  absl::Status LoadDir(const std::string& dir);
  void OnWriteError(const std::string& dir, const absl::Status& cause);
  bool DirFailed(const std::string& dir) const;
  // Writes `file_name` (one offset per log, from `offset`) in every healthy log dir.
  absl::Status CheckpointLocked(const char* file_name, Offset (PartitionLog::*offset)() const)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const LogManagerConfig config_;
  Clock* const clock_;
  bool had_clean_shutdown_ = true;
  std::vector<int> lock_fds_;

  mutable absl::Mutex mu_;
  std::map<TopicPartition, std::shared_ptr<PartitionLog>> logs_ ABSL_GUARDED_BY(mu_);
  std::map<TopicPartition, std::string> log_dir_of_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_retention_ms_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_recovery_checkpoint_ms_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_hw_checkpoint_ms_ ABSL_GUARDED_BY(mu_) = 0;
  // Not mu_: a log's write fails while the caller may hold mu_ (Shutdown closes logs under it).
  mutable absl::Mutex failure_mu_;
  std::set<std::string> failed_dirs_ ABSL_GUARDED_BY(failure_mu_);
  LogDirFailureHandler failure_handler_ ABSL_GUARDED_BY(failure_mu_);
  // Last member: stopped and destroyed before the logs.
  std::unique_ptr<LogCleaner> cleaner_;
};

}  // namespace gregor::storage
