// RecordBatch v2 codec. Status codes: a caller that hands over too few bytes to look at
// (ParseBatchHeader, PeekBatchSize) gets InvalidArgument; anything wrong with the bytes
// themselves (impossible lengths, bad magic, CRC mismatch, malformed records, codec errors) is
// DataLoss, which the broker reports as CORRUPT_MESSAGE.
#include "common/record_batch.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "common/status.h"

namespace gregor::record {
namespace {

// batchLength counts the bytes after itself: the header minus baseOffset and batchLength.
constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - kLogOverhead);
// attributes(1) + timestampDelta(1) + offsetDelta(1) + key(1) + value(1) + headersCount(1),
// plus the record's own length varint (1): no record is shorter.
constexpr size_t kMinRecordBytes = 7;
// headerKeyLength(1) + headerValueLength(1).
constexpr size_t kMinHeaderBytes = 2;

constexpr size_t kBaseOffsetOffset = 0;
constexpr size_t kBatchLengthOffset = 8;
constexpr size_t kMagicOffset = 16;
constexpr size_t kLastOffsetDeltaOffset = 23;
constexpr size_t kBaseTimestampOffset = 27;
constexpr size_t kProducerIdOffset = 43;
constexpr size_t kProducerEpochOffset = 51;
constexpr size_t kBaseSequenceOffset = 53;
constexpr size_t kRecordsCountOffset = 57;

// Counts read from the wire are bounded by the bytes present, but a Record is far larger than
// its smallest encoding: reserve at most this many up front and let vectors grow past it.
constexpr size_t kMaxReservedRecords = 4096;
constexpr size_t kMaxReservedHeaders = 64;

uint64_t LoadBig(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
int16_t LoadI16(const char* p) { return static_cast<int16_t>(LoadBig(p, 2)); }
int32_t LoadI32(const char* p) { return static_cast<int32_t>(LoadBig(p, 4)); }
int64_t LoadI64(const char* p) { return static_cast<int64_t>(LoadBig(p, 8)); }

void StoreBig(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// Offsets and timestamps come from untrusted bytes: add with two's-complement wrap-around
// rather than signed overflow (undefined behaviour).
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt record batch: ", what));
}

// A bounds-checked cursor over the bytes of one record. Byte fields come back as views into
// the record, so that validation copies nothing.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  size_t remaining() const { return data_.size(); }

  absl::StatusOr<int8_t> ReadI8() {
    if (data_.empty()) return Corrupt("record truncated");
    int8_t v = static_cast<int8_t>(data_[0]);
    data_.remove_prefix(1);
    return v;
  }
  absl::StatusOr<int32_t> ReadVarint() { return record::ReadVarint(&data_); }
  absl::StatusOr<int64_t> ReadVarlong() { return record::ReadVarlong(&data_); }

  // A varint length followed by that many bytes; -1 means null.
  absl::StatusOr<std::optional<std::string_view>> ReadNullableBytes(absl::string_view what) {
    ASSIGN_OR_RETURN(int32_t length, ReadVarint());
    if (length == -1) return std::nullopt;
    return TakeBytes(length, what);
  }
  // A varint length followed by that many bytes; null is not allowed.
  absl::StatusOr<std::string_view> ReadBytes(absl::string_view what) {
    ASSIGN_OR_RETURN(int32_t length, ReadVarint());
    return TakeBytes(length, what);
  }

 private:
  absl::StatusOr<std::string_view> TakeBytes(int32_t length, absl::string_view what) {
    if (length < 0) return Corrupt(absl::StrCat("invalid ", what, " length ", length));
    if (static_cast<size_t>(length) > data_.size()) {
      return Corrupt(absl::StrCat(what, " length ", length, " exceeds the remaining ",
                                  data_.size(), " bytes of the record"));
    }
    std::string_view bytes = data_.substr(0, static_cast<size_t>(length));
    data_.remove_prefix(static_cast<size_t>(length));
    return bytes;
  }

  std::string_view data_;
};

std::optional<std::string> ToOptionalString(std::optional<std::string_view> v) {
  if (!v.has_value()) return std::nullopt;
  return std::string(*v);
}

// Decodes one record whose body (everything after its length varint) is `body` into `record`,
// or only checks it when `record` is null.
absl::Status DecodeRecordBody(std::string_view body, const BatchHeader& header,
                              int32_t* offset_delta, Record* record) {
  Reader r(body);
  ASSIGN_OR_RETURN(int8_t attributes, r.ReadI8());
  (void)attributes;  // unused by magic 2
  ASSIGN_OR_RETURN(int64_t timestamp_delta, r.ReadVarlong());
  ASSIGN_OR_RETURN(*offset_delta, r.ReadVarint());
  ASSIGN_OR_RETURN(std::optional<std::string_view> key, r.ReadNullableBytes("key"));
  ASSIGN_OR_RETURN(std::optional<std::string_view> value, r.ReadNullableBytes("value"));
  ASSIGN_OR_RETURN(int32_t header_count, r.ReadVarint());
  if (header_count < 0) return Corrupt(absl::StrCat("invalid header count ", header_count));
  if (static_cast<size_t>(header_count) > r.remaining() / kMinHeaderBytes) {
    return Corrupt(absl::StrCat("header count ", header_count, " exceeds what the remaining ",
                                r.remaining(), " bytes of the record can hold"));
  }
  if (record != nullptr) {
    record->headers.reserve(std::min(static_cast<size_t>(header_count), kMaxReservedHeaders));
  }
  for (int32_t i = 0; i < header_count; ++i) {
    ASSIGN_OR_RETURN(std::string_view header_key, r.ReadBytes("header key"));
    ASSIGN_OR_RETURN(std::optional<std::string_view> header_value,
                     r.ReadNullableBytes("header value"));
    if (record != nullptr) {
      record->headers.push_back({std::string(header_key), ToOptionalString(header_value)});
    }
  }
  if (r.remaining() != 0) {
    return Corrupt(absl::StrCat("record length exceeds its fields by ", r.remaining(), " bytes"));
  }
  if (record != nullptr) {
    record->offset = WrappingAdd(header.base_offset, *offset_delta);
    record->timestamp = header.log_append_time()
                            ? header.max_timestamp
                            : WrappingAdd(header.base_timestamp, timestamp_delta);
    record->key = ToOptionalString(key);
    record->value = ToOptionalString(value);
  }
  return absl::OkStatus();
}

// The validity check of DecodeRecordSection on the append path, where most batches are valid:
// the same rules, on raw pointers, without building records, statuses or messages. Never true
// where DecodeRecordSection would fail; false sends the caller to it for the reason.
class QuickReader {
 public:
  QuickReader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }
  bool Skip(size_t n) {
    if (n > remaining()) return false;
    p_ += n;
    return true;
  }
  bool Varint(int32_t* out) {
    uint32_t raw = 0;
    for (int i = 0; i < 5; ++i) {
      if (p_ == end_) return false;
      uint32_t b = *p_++;
      if (i == 4 && b > 0x0f) return false;
      raw |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        *out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
        return true;
      }
    }
    return false;
  }
  bool SkipVarlong() {
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return false;
      uint32_t b = *p_++;
      if (i == 9 && b > 0x01) return false;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  // A varint length and that many bytes; -1 (null) only if `nullable`.
  bool SkipBytes(bool nullable) {
    int32_t n = 0;
    if (!Varint(&n)) return false;
    if (n == -1 && nullable) return true;
    return n >= 0 && Skip(static_cast<size_t>(n));
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

bool RecordSectionIsValid(std::string_view data, const BatchHeader& header) {
  if (header.records_count < 0) return false;
  size_t count = static_cast<size_t>(header.records_count);
  if (count > data.size() / kMinRecordBytes) return false;
  const auto* begin = reinterpret_cast<const uint8_t*>(data.data());
  QuickReader r(begin, begin + data.size());
  int64_t previous_delta = -1;
  for (size_t i = 0; i < count; ++i) {
    int32_t length = 0;
    if (!r.Varint(&length) || length < 0 || static_cast<size_t>(length) > r.remaining()) {
      return false;
    }
    QuickReader body(r.position(), r.position() + length);
    r.Skip(static_cast<size_t>(length));
    int32_t offset_delta = 0, header_count = 0;
    if (!body.Skip(1) || !body.SkipVarlong() || !body.Varint(&offset_delta) ||
        !body.SkipBytes(/*nullable=*/true) || !body.SkipBytes(/*nullable=*/true) ||
        !body.Varint(&header_count)) {
      return false;
    }
    if (header_count < 0 || static_cast<size_t>(header_count) > body.remaining() / kMinHeaderBytes) {
      return false;
    }
    for (int32_t h = 0; h < header_count; ++h) {
      if (!body.SkipBytes(/*nullable=*/false) || !body.SkipBytes(/*nullable=*/true)) return false;
    }
    if (body.remaining() != 0) return false;
    if (offset_delta <= previous_delta || offset_delta > header.last_offset_delta) return false;
    previous_delta = offset_delta;
  }
  return r.remaining() == 0;
}

// Decodes the (uncompressed) records section: exactly header.records_count records, offset
// deltas strictly increasing within [0, lastOffsetDelta] (compaction may leave gaps), no
// trailing bytes. `out` may be null to validate only.
absl::Status DecodeRecordSection(std::string_view data, const BatchHeader& header,
                                 std::vector<Record>* out) {
  if (out == nullptr && RecordSectionIsValid(data, header)) return absl::OkStatus();
  size_t count = static_cast<size_t>(header.records_count);
  if (count > data.size() / kMinRecordBytes) {
    return Corrupt(absl::StrCat("recordsCount ", count, " exceeds what ", data.size(),
                                " bytes of records can hold"));
  }
  if (out != nullptr) out->reserve(std::min(count, kMaxReservedRecords));
  int64_t previous_delta = -1;
  for (size_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(int32_t length, ReadVarint(&data));
    if (length < 0) return Corrupt(absl::StrCat("record ", i, " has negative length ", length));
    if (static_cast<size_t>(length) > data.size()) {
      return Corrupt(absl::StrCat("record ", i, " length ", length, " exceeds the remaining ",
                                  data.size(), " bytes"));
    }
    int32_t offset_delta = 0;
    Record record;
    absl::Status status = DecodeRecordBody(data.substr(0, static_cast<size_t>(length)), header,
                                           &offset_delta, out != nullptr ? &record : nullptr);
    if (!status.ok()) {
      return absl::DataLossError(absl::StrCat(status.message(), " (record ", i, ")"));
    }
    data.remove_prefix(static_cast<size_t>(length));
    if (offset_delta <= previous_delta || offset_delta > header.last_offset_delta) {
      return Corrupt(absl::StrCat("record ", i, " has offsetDelta ", offset_delta,
                                  " (previous ", previous_delta, ", lastOffsetDelta ",
                                  header.last_offset_delta, ")"));
    }
    previous_delta = offset_delta;
    if (out != nullptr) out->push_back(std::move(record));
  }
  if (!data.empty()) {
    return Corrupt(absl::StrCat(data.size(), " bytes after the last of ", count, " records"));
  }
  return absl::OkStatus();
}

void AppendBytes(std::string* out, const std::optional<std::string>& bytes) {
  if (!bytes.has_value()) {
    AppendVarint(out, -1);
    return;
  }
  AppendVarint(out, static_cast<int32_t>(bytes->size()));
  out->append(*bytes);
}

bool FitsInt32(size_t n) { return n <= static_cast<size_t>(std::numeric_limits<int32_t>::max()); }

}  // namespace

// ------------------------------------------------------------------------------------------------
// Varints (Kafka ByteUtils): zigzag, then 7 bits per byte, least significant first.

void AppendVarint(std::string* out, int32_t value) {
  uint32_t v = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31);
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void AppendVarlong(std::string* out, int64_t value) {
  uint64_t v = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

absl::StatusOr<int32_t> ReadVarint(std::string_view* data) {
  uint32_t raw = 0;
  for (size_t i = 0; i < 5; ++i) {
    if (i >= data->size()) return Corrupt("varint truncated");
    uint32_t b = static_cast<unsigned char>((*data)[i]);
    // The fifth byte holds the top 4 bits; more would not fit in 32 bits.
    if (i == 4 && b > 0x0f) return Corrupt("varint is longer than 5 bytes or overflows 32 bits");
    raw |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      data->remove_prefix(i + 1);
      return static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
    }
  }
  return Corrupt("varint is longer than 5 bytes");  // unreachable: the 5th byte check
}

absl::StatusOr<int64_t> ReadVarlong(std::string_view* data) {
  uint64_t raw = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i >= data->size()) return Corrupt("varlong truncated");
    uint64_t b = static_cast<unsigned char>((*data)[i]);
    // The tenth byte holds the top bit; more would not fit in 64 bits.
    if (i == 9 && b > 0x01) return Corrupt("varlong is longer than 10 bytes or overflows 64 bits");
    raw |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      data->remove_prefix(i + 1);
      return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
    }
  }
  return Corrupt("varlong is longer than 10 bytes");  // unreachable: the 10th byte check
}

