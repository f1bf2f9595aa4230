#include "broker/storage/producer_snapshot.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/base/internal/endian.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/log_segment.h"
#include "common/crc32c.h"
#include "common/file.h"

namespace gregor::storage {
namespace {

constexpr int16_t kVersion = 1;
constexpr size_t kHeaderBytes = 2 + 4 + 4;  // version, crc, entry count
constexpr size_t kEntryBytes = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

}  // namespace

std::string EncodeProducerSnapshot(const ProducerStateTable& table) {
  size_t count = 0;
  for (const auto& [pid, entry] : table.entries()) count += entry.batches.size();
  std::string out(kHeaderBytes + count * kEntryBytes, '\0');
  char* p = out.data();
  absl::big_endian::Store16(p, static_cast<uint16_t>(kVersion));
  absl::big_endian::Store32(p + 6, static_cast<uint32_t>(count));  // the CRC (p + 2) last
  p += kHeaderBytes;
  for (const auto& [pid, entry] : table.entries()) {
    for (const ProducerBatch& b : entry.batches) {
      absl::big_endian::Store64(p, static_cast<uint64_t>(pid));
      absl::big_endian::Store16(p + 8, static_cast<uint16_t>(entry.epoch));
      absl::big_endian::Store32(p + 10, static_cast<uint32_t>(b.last_seq));
      absl::big_endian::Store64(p + 14, static_cast<uint64_t>(b.last_offset));
      absl::big_endian::Store32(p + 22, static_cast<uint32_t>(b.last_offset - b.first_offset));
      absl::big_endian::Store64(p + 26, static_cast<uint64_t>(b.timestamp));
      absl::big_endian::Store32(p + 34, static_cast<uint32_t>(-1));  // coordinatorEpoch: no txns
      absl::big_endian::Store64(p + 38, static_cast<uint64_t>(-1));  // currentTxnFirstOffset
      p += kEntryBytes;
    }
  }
  absl::big_endian::Store32(out.data() + 2, Crc32c(std::string_view(out).substr(6)));
  return out;
}

absl::StatusOr<ProducerStateTable> DecodeProducerSnapshot(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return absl::DataLossError(absl::StrCat("producer snapshot of ", bytes.size(), " bytes is too short"));
  }
  const char* p = bytes.data();
  const auto version = static_cast<int16_t>(absl::big_endian::Load16(p));
  if (version != kVersion) {
    return absl::DataLossError(absl::StrCat("producer snapshot has unknown version ", version));
  }
  if (Crc32c(bytes.substr(6)) != absl::big_endian::Load32(p + 2)) {
    return absl::DataLossError("producer snapshot is corrupt (CRC mismatch)");
  }
  const auto count = static_cast<int32_t>(absl::big_endian::Load32(p + 6));
  if (count < 0 || bytes.size() != kHeaderBytes + static_cast<size_t>(count) * kEntryBytes) {
    return absl::DataLossError(absl::StrCat("producer snapshot of ", bytes.size(),
                                            " bytes does not hold ", count, " entries"));
  }
  ProducerStateTable table;
  for (p += kHeaderBytes; p < bytes.data() + bytes.size(); p += kEntryBytes) {
    const auto pid = static_cast<int64_t>(absl::big_endian::Load64(p));
    const auto epoch = static_cast<int16_t>(absl::big_endian::Load16(p + 8));
    const auto last_seq = static_cast<int32_t>(absl::big_endian::Load32(p + 10));
    const auto last_offset = static_cast<int64_t>(absl::big_endian::Load64(p + 14));
    const auto delta = static_cast<int32_t>(absl::big_endian::Load32(p + 22));
    const auto timestamp = static_cast<int64_t>(absl::big_endian::Load64(p + 26));
    // p + 34, p + 38: coordinatorEpoch and currentTxnFirstOffset (transactions).
    if (last_offset < 0) continue;  // an entry without batch metadata (Kafka, after a bump)
    ProducerBatch batch;
    batch.last_seq = last_seq;
    batch.first_seq = last_seq - delta >= 0 ? last_seq - delta
                                           : static_cast<int32_t>(int64_t{last_seq} - delta + INT32_MAX + 1);
    batch.last_offset = last_offset;
    batch.first_offset = last_offset - delta;
    batch.timestamp = timestamp;
    table.Record(pid, epoch, batch);
  }
  return table;
}

std::string ProducerSnapshotPath(const std::string& dir, int64_t offset) {
  return SegmentFileName(dir, offset, ".snapshot");
}

std::vector<int64_t> ListProducerSnapshots(const std::string& dir) {
  std::vector<int64_t> offsets;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string stem = entry.path().stem().string();
    int64_t offset = 0;
    if (entry.path().extension() == ".snapshot" && stem.size() == 20 &&
        absl::SimpleAtoi(stem, &offset) && offset >= 0) {
      offsets.push_back(offset);
    }
  }
  std::sort(offsets.begin(), offsets.end());
  return offsets;
}

absl::Status WriteProducerSnapshot(const std::string& dir, int64_t offset,
                                   const ProducerStateTable& table) {
  return WriteFileAtomically(ProducerSnapshotPath(dir, offset), EncodeProducerSnapshot(table));
}

absl::StatusOr<ProducerStateTable> ReadProducerSnapshot(const std::string& dir, int64_t offset) {
  const std::string path = ProducerSnapshotPath(dir, offset);
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  auto table = DecodeProducerSnapshot(*bytes);
  if (!table.ok()) return absl::DataLossError(absl::StrCat(path, ": ", table.status().message()));
  return table;
}

void DeleteProducerSnapshot(const std::string& dir, int64_t offset) {
  std::error_code ec;
  std::filesystem::remove(ProducerSnapshotPath(dir, offset), ec);
}

}  // namespace gregor::storage
