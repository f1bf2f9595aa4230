#include "broker/storage/partition_log.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <type_traits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/errors.h"
#include "common/logging.h"
#include "common/record_batch.h"
#include "common/status.h"
#include "common/strings.h"
#include "broker/storage/segment_files.h"

namespace gregor::storage {
namespace fs = std::filesystem;

std::string TopicPartition::DirName() const { return absl::StrCat(topic, "-", partition); }

std::optional<TopicPartition> TopicPartition::ParseDirName(std::string_view name) {
  size_t dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  int32_t partition = 0;
  std::string_view number = name.substr(dash + 1);
  if (!std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(ToAbsl(number), &partition)) {
    return std::nullopt;
  }
  return TopicPartition{std::string(name.substr(0, dash)), partition};
}

PartitionLog::PartitionLog(Options options)
    : dir_(options.dir),
      on_write_error_(std::move(options.on_write_error)),
      topic_partition_(options.topic_partition),
      clock_(options.clock),
      config_(options.config) {}

PartitionLog::~PartitionLog() = default;

absl::Status PartitionLog::WriteFailedLocked(const absl::Status& cause) {
  if (!offline_) {
    offline_ = true;
    Logger("storage")->error("{}: a write failed, the log is offline: {}",
                             topic_partition_.DirName(), cause.message());
    if (on_write_error_) on_write_error_(cause);
  }
  return KafkaError(KafkaErrorCode::kKafkaStorageError,
                    absl::StrCat("the log of ", topic_partition_.DirName(),
                                 " is offline after a failed write: ", cause.message()));
}

absl::Status PartitionLog::OfflineErrorLocked() const {
  if (!offline_) return absl::OkStatus();
  return KafkaError(KafkaErrorCode::kKafkaStorageError,
                    absl::StrCat("the log of ", topic_partition_.DirName(),
                                 " is offline after a failed write"));
}

template <typename F>
std::invoke_result_t<F&> PartitionLog::GuardedWriteLocked(F write) {
  RETURN_IF_ERROR(OfflineErrorLocked());
  auto result = write();
  if (!result.ok()) {
    if constexpr (std::is_same_v<decltype(result), absl::Status>) {
      return WriteFailedLocked(result);
    } else {
      return WriteFailedLocked(result.status());
    }
  }
  return result;
}

void PartitionLog::SetOffline() {
  absl::MutexLock lock(&mu_);
  offline_ = true;
}

bool PartitionLog::offline() const {
  absl::MutexLock lock(&mu_);
  return offline_;
}

absl::StatusOr<std::unique_ptr<PartitionLog>> PartitionLog::Open(Options options) {
  GREGOR_CHECK(options.clock != nullptr);
  RETURN_IF_ERROR(options.config.Validate());
  std::error_code ec;
  bool created = fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create partition directory ", options.dir, ": ", ec.message()));
  }
  // A new directory survives a power loss only once its parent is synced.
  if (created) RETURN_IF_ERROR(SyncDirectory(fs::path(options.dir).parent_path().string()));
  std::unique_ptr<PartitionLog> log(new PartitionLog(options));
  absl::MutexLock lock(&log->mu_);
  log->last_flush_ms_ = options.clock->SteadyMs();
  RETURN_IF_ERROR(log->LoadSegments(options));
  RETURN_IF_ERROR(log->LoadEpochCache());
  RETURN_IF_ERROR(log->LoadProducerStateLocked());
  log->high_watermark_ = std::clamp(options.high_watermark.value_or(0), log->log_start_offset_,
                                    log->active().next_offset());
  log->CheckInvariants();
  Logger("storage")->info(
      "opened log {} ({} clean): segments={} log_start={} log_end={} hw={} recovery_point={} "
      "producers={} (from {})",
      log->topic_partition_.DirName(), options.had_clean_shutdown ? "was" : "was NOT",
      log->segments_.size(), log->log_start_offset_, log->active().next_offset(),
      log->high_watermark_, log->recovery_point_, log->producers_.entries().size(),
      log->loaded_producer_snapshot_
          ? absl::StrCat("snapshot ", *log->loaded_producer_snapshot_)
          : std::string("the log"));
  return log;
}

