// Helpers shared by the storage tests: temporary directories, batch builders, log openers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/storage/partition_log.h"
#include "common/clock.h"
#include "common/record_batch.h"

namespace gregor::storage::testing {

// A fresh directory under $TEST_TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A producer-style batch (base offset 0) of `records` records with values "<prefix>-<i>"
// padded to `value_bytes`, keys "k<i>", timestamps `timestamp + i`.
std::string MakeBatch(int records, int64_t timestamp, size_t value_bytes = 16,
                      Compression compression = Compression::kNone,
                      const std::string& prefix = "v");

// Opens a log in `dir` for topic "t" partition 0.
std::unique_ptr<PartitionLog> OpenLog(const std::string& dir, const LogConfig& config,
                                      Clock* clock, bool clean = true,
                                      std::optional<int64_t> recovery_point = std::nullopt,
                                      std::optional<int64_t> high_watermark = std::nullopt);

// Appends `batch` as leader at `epoch`; fails the test on error. Returns the first offset.
int64_t AppendOrDie(PartitionLog& log, std::string batch, int32_t epoch = 0);

// Every record readable from `from` up to `max_offset` (default: the log end), following
// Read() calls as a consumer would.
std::vector<record::Record> ReadAll(const PartitionLog& log, int64_t from = 0,
                                    std::optional<int64_t> max_offset = std::nullopt);

// Raw bytes of a file (the whole file).
std::string FileBytes(const std::string& path);
void WriteBytes(const std::string& path, const std::string& bytes);

}  // namespace gregor::storage::testing