// ------------------------------------------------------------------------------------------------
// Batch header

absl::StatusOr<BatchHeader> ParseBatchHeader(std::string_view data) {
  if (data.size() < kBatchHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat("record batch header needs ", kBatchHeaderSize,
                                                   " bytes, have ", data.size()));
  }
  const char* p = data.data();
  BatchHeader h;
  h.base_offset = LoadI64(p + kBaseOffsetOffset);
  h.batch_length = LoadI32(p + kBatchLengthOffset);
  h.partition_leader_epoch = LoadI32(p + kLeaderEpochOffset);
  h.magic = static_cast<int8_t>(p[kMagicOffset]);
  h.crc = static_cast<uint32_t>(LoadBig(p + kCrcOffset, 4));
  h.attributes = LoadI16(p + kAttributesOffset);
  h.last_offset_delta = LoadI32(p + kLastOffsetDeltaOffset);
  h.base_timestamp = LoadI64(p + kBaseTimestampOffset);
  h.max_timestamp = LoadI64(p + kMaxTimestampOffset);
  h.producer_id = LoadI64(p + kProducerIdOffset);
  h.producer_epoch = LoadI16(p + kProducerEpochOffset);
  h.base_sequence = LoadI32(p + kBaseSequenceOffset);
  h.records_count = LoadI32(p + kRecordsCountOffset);
  if (h.magic != kMagicV2) return Corrupt(absl::StrCat("unsupported magic ", int{h.magic}));
  if (h.batch_length < kMinBatchLength) {
    return Corrupt(absl::StrCat("batchLength ", h.batch_length, " is below the minimum ",
                                kMinBatchLength));
  }
  if (h.last_offset_delta < 0) {
    return Corrupt(absl::StrCat("negative lastOffsetDelta ", h.last_offset_delta));
  }
  if (h.records_count < 0) return Corrupt(absl::StrCat("negative recordsCount ", h.records_count));
  // last_offset() and next_offset() must fit an int64 (found by fuzz_record_batch).
  if (h.base_offset > INT64_MAX - 1 - h.last_offset_delta) {
    return Corrupt(absl::StrCat("baseOffset ", h.base_offset, " + lastOffsetDelta ",
                                h.last_offset_delta, " is beyond the largest offset"));
  }
  return h;
}