absl::Status PartitionLog::LoadSegments(const Options& options) {
  // Leftovers of a log clean interrupted by a crash: finish or undo it first.
  RETURN_IF_ERROR(CompleteInterruptedSwaps(dir_));
  std::vector<int64_t> bases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    std::string ext = entry.path().extension().string();
    std::string stem = entry.path().stem().string();
    if (ext == ".tmp") {
      fs::remove(entry.path(), ec);  // left over from an interrupted checkpoint write
      continue;
    }
    int64_t base = 0;
    bool numeric = stem.size() == 20 && absl::SimpleAtoi(stem, &base) && base >= 0;
    if (ext == ".log" && numeric) {
      bases.push_back(base);
    } else if ((ext == ".index" || ext == ".timeindex") && numeric &&
               !fs::exists(SegmentFileName(dir_, base, ".log"))) {
      fs::remove(entry.path(), ec);  // index of a segment that is gone
    }
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", dir_, ": ", ec.message()));
  std::sort(bases.begin(), bases.end());

  // Unclean stop: every segment from the one holding the recovery point on is re-validated.
  int64_t recover_from = INT64_MAX;
  if (!options.had_clean_shutdown && !bases.empty()) {
    int64_t rp = options.recovery_point.value_or(0);
    recover_from = bases.front();
    for (int64_t b : bases) {
      if (b <= rp) recover_from = b;
    }
  }

  for (size_t i = 0; i < bases.size(); ++i) {
    int64_t next_base = i + 1 < bases.size() ? bases[i + 1] : INT64_MAX;
    bool recover = bases[i] >= recover_from;
    ASSIGN_OR_RETURN(auto segment, LogSegment::Open(dir_, bases[i], config_.index_interval_bytes,
                                                    next_base, recover));
    if (segment->next_offset() > next_base) {
      Logger("storage")->warn("segment {} of {} overlaps the next one; truncating it to {}",
                              bases[i], dir_, next_base);
      ASSIGN_OR_RETURN(int64_t removed, segment->TruncateTo(next_base));
      (void)removed;
    }
    bool torn = segment->truncated_by_recovery() > 0;
    segments_[bases[i]] = std::move(segment);
    if (torn) {
      // Whatever follows a corrupt batch cannot be trusted to continue the log.
      for (size_t j = i + 1; j < bases.size(); ++j) {
        Logger("storage")->warn("deleting segment {} of {} after a corrupt one", bases[j], dir_);
        ASSIGN_OR_RETURN(auto later, LogSegment::Open(dir_, bases[j], config_.index_interval_bytes,
                                                      INT64_MAX, /*recover=*/false));
        RETURN_IF_ERROR(later->Delete());
      }
      break;
    }
  }

  int64_t start = options.log_start_offset.value_or(0);
  if (segments_.empty()) {
    ASSIGN_OR_RETURN(auto segment, LogSegment::Create(dir_, start, config_.index_interval_bytes,
                                                      clock_->WallMs()));
    segments_[start] = std::move(segment);
  }
  log_start_offset_ = std::clamp(start, segments_.begin()->first, active().next_offset());

  if (options.had_clean_shutdown) {
    recovery_point_ = active().next_offset();
  } else {
    // Everything was re-validated; make it durable so the recovery point can cover it.
    for (auto& [base, segment] : segments_) RETURN_IF_ERROR(segment->Flush());
    recovery_point_ = active().next_offset();
  }
  return absl::OkStatus();
}

absl::Status PartitionLog::LoadEpochCache() {
  auto loaded = LeaderEpochCache::Load(dir_);
  if (loaded.ok()) {
    epochs_ = std::move(*loaded);
  } else {
    if (!absl::IsNotFound(loaded.status())) {
      Logger("storage")->warn("rebuilding leader epoch cache of {}: {}", dir_,
                              loaded.status().message());
    }
    epochs_.Clear();
    for (auto& [base, segment] : segments_) {
      RETURN_IF_ERROR(segment->ForEachBatch([&](int64_t, const record::BatchHeader& h) {
        if (h.partition_leader_epoch >= 0 &&
            (!epochs_.LatestEpoch() || *epochs_.LatestEpoch() < h.partition_leader_epoch)) {
          epochs_.Assign(h.partition_leader_epoch, h.base_offset);
        }
      }));
    }
  }
  epochs_.TruncateFromEnd(active().next_offset());
  epochs_.TruncateFromStart(log_start_offset_);
  return PersistEpochCache();
}

absl::Status PartitionLog::PersistEpochCache() { return epochs_.Persist(dir_); }

