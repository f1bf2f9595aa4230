#include "broker/storage/log_cleaner.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/storage/checkpoint_file.h"
#include "common/logging.h"
#include "common/status.h"

namespace gregor::storage {
namespace {

// Kafka's "%,.1f": one decimal, thousands separated by commas.
std::string Num(double v) {
  const std::string s = absl::StrFormat("%.1f", v);
  const size_t dot = s.find('.');
  const size_t first = s[0] == '-' ? 1 : 0;
  std::string out = s.substr(0, first);
  for (size_t i = first; i < dot; ++i) {
    if (i > first && (dot - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out + s.substr(dot);
}

double Mb(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }
double Rate(double mb, double seconds) { return seconds > 0 ? mb / seconds : 0; }
double Pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

}  // namespace

LogCleaner::LogCleaner(CleanerConfig config, Clock* clock, LogLister lister)
    : config_(config),
      clock_(clock),
      lister_(std::move(lister)),
      throttle_(config.io_max_bytes_per_second) {
  maps_.resize(static_cast<size_t>(std::max(1, config_.threads)));
}

LogCleaner::~LogCleaner() { Stop(); }

absl::Status LogCleaner::LoadCheckpoints(const std::vector<std::string>& log_dirs) {
  for (const std::string& dir : log_dirs) {
    ASSIGN_OR_RETURN(OffsetMap offsets,
                     ReadOffsetCheckpoint(absl::StrCat(dir, "/", kCleanerOffsetCheckpoint)));
    absl::MutexLock lock(&mu_);
    for (const auto& [key, offset] : offsets) {
      states_[TopicPartition{key.first, key.second}].checkpoint = offset;
    }
  }
  return absl::OkStatus();
}

void LogCleaner::Start() {
  if (!config_.enable) return;
  for (int i = 0; i < config_.threads; ++i) threads_.emplace_back([this, i] { Run(i); });
  Logger("cleaner")->info("log cleaner started: {} thread(s), dedupe buffer {} bytes", config_.threads,
                          config_.dedupe_buffer_size);
}

void LogCleaner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  waiter_.Notify();
  cancelled_ = true;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [tp, abort] : in_progress_) *abort = true;
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void LogCleaner::SetSwapHook(SwapHook hook) {
  absl::MutexLock lock(&mu_);
  hook_ = std::move(hook);
}

void LogCleaner::Run(int thread_id) {
  // Background work: on Linux a thread has its own nice value, so the cleaner yields the CPU to
  // the threads serving produce and fetch requests (it has the rest).
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10) != 0) {
    Logger("cleaner")->debug("cannot lower the cleaner thread's priority");
  }
  while (true) {
    bool cleaned = CleanFilthiestLog(thread_id);
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!cleaned) {
      auto stop = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      waiter_.WaitFor(mu_, absl::Milliseconds(config_.backoff_ms), stop);
      if (stopping_) return;
    }
  }
}

bool LogCleaner::CleanFilthiestLog(int thread_id) {
  const int64_t now = clock_->WallMs();
  struct Candidate {
    LogRef ref;
    CleanerView view;
    cleaner::CleanableRange range;
  };
  std::optional<Candidate> best;
  SwapHook hook;
  for (LogRef& ref : lister_()) {
    const TopicPartition& tp = ref.log->topic_partition();
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    if (in_progress_.count(tp)) continue;
    CleanerPartitionState& state = states_[tp];
    CleanerView view = ref.log->TakeCleanerView();
    // A truncation below the checkpoint makes what follows it dirty again.
    if (state.checkpoint > view.truncated_to) state.checkpoint = view.truncated_to;
    if (!view.config.compact() || view.closed || !state.uncleanable.empty()) continue;
    cleaner::CleanableRange range = cleaner::ComputeCleanableRange(
        view.segments, view.log_start_offset, view.log_end_offset, view.high_watermark,
        state.checkpoint, now, view.config.min_compaction_lag_ms);
    state.dirty_ratio = range.dirty_ratio;
    state.cleanable_bytes = range.cleanable_bytes;
    if (!cleaner::ShouldClean(range, view.config.min_cleanable_dirty_ratio,
                              view.config.max_compaction_lag_ms, now)) {
      continue;
    }
    if (!best || range.dirty_ratio > best->range.dirty_ratio) {
      best = Candidate{ref, std::move(view), range};
    }
  }
  if (!best) return false;
  const TopicPartition tp = best->ref.log->topic_partition();
  auto abort = std::make_shared<std::atomic<bool>>(false);
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return false;
    in_progress_[tp] = abort;
    hook = hook_;
  }
  Logger("cleaner")->info("Cleaner {}: beginning cleaning of log {} (dirty ratio {:.2f})",
                          thread_id, tp.DirName(), best->range.dirty_ratio);
  auto& map = maps_[static_cast<size_t>(thread_id) % maps_.size()];
  if (!map) {
    map = std::make_unique<cleaner::OffsetMap>(
        config_.dedupe_buffer_size / std::max(1, config_.threads), config_.dedupe_load_factor);
  }
  CleanPassOptions options;
  options.now_ms = now;
  options.read_buffer_bytes =
      std::max<int64_t>(4096, config_.io_buffer_size / std::max(1, config_.threads) / 2);
  options.throttle = &throttle_;
  options.hook = hook;
  options.cancelled = abort.get();
  absl::StatusOr<CleanPassResult> result =
      CleanLog(*best->ref.log, best->view, best->range, map.get(), options);

  bool write_checkpoint = false;
  {
    CleanerView after = best->ref.log->TakeCleanerView();
    absl::MutexLock lock(&mu_);
    in_progress_.erase(tp);
    auto it = states_.find(tp);
    if (it == states_.end()) return true;  // deleted meanwhile
    CleanerPartitionState& state = it->second;
    if (result.ok()) {
      state.checkpoint = result->end_offset;
      state.last = *result;
      ++state.cleans;
      write_checkpoint = true;
    }
    // Truncated during the clean: what follows the truncation point is dirty again.
    if (state.checkpoint > after.truncated_to) state.checkpoint = after.truncated_to;
    if (result.ok()) {
      // What is dirty now (appends went on during the clean).
      const cleaner::CleanableRange now_range = cleaner::ComputeCleanableRange(
          after.segments, after.log_start_offset, after.log_end_offset, after.high_watermark,
          state.checkpoint, clock_->WallMs(), after.config.min_compaction_lag_ms);
      state.dirty_ratio = now_range.dirty_ratio;
      state.cleanable_bytes = now_range.cleanable_bytes;
    } else if (absl::IsAborted(result.status()) || after.closed) {
      Logger("cleaner")->info("Cleaner {}: cleaning of {} aborted: {}", thread_id, tp.DirName(),
                              result.status().message());
    } else {
      state.uncleanable = std::string(result.status().message());
      Logger("cleaner")->error(
          "Cleaner {}: marking {} uncleanable (it will not be compacted until the broker restarts "
          "or the partition is recreated): {}",
          thread_id, tp.DirName(), state.uncleanable);
    }
  }
  if (write_checkpoint) {
    LogSummary(thread_id, tp, *result);
    absl::Status s = WriteCheckpoint(best->ref.log_dir);
    if (!s.ok()) Logger("cleaner")->error("cannot write cleaner checkpoint: {}", s.message());
  }
  return true;
}

