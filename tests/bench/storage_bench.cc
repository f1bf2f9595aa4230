// Storage engine benchmarks: append throughput as leader, sequential read throughput, and the
// time to recover a partition after an unclean stop.
//
// Data lives in a fresh directory under /tmp, removed at exit. The read and recovery
// benchmarks share one log of GREGOR_BENCH_BYTES bytes (default 1 GiB; accepts a k/m/g
// suffix, e.g. GREGOR_BENCH_BYTES=64m for a quick run), written once on first use.
//
// Nothing here drops the page cache: reads and recovery run against a warm cache (the data was
// just written), so they measure the engine's CPU cost, not the disk.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file.h"
#include "broker/storage/log_config.h"
#include "broker/storage/partition_log.h"
#include "common/clock.h"
#include "common/record_batch.h"
#include "common/types.h"

namespace gregor::storage {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultBenchBytes = int64_t{1} << 30;
constexpr size_t kMaxBatchBytes = 32 * 1024;  // read buffer slack past 1 MiB
constexpr int64_t kReadMaxBytes = 1 << 20;

// GREGOR_BENCH_BYTES, with an optional k/m/g (binary) suffix.
int64_t BenchBytes() {
  const char* env = std::getenv("GREGOR_BENCH_BYTES");
  if (env == nullptr || *env == '\0') return kDefaultBenchBytes;
  char* end = nullptr;
  long long n = std::strtoll(env, &end, 10);
  int shift = 0;
  switch (*end) {
    case 'k': case 'K': shift = 10; ++end; break;
    case 'm': case 'M': shift = 20; ++end; break;
    case 'g': case 'G': shift = 30; ++end; break;
    default: break;
  }
  if (n <= 0 || *end != '\0') {
    std::fprintf(stderr, "bad GREGOR_BENCH_BYTES '%s'; using %lld\n", env,
                 static_cast<long long>(kDefaultBenchBytes));
    return kDefaultBenchBytes;
  }
  return static_cast<int64_t>(n) << shift;
}

// The temp root, created on first use and removed at exit.
const std::string& Root() {
  static const std::string* root = [] {
    std::string tmpl = "/tmp/gregor-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    auto* path = new std::string(tmpl);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(Root(), ec);
    });
    return path;
  }();
  return *root;
}

LogConfig BenchConfig() {
  LogConfig config;  // defaults: no fsync (flush.messages / flush.ms unlimited)
  config.segment_bytes = int64_t{1} << 30;
  return config;
}

// A producer batch of `records` records with `value_bytes`-byte values and short keys ("key-<i>").
std::string MakeBatch(size_t value_bytes, size_t records) {
  const int64_t now = SystemClock::Get().WallMs();
  record::BatchBuilder builder;
  for (size_t i = 0; i < records; ++i) {
    builder.Add(absl::StrCat("key-", i), std::string(value_bytes, static_cast<char>('a' + i % 26)),
                now + static_cast<int64_t>(i));
  }
  auto batch = builder.Build();
  if (!batch.ok()) {
    std::fprintf(stderr, "cannot build batch: %s\n", std::string(batch.status().message()).c_str());
    std::abort();
  }
  return *std::move(batch);
}

absl::StatusOr<std::unique_ptr<PartitionLog>> OpenLog(const std::string& dir, bool clean,
                                                      std::optional<int64_t> recovery_point) {
  PartitionLog::Options options;
  options.dir = dir;
  options.topic_partition = {"bench", 0};
  options.config = BenchConfig();
  options.clock = &SystemClock::Get();
  options.had_clean_shutdown = clean;
  options.recovery_point = recovery_point;
  return PartitionLog::Open(std::move(options));
}

