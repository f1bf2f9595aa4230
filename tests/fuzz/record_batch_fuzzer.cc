// libFuzzer target: the RecordBatch parsers on untrusted bytes — the iterator over a produce
// request's records, header parsing, full validation (CRC, framing, every record of an
// uncompressed batch), record decoding with every codec's decompressor (gzip, snappy, lz4,
// zstd: the input's attributes pick it), and the cleaner's key scan.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  record::BatchIterator it(input);
  record::BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    (void)record::ValidateBatch(batch);
    (void)record::DecodeRecords(batch);
    std::string scratch;
    (void)record::ScanRecordKeys(batch, &scratch,
                                 [](int64_t, const std::string_view*, bool) {});
  }
  (void)record::ParseBatchHeader(input);
  (void)record::PeekBatchSize(input);
  // The same bytes as one whole batch, whatever its length field says.
  (void)record::DecodeRecords(input);
  return 0;
}
