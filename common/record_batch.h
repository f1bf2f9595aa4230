// Kafka RecordBatch v2 (magic 2): header parsing and validation, record iteration, building,
// and the in-place rewrites a broker makes (base offset, partition leader epoch, LogAppendTime).
//
// Layout (../shared/reference/kafka-wire-protocol.md §3), big-endian:
//   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8 |
//   17 crc u32 (CRC-32C of [21, end)) | 21 attributes i16 | 23 lastOffsetDelta i32 |
//   27 baseTimestamp i64 | 35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16 |
//   53 baseSequence i32 | 57 recordsCount i32 | 61 records...
//
// Byte buffers are std::string / std::string_view. Nothing here trusts its input: every length
// is checked against the buffer before it is used, and bad input yields a Status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/compression.h"

namespace gregor::record {

inline constexpr size_t kLogOverhead = 12;        // baseOffset + batchLength
inline constexpr size_t kBatchHeaderSize = 61;    // everything before the records
inline constexpr size_t kCrcOffset = 17;
inline constexpr size_t kAttributesOffset = 21;   // the CRC covers [21, end)
inline constexpr size_t kLeaderEpochOffset = 12;
inline constexpr size_t kMaxTimestampOffset = 35;
inline constexpr int8_t kMagicV2 = 2;
inline constexpr int64_t kNoTimestamp = -1;

inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeBit = 0x08;  // 1 = LogAppendTime
inline constexpr int16_t kTransactionalBit = 0x10;
inline constexpr int16_t kControlBit = 0x20;
inline constexpr int16_t kDeleteHorizonBit = 0x40;  // KIP-534: base timestamp = delete horizon

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the batchLength field
  int32_t partition_leader_epoch = -1;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & kCompressionMask); }
  bool log_append_time() const { return (attributes & kTimestampTypeBit) != 0; }
  bool is_transactional() const { return (attributes & kTransactionalBit) != 0; }
  bool is_control() const { return (attributes & kControlBit) != 0; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  // Size of the whole batch in bytes.
  size_t size_bytes() const { return kLogOverhead + static_cast<size_t>(batch_length); }
};

// Decodes the first 61 bytes of `data` and checks what the header alone can tell: enough bytes
// for a header, magic == 2, batchLength >= 49 (header minus the first 12 bytes),
// lastOffsetDelta >= 0, recordsCount >= 0, baseOffset + lastOffsetDelta < 2^63 - 1. Does not
// check the CRC or that the whole batch is
// present (use ValidateBatch).
absl::StatusOr<BatchHeader> ParseBatchHeader(std::string_view data);

// Reads only baseOffset and batchLength (the first 12 bytes); returns the whole batch size.
// InvalidArgument/DataLoss if fewer than 12 bytes or the length is impossible.
absl::StatusOr<size_t> PeekBatchSize(std::string_view data);

// Full validation of one batch occupying exactly `batch` (no trailing bytes): the header checks,
// size == 12 + batchLength, and the CRC. For uncompressed batches also that the record section
// holds exactly recordsCount well-formed records with lastOffsetDelta consistent. Returns the
// header.
absl::StatusOr<BatchHeader> ValidateBatch(std::string_view batch);

// CRC-32C over [21, end) of a whole batch (`batch.size() >= 61`).
uint32_t ComputeBatchCrc(std::string_view batch);

// In-place rewrites of a whole, already validated batch (`batch.size() >= 61`).
void SetBaseOffset(char* batch, int64_t base_offset);           // outside the CRC
void SetPartitionLeaderEpoch(char* batch, int32_t epoch);        // outside the CRC
// Sets the LogAppendTime bit and maxTimestamp = now_ms, then recomputes the CRC.
void SetLogAppendTime(char* batch, size_t size, int64_t now_ms);
// Sets maxTimestamp (CreateTime), then recomputes the CRC.
void SetMaxTimestamp(char* batch, size_t size, int64_t max_timestamp);

struct RecordHeader {
  std::string key;
  std::optional<std::string> value;
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  int64_t offset = 0;      // baseOffset + offsetDelta
  int64_t timestamp = 0;   // baseTimestamp + timestampDelta, or maxTimestamp for LogAppendTime
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = null value (tombstone)
  std::vector<RecordHeader> headers;
};

// Decodes every record of a whole batch, decompressing if needed. Validates the batch first.
absl::StatusOr<std::vector<Record>> DecodeRecords(std::string_view batch);