absl::StatusOr<size_t> PeekBatchSize(std::string_view data) {
  if (data.size() < kLogOverhead) {
    return absl::InvalidArgumentError(
        absl::StrCat("need ", kLogOverhead, " bytes to size a record batch, have ", data.size()));
  }
  int32_t batch_length = LoadI32(data.data() + kBatchLengthOffset);
  if (batch_length < kMinBatchLength) {
    return Corrupt(absl::StrCat("batchLength ", batch_length, " is below the minimum ",
                                kMinBatchLength));
  }
  return kLogOverhead + static_cast<size_t>(batch_length);
}

uint32_t ComputeBatchCrc(std::string_view batch) {
  return Crc32c(batch.data() + kAttributesOffset, batch.size() - kAttributesOffset);
}

absl::StatusOr<BatchHeader> ValidateBatch(std::string_view batch) {
  if (batch.size() < kBatchHeaderSize) {
    return Corrupt(absl::StrCat("batch of ", batch.size(), " bytes is shorter than its header"));
  }
  ASSIGN_OR_RETURN(BatchHeader header, ParseBatchHeader(batch));
  if (batch.size() != header.size_bytes()) {
    return Corrupt(absl::StrCat("batch is ", batch.size(), " bytes but batchLength says ",
                                header.size_bytes()));
  }
  uint32_t crc = ComputeBatchCrc(batch);
  if (crc != header.crc) {
    return Corrupt(absl::StrCat("CRC mismatch: stored ", header.crc, ", computed ", crc));
  }
  if (static_cast<int>(header.compression()) > static_cast<int>(Compression::kZstd)) {
    return Corrupt(absl::StrCat("unknown compression codec ", header.attributes & kCompressionMask));
  }
  if (header.compression() == Compression::kNone) {
    RETURN_IF_ERROR(
        DecodeRecordSection(batch.substr(kBatchHeaderSize), header, /*out=*/nullptr));
  }
  return header;
}