absl::Status LogCleaner::WriteCheckpoint(const std::string& log_dir) {
  absl::MutexLock writer(&checkpoint_mu_);
  OffsetMap offsets;
  std::vector<LogRef> logs = lister_();
  {
    absl::MutexLock lock(&mu_);
    for (const LogRef& ref : logs) {
      if (ref.log_dir != log_dir) continue;
      auto it = states_.find(ref.log->topic_partition());
      if (it == states_.end() || it->second.checkpoint < 0) continue;
      offsets[{it->first.topic, it->first.partition}] = it->second.checkpoint;
    }
  }
  return WriteOffsetCheckpoint(absl::StrCat(log_dir, "/", kCleanerOffsetCheckpoint), offsets);
}

void LogCleaner::LogSummary(int thread_id, const TopicPartition& tp,
                            const CleanPassResult& r) const {
  const double read = Mb(r.stats.bytes_read);
  const double map_mb = Mb(r.map_bytes_read);
  const double clean_s = r.total_seconds - r.map_seconds;
  Logger("cleaner")->info(
      "\n\tLog cleaner thread {} cleaned log {} (dirty section = [{}, {}])\n"
      "\t{} MB of log processed in {} seconds ({} MB/sec).\n"
      "\tIndexed {} MB in {} seconds ({} MB/sec, {}% of total time)\n"
      "\tBuffer utilization: {}%\n"
      "\tCleaned {} MB in {} seconds ({} MB/sec, {}% of total time)\n"
      "\tStart size: {} MB ({} messages)\n"
      "\tEnd size: {} MB ({} messages)\n"
      "\t{}% size reduction ({}% fewer messages)\n",
      thread_id, tp.DirName(), r.first_dirty, r.end_offset, Num(read), Num(r.total_seconds),
      Num(Rate(read, r.total_seconds)), Num(map_mb), Num(r.map_seconds),
      Num(Rate(map_mb, r.map_seconds)), Num(Pct(r.map_seconds, r.total_seconds)),
      Num(100 * r.buffer_utilization), Num(read), Num(clean_s), Num(Rate(read, clean_s)),
      Num(Pct(clean_s, r.total_seconds)), Num(read),
      absl::StrFormat("%d", r.stats.records_read), Num(Mb(r.stats.bytes_written)),
      absl::StrFormat("%d", r.stats.records_kept),
      Num(100.0 - Pct(static_cast<double>(r.stats.bytes_written), static_cast<double>(r.stats.bytes_read))),
      Num(100.0 - Pct(static_cast<double>(r.stats.records_kept), static_cast<double>(r.stats.records_read))));
}

CleanerPartitionState LogCleaner::StateOf(const TopicPartition& tp) const {
  absl::MutexLock lock(&mu_);
  auto it = states_.find(tp);
  return it == states_.end() ? CleanerPartitionState{} : it->second;
}

void LogCleaner::OnLogDeleted(const TopicPartition& tp) {
  absl::MutexLock lock(&mu_);
  if (auto it = in_progress_.find(tp); it != in_progress_.end()) {
    *it->second = true;  // the clean ends at its next chunk, or before its next swap
    auto done = [this, &tp]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !in_progress_.count(tp); };
    mu_.Await(absl::Condition(&done));
  }
  states_.erase(tp);
}

}  // namespace gregor::storage