void PartitionLog::CheckInvariants() const {
  int64_t leo = segments_.rbegin()->second->next_offset();
  GREGOR_CHECK_MSG(log_start_offset_ <= high_watermark_ && high_watermark_ <= leo,
                   topic_partition_.DirName(), ": log_start ", log_start_offset_, " hw ",
                   high_watermark_, " leo ", leo);
  GREGOR_CHECK_MSG(recovery_point_ <= leo, "recovery point ", recovery_point_, " leo ", leo);
}

absl::StatusOr<LogAppendInfo> PartitionLog::AppendAsLeader(absl::Span<char> batches,
                                                           LeaderEpoch epoch) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("log is closed");
  RETURN_IF_ERROR(OfflineErrorLocked());
  // Validate everything before changing anything: a request appends whole or not at all.
  const bool compacted = config_.compact();
  struct Parsed {
    size_t position = 0;
    record::BatchHeader header;
    bool fix_max_timestamp = false;  // header.max_timestamp holds the records' largest
  };
  std::vector<Parsed> parsed;
  record::BatchIterator it(std::string_view(batches.data(), batches.size()));
  record::BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    if (batch.size() > static_cast<size_t>(config_.max_message_bytes)) {
      return KafkaError(KafkaErrorCode::kMessageTooLarge,
                        absl::StrCat("batch of ", batch.size(), " bytes exceeds max.message.bytes ",
                                     config_.max_message_bytes));
    }
    auto valid = record::ValidateBatch(batch);
    if (!valid.ok()) {
      return KafkaError(KafkaErrorCode::kCorruptMessage, valid.status().message());
    }
    if (header.is_control()) {
      return KafkaError(KafkaErrorCode::kInvalidRecord, "clients may not send control batches");
    }
    if (header.records_count <= 0 || header.last_offset_delta != header.records_count - 1) {
      return KafkaError(KafkaErrorCode::kInvalidRecord,
                        absl::StrCat("batch has ", header.records_count,
                                     " records but lastOffsetDelta ", header.last_offset_delta));
    }
    if (compacted) {
      // Compaction keeps the last value per key: a record without one could never be cleaned
      // (Kafka's LogValidator: INVALID_RECORD since 2.4).
      auto records = record::DecodeRecords(batch);
      if (!records.ok()) return KafkaError(KafkaErrorCode::kCorruptMessage, records.status().message());
      std::vector<int32_t> keyless;
      for (size_t i = 0; i < records->size(); ++i) {
        if (!(*records)[i].key) keyless.push_back(static_cast<int32_t>(i));
      }
      if (!keyless.empty()) {
        return WithRecordErrors(
            KafkaError(KafkaErrorCode::kInvalidRecord,
                       absl::StrCat("record ", keyless.front(), " of a batch has no key, but ",
                                    topic_partition_.topic, " is compacted (cleanup.policy=",
                                    config_.cleanup_policy, "): every record needs a key")),
            keyless);
      }
    }
    if (config_.timestamp_type == TimestampType::kCreateTime &&
        header.max_timestamp < header.base_timestamp) {
      // Some producers (sarama before 1.26) leave maxTimestamp at -1. Kafka's LogValidator
      // sets it to the records' largest timestamp (and the CRC): so does this broker, or the
      // time index and ListOffsets by time would not see the batch.
      auto records = record::DecodeRecords(batch);
      if (!records.ok()) return KafkaError(KafkaErrorCode::kCorruptMessage, records.status().message());
      int64_t max_timestamp = header.base_timestamp;
      for (const record::Record& r : *records) max_timestamp = std::max(max_timestamp, r.timestamp);
      header.max_timestamp = max_timestamp;
      parsed.push_back({it.position() - batch.size(), header, true});
      continue;
    }
    parsed.push_back({it.position() - batch.size(), header, false});
  }
  if (!it.status().ok()) return KafkaError(KafkaErrorCode::kCorruptMessage, it.status().message());
  if (it.position() != batches.size()) {
    return KafkaError(KafkaErrorCode::kCorruptMessage,
                      absl::StrCat("truncated record batch at byte ", it.position()));
  }
  if (parsed.empty()) return KafkaError(KafkaErrorCode::kInvalidRecord, "no record batches");
  std::vector<record::BatchHeader> headers;
  headers.reserve(parsed.size());
  for (const Parsed& p : parsed) headers.push_back(p.header);
  ASSIGN_OR_RETURN(std::optional<ProducerBatch> duplicate, CheckProducersLocked(headers));
  LogAppendInfo info;
  if (duplicate) {
    // A retry of a batch the log holds (the answer to the first try was lost): the original's
    // offsets, nothing appended (Kafka's DUPLICATE_SEQUENCE_NUMBER semantics since 2.x).
    info.first_offset = Offset(duplicate->first_offset);
    info.last_offset = Offset(duplicate->last_offset);
    info.max_timestamp = duplicate->timestamp;
    if (config_.timestamp_type == TimestampType::kLogAppendTime) {
      info.log_append_time_ms = duplicate->timestamp;
    }
    info.duplicate = true;
    Logger("storage")->info("{}: producer {} resent sequences {}..{}: answered with offsets {}..{}",
                             topic_partition_.DirName(), headers.front().producer_id,
                             duplicate->first_seq, duplicate->last_seq, duplicate->first_offset,
                             duplicate->last_offset);
    return info;
  }

  int64_t next = active().next_offset();
  info.first_offset = Offset(next);
  if (config_.timestamp_type == TimestampType::kLogAppendTime) {
    info.log_append_time_ms = clock_->WallMs();
  }
  std::vector<BatchSummary> summaries;
  summaries.reserve(parsed.size());
  for (const auto& [position, h, fix_max_timestamp] : parsed) {
    char* bytes = batches.data() + position;
    record::SetBaseOffset(bytes, next);
    record::SetPartitionLeaderEpoch(bytes, epoch.value());
    int64_t max_timestamp = h.max_timestamp;
    if (info.log_append_time_ms >= 0) {
      record::SetLogAppendTime(bytes, h.size_bytes(), info.log_append_time_ms);
      max_timestamp = info.log_append_time_ms;
    } else if (fix_max_timestamp) {
      record::SetMaxTimestamp(bytes, h.size_bytes(), max_timestamp);
    }
    summaries.push_back({next, next + h.last_offset_delta, max_timestamp, h.size_bytes()});
    info.num_records += h.records_count;
    next += h.last_offset_delta + 1;
  }
  auto appended = GuardedWriteLocked([&]() -> absl::StatusOr<LogAppendInfo> {
    RETURN_IF_ERROR(MaybeAssignEpoch(epoch.value(), info.first_offset.value()));
    return AppendLocked(std::string_view(batches.data(), batches.size()), summaries, info);
  });
  if (appended.ok()) RecordProducersLocked(headers, summaries);
  return appended;
}