absl::Status ScanRecordKeys(
    std::string_view batch, std::string* scratch,
    absl::FunctionRef<void(int64_t offset, const std::string_view* key, bool has_value)> fn) {
  auto precise_error = [&]() -> absl::Status {
    absl::Status s = DecodeRecords(batch).status();
    return s.ok() ? Corrupt("malformed records") : s;
  };
  if (batch.size() < kBatchHeaderSize) return precise_error();
  ASSIGN_OR_RETURN(BatchHeader header, ParseBatchHeader(batch));
  if (batch.size() != header.size_bytes() || ComputeBatchCrc(batch) != header.crc ||
      static_cast<int>(header.compression()) > static_cast<int>(Compression::kZstd) ||
      header.records_count < 0) {
    return precise_error();
  }
  std::string_view section = batch.substr(kBatchHeaderSize);
  if (header.compression() != Compression::kNone) {
    absl::StatusOr<std::string> decompressed = Decompress(header.compression(), section);
    if (!decompressed.ok()) return precise_error();
    *scratch = std::move(*decompressed);
    section = *scratch;
  }
  const auto* begin = reinterpret_cast<const uint8_t*>(section.data());
  QuickReader r(begin, begin + section.size());
  int64_t previous_delta = -1;
  for (int32_t i = 0; i < header.records_count; ++i) {
    int32_t length = 0;
    if (!r.Varint(&length) || length < 0 || static_cast<size_t>(length) > r.remaining()) {
      return precise_error();
    }
    QuickReader body(r.position(), r.position() + length);
    r.Skip(static_cast<size_t>(length));
    int32_t offset_delta = 0, key_length = 0, value_length = 0;
    if (!body.Skip(1) || !body.SkipVarlong() || !body.Varint(&offset_delta) ||
        !body.Varint(&key_length) || key_length < -1) {
      return precise_error();
    }
    const char* key_data = reinterpret_cast<const char*>(body.position());
    if (key_length > 0 && !body.Skip(static_cast<size_t>(key_length))) return precise_error();
    if (!body.Varint(&value_length) || value_length < -1 ||
        (value_length > 0 && !body.Skip(static_cast<size_t>(value_length)))) {
      return precise_error();
    }
    if (offset_delta <= previous_delta || offset_delta > header.last_offset_delta) {
      return precise_error();
    }
    previous_delta = offset_delta;
    std::string_view key(key_data, static_cast<size_t>(std::max(0, key_length)));
    fn(header.base_offset + offset_delta, key_length < 0 ? nullptr : &key, value_length >= 0);
  }
  if (r.remaining() != 0) return precise_error();
  return absl::OkStatus();
}