// The log cleaner's fast path: calls `fn(offset, key, has_value)` for every record of a whole
// batch without building records (`key` is null for a null key and points into the batch, or
// into `*scratch` where a compressed batch is decompressed). Checks the header, size and CRC,
// and the framing of each record; errors are DecodeRecords' (DataLoss).
absl::Status ScanRecordKeys(
    std::string_view batch, std::string* scratch,
    absl::FunctionRef<void(int64_t offset, const std::string_view* key, bool has_value)> fn);

// Splits a buffer of concatenated batches (a segment file's bytes, a fetch response) into
// batches. A truncated trailing batch ends iteration without error (clients and followers see
// these at the end of a fetch); garbage in the middle yields an error.
class BatchIterator {
 public:
  explicit BatchIterator(std::string_view data) : data_(data) {}
  // Returns true and fills `header`/`batch` with the next whole batch; false at the end or on
  // error (then status() says which).
  bool Next(BatchHeader* header, std::string_view* batch);
  const absl::Status& status() const { return status_; }
  // Bytes consumed by the whole batches returned so far.
  size_t position() const { return pos_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  absl::Status status_;
};

struct BuilderRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
  std::vector<RecordHeader> headers;
};

// Builds a RecordBatch v2 as a producer would: baseOffset as given (0 for produce),
// partitionLeaderEpoch -1... set by the broker, no producer id, offset deltas 0..n-1.
class BatchBuilder {
 public:
  explicit BatchBuilder(Compression compression = Compression::kNone, int64_t base_offset = 0)
      : compression_(compression), base_offset_(base_offset) {}
  BatchBuilder& Add(BuilderRecord record);
  BatchBuilder& Add(std::optional<std::string> key, std::optional<std::string> value,
                    int64_t timestamp, std::vector<RecordHeader> headers = {});
  BatchBuilder& set_partition_leader_epoch(int32_t epoch) {
    partition_leader_epoch_ = epoch;
    return *this;
  }
  BatchBuilder& set_log_append_time(bool v) {
    log_append_time_ = v;
    return *this;
  }
  // An idempotent producer's batch (KIP-98): its id, epoch and the first record's sequence.
  BatchBuilder& set_producer(int64_t id, int16_t epoch, int32_t base_sequence) {
    producer_id_ = id;
    producer_epoch_ = epoch;
    base_sequence_ = base_sequence;
    return *this;
  }
  size_t record_count() const { return records_.size(); }
  // The encoded batch. Requires at least one record.
  absl::StatusOr<std::string> Build() const;

 private:
  Compression compression_;
  int64_t base_offset_;
  int32_t partition_leader_epoch_ = 0;
  bool log_append_time_ = false;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  std::vector<BuilderRecord> records_;
};

// A batch rebuilt from some of its records (the log cleaner): same base offset and
// lastOffsetDelta (so the batch keeps its last offset even when records go), leader epoch,
// producer fields, flags and codec; record offsets and timestamps as in `keep` (records of
// `original`, from DecodeRecords); maxTimestamp recomputed for CreateTime. `delete_horizon_ms`
// sets bit 6 with the horizon as base timestamp (a horizon already stamped is kept). With no
// record it is Kafka's empty batch: the 61-byte header, uncompressed.
absl::StatusOr<std::string> RebuildBatch(std::string_view original, const std::vector<Record>& keep,
                                         std::optional<int64_t> delete_horizon_ms);

// The log cleaner's rebuild of a batch that keeps its base timestamp: only the records at the
// indices `keep` (increasing, at least one) of `original`, copied as they are (their offset and
// timestamp deltas stay right: base offset and timestamp do not change), every other header field
// as it was but recordsCount, maxTimestamp (recomputed for CreateTime) and the CRC; compressed
// again with the batch's codec.
absl::StatusOr<std::string> RetainRecords(std::string_view original, const std::vector<size_t>& keep);

// Zigzag varints as used inside records (Kafka ByteUtils). Exposed for the wire codec and tests.
void AppendVarint(std::string* out, int32_t value);
void AppendVarlong(std::string* out, int64_t value);
// Reads from `*data`, advancing it. Fails on truncation or more than 5 (10) bytes.
absl::StatusOr<int32_t> ReadVarint(std::string_view* data);
absl::StatusOr<int64_t> ReadVarlong(std::string_view* data);

}  // namespace gregor::record
