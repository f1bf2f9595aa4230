#include "broker/storage/producer_snapshot.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

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

template <typename T>
void Put(std::string& out, T value) {
  auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((u >> shift) & 0xff));
  }
}

template <typename T>
T Get(std::string_view bytes, size_t& pos) {
  std::make_unsigned_t<T> u = 0;
  for (size_t i = 0; i < sizeof(T); ++i) u = (u << 8) | static_cast<uint8_t>(bytes[pos + i]);
  pos += sizeof(T);
  return static_cast<T>(u);
}

}  // namespace

std::string EncodeProducerSnapshot(const ProducerStateTable& table) {
  std::string out;
  Put<int16_t>(out, kVersion);
  Put<uint32_t>(out, 0);  // the CRC, below
  size_t count = 0;
  for (const auto& [pid, entry] : table.entries()) count += entry.batches.size();
  Put<int32_t>(out, static_cast<int32_t>(count));
  for (const auto& [pid, entry] : table.entries()) {
    for (const ProducerBatch& b : entry.batches) {
      Put<int64_t>(out, pid);
      Put<int16_t>(out, entry.epoch);
      Put<int32_t>(out, b.last_seq);
      Put<int64_t>(out, b.last_offset);
      Put<int32_t>(out, static_cast<int32_t>(b.last_offset - b.first_offset));
      Put<int64_t>(out, b.timestamp);
      Put<int32_t>(out, -1);  // coordinatorEpoch: no transactions
      Put<int64_t>(out, -1);  // currentTxnFirstOffset
    }
  }
  std::string crc;
  Put<uint32_t>(crc, Crc32c(std::string_view(out).substr(6)));
  out.replace(2, 4, crc);
  return out;
}

absl::StatusOr<ProducerStateTable> DecodeProducerSnapshot(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes) {
    return absl::DataLossError(absl::StrCat("producer snapshot of ", bytes.size(), " bytes is too short"));
  }
  size_t pos = 0;
  const int16_t version = Get<int16_t>(bytes, pos);
  if (version != kVersion) {
    return absl::DataLossError(absl::StrCat("producer snapshot has unknown version ", version));
  }
  const uint32_t crc = Get<uint32_t>(bytes, pos);
  if (Crc32c(bytes.substr(pos)) != crc) {
    return absl::DataLossError("producer snapshot is corrupt (CRC mismatch)");
  }
  const int32_t count = Get<int32_t>(bytes, pos);
  if (count < 0 || bytes.size() != kHeaderBytes + static_cast<size_t>(count) * kEntryBytes) {
    return absl::DataLossError(absl::StrCat("producer snapshot of ", bytes.size(),
                                            " bytes does not hold ", count, " entries"));
  }
  ProducerStateTable table;
  for (int32_t i = 0; i < count; ++i) {
    const int64_t pid = Get<int64_t>(bytes, pos);
    const int16_t epoch = Get<int16_t>(bytes, pos);
    const int32_t last_seq = Get<int32_t>(bytes, pos);
    const int64_t last_offset = Get<int64_t>(bytes, pos);
    const int32_t delta = Get<int32_t>(bytes, pos);
    const int64_t timestamp = Get<int64_t>(bytes, pos);
    pos += 4 + 8;  // coordinatorEpoch, currentTxnFirstOffset
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
