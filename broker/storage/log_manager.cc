#include "broker/storage/log_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "broker/storage/checkpoint_file.h"
#include "common/errors.h"
#include "common/file.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::storage {
namespace fs = std::filesystem;

absl::Status LogManagerConfig::Validate() const {
  if (log_dirs.empty()) return absl::InvalidArgumentError("log.dirs must name at least one directory");
  return default_log_config.Validate();
}

absl::StatusOr<std::unique_ptr<LogManager>> LogManager::Open(LogManagerConfig config,
                                                             Clock* clock) {
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<LogManager> manager(new LogManager(std::move(config), clock));
  for (const std::string& dir : manager->config_.log_dirs) {
    RETURN_IF_ERROR(manager->LoadDir(dir));
  }
  LogManager* self = manager.get();
  manager->cleaner_ = std::make_unique<LogCleaner>(
      manager->config_.cleaner, clock, [self] {
        std::vector<LogCleaner::LogRef> refs;
        absl::MutexLock lock(&self->mu_);
        for (const auto& [tp, log] : self->logs_) refs.push_back({log, self->log_dir_of_.at(tp)});
        return refs;
      });
  RETURN_IF_ERROR(manager->cleaner_->LoadCheckpoints(manager->config_.log_dirs));
  manager->cleaner_->Start();
  absl::MutexLock lock(&manager->mu_);
  int64_t now = clock->SteadyMs();
  manager->last_retention_ms_ = manager->last_recovery_checkpoint_ms_ =
      manager->last_hw_checkpoint_ms_ = now;
  return manager;
}

absl::Status LogManager::LoadDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create log dir ", dir, ": ", ec.message()));

  std::string lock_path = absl::StrCat(dir, "/", kLockFile);
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open", lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("log dir ", dir, " is in use by another process (", lock_path, " is locked)"));
  }
  lock_fds_.push_back(fd);

  std::string marker = absl::StrCat(dir, "/", kCleanShutdownFile);
  bool clean = fs::exists(marker);
  had_clean_shutdown_ = had_clean_shutdown_ && clean;
  ASSIGN_OR_RETURN(OffsetMap recovery_points,
                   ReadOffsetCheckpoint(absl::StrCat(dir, "/", kRecoveryPointCheckpoint)));
  ASSIGN_OR_RETURN(OffsetMap log_starts,
                   ReadOffsetCheckpoint(absl::StrCat(dir, "/", kLogStartOffsetCheckpoint)));
  ASSIGN_OR_RETURN(OffsetMap high_watermarks,
                   ReadOffsetCheckpoint(absl::StrCat(dir, "/", kHighWatermarkCheckpoint)));

  auto lookup = [](const OffsetMap& map, const TopicPartition& tp) -> std::optional<int64_t> {
    auto it = map.find({tp.topic, tp.partition});
    if (it == map.end()) return std::nullopt;
    return it->second;
  };

  int opened = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory()) continue;
    std::string name = entry.path().filename().string();
    auto tp = TopicPartition::ParseDirName(name);
    if (!tp) {
      Logger("storage")->warn("ignoring directory {} in log dir {}: not <topic>-<partition>",
                              name, dir);
      continue;
    }
    PartitionLog::Options options;
    options.dir = entry.path().string();
    options.topic_partition = *tp;
    options.config = config_.default_log_config;
    options.clock = clock_;
    options.recovery_point = lookup(recovery_points, *tp);
    options.log_start_offset = lookup(log_starts, *tp);
    options.high_watermark = lookup(high_watermarks, *tp);
    options.had_clean_shutdown = clean;
    options.on_write_error = [this, dir](const absl::Status& cause) { OnWriteError(dir, cause); };
    ASSIGN_OR_RETURN(auto log, PartitionLog::Open(std::move(options)));
    absl::MutexLock lock(&mu_);
    if (logs_.count(*tp)) {
      return absl::FailedPreconditionError(
          absl::StrCat("partition ", name, " exists in two log dirs: ", log_dir_of_[*tp], " and ", dir));
    }
    logs_[*tp] = std::shared_ptr<PartitionLog>(std::move(log));
    log_dir_of_[*tp] = dir;
    ++opened;
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  // From now on a crash must be seen as unclean.
  fs::remove(marker, ec);
  RETURN_IF_ERROR(SyncDirectory(dir));
  Logger("storage")->info("loaded {} partition logs from {} (previous shutdown {})", opened, dir,
                          clean ? "clean" : "UNCLEAN");
  return absl::OkStatus();
}