absl::StatusOr<LogAppendInfo> PartitionLog::AppendAsFollower(std::string_view batches) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("log is closed");
  RETURN_IF_ERROR(OfflineErrorLocked());
  std::vector<BatchSummary> summaries;
  LogAppendInfo info;
  int64_t next = active().next_offset();
  record::BatchIterator it(batches);
  record::BatchHeader header;
  std::string_view batch;
  std::vector<std::pair<int32_t, int64_t>> epoch_starts;
  std::vector<record::BatchHeader> headers;
  while (it.Next(&header, &batch)) {
    auto valid = record::ValidateBatch(batch);
    if (!valid.ok()) {
      return KafkaError(KafkaErrorCode::kCorruptMessage, valid.status().message());
    }
    if (header.base_offset < next) {
      return KafkaError(KafkaErrorCode::kInvalidRecord,
                        absl::StrCat("follower append at offset ", header.base_offset,
                                     " but the log ends at ", next));
    }
    if (header.last_offset() - header.base_offset > INT32_MAX) {
      return KafkaError(KafkaErrorCode::kInvalidRecord, "batch offset range too large");
    }
    if (summaries.empty()) info.first_offset = Offset(header.base_offset);
    summaries.push_back({header.base_offset, header.last_offset(), header.max_timestamp,
                         header.size_bytes()});
    epoch_starts.emplace_back(header.partition_leader_epoch, header.base_offset);
    headers.push_back(header);
    info.num_records += header.records_count;
    next = header.next_offset();
  }
  if (!it.status().ok()) return KafkaError(KafkaErrorCode::kCorruptMessage, it.status().message());
  if (it.position() != batches.size()) {
    return KafkaError(KafkaErrorCode::kCorruptMessage,
                      absl::StrCat("truncated record batch at byte ", it.position()));
  }
  if (summaries.empty()) return info;
  // Gaps are legal (compacted leaders), so a batch may start past the current log end.
  auto appended = GuardedWriteLocked([&]() -> absl::StatusOr<LogAppendInfo> {
    for (auto [epoch, offset] : epoch_starts) RETURN_IF_ERROR(MaybeAssignEpoch(epoch, offset));
    return AppendLocked(batches.substr(0, it.position()), summaries, info);
  });
  // The same producer state as the leader's, so a new leader de-duplicates as the old one did.
  if (appended.ok()) RecordProducersLocked(headers, summaries);
  return appended;
}

