// libFuzzer target: recovery of a segment after an unclean stop (broker/storage/log_segment.h)
// and of a producer snapshot (producer_snapshot.h) from arbitrary file contents. The input is
// the segment's .log file (its first byte, when set, also cuts an offset index from the rest);
// opening with recovery re-validates every batch, truncates at the first bad byte and rebuilds
// the indexes; then every batch left is read back.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "broker/storage/log_segment.h"
#include "broker/storage/producer_snapshot.h"
#include "common/logging.h"

namespace {

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor;
  static const std::string dir = [] {
    InitLogging("off");
    std::string d = "/tmp/gregor-fuzz-segment-" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)storage::DecodeProducerSnapshot(input);
  std::string_view log = input;
  std::string_view index;
  if (!input.empty() && (input[0] & 1)) {  // an index file from the tail, 8-byte entries
    const size_t index_bytes = (static_cast<uint8_t>(input[0]) >> 1) * 8;
    if (index_bytes <= input.size() - 1) {
      index = input.substr(input.size() - index_bytes);
      log = input.substr(1, input.size() - 1 - index_bytes);
    }
  }
  const std::string base = storage::SegmentFileName(dir, 0, "");
  WriteFile(base + ".log", log);
  WriteFile(base + ".index", index);
  std::filesystem::remove(base + ".timeindex");
  auto segment = storage::LogSegment::Open(dir, 0, 4096, INT64_MAX, /*recover=*/true);
  if (segment.ok()) {
    (void)(*segment)->ForEachBatch([](int64_t, const record::BatchHeader&) {});
    (void)(*segment)->Read(0, 1 << 20, INT64_MAX, true);
  }
  return 0;
}