LogManager::~LogManager() {
  for (int fd : lock_fds_) ::close(fd);
}

std::shared_ptr<PartitionLog> LogManager::GetLog(const TopicPartition& tp) const {
  absl::MutexLock lock(&mu_);
  auto it = logs_.find(tp);
  return it == logs_.end() ? nullptr : it->second;
}

absl::StatusOr<std::shared_ptr<PartitionLog>> LogManager::GetOrCreateLog(const TopicPartition& tp,
                                                                         const LogConfig& config) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::FailedPreconditionError("log manager is shut down");
  if (auto it = logs_.find(tp); it != logs_.end()) return it->second;
  std::map<std::string, int> load;
  for (const std::string& dir : config_.log_dirs) load[dir] = 0;
  for (const auto& [other, dir] : log_dir_of_) load[dir]++;
  std::string dir;
  for (const std::string& d : config_.log_dirs) {
    if (!DirFailed(d) && (dir.empty() || load[d] < load[dir])) dir = d;
  }
  if (dir.empty()) {
    return KafkaError(KafkaErrorCode::kKafkaStorageError,
                      absl::StrCat("cannot create the log of ", tp.DirName(),
                                   ": every log dir of this broker has failed"));
  }
  PartitionLog::Options options;
  options.dir = absl::StrCat(dir, "/", tp.DirName());
  options.topic_partition = tp;
  options.config = config;
  options.clock = clock_;
  options.on_write_error = [this, dir](const absl::Status& cause) { OnWriteError(dir, cause); };
  ASSIGN_OR_RETURN(auto log, PartitionLog::Open(std::move(options)));
  auto shared = std::shared_ptr<PartitionLog>(std::move(log));
  logs_[tp] = shared;
  log_dir_of_[tp] = dir;
  Logger("storage")->info("created log {} in {}", tp.DirName(), dir);
  return shared;
}

absl::Status LogManager::DeleteLog(const TopicPartition& tp) {
  std::shared_ptr<PartitionLog> log;
  {
    absl::MutexLock lock(&mu_);
    auto it = logs_.find(tp);
    if (it == logs_.end()) return absl::OkStatus();
    log = it->second;
    logs_.erase(it);
    log_dir_of_.erase(tp);
  }
  cleaner_->OnLogDeleted(tp);
  return log->Delete();
}

std::vector<TopicPartition> LogManager::Partitions() const {
  absl::MutexLock lock(&mu_);
  std::vector<TopicPartition> out;
  for (const auto& [tp, log] : logs_) out.push_back(tp);
  return out;
}

std::string LogManager::LogDirOf(const TopicPartition& tp) const {
  absl::MutexLock lock(&mu_);
  auto it = log_dir_of_.find(tp);
  return it == log_dir_of_.end() ? "" : it->second;
}

absl::Status LogManager::Tick() {
  int64_t now = clock_->SteadyMs();
  bool retention = false, recovery = false, hw = false;
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    for (const auto& [tp, log] : logs_) logs.push_back(log);
    if (now - last_retention_ms_ >= config_.retention_check_interval_ms) {
      retention = true;
      last_retention_ms_ = now;
    }
    if (now - last_recovery_checkpoint_ms_ >= config_.recovery_point_checkpoint_interval_ms) {
      recovery = true;
      last_recovery_checkpoint_ms_ = now;
    }
    if (now - last_hw_checkpoint_ms_ >= config_.high_watermark_checkpoint_interval_ms) {
      hw = true;
      last_hw_checkpoint_ms_ = now;
    }
  }
  absl::Status status;
  for (const auto& log : logs) status.Update(log->MaybeFlush());
  if (retention) status.Update(RunRetention());
  if (recovery) status.Update(CheckpointRecoveryPoints());
  if (hw) status.Update(CheckpointHighWatermarks());
  return status;
}

