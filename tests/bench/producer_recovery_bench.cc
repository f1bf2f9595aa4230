// producer_recovery_bench: how long a partition takes to open (recover its idempotent-producer
// state) with and without producer snapshots.
//
//   producer_recovery_bench [--producers 1000] [--batches 50] [--dir /tmp]
//
// Writes a log of --producers idempotent producers, each with --batches batches of 10 records of
// 100 B, interleaved (64 MiB segments: a snapshot at each roll), closes it cleanly (a snapshot at
// the log end), then opens it 3 times as it is (the state comes from the newest snapshot) and 3
// times with every snapshot deleted (the state comes from reading every batch header of the
// log), checking both give the same state. The page cache is warm in both cases.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/partition_log.h"
#include "broker/storage/producer_snapshot.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/record_batch.h"

namespace {

using namespace gregor;

std::unique_ptr<storage::PartitionLog> Open(const std::string& dir, Clock* clock) {
  storage::PartitionLog::Options options;
  options.dir = dir;
  options.topic_partition = {"bench", 0};
  options.config.segment_bytes = 64 << 20;
  options.clock = clock;
  auto log = storage::PartitionLog::Open(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(log.status().message()).c_str());
    std::exit(1);
  }
  return std::move(*log);
}

double OpenMs(const std::string& dir, Clock* clock, storage::ProducerStateTable* state) {
  auto start = std::chrono::steady_clock::now();
  auto log = Open(dir, clock);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  *state = log->ProducerStates();
  log.reset();  // no Close(): no new snapshot
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  int producers = 1000, batches = 50;
  std::string base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--producers") (void)absl::SimpleAtoi(argv[i + 1], &producers);
    if (flag == "--batches") (void)absl::SimpleAtoi(argv[i + 1], &batches);
    if (flag == "--dir") base = argv[i + 1];
  }
  InitLogging("warn");
  SystemClock clock;
  const std::string dir = absl::StrCat(base, "/producer-recovery-bench-", getpid());
  {
    auto log = Open(dir, &clock);
    const std::string value(100, 'v');
    for (int b = 0; b < batches; ++b) {
      for (int p = 0; p < producers; ++p) {
        record::BatchBuilder builder;
        builder.set_producer(p, 0, b * 10);
        for (int r = 0; r < 10; ++r) builder.Add(std::nullopt, value, clock.WallMs());
        std::string batch = *builder.Build();
        auto info = log->AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(0));
        if (!info.ok()) {
          std::fprintf(stderr, "append: %s\n", std::string(info.status().message()).c_str());
          return 1;
        }
      }
    }
    std::printf("log: %d producers x %d batches of 10 records of 100 B: %lld batches, %.1f MB, "
                "%zu segment(s)\n",
                producers, batches, static_cast<long long>(producers) * batches,
                log->size_bytes() / 1e6, log->Segments().size());
    if (!log->Close().ok()) return 1;
  }
  storage::ProducerStateTable with, without;
  double best_with = 1e18, best_without = 1e18;
  for (int i = 0; i < 3; ++i) best_with = std::min(best_with, OpenMs(dir, &clock, &with));
  for (int64_t offset : storage::ListProducerSnapshots(dir)) storage::DeleteProducerSnapshot(dir, offset);
  for (int i = 0; i < 3; ++i) best_without = std::min(best_without, OpenMs(dir, &clock, &without));
  std::printf("open with the snapshot:  %.1f ms (best of 3)\n", best_with);
  std::printf("open without snapshots:  %.1f ms (best of 3)\n", best_without);
  std::printf("same producer state: %s (%zu producers)\n", with == without ? "yes" : "NO",
              with.entries().size());
  std::filesystem::remove_all(dir);
  return with == without ? 0 : 1;
}