absl::StatusOr<LogAppendInfo> PartitionLog::AppendLocked(std::string_view bytes,
                                                         const std::vector<BatchSummary>& batches,
                                                         LogAppendInfo info) {
  RETURN_IF_ERROR(MaybeRoll(static_cast<int64_t>(bytes.size()), batches.back().last_offset));
  if (batches.front().base_offset > active().next_offset() && active().empty()) {
    // An empty active segment whose base is below a (gapped) follower append: restart it at
    // the batch's offset so the segment's relative offsets stay small.
    RETURN_IF_ERROR(active().Delete());
    segments_.erase(std::prev(segments_.end()));
    ASSIGN_OR_RETURN(auto segment, LogSegment::Create(dir_, batches.front().base_offset,
                                                      config_.index_interval_bytes,
                                                      clock_->WallMs()));
    segments_[batches.front().base_offset] = std::move(segment);
  }
  RETURN_IF_ERROR(active().Append(bytes, batches));
  info.last_offset = Offset(batches.back().last_offset);
  info.num_batches = static_cast<int32_t>(batches.size());
  info.size_bytes = static_cast<int64_t>(bytes.size());
  for (const BatchSummary& b : batches) info.max_timestamp = std::max(info.max_timestamp, b.max_timestamp);
  unflushed_records_ += info.num_records;
  if (unflushed_records_ >= config_.flush_messages) RETURN_IF_ERROR(FlushLocked());
  return info;
}

absl::Status PartitionLog::MaybeAssignEpoch(int32_t epoch, int64_t offset) {
  if (epoch < 0) return absl::OkStatus();
  if (epochs_.LatestEpoch() && *epochs_.LatestEpoch() >= epoch) return absl::OkStatus();
  epochs_.Assign(epoch, offset);
  return PersistEpochCache();
}

absl::Status PartitionLog::MaybeRoll(int64_t incoming_bytes, int64_t last_offset) {
  LogSegment& seg = active();
  if (seg.empty()) return absl::OkStatus();
  bool full = seg.size_bytes() > config_.segment_bytes - incoming_bytes;
  // A compacted log rolls by max.compaction.lag.ms too, so its head becomes cleanable (Kafka).
  int64_t roll_ms = config_.compact() ? std::min(config_.segment_ms, config_.max_compaction_lag_ms)
                                      : config_.segment_ms;
  bool old = clock_->WallMs() - seg.created_ms() >= roll_ms;
  bool offsets_overflow = last_offset - seg.base_offset() > INT32_MAX;
  if (full || old || offsets_overflow) return RollLocked();
  return absl::OkStatus();
}

absl::Status PartitionLog::Roll() {
  absl::MutexLock lock(&mu_);
  if (active().empty()) return absl::OkStatus();
  return GuardedWriteLocked([&] { return RollLocked(); });
}

absl::Status PartitionLog::RollLocked() {
  LogSegment& old = active();
  int64_t new_base = old.next_offset();
  old.OnBecomeInactive();
  RETURN_IF_ERROR(old.Flush());
  recovery_point_ = std::max(recovery_point_, new_base);
  ASSIGN_OR_RETURN(auto segment, LogSegment::Create(dir_, new_base, config_.index_interval_bytes,
                                                    clock_->WallMs()));
  RETURN_IF_ERROR(SyncDirectory(dir_));  // the new segment's directory entry
  Logger("storage")->debug("rolled {} to new segment {}", topic_partition_.DirName(), new_base);
  segments_[new_base] = std::move(segment);
  // The producer state as of the new segment's base: a recovery replays from here, not from the
  // log start. Losing it only costs a longer replay.
  if (auto st = SnapshotProducersLocked(); !st.ok()) {
    Logger("storage")->warn("no producer snapshot for {} at {}: {}", topic_partition_.DirName(),
                            new_base, st.message());
  }
  return absl::OkStatus();
}