void SetBaseOffset(char* batch, int64_t base_offset) {
  StoreBig(batch + kBaseOffsetOffset, static_cast<uint64_t>(base_offset), 8);
}

void SetPartitionLeaderEpoch(char* batch, int32_t epoch) {
  StoreBig(batch + kLeaderEpochOffset, static_cast<uint32_t>(epoch), 4);
}

void SetLogAppendTime(char* batch, size_t size, int64_t now_ms) {
  uint16_t attributes = static_cast<uint16_t>(LoadI16(batch + kAttributesOffset));
  StoreBig(batch + kAttributesOffset, attributes | static_cast<uint16_t>(kTimestampTypeBit), 2);
  StoreBig(batch + kMaxTimestampOffset, static_cast<uint64_t>(now_ms), 8);
  StoreBig(batch + kCrcOffset, ComputeBatchCrc(std::string_view(batch, size)), 4);
}

void SetMaxTimestamp(char* batch, size_t size, int64_t max_timestamp) {
  StoreBig(batch + kMaxTimestampOffset, static_cast<uint64_t>(max_timestamp), 8);
  StoreBig(batch + kCrcOffset, ComputeBatchCrc(std::string_view(batch, size)), 4);
}

absl::StatusOr<std::vector<Record>> DecodeRecords(std::string_view batch) {
  ASSIGN_OR_RETURN(BatchHeader header, ValidateBatch(batch));
  std::vector<Record> records;
  std::string_view section = batch.substr(kBatchHeaderSize);
  if (header.compression() == Compression::kNone) {
    RETURN_IF_ERROR(DecodeRecordSection(section, header, &records));
    return records;
  }
  absl::StatusOr<std::string> decompressed = Decompress(header.compression(), section);
  if (!decompressed.ok()) {
    return absl::DataLossError(absl::StrCat("corrupt record batch at offset ", header.base_offset,
                                            ": ", decompressed.status().message()));
  }
  RETURN_IF_ERROR(DecodeRecordSection(*decompressed, header, &records));
  return records;
}