// (a) AppendAsLeader into a fresh log. The batch is built once; each iteration copies it into
// a reused buffer, since the append rewrites baseOffset and the leader epoch in place.
void BM_AppendAsLeader(benchmark::State& state) {
  const size_t value_bytes = static_cast<size_t>(state.range(0));
  const int64_t records = state.range(1);
  const std::string batch = MakeBatch(value_bytes, static_cast<size_t>(records));
  const std::string dir = absl::StrCat(Root(), "/append-", value_bytes);
  auto log = OpenLog(dir, /*clean=*/true, std::nullopt);
  if (!log.ok()) {
    state.SkipWithError(std::string(log.status().message()).c_str());
    return;
  }
  std::string buffer;
  buffer.reserve(batch.size());
  for (auto _ : state) {
    buffer.assign(batch);
    auto info = (*log)->AppendAsLeader(absl::MakeSpan(buffer), LeaderEpoch(0));
    if (!info.ok()) {
      state.SkipWithError(std::string(info.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(info->last_offset);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
  state.SetItemsProcessed(state.iterations() * records);
  state.counters["batch_bytes"] = static_cast<double>(batch.size());
  log->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}
// About 16 KiB batches: 16 records of 1 KiB, or 140 records of 100 bytes.
BENCHMARK(BM_AppendAsLeader)
    ->ArgNames({"value_bytes", "records_per_batch"})
    ->Args({1024, 16})
    ->Args({100, 140})
    ->UseRealTime();

// The shared log for the read and recovery benchmarks: GREGOR_BENCH_BYTES of 16-record batches
// of 1 KiB values, flushed and closed cleanly.
struct Dataset {
  std::string dir;
  int64_t bytes = 0;
  int64_t log_end_offset = 0;
  std::string error;
};

const Dataset& SharedDataset() {
  static const Dataset* dataset = [] {
    auto* d = new Dataset;
    d->dir = Root() + "/dataset";
    const int64_t target = BenchBytes();
    auto log = OpenLog(d->dir, /*clean=*/true, std::nullopt);
    if (!log.ok()) {
      d->error = std::string(log.status().message());
      return d;
    }
    const std::string batch = MakeBatch(1024, 16);
    std::string buffer;
    while ((*log)->size_bytes() < target) {
      buffer.assign(batch);
      auto info = (*log)->AppendAsLeader(absl::MakeSpan(buffer), LeaderEpoch(0));
      if (!info.ok()) {
        d->error = std::string(info.status().message());
        return d;
      }
    }
    d->bytes = (*log)->size_bytes();
    d->log_end_offset = (*log)->log_end_offset().value();
    if (auto closed = (*log)->Close(); !closed.ok()) d->error = std::string(closed.message());
    return d;
  }();
  return *dataset;
}

// (b) A consumer walking the whole log: Read(offset, 1 MiB, LEO), then pread of the slice into a
// reused buffer. One iteration is one pass from offset 0 to the log end.
void BM_SequentialRead(benchmark::State& state) {
  const Dataset& data = SharedDataset();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  auto log = OpenLog(data.dir, /*clean=*/true, std::nullopt);
  if (!log.ok()) {
    state.SkipWithError(std::string(log.status().message()).c_str());
    return;
  }
  std::string buffer(static_cast<size_t>(kReadMaxBytes) + kMaxBatchBytes, '\0');
  int64_t reads = 0;
  for (auto _ : state) {
    int64_t offset = 0;
    while (offset < data.log_end_offset) {
      auto slice = (*log)->Read(Offset(offset), kReadMaxBytes, Offset(data.log_end_offset));
      if (!slice.ok() || slice->size == 0) {
        state.SkipWithError(slice.ok() ? "empty read before the log end"
                                       : std::string(slice.status().message()).c_str());
        break;
      }
      if (static_cast<size_t>(slice->size) > buffer.size()) buffer.resize(slice->size);
      auto n = slice->file->ReadAt(slice->position, static_cast<size_t>(slice->size),
                                   buffer.data());
      if (!n.ok() || *n != static_cast<size_t>(slice->size)) {
        state.SkipWithError("short read");
        break;
      }
      // The next offset follows the last batch of the slice (headers only, as a consumer's
      // fetch loop would).
      record::BatchIterator it(std::string_view(buffer.data(), *n));
      record::BatchHeader header;
      std::string_view batch;
      while (it.Next(&header, &batch)) offset = header.next_offset();
      ++reads;
    }
  }
  state.SetBytesProcessed(state.iterations() * data.bytes);
  state.counters["reads_per_pass"] =
      benchmark::Counter(static_cast<double>(reads) / static_cast<double>(state.iterations()));
  state.counters["log_bytes"] = static_cast<double>(data.bytes);
  if (auto closed = (*log)->Close(); !closed.ok()) {
    state.SkipWithError(std::string(closed.message()).c_str());
  }
}
BENCHMARK(BM_SequentialRead)->Unit(benchmark::kMillisecond)->UseRealTime();

// (c) Opening the shared log after an unclean stop with recovery point 0: every batch is
// re-validated (CRC) and the indexes are rebuilt and written.
void BM_RecoverAfterUncleanStop(benchmark::State& state) {
  const Dataset& data = SharedDataset();
  if (!data.error.empty()) {
    state.SkipWithError(data.error.c_str());
    return;
  }
  for (auto _ : state) {
    auto log = OpenLog(data.dir, /*clean=*/false, /*recovery_point=*/0);
    if (!log.ok()) {
      state.SkipWithError(std::string(log.status().message()).c_str());
      break;
    }
    if ((*log)->log_end_offset().value() != data.log_end_offset) {
      state.SkipWithError("recovery lost data");
      break;
    }
    state.PauseTiming();
    log->reset();  // dropped without Close(): the next iteration recovers again
    state.ResumeTiming();
  }
  state.SetBytesProcessed(state.iterations() * data.bytes);
  state.counters["log_bytes"] = static_cast<double>(data.bytes);
}
BENCHMARK(BM_RecoverAfterUncleanStop)->Unit(benchmark::kSecond)->Iterations(3)->UseRealTime();

}  // namespace
}  // namespace gregor::storage

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(gregor::storage::Root(), ec);
  return 0;
}
