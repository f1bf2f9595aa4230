// cleaner_bench: the log cleaner's throughput on this machine, one thread, no I/O bound.
//
//   cleaner_bench [--mb 256] [--dir /tmp] [--dedupe-mb 128]
//
// For each case (100 B and 1 KiB records; 1 % and 50 % of the records have a unique key; no
// compression and zstd) it writes --mb MB of keyed records (producer-style batches of 200
// records, 64 MiB segments), rolls, and runs one clean of the whole log.
// It prints Kafka's figure "MB of log processed per second" (bytes the clean pass read / total
// time, both passes included), the time of each pass, the key map's size (24 bytes per slot, so
// its memory) and fill, and the size reduction. The page cache is warm (the log was just
// written), as it is for a cleaner that follows its producers.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/log_cleaner.h"
#include "broker/storage/partition_log.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/record_batch.h"

namespace {

using namespace gregor;

struct Case {
  int record_bytes;
  double unique_share;  // distinct keys / records
  Compression codec;
};

int64_t g_dedupe_mb = 128;

int Run(const Case& c, int64_t mb, const std::string& base_dir) {
  namespace fs = std::filesystem;
  std::string dir = absl::StrCat(base_dir, "/gregor-cleaner-bench-", ::getpid());
  fs::remove_all(dir);
  ManualClock clock;
  storage::LogConfig config;
  config.cleanup_policy = "compact";
  config.segment_bytes = 64 << 20;
  config.min_cleanable_dirty_ratio = 0;
  storage::PartitionLog::Options options;
  options.dir = dir + "/bench-0";
  options.topic_partition = {"bench", 0};
  options.config = config;
  options.clock = &clock;
  auto log = storage::PartitionLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(log.status().message()).c_str());
    return 1;
  }
  const int64_t records = mb * (1 << 20) / c.record_bytes;
  const int64_t keys = std::max<int64_t>(1, static_cast<int64_t>(records * c.unique_share));
  std::mt19937_64 rng(42);
  std::string value(static_cast<size_t>(std::max(1, c.record_bytes - 24)), 'v');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + rng() % 26);
  int64_t written = 0;
  while (written < records) {
    record::BatchBuilder b(c.codec);
    for (int i = 0; i < 200 && written < records; ++i, ++written) {
      b.Add(absl::StrCat("key-", rng() % keys), value, 1'700'000'000'000 + written);
    }
    std::string batch = *b.Build();
    auto appended = (*log)->AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(0));
    if (!appended.ok()) {
      std::fprintf(stderr, "append: %s\n", std::string(appended.status().message()).c_str());
      return 1;
    }
  }
  (void)(*log)->Roll();
  (*log)->UpdateHighWatermark((*log)->log_end_offset());
  (*log)->RaiseTombstoneFloor((*log)->log_end_offset().value());

  storage::CleanerConfig cc;
  cc.threads = 1;
  cc.dedupe_buffer_size = g_dedupe_mb << 20;
  storage::PartitionLog* raw = log->get();
  storage::LogCleaner cleaner(cc, &clock, [&] {
    return std::vector<storage::LogCleaner::LogRef>{
        {std::shared_ptr<storage::PartitionLog>(raw, [](storage::PartitionLog*) {}), dir}};
  });
  if (!cleaner.CleanFilthiestLog(0)) {
    std::fprintf(stderr, "nothing cleaned\n");
    return 1;
  }
  storage::CleanerPartitionState state = cleaner.StateOf({"bench", 0});
  if (!state.last) {
    std::fprintf(stderr, "the clean failed: %s\n", state.uncleanable.c_str());
    return 1;
  }
  const storage::CleanPassResult& r = *state.last;
  const double read_mb = static_cast<double>(r.stats.bytes_read) / (1 << 20);
  std::printf(
      "%5d B  %4.0f%% unique  %-5s  %7.1f MB  %7.1f MB/s  (map %.2f s, copy %.2f s)  "
      "map %lld keys %.1f%% full, %lld MiB  -> %.1f MB\n",
      c.record_bytes, 100 * c.unique_share, std::string(CompressionName(c.codec)).c_str(), read_mb,
      read_mb / r.total_seconds, r.map_seconds, r.total_seconds - r.map_seconds,
      static_cast<long long>(keys), 100 * r.buffer_utilization,
      static_cast<long long>(cc.dedupe_buffer_size >> 20),
      static_cast<double>(r.stats.bytes_written) / (1 << 20));
  log->reset();
  fs::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t mb = 256;
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mb") (void)absl::SimpleAtoi(argv[i + 1], &mb);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--dedupe-mb") (void)absl::SimpleAtoi(argv[i + 1], &g_dedupe_mb);
  }
  gregor::InitLogging("warn");
  const Case cases[] = {
      {100, 0.01, gregor::Compression::kNone},  {100, 0.5, gregor::Compression::kNone},
      {1024, 0.01, gregor::Compression::kNone}, {1024, 0.5, gregor::Compression::kNone},
      {100, 0.01, gregor::Compression::kZstd},  {100, 0.5, gregor::Compression::kZstd},
      {1024, 0.01, gregor::Compression::kZstd}, {1024, 0.5, gregor::Compression::kZstd},
  };
  std::printf("cleaner throughput, one thread, %lld MB of log per case (MB/s = MB the clean "
              "pass read / total time of both passes)\n",
              static_cast<long long>(mb));
  for (const auto& c : cases) {
    if (Run(c, mb, dir) != 0) return 1;
  }
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS of the process: %ld MiB (key map: %lld MiB, allocated on the first clean)\n",
              usage.ru_maxrss / 1024, static_cast<long long>(g_dedupe_mb));
  return 0;
}
