#include "tools/log_dump.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file.h"
#include "broker/storage/offset_index.h"
#include "broker/storage/producer_snapshot.h"
#include "broker/storage/producer_state.h"
#include "broker/storage/time_index.h"
#include "common/record_batch.h"
#include "common/strings.h"

namespace gregor::tools {
namespace {

namespace fs = std::filesystem;

// Printable text as is; anything else (binary keys and values) as hex.
std::string Show(const std::optional<std::string>& bytes) {
  if (!bytes) return "null";
  bool printable = std::all_of(bytes->begin(), bytes->end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
  if (printable) return *bytes;
  return "0x" + absl::BytesToHexString(*bytes);
}

struct BatchLocation {
  int64_t position;
  record::BatchHeader header;
};

struct SegmentScan {
  std::vector<BatchLocation> batches;
  bool corrupt = false;
};

// Prints every batch of one segment file; stops at the first corrupt one.
// `*next` is where the log should continue (-1: unknown); offsets skipped before a batch, or
// between records of a batch, are printed as gaps (a compacted log has them) and counted.
SegmentScan DumpSegment(const std::string& path, const LogDumpOptions& options, std::ostream& out,
                        std::ostream& err, int64_t* next, int64_t* gap_offsets) {
  auto gap = [&](const char* prefix, int64_t from, int64_t to) {
    out << prefix << "gap: offsets " << from << ".." << to << " are not in the log ("
        << (to - from + 1) << " removed by compaction or never written)\n";
    *gap_offsets += to - from + 1;
  };
  SegmentScan scan;
  auto file = File::Open(path, /*create=*/false);
  if (!file.ok()) {
    err << "cannot open " << path << ": " << file.status().message() << "\n";
    scan.corrupt = true;
    return scan;
  }
  auto size = (*file)->Size();
  if (!size.ok()) {
    err << size.status().message() << "\n";
    scan.corrupt = true;
    return scan;
  }
  out << "Dumping " << path << "\n";
  int64_t position = 0;
  int64_t expected_next = -1;
  std::string bytes;
  while (position < *size) {
    auto fail = [&](const std::string& why) {
      out << "CORRUPT at position " << position << ": " << why << "\n";
      err << path << ": corrupt at byte position " << position << ": " << why << "\n";
      scan.corrupt = true;
    };
    if (*size - position < static_cast<int64_t>(record::kLogOverhead)) {
      fail(absl::StrCat("partial batch: only ", *size - position, " bytes left"));
      break;
    }
    bytes.resize(record::kLogOverhead);
    if (auto s = (*file)->ReadExactly(position, bytes.size(), bytes.data()); !s.ok()) {
      fail(std::string(s.message()));
      break;
    }
    auto batch_size = record::PeekBatchSize(bytes);
    if (!batch_size.ok()) {
      fail(std::string(batch_size.status().message()));
      break;
    }
    if (static_cast<int64_t>(*batch_size) > *size - position) {
      fail(absl::StrCat("batch of ", *batch_size, " bytes runs past the end of the file (",
                        *size - position, " bytes left)"));
      break;
    }
    bytes.resize(*batch_size);
    if (auto s = (*file)->ReadExactly(position, bytes.size(), bytes.data()); !s.ok()) {
      fail(std::string(s.message()));
      break;
    }
    auto header = record::ParseBatchHeader(bytes);
    if (!header.ok()) {
      fail(std::string(header.status().message()));
      break;
    }
    uint32_t crc = record::ComputeBatchCrc(bytes);
    bool crc_ok = crc == header->crc;
    out << absl::StrFormat(
        "baseOffset: %d lastOffset: %d count: %d position: %d size: %d partitionLeaderEpoch: %d "
        "magic: %d compression: %s %s: %d maxTimestamp: %d producerId: %d producerEpoch: %d "
        "baseSequence: %d lastSequence: %d isTransactional: %s crc: 0x%08x isvalid: %s\n",
        header->base_offset, header->last_offset(), header->records_count, position, *batch_size,
        header->partition_leader_epoch, header->magic,
        ToAbsl(CompressionName(header->compression())),
        header->log_append_time() ? "LogAppendTime" : "CreateTime", header->base_timestamp,
        header->max_timestamp, header->producer_id, header->producer_epoch, header->base_sequence,
        header->base_sequence < 0
            ? -1
            : storage::LastSequence(header->base_sequence, header->last_offset_delta + 1),
        header->is_transactional() ? "true" : "false", header->crc, crc_ok ? "true" : "false");
    if (!crc_ok) {
      fail(absl::StrFormat("CRC mismatch: stored 0x%08x, computed 0x%08x", header->crc, crc));
      break;
    }
    if (header->base_offset <= expected_next - 1) {
      fail(absl::StrCat("offset ", header->base_offset, " does not follow ", expected_next - 1));
      break;
    }
    if (*next >= 0 && header->base_offset > *next) gap("", *next, header->base_offset - 1);
    *next = header->next_offset();
    if (options.print_records) {
      int64_t expected_record = header->base_offset;
      auto records = record::DecodeRecords(bytes);
      if (!records.ok()) {
        fail(std::string(records.status().message()));
        break;
      }
      for (const record::Record& r : *records) {
        if (r.offset > expected_record) gap("| ", expected_record, r.offset - 1);
        expected_record = r.offset + 1;
        out << "| offset: " << r.offset << " timestamp: " << r.timestamp
            << " keySize: " << (r.key ? static_cast<int64_t>(r.key->size()) : -1)
            << " valueSize: " << (r.value ? static_cast<int64_t>(r.value->size()) : -1);
        if (!r.headers.empty()) {
          out << " headers: [";
          for (size_t i = 0; i < r.headers.size(); ++i) {
            out << (i ? ", " : "") << Show(r.headers[i].key) << "=" << Show(r.headers[i].value);
          }
          out << "]";
        }
        out << " key: " << Show(r.key) << " payload: " << Show(r.value) << "\n";
      }
      if (expected_record <= header->last_offset()) {
        gap("| ", expected_record, header->last_offset());
      }
    }
    scan.batches.push_back({position, *header});
    expected_next = header->next_offset();
    position += static_cast<int64_t>(*batch_size);
  }
  return scan;
}

// Checks the segment's indexes against the batches actually found. Returns false on a problem.
bool VerifyIndexes(const std::string& log_path, int64_t base_offset, const SegmentScan& scan,
                   int64_t next_segment_base, std::ostream& out, std::ostream& err) {
  bool ok = true;
  std::string stem = log_path.substr(0, log_path.size() - 4);
  auto complain = [&](const std::string& what) {
    out << "INDEX PROBLEM: " << what << "\n";
    err << what << "\n";
    ok = false;
  };
  int64_t log_size = scan.batches.empty()
                         ? 0
                         : scan.batches.back().position +
                               static_cast<int64_t>(scan.batches.back().header.size_bytes());
  if (fs::exists(stem + ".index")) {
    storage::OffsetIndex index(stem + ".index", base_offset);
    if (auto s = index.Load(std::max<int64_t>(log_size, 1)); !s.ok()) {
      complain(std::string(s.message()));
    } else {
      for (size_t i = 0; i < index.entries(); ++i) {
        storage::OffsetPosition e = index.EntryAt(i);
        auto it = std::find_if(scan.batches.begin(), scan.batches.end(),
                               [&](const BatchLocation& b) { return b.position == e.position; });
        if (it == scan.batches.end()) {
          complain(absl::StrCat(stem, ".index entry ", i, " at byte ", i * 8, " (offset ", e.offset,
                                " -> position ", e.position, ") does not point at a batch"));
        } else if (it->header.base_offset > e.offset || it->header.last_offset() < e.offset) {
          complain(absl::StrCat(stem, ".index entry ", i, " at byte ", i * 8, " (offset ", e.offset,
                                " -> position ", e.position, ") points at the batch of offsets ",
                                it->header.base_offset, "..", it->header.last_offset()));
        }
      }
      out << "Index " << stem << ".index: " << index.entries() << " entries checked\n";
    }
  } else {
    out << "Index " << stem << ".index: missing (the broker rebuilds it on start-up)\n";
  }
  if (fs::exists(stem + ".timeindex")) {
    storage::TimeIndex index(stem + ".timeindex", base_offset);
    if (auto s = index.Load(next_segment_base); !s.ok()) {
      complain(std::string(s.message()));
    } else {
      for (size_t i = 0; i < index.entries(); ++i) {
        storage::TimestampOffset e = index.EntryAt(i);
        int64_t max_so_far = -1;
        bool found = false;
        for (const BatchLocation& b : scan.batches) {
          if (b.header.base_offset > e.offset) break;
          max_so_far = std::max(max_so_far, b.header.max_timestamp);
          found = found || b.header.last_offset() >= e.offset;
        }
        if (!found || max_so_far != e.timestamp) {
          complain(absl::StrCat(stem, ".timeindex entry ", i, " at byte ", i * 12, " (timestamp ", e.timestamp,
                                " at offset ", e.offset, ") does not match the log (max timestamp ",
                                max_so_far, ")"));
        }
      }
      out << "Index " << stem << ".timeindex: " << index.entries() << " entries checked\n";
    }
  } else {
    out << "Index " << stem << ".timeindex: missing (the broker rebuilds it on start-up)\n";
  }
  return ok;
}

std::optional<int64_t> BaseOffsetOf(const fs::path& path) {
  std::string stem = path.stem().string();
  if (path.extension() != ".log" || stem.size() != 20 ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(stem);
}

// The producer state snapshots of a partition directory (broker/storage/producer_snapshot.h),
// a line per retained batch. A damaged one is reported; the broker skips it too (replaying the
// log instead), so it is not corruption of the log.
void DumpProducerSnapshots(const std::string& dir, std::ostream& out) {
  for (int64_t offset : storage::ListProducerSnapshots(dir)) {
    const std::string path = storage::ProducerSnapshotPath(dir, offset);
    auto table = storage::ReadProducerSnapshot(dir, offset);
    if (!table.ok()) {
      out << "Producer snapshot " << path << ": unreadable (" << table.status().message()
          << "); the broker replays the log instead\n";
      continue;
    }
    out << "Producer snapshot " << path << ": " << table->entries().size() << " producer(s)\n";
    for (const auto& [pid, entry] : table->entries()) {
      for (const storage::ProducerBatch& b : entry.batches) {
        out << absl::StrFormat(
            "producerId: %d producerEpoch: %d firstSequence: %d lastSequence: %d firstOffset: %d "
            "lastOffset: %d timestamp: %d\n",
            pid, entry.epoch, b.first_seq, b.last_seq, b.first_offset, b.last_offset, b.timestamp);
      }
    }
  }
}

}  // namespace

int RunLogDump(const LogDumpOptions& options, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  fs::path path(options.path);
  std::vector<std::pair<int64_t, std::string>> segments;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (auto base = BaseOffsetOf(entry.path())) segments.emplace_back(*base, entry.path().string());
    }
    std::sort(segments.begin(), segments.end());
    if (segments.empty()) {
      err << "no segment files (<20-digit offset>.log) in " << options.path << "\n";
      return 2;
    }
  } else if (fs::exists(path, ec)) {
    auto base = BaseOffsetOf(path);
    if (!base) {
      err << options.path << " is not a segment file (<20-digit offset>.log) or a directory\n";
      return 2;
    }
    segments.emplace_back(*base, path.string());
  } else {
    err << "no such file or directory: " << options.path << "\n";
    return 2;
  }

  bool corrupt = false;
  int64_t batches = 0;
  int64_t next = segments.front().first;
  int64_t gap_offsets = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    SegmentScan scan = DumpSegment(segments[i].second, options, out, err, &next, &gap_offsets);
    corrupt = corrupt || scan.corrupt;
    batches += static_cast<int64_t>(scan.batches.size());
    int64_t next_base = i + 1 < segments.size() ? segments[i + 1].first : INT64_MAX;
    if (options.verify_indexes &&
        !VerifyIndexes(segments[i].second, segments[i].first, scan, next_base, out, err)) {
      corrupt = true;
    }
  }
  if (fs::is_directory(path, ec)) DumpProducerSnapshots(options.path, out);
  out << "Summary: " << segments.size() << " segment(s), " << batches << " batch(es), ";
  if (gap_offsets > 0) out << gap_offsets << " offset(s) in gaps, ";
  out << (corrupt ? "CORRUPTION FOUND" : "all valid") << "\n";
  return corrupt ? 1 : 0;
}

}  // namespace gregor::tools