absl::Status LogManager::RunRetention() {
  std::vector<std::shared_ptr<PartitionLog>> logs;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [tp, log] : logs_) logs.push_back(log);
  }
  absl::Status status;
  for (const auto& log : logs) {
    status.Update(log->DeleteOldSegments().status());
    log->ExpireProducers(config_.producer_id_expiration_ms);
  }
  return status;
}

absl::Status LogManager::CheckpointLocked(const char* file_name,
                                          Offset (PartitionLog::*offset)() const) {
  std::map<std::string, OffsetMap> per_dir;
  for (const std::string& dir : config_.log_dirs) {
    if (!DirFailed(dir)) per_dir[dir];
  }
  for (const auto& [tp, log] : logs_) {
    auto dir = per_dir.find(log_dir_of_.at(tp));
    if (dir != per_dir.end()) dir->second[{tp.topic, tp.partition}] = ((*log).*offset)().value();
  }
  absl::Status status;
  for (const auto& [dir, offsets] : per_dir) {
    absl::Status written = WriteOffsetCheckpoint(absl::StrCat(dir, "/", file_name), offsets);
    if (!written.ok()) OnWriteError(dir, written);
    status.Update(written);
  }
  return status;
}

absl::Status LogManager::CheckpointRecoveryPoints() {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CheckpointLocked(kRecoveryPointCheckpoint, &PartitionLog::recovery_point));
  return CheckpointLocked(kLogStartOffsetCheckpoint, &PartitionLog::log_start_offset);
}

absl::Status LogManager::CheckpointHighWatermarks() {
  absl::MutexLock lock(&mu_);
  return CheckpointLocked(kHighWatermarkCheckpoint, &PartitionLog::high_watermark);
}

void LogManager::SetLogDirFailureHandler(LogDirFailureHandler handler) {
  absl::MutexLock lock(&failure_mu_);
  failure_handler_ = std::move(handler);
}

std::vector<std::string> LogManager::FailedLogDirs() const {
  absl::MutexLock lock(&failure_mu_);
  return {failed_dirs_.begin(), failed_dirs_.end()};
}

bool LogManager::DirFailed(const std::string& dir) const {
  absl::MutexLock lock(&failure_mu_);
  return failed_dirs_.count(dir) > 0;
}

void LogManager::OnWriteError(const std::string& dir, const absl::Status& cause) {
  LogDirFailureHandler handler;
  {
    absl::MutexLock lock(&failure_mu_);
    if (!failed_dirs_.insert(dir).second) return;
    handler = failure_handler_;
  }
  Logger("storage")->error("log dir {} failed: {}", dir, cause.message());
  if (handler) handler(dir, cause);
}

CleanerPartitionState LogManager::CleanerState(const TopicPartition& tp) const {
  return cleaner_->StateOf(tp);
}

absl::Status LogManager::Shutdown() {
  cleaner_->Stop();
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    absl::Status closed;
    for (const auto& [tp, log] : logs_) {
      // The other logs of a failed dir write nothing either: the dir is recovered at start.
      if (DirFailed(log_dir_of_.at(tp))) log->SetOffline();
      closed.Update(log->Close());
    }
    RETURN_IF_ERROR(closed);
  }
  RETURN_IF_ERROR(CheckpointRecoveryPoints());
  RETURN_IF_ERROR(CheckpointHighWatermarks());
  for (const std::string& dir : config_.log_dirs) {
    if (DirFailed(dir)) {
      Logger("storage")->warn("log dir {} failed: no clean-shutdown marker, the next start recovers it", dir);
      continue;
    }
    RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", kCleanShutdownFile), ""));
  }
  Logger("storage")->info("log manager shut down cleanly");
  return absl::OkStatus();
}

}  // namespace gregor::storage