// ------------------------------------------------------------------------------------------------
// BatchIterator

bool BatchIterator::Next(BatchHeader* header, std::string_view* batch) {
  if (!status_.ok()) return false;
  std::string_view rest = data_.substr(pos_);
  if (rest.size() < kLogOverhead) return false;  // nothing, or a partial trailing batch
  int32_t batch_length = LoadI32(rest.data() + kBatchLengthOffset);
  if (batch_length < kMinBatchLength) {
    status_ = Corrupt(absl::StrCat("batch at position ", pos_, " has batchLength ", batch_length,
                                   ", below the minimum ", kMinBatchLength));
    return false;
  }
  if (rest.size() > kMagicOffset && rest[kMagicOffset] != kMagicV2) {
    status_ = Corrupt(absl::StrCat("batch at position ", pos_, " has magic ",
                                   int{static_cast<int8_t>(rest[kMagicOffset])}));
    return false;
  }
  size_t size = kLogOverhead + static_cast<size_t>(batch_length);
  if (rest.size() < size) return false;  // partial trailing batch
  absl::StatusOr<BatchHeader> parsed = ParseBatchHeader(rest.substr(0, size));
  if (!parsed.ok()) {
    status_ = absl::DataLossError(
        absl::StrCat("batch at position ", pos_, ": ", parsed.status().message()));
    return false;
  }
  *header = *parsed;
  *batch = rest.substr(0, size);
  pos_ += size;
  return true;
}

// ------------------------------------------------------------------------------------------------
// BatchBuilder

BatchBuilder& BatchBuilder::Add(BuilderRecord record) {
  records_.push_back(std::move(record));
  return *this;
}

BatchBuilder& BatchBuilder::Add(std::optional<std::string> key, std::optional<std::string> value,
                                int64_t timestamp, std::vector<RecordHeader> headers) {
  return Add(BuilderRecord{std::move(key), std::move(value), timestamp, std::move(headers)});
}