absl::StatusOr<FileSlice> PartitionLog::Read(Offset start, int64_t max_bytes, Offset max_offset,
                                             bool min_one_batch) const {
  absl::MutexLock lock(&mu_);
  int64_t offset = start.value();
  int64_t leo = segments_.rbegin()->second->next_offset();
  if (offset < log_start_offset_ || offset > leo) {
    return KafkaError(KafkaErrorCode::kOffsetOutOfRange,
                      absl::StrCat("offset ", offset, " is outside [", log_start_offset_, ", ",
                                   leo, "] of ", topic_partition_.DirName()));
  }
  FileSlice empty{segments_.rbegin()->second->file(), 0, 0};
  if (offset >= leo || offset >= max_offset.value()) return empty;
  auto it = segments_.upper_bound(offset);
  GREGOR_CHECK(it != segments_.begin());
  for (--it; it != segments_.end(); ++it) {
    ASSIGN_OR_RETURN(auto slice, it->second->Read(offset, max_bytes, max_offset.value(),
                                                  min_one_batch));
    if (slice) return *slice;
  }
  return empty;
}

absl::StatusOr<std::optional<TimestampOffset>> PartitionLog::FetchOffsetByTimestamp(
    int64_t timestamp) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [base, segment] : segments_) {
    if (segment->max_timestamp() < timestamp) continue;
    ASSIGN_OR_RETURN(auto found, segment->FindOffsetByTimestamp(timestamp, log_start_offset_));
    if (found) return *found;
  }
  return std::nullopt;
}

std::optional<TimestampOffset> PartitionLog::MaxTimestampOffset() const {
  absl::MutexLock lock(&mu_);
  std::optional<TimestampOffset> best;
  for (const auto& [base, segment] : segments_) {
    if (segment->offset_of_max_timestamp() < 0) continue;
    if (!best || segment->max_timestamp() > best->timestamp) {
      best = TimestampOffset{segment->max_timestamp(), segment->offset_of_max_timestamp()};
    }
  }
  return best;
}

Offset PartitionLog::UpdateHighWatermark(Offset hw) {
  absl::MutexLock lock(&mu_);
  high_watermark_ = std::clamp(hw.value(), log_start_offset_, active().next_offset());
  return Offset(high_watermark_);
}

absl::Status PartitionLog::TruncateTo(Offset offset) {
  absl::MutexLock lock(&mu_);
  return GuardedWriteLocked([&] { return TruncateToLocked(offset.value()); });
}

