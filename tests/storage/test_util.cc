#include "tests/storage/test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace gregor::storage::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/gregor-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string MakeBatch(int records, int64_t timestamp, size_t value_bytes, Compression compression,
                      const std::string& prefix) {
  record::BatchBuilder builder(compression);
  for (int i = 0; i < records; ++i) {
    // absl::StrCat rather than operator+: GCC 12 warns falsely (-Wrestrict) on the latter.
    std::string value = absl::StrCat(prefix, "-", i);
    if (value.size() < value_bytes) value.resize(value_bytes, 'x');
    builder.Add(absl::StrCat("k", i), value, timestamp + i);
  }
  auto batch = builder.Build();
  if (!batch.ok()) {
    ADD_FAILURE() << batch.status();
    return "";
  }
  return *batch;
}

std::unique_ptr<PartitionLog> OpenLog(const std::string& dir, const LogConfig& config,
                                      Clock* clock, bool clean,
                                      std::optional<int64_t> recovery_point,
                                      std::optional<int64_t> high_watermark) {
  PartitionLog::Options options;
  options.dir = dir;
  options.topic_partition = {"t", 0};
  options.config = config;
  options.clock = clock;
  options.had_clean_shutdown = clean;
  options.recovery_point = recovery_point;
  options.high_watermark = high_watermark;
  auto log = PartitionLog::Open(options);
  if (!log.ok()) {
    ADD_FAILURE() << "open " << dir << ": " << log.status();
    return nullptr;
  }
  return std::move(*log);
}

int64_t AppendOrDie(PartitionLog& log, std::string batch, int32_t epoch) {
  auto info = log.AppendAsLeader(absl::MakeSpan(batch), LeaderEpoch(epoch));
  if (!info.ok()) {
    ADD_FAILURE() << "append: " << info.status();
    return -1;
  }
  return info->first_offset.value();
}

std::vector<record::Record> ReadAll(const PartitionLog& log, int64_t from,
                                    std::optional<int64_t> max_offset) {
  std::vector<record::Record> out;
  int64_t limit = max_offset.value_or(log.log_end_offset().value());
  int64_t next = from;
  while (next < limit) {
    auto slice = log.Read(Offset(next), 1 << 20, Offset(limit));
    if (!slice.ok()) {
      ADD_FAILURE() << "read at " << next << ": " << slice.status();
      break;
    }
    if (slice->size == 0) break;
    auto bytes = ReadSlice(*slice);
    if (!bytes.ok()) {
      ADD_FAILURE() << bytes.status();
      break;
    }
    record::BatchIterator it(*bytes);
    record::BatchHeader header;
    std::string_view batch;
    while (it.Next(&header, &batch)) {
      auto records = record::DecodeRecords(batch);
      if (!records.ok()) {
        ADD_FAILURE() << records.status();
        return out;
      }
      for (auto& r : *records) {
        if (r.offset >= next) out.push_back(std::move(r));
      }
      next = header.next_offset();
    }
    EXPECT_TRUE(it.status().ok()) << it.status();
  }
  return out;
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace gregor::storage::testing