namespace {

// One record to encode: its offset delta, absolute timestamp and fields.
struct EncodeRecord {
  int32_t offset_delta = 0;
  int64_t timestamp = 0;
  const std::optional<std::string>* key = nullptr;
  const std::optional<std::string>* value = nullptr;
  const std::vector<RecordHeader>* headers = nullptr;
};

absl::StatusOr<std::string> FinishBatch(const BatchHeader& h, std::string records, size_t count);

// Encodes a whole batch from `h` (every header field but batchLength, CRC and recordsCount,
// which follow from the records) and its records, timestamp deltas against h.base_timestamp,
// compressed with h.compression() (an empty batch is never compressed).
absl::StatusOr<std::string> EncodeBatch(const BatchHeader& h, const std::vector<EncodeRecord>& in) {
  if (!FitsInt32(in.size())) return absl::InvalidArgumentError("too many records");
  std::string records;
  std::string body;
  for (size_t i = 0; i < in.size(); ++i) {
    const EncodeRecord& r = in[i];
    if ((*r.key && !FitsInt32((*r.key)->size())) || (*r.value && !FitsInt32((*r.value)->size())) ||
        !FitsInt32(r.headers->size())) {
      return absl::InvalidArgumentError(absl::StrCat("record ", i, " is too large"));
    }
    body.clear();
    body.push_back('\0');  // attributes
    AppendVarlong(&body, WrappingSub(r.timestamp, h.base_timestamp));
    AppendVarint(&body, r.offset_delta);
    AppendBytes(&body, *r.key);
    AppendBytes(&body, *r.value);
    AppendVarint(&body, static_cast<int32_t>(r.headers->size()));
    for (const RecordHeader& hd : *r.headers) {
      if (!FitsInt32(hd.key.size()) || (hd.value && !FitsInt32(hd.value->size()))) {
        return absl::InvalidArgumentError(absl::StrCat("record ", i, " has a too large header"));
      }
      AppendBytes(&body, hd.key);
      AppendBytes(&body, hd.value);
    }
    if (!FitsInt32(body.size()) || !FitsInt32(records.size() + body.size() + 5)) {
      return absl::InvalidArgumentError("record batch is too large");
    }
    AppendVarint(&records, static_cast<int32_t>(body.size()));
    records.append(body);
  }
  return FinishBatch(h, std::move(records), in.size());
}

// The whole batch around an uncompressed records section of `count` records: compressed with
// h.compression() (an empty batch is never compressed), header from `h`, CRC.
absl::StatusOr<std::string> FinishBatch(const BatchHeader& h, std::string records, size_t count) {
  int16_t attributes = h.attributes;
  std::string payload;
  if (count == 0) {
    attributes = static_cast<int16_t>(attributes & ~kCompressionMask);
  } else if (h.compression() == Compression::kNone) {
    payload = std::move(records);
  } else {
    ASSIGN_OR_RETURN(payload, Compress(h.compression(), records));
  }
  size_t size = kBatchHeaderSize + payload.size();
  if (!FitsInt32(size - kLogOverhead)) return absl::InvalidArgumentError("record batch is too large");

  std::string batch(kBatchHeaderSize, '\0');
  char* p = batch.data();
  StoreBig(p + kBaseOffsetOffset, static_cast<uint64_t>(h.base_offset), 8);
  StoreBig(p + kBatchLengthOffset, size - kLogOverhead, 4);
  StoreBig(p + kLeaderEpochOffset, static_cast<uint32_t>(h.partition_leader_epoch), 4);
  p[kMagicOffset] = static_cast<char>(kMagicV2);
  StoreBig(p + kAttributesOffset, static_cast<uint16_t>(attributes), 2);
  StoreBig(p + kLastOffsetDeltaOffset, static_cast<uint32_t>(h.last_offset_delta), 4);
  StoreBig(p + kBaseTimestampOffset, static_cast<uint64_t>(h.base_timestamp), 8);
  StoreBig(p + kMaxTimestampOffset, static_cast<uint64_t>(h.max_timestamp), 8);
  StoreBig(p + kProducerIdOffset, static_cast<uint64_t>(h.producer_id), 8);
  StoreBig(p + kProducerEpochOffset, static_cast<uint16_t>(h.producer_epoch), 2);
  StoreBig(p + kBaseSequenceOffset, static_cast<uint32_t>(h.base_sequence), 4);
  StoreBig(p + kRecordsCountOffset, count, 4);
  batch.append(payload);
  StoreBig(batch.data() + kCrcOffset, ComputeBatchCrc(batch), 4);
  return batch;
}

}  // namespace

absl::StatusOr<std::string> BatchBuilder::Build() const {
  if (records_.empty()) return absl::InvalidArgumentError("a record batch needs a record");
  BatchHeader h;
  h.base_offset = base_offset_;
  h.partition_leader_epoch = partition_leader_epoch_;
  h.attributes = static_cast<int16_t>(static_cast<int16_t>(compression_) |
                                      (log_append_time_ ? kTimestampTypeBit : 0));
  h.last_offset_delta = static_cast<int32_t>(records_.size() - 1);
  h.producer_id = producer_id_;
  h.producer_epoch = producer_epoch_;
  h.base_sequence = base_sequence_;
  h.base_timestamp = records_.front().timestamp;
  h.max_timestamp = h.base_timestamp;
  std::vector<EncodeRecord> in;
  in.reserve(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) {
    const BuilderRecord& r = records_[i];
    h.max_timestamp = std::max(h.max_timestamp, r.timestamp);
    in.push_back({static_cast<int32_t>(i), r.timestamp, &r.key, &r.value, &r.headers});
  }
  return EncodeBatch(h, in);
}