absl::Status PartitionLog::TruncateToLocked(int64_t offset) {
  GREGOR_CHECK(offset >= 0);
  int64_t leo = active().next_offset();
  if (offset >= leo) {
    // Nothing to cut, but epochs recorded at or after `offset` that no batch carries (a leader
    // elected without writing) go, so the last epoch is that of the last batch.
    if (epochs_.TruncateFromEnd(offset)) RETURN_IF_ERROR(PersistEpochCache());
    return absl::OkStatus();
  }
  if (offset < log_start_offset_) return TruncateFullyLocked(offset);
  Logger("storage")->info("truncating {} from log end {} to {}", topic_partition_.DirName(), leo,
                          offset);
  // A clean in progress is void if a non-active segment changes.
  if (offset < active().base_offset()) ++generation_;
  truncated_to_ = std::min(truncated_to_, offset);
  // Segments starting at or after the offset go; the first segment always stays.
  while (segments_.size() > 1 && segments_.rbegin()->first >= offset) {
    RETURN_IF_ERROR(active().Delete());
    segments_.erase(std::prev(segments_.end()));
  }
  ASSIGN_OR_RETURN(int64_t removed, active().TruncateTo(offset));
  (void)removed;
  int64_t new_leo = active().next_offset();
  high_watermark_ = std::min(high_watermark_, new_leo);
  recovery_point_ = std::min(recovery_point_, new_leo);
  log_start_offset_ = std::min(log_start_offset_, new_leo);
  if (epochs_.TruncateFromEnd(new_leo)) RETURN_IF_ERROR(PersistEpochCache());
  // Rebuilt as of the new log end: the newest snapshot at or below it, then the batches after.
  RETURN_IF_ERROR(LoadProducerStateLocked());
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status PartitionLog::TruncateFullyAndStartAt(Offset offset) {
  absl::MutexLock lock(&mu_);
  return GuardedWriteLocked([&] { return TruncateFullyLocked(offset.value()); });
}

absl::Status PartitionLog::TruncateFullyLocked(int64_t offset) {
  Logger("storage")->info("truncating {} fully, restarting at offset {}",
                          topic_partition_.DirName(), offset);
  ++generation_;
  truncated_to_ = std::min<int64_t>(truncated_to_, 0);
  for (auto& [base, segment] : segments_) RETURN_IF_ERROR(segment->Delete());
  segments_.clear();
  ASSIGN_OR_RETURN(auto segment, LogSegment::Create(dir_, offset, config_.index_interval_bytes,
                                                    clock_->WallMs()));
  segments_[offset] = std::move(segment);
  log_start_offset_ = high_watermark_ = recovery_point_ = offset;
  epochs_.Clear();
  RETURN_IF_ERROR(PersistEpochCache());
  ClearProducersLocked();
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status PartitionLog::MaybeIncrementLogStartOffset(Offset offset) {
  absl::MutexLock lock(&mu_);
  int64_t new_start = offset.value();
  if (new_start <= log_start_offset_) return absl::OkStatus();
  if (new_start > active().next_offset()) {
    return KafkaError(KafkaErrorCode::kOffsetOutOfRange,
                      absl::StrCat("log start offset ", new_start, " is past the log end ",
                                   active().next_offset()));
  }
  log_start_offset_ = new_start;
  high_watermark_ = std::max(high_watermark_, new_start);
  RETURN_IF_ERROR(DeleteSegmentsBelow(new_start));
  if (epochs_.TruncateFromStart(new_start)) RETURN_IF_ERROR(PersistEpochCache());
  TrimProducersBelowStartLocked();
  CheckInvariants();
  return absl::OkStatus();
}

absl::Status PartitionLog::DeleteSegmentsBelow(int64_t offset) {
  // A segment is entirely below `offset` when the next segment starts at or before it.
  while (segments_.size() > 1) {
    auto second = std::next(segments_.begin());
    if (second->first > offset) break;
    ++generation_;
    RETURN_IF_ERROR(segments_.begin()->second->Delete());
    segments_.erase(segments_.begin());
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PartitionLog::DeleteOldSegments() {
  absl::MutexLock lock(&mu_);
  int64_t now = clock_->WallMs();
  int64_t total = 0;
  for (const auto& [base, segment] : segments_) total += segment->size_bytes();
  int deleted = 0;
  while (segments_.size() > 1) {
    LogSegment& oldest = *segments_.begin()->second;
    int64_t upper = std::next(segments_.begin())->first;
    if (upper > high_watermark_) break;  // never delete what is not yet committed
    int64_t largest = oldest.max_timestamp() >= 0 ? oldest.max_timestamp() : oldest.created_ms();
    // cleanup.policy=compact alone keeps segments (as Kafka); retention needs "delete".
    const bool delete_policy = config_.delete_retention();
    bool by_time = delete_policy && config_.retention_ms >= 0 && now - largest > config_.retention_ms;
    bool by_size = delete_policy && config_.retention_bytes >= 0 &&
                   total - oldest.size_bytes() >= config_.retention_bytes;
    bool by_start = upper <= log_start_offset_;
    if (!by_time && !by_size && !by_start) break;
    Logger("storage")->info("deleting segment {} of {} ({})", oldest.base_offset(),
                            topic_partition_.DirName(),
                            by_start ? "below log start" : by_time ? "retention.ms" : "retention.bytes");
    total -= oldest.size_bytes();
    ++generation_;
    RETURN_IF_ERROR(oldest.Delete());
    segments_.erase(segments_.begin());
    ++deleted;
  }
  if (deleted > 0) {
    log_start_offset_ = std::max(log_start_offset_, segments_.begin()->first);
    high_watermark_ = std::max(high_watermark_, log_start_offset_);
    if (epochs_.TruncateFromStart(log_start_offset_)) RETURN_IF_ERROR(PersistEpochCache());
    TrimProducersBelowStartLocked();
    CheckInvariants();
  }
  return deleted;
}

absl::Status PartitionLog::AssignEpochStartOffset(LeaderEpoch epoch, Offset offset) {
  absl::MutexLock lock(&mu_);
  return GuardedWriteLocked([&] {
    return epochs_.Assign(epoch.value(), offset.value()) ? PersistEpochCache() : absl::OkStatus();
  });
}

EpochEndOffset PartitionLog::EndOffsetForEpoch(LeaderEpoch epoch) const {
  absl::MutexLock lock(&mu_);
  return epochs_.EndOffsetFor(epoch.value(), segments_.rbegin()->second->next_offset());
}

std::optional<LeaderEpoch> PartitionLog::LatestEpoch() const {
  absl::MutexLock lock(&mu_);
  if (auto e = epochs_.LatestEpoch()) return LeaderEpoch(*e);
  return std::nullopt;
}

std::vector<EpochEntry> PartitionLog::EpochEntries() const {
  absl::MutexLock lock(&mu_);
  return epochs_.entries();
}

absl::Status PartitionLog::Flush() {
  absl::MutexLock lock(&mu_);
  return GuardedWriteLocked([&] { return FlushLocked(); });
}

absl::Status PartitionLog::FlushLocked() {
  for (auto it = segments_.lower_bound(0); it != segments_.end(); ++it) {
    // Segments wholly below the recovery point were fsynced when they were rolled.
    int64_t upper = std::next(it) == segments_.end() ? INT64_MAX : std::next(it)->first;
    if (upper <= recovery_point_) continue;
    RETURN_IF_ERROR(it->second->Flush());
  }
  recovery_point_ = active().next_offset();
  unflushed_records_ = 0;
  last_flush_ms_ = clock_->SteadyMs();
  return absl::OkStatus();
}

absl::Status PartitionLog::MaybeFlush() {
  absl::MutexLock lock(&mu_);
  if (closed_ || offline_ || config_.flush_ms == std::numeric_limits<int64_t>::max()) {
    return absl::OkStatus();
  }
  if (clock_->SteadyMs() - last_flush_ms_ < config_.flush_ms) return absl::OkStatus();
  if (recovery_point_ == active().next_offset()) {
    last_flush_ms_ = clock_->SteadyMs();
    return absl::OkStatus();
  }
  return GuardedWriteLocked([&] { return FlushLocked(); });
}

absl::Status PartitionLog::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  if (offline_) {
    closed_ = true;
    ++generation_;
    return absl::OkStatus();
  }
  active().OnBecomeInactive();
  RETURN_IF_ERROR(FlushLocked());
  RETURN_IF_ERROR(PersistEpochCache());
  RETURN_IF_ERROR(SnapshotProducersLocked());
  closed_ = true;
  ++generation_;
  return absl::OkStatus();
}

absl::Status PartitionLog::Delete() {
  absl::MutexLock lock(&mu_);
  closed_ = true;  // segments stay open (unlinked) so concurrent readers finish safely
  ++generation_;
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot delete ", dir_, ": ", ec.message()));
  Logger("storage")->info("deleted log {}", topic_partition_.DirName());
  return absl::OkStatus();
}

void PartitionLog::SetConfig(const LogConfig& config) {
  absl::MutexLock lock(&mu_);
  config_ = config;
}

LogConfig PartitionLog::config() const {
  absl::MutexLock lock(&mu_);
  return config_;
}

Offset PartitionLog::log_start_offset() const {
  absl::MutexLock lock(&mu_);
  return Offset(log_start_offset_);
}

Offset PartitionLog::log_end_offset() const {
  absl::MutexLock lock(&mu_);
  return Offset(segments_.rbegin()->second->next_offset());
}

Offset PartitionLog::high_watermark() const {
  absl::MutexLock lock(&mu_);
  return Offset(high_watermark_);
}

Offset PartitionLog::recovery_point() const {
  absl::MutexLock lock(&mu_);
  return Offset(recovery_point_);
}

int64_t PartitionLog::size_bytes() const {
  absl::MutexLock lock(&mu_);
  int64_t total = 0;
  for (const auto& [base, segment] : segments_) total += segment->size_bytes();
  return total;
}

std::vector<SegmentInfo> PartitionLog::Segments() const {
  absl::MutexLock lock(&mu_);
  std::vector<SegmentInfo> out;
  for (const auto& [base, segment] : segments_) {
    out.push_back({base, segment->next_offset(), segment->size_bytes(), segment->max_timestamp()});
  }
  return out;
}

}  // namespace gregor::storage