absl::StatusOr<std::string> RebuildBatch(std::string_view original, const std::vector<Record>& keep,
                                         std::optional<int64_t> delete_horizon_ms) {
  ASSIGN_OR_RETURN(BatchHeader h, ParseBatchHeader(original));
  const bool had_horizon = (h.attributes & kDeleteHorizonBit) != 0;
  if (delete_horizon_ms) h.attributes = static_cast<int16_t>(h.attributes | kDeleteHorizonBit);
  std::vector<EncodeRecord> in;
  in.reserve(keep.size());
  int64_t max_timestamp = kNoTimestamp;
  for (const Record& r : keep) {
    const int64_t delta = r.offset - h.base_offset;
    if (delta < 0 || delta > h.last_offset_delta) {
      return absl::InvalidArgumentError(absl::StrCat("record offset ", r.offset, " is outside batch ",
                                                     h.base_offset, "..", h.last_offset()));
    }
    in.push_back({static_cast<int32_t>(delta), r.timestamp, &r.key, &r.value, &r.headers});
    max_timestamp = std::max(max_timestamp, r.timestamp);
  }
  // The base timestamp carries the delete horizon once stamped; otherwise the first record's.
  if (delete_horizon_ms) {
    h.base_timestamp = *delete_horizon_ms;
  } else if (!had_horizon && !keep.empty()) {
    h.base_timestamp = keep.front().timestamp;
  }
  if (h.log_append_time()) {
    for (EncodeRecord& r : in) r.timestamp = h.base_timestamp;  // deltas 0: the batch's time rules
  } else if (!keep.empty()) {
    h.max_timestamp = max_timestamp;
  }
  return EncodeBatch(h, in);
}

absl::StatusOr<std::string> RetainRecords(std::string_view original,
                                          const std::vector<size_t>& keep) {
  ASSIGN_OR_RETURN(BatchHeader h, ValidateBatch(original));
  std::string decompressed;
  std::string_view section = original.substr(kBatchHeaderSize);
  if (h.compression() != Compression::kNone) {
    ASSIGN_OR_RETURN(decompressed, Decompress(h.compression(), section));
    section = decompressed;
  }
  const auto* begin = reinterpret_cast<const uint8_t*>(section.data());
  QuickReader r(begin, begin + section.size());
  std::string records;
  size_t next_keep = 0;
  int64_t max_delta = INT64_MIN;
  for (size_t i = 0; i < static_cast<size_t>(h.records_count) && next_keep < keep.size(); ++i) {
    const uint8_t* start = r.position();
    int32_t length = 0;
    if (!r.Varint(&length) || length < 0 || !r.Skip(static_cast<size_t>(length))) {
      return Corrupt(absl::StrCat("record ", i, " is malformed"));
    }
    if (keep[next_keep] != i) continue;
    ++next_keep;
    records.append(reinterpret_cast<const char*>(start), static_cast<size_t>(r.position() - start));
    // The timestamp delta follows the length and the attributes byte.
    std::string_view body(reinterpret_cast<const char*>(r.position()) - length,
                          static_cast<size_t>(length));
    if (body.empty()) return Corrupt(absl::StrCat("record ", i, " is empty"));
    body.remove_prefix(1);
    ASSIGN_OR_RETURN(int64_t delta, ReadVarlong(&body));
    max_delta = std::max(max_delta, delta);
  }
  if (next_keep != keep.size()) return absl::InvalidArgumentError("a kept record is not in the batch");
  if (!h.log_append_time() && !keep.empty()) h.max_timestamp = h.base_timestamp + max_delta;
  return FinishBatch(h, std::move(records), keep.size());
}

}  // namespace gregor::record
