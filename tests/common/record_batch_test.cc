#include "common/record_batch.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gregor::record {
namespace {

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip,
                                      Compression::kSnappy, Compression::kLz4,
                                      Compression::kZstd};

std::string Name(Compression c) { return std::string(CompressionName(c)); }

void PutBig(std::string* b, size_t offset, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    (*b)[offset + static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}
void FixCrc(std::string* b) { PutBig(b, kCrcOffset, ComputeBatchCrc(*b), 4); }
void FixLength(std::string* b) { PutBig(b, 8, b->size() - kLogOverhead, 4); }

std::string Varint(int32_t v) {
  std::string s;
  AppendVarint(&s, v);
  return s;
}
std::string Varlong(int64_t v) {
  std::string s;
  AppendVarlong(&s, v);
  return s;
}

// A batch around a hand-made (uncompressed unless `attributes` says otherwise) records section.
std::string MakeRawBatch(std::string_view records, int32_t count, int32_t last_offset_delta,
                         int16_t attributes = 0, int64_t base_offset = 0,
                         int64_t base_timestamp = 1000, int64_t max_timestamp = 1000) {
  std::string b(kBatchHeaderSize, '\0');
  PutBig(&b, 0, static_cast<uint64_t>(base_offset), 8);
  b[16] = kMagicV2;
  PutBig(&b, 21, static_cast<uint16_t>(attributes), 2);
  PutBig(&b, 23, static_cast<uint32_t>(last_offset_delta), 4);
  PutBig(&b, 27, static_cast<uint64_t>(base_timestamp), 8);
  PutBig(&b, 35, static_cast<uint64_t>(max_timestamp), 8);
  PutBig(&b, 43, ~uint64_t{0}, 8);
  PutBig(&b, 51, 0xffff, 2);
  PutBig(&b, 53, 0xffffffff, 4);
  PutBig(&b, 57, static_cast<uint32_t>(count), 4);
  b.append(records);
  FixLength(&b);
  FixCrc(&b);
  return b;
}

// One record: its length varint, then `body`.
std::string Framed(std::string_view body) {
  return Varint(static_cast<int32_t>(body.size())) + std::string(body);
}
// The body of a simple record: key "k", value "v", no headers.
std::string SimpleBody(int32_t offset_delta, int64_t timestamp_delta = 0) {
  return std::string(1, '\0') + Varlong(timestamp_delta) + Varint(offset_delta) + Varint(1) +
         "k" + Varint(1) + "v" + Varint(0);
}

std::vector<BuilderRecord> SampleRecords(bool with_large_value) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::vector<BuilderRecord> records = {
      {"k1", "v1", 1000, {}},
      {"k2", std::nullopt, 1005, {}},  // tombstone
      {std::nullopt, "no key", 1003, {}},
      {"", "", 990, {}},  // empty, not null; timestamp below the first one
      {std::string("\0\xff\x80", 3), all_bytes, 1010,
       {{"h1", "x"}, {"null-valued", std::nullopt}, {"", ""}, {"bin", std::string("\0\1", 2)}}},
      {std::nullopt, std::nullopt, 1001, {{"only", std::nullopt}}},
  };
  for (int i = 0; i < 20; ++i) {
    records.push_back({"key-" + std::to_string(i), "value value value " + std::to_string(i),
                       1000 + i, {}});
  }
  if (with_large_value) {
    std::string large;
    std::mt19937 rng(5);
    for (int i = 0; i < 200 * 1024; ++i) large.push_back(static_cast<char>('a' + rng() % 8));
    records.push_back({"large", large, 1020, {{"size", "200k"}}});
  }
  return records;
}

std::string BuildBatch(Compression c, int64_t base_offset,
                       const std::vector<BuilderRecord>& records) {
  BatchBuilder builder(c, base_offset);
  for (const BuilderRecord& r : records) builder.Add(r);
  auto batch = builder.Build();
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.ok() ? *batch : std::string();
}

void ExpectRecordsMatch(const std::vector<Record>& got, const std::vector<BuilderRecord>& want,
                        int64_t base_offset, std::optional<int64_t> log_append_time = {}) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(got[i].offset, base_offset + static_cast<int64_t>(i));
    EXPECT_EQ(got[i].timestamp, log_append_time.value_or(want[i].timestamp));
    EXPECT_EQ(got[i].key, want[i].key);
    EXPECT_TRUE(got[i].value == want[i].value);
    EXPECT_EQ(got[i].headers, want[i].headers);
  }
}

// ------------------------------------------------------------------------------------------------
// Varints

TEST(VarintTest, EncodesLikeKafkaByteUtils) {
  EXPECT_EQ(Varint(0), std::string(1, '\0'));
  EXPECT_EQ(Varint(-1), "\x01");
  EXPECT_EQ(Varint(1), "\x02");
  EXPECT_EQ(Varint(63), "\x7e");
  EXPECT_EQ(Varint(-64), "\x7f");
  EXPECT_EQ(Varint(64), "\x80\x01");
  EXPECT_EQ(Varint(300), "\xd8\x04");
  EXPECT_EQ(Varint(std::numeric_limits<int32_t>::max()), "\xfe\xff\xff\xff\x0f");
  EXPECT_EQ(Varint(std::numeric_limits<int32_t>::min()), "\xff\xff\xff\xff\x0f");
  EXPECT_EQ(Varlong(0), std::string(1, '\0'));
  EXPECT_EQ(Varlong(-1), "\x01");
  EXPECT_EQ(Varlong(std::numeric_limits<int64_t>::max()),
            "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01");
  EXPECT_EQ(Varlong(std::numeric_limits<int64_t>::min()),
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01");
}

TEST(VarintTest, RoundTripsEdgeValues) {
  const int32_t ints[] = {0, 1, -1, 63, -64, 64, -65, 8191, -8192, 1 << 20, -(1 << 20),
                          std::numeric_limits<int32_t>::max(),
                          std::numeric_limits<int32_t>::max() - 1,
                          std::numeric_limits<int32_t>::min(),
                          std::numeric_limits<int32_t>::min() + 1};
  for (int32_t v : ints) {
    std::string s = Varint(v);
    EXPECT_LE(s.size(), 5u);
    std::string_view view = s;
    auto back = ReadVarint(&view);
    ASSERT_TRUE(back.ok()) << v;
    EXPECT_EQ(*back, v);
    EXPECT_TRUE(view.empty());
    // A varint is also a valid varlong of the same value.
    view = s;
    auto as_long = ReadVarlong(&view);
    ASSERT_TRUE(as_long.ok());
    EXPECT_EQ(*as_long, v);
  }
  const int64_t longs[] = {0, 1, -1, int64_t{1} << 40, -(int64_t{1} << 40),
                           std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::max() - 1,
                           std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::min() + 1};
  for (int64_t v : longs) {
    std::string s = Varlong(v);
    EXPECT_LE(s.size(), 10u);
    std::string_view view = s;
    auto back = ReadVarlong(&view);
    ASSERT_TRUE(back.ok()) << v;
    EXPECT_EQ(*back, v);
    EXPECT_TRUE(view.empty());
  }
}

TEST(VarintTest, ReadAdvancesPastExactlyOneValue) {
  std::string s = Varint(300) + Varint(-1) + Varlong(int64_t{1} << 50) + "tail";
  std::string_view view = s;
  EXPECT_EQ(*ReadVarint(&view), 300);
  EXPECT_EQ(*ReadVarint(&view), -1);
  EXPECT_EQ(*ReadVarlong(&view), int64_t{1} << 50);
  EXPECT_EQ(view, "tail");
}

TEST(VarintTest, RejectsTruncationAndOverflow) {
  const std::string bad_varints[] = {
      "",
      "\x80",
      "\xff\xff\xff\xff",
      std::string("\x80\x80\x80\x80\x80\x00", 6),  // 6 bytes
      "\xff\xff\xff\xff\x10",                       // 5th byte overflows 32 bits
      "\xff\xff\xff\xff\x8f\x01",
  };
  for (const std::string& s : bad_varints) {
    std::string_view view = s;
    auto v = ReadVarint(&view);
    EXPECT_FALSE(v.ok()) << "accepted " << s.size() << " bytes";
    EXPECT_EQ(view.size(), s.size()) << "advanced on error";
  }
  const std::string bad_varlongs[] = {
      "",
      "\x80",
      std::string(9, '\xff'),
      std::string(10, '\x80') + std::string(1, '\0'),        // 11 bytes
      std::string(9, '\xff') + "\x02",                        // 10th byte overflows 64 bits
  };
  for (const std::string& s : bad_varlongs) {
    std::string_view view = s;
    EXPECT_FALSE(ReadVarlong(&view).ok()) << "accepted " << s.size() << " bytes";
    EXPECT_EQ(view.size(), s.size());
  }
}

// ------------------------------------------------------------------------------------------------
// Building and decoding

// Bytes written by kafka-python 2.0.2's DefaultRecordBatchBuilder (uncompressed) for the
// records below; the builder must produce exactly what a producer sends.
const std::string kKafkaPythonBatch(
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x55\x00\x00\x00\x00\x02\x69\x2e\x0d\xd2\x00"
    "\x00\x00\x00\x00\x02\x00\x00\x01\x8b\xcf\xe5\x68\x00\x00\x00\x01\x8b\xcf\xe5\x68\x05\xff"
    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x03\x1e\x00\x00\x00\x02"
    "\x6b\x02\x76\x04\x02\x68\x02\x78\x02\x6e\x01\x18\x00\x0a\x02\x01\x0c\x76\x61\x6c\x75\x65"
    "\x32\x00\x0c\x00\x13\x04\x00\x01\x00",
    97);

TEST(RecordBatchTest, BuildsTheSameBytesAsKafkaPython) {
  BatchBuilder builder;
  builder.Add("k", "v", 1700000000000, {{"h", "x"}, {"n", std::nullopt}});
  builder.Add(std::nullopt, "value2", 1700000000005);
  builder.Add("", std::nullopt, 1699999999990);
  auto batch = builder.Build();
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(*batch == kKafkaPythonBatch);

  auto records = DecodeRecords(kKafkaPythonBatch);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].key, "k");
  EXPECT_EQ((*records)[0].headers,
            (std::vector<RecordHeader>{{"h", "x"}, {"n", std::nullopt}}));
  EXPECT_FALSE((*records)[1].key.has_value());
  EXPECT_EQ((*records)[1].timestamp, 1700000000005);
  EXPECT_EQ((*records)[2].key, "");
  EXPECT_FALSE((*records)[2].value.has_value());
  EXPECT_EQ((*records)[2].timestamp, 1699999999990);
  EXPECT_EQ((*records)[2].offset, 2);
}

TEST(RecordBatchTest, RoundTripsEveryCodec) {
  const auto want = SampleRecords(/*with_large_value=*/true);
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    std::string batch = BuildBatch(c, 1000, want);
    auto header = ValidateBatch(batch);
    ASSERT_TRUE(header.ok()) << header.status();
    EXPECT_EQ(header->compression(), c);
    EXPECT_EQ(header->size_bytes(), batch.size());
    if (c != Compression::kNone) {
      EXPECT_LT(batch.size(), 180u * 1024);  // it did compress the 200 KiB value
    }
    auto records = DecodeRecords(batch);
    ASSERT_TRUE(records.ok()) << records.status();
    ExpectRecordsMatch(*records, want, 1000);
  }
}

TEST(RecordBatchTest, HeaderIsWhatAProducerSends) {
  const auto records = SampleRecords(false);
  std::string batch = BuildBatch(Compression::kLz4, 42, records);
  auto h = ValidateBatch(batch);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->base_offset, 42);
  EXPECT_EQ(h->batch_length, static_cast<int32_t>(batch.size() - 12));
  EXPECT_EQ(h->partition_leader_epoch, 0);
  EXPECT_EQ(h->magic, 2);
  EXPECT_EQ(h->attributes, 3);
  EXPECT_EQ(h->last_offset_delta, static_cast<int32_t>(records.size() - 1));
  EXPECT_EQ(h->base_timestamp, 1000);  // the first record's, not the minimum (990)
  EXPECT_EQ(h->max_timestamp, 1019);
  EXPECT_EQ(h->producer_id, -1);
  EXPECT_EQ(h->producer_epoch, -1);
  EXPECT_EQ(h->base_sequence, -1);
  EXPECT_EQ(h->records_count, static_cast<int32_t>(records.size()));
  EXPECT_EQ(h->last_offset(), 42 + static_cast<int64_t>(records.size()) - 1);
  EXPECT_FALSE(h->log_append_time());
  EXPECT_FALSE(h->is_transactional());
  EXPECT_FALSE(h->is_control());

  auto epoch = BatchBuilder().set_partition_leader_epoch(7).Add("k", "v", 1).Build();
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(ParseBatchHeader(*epoch)->partition_leader_epoch, 7);
}

TEST(RecordBatchTest, BuildRejectsAnEmptyBatch) {
  for (Compression c : kAllCodecs) {
    BatchBuilder builder(c);
    EXPECT_EQ(builder.record_count(), 0u);
    EXPECT_EQ(builder.Build().status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(RecordBatchTest, ExtremeTimestampsRoundTrip) {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  std::vector<BuilderRecord> want = {{"a", "1", hi, {}}, {"b", "2", lo, {}}, {"c", "3", 0, {}}};
  std::string batch = BuildBatch(Compression::kNone, 0, want);
  auto records = DecodeRecords(batch);
  ASSERT_TRUE(records.ok()) << records.status();
  ExpectRecordsMatch(*records, want, 0);
}

TEST(RecordBatchTest, SetBaseOffsetAndLeaderEpochKeepTheCrc) {
  const auto want = SampleRecords(false);
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    std::string batch = BuildBatch(c, 0, want);
    uint32_t crc = ParseBatchHeader(batch)->crc;
    SetBaseOffset(batch.data(), 123456789012);
    SetPartitionLeaderEpoch(batch.data(), 17);
    auto h = ValidateBatch(batch);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->crc, crc);
    EXPECT_EQ(h->base_offset, 123456789012);
    EXPECT_EQ(h->partition_leader_epoch, 17);
    auto records = DecodeRecords(batch);
    ASSERT_TRUE(records.ok());
    ExpectRecordsMatch(*records, want, 123456789012);
  }
}

TEST(RecordBatchTest, SetLogAppendTimeRecomputesTheCrc) {
  const auto want = SampleRecords(false);
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    std::string batch = BuildBatch(c, 5, want);
    uint32_t crc = ParseBatchHeader(batch)->crc;
    SetLogAppendTime(batch.data(), batch.size(), 1'700'000'000'000);
    auto h = ValidateBatch(batch);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_NE(h->crc, crc);
    EXPECT_TRUE(h->log_append_time());
    EXPECT_EQ(h->compression(), c);
    EXPECT_EQ(h->max_timestamp, 1'700'000'000'000);
    EXPECT_EQ(h->base_timestamp, 1000);
    auto records = DecodeRecords(batch);
    ASSERT_TRUE(records.ok()) << records.status();
    ExpectRecordsMatch(*records, want, 5, 1'700'000'000'000);
  }
}

TEST(RecordBatchTest, LogAppendTimeBuilderReportsMaxTimestamp) {
  const auto want = SampleRecords(false);
  BatchBuilder builder(Compression::kGzip);
  builder.set_log_append_time(true);
  for (const auto& r : want) builder.Add(r);
  auto batch = builder.Build();
  ASSERT_TRUE(batch.ok());
  auto h = ValidateBatch(*batch);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->attributes, 1 | kTimestampTypeBit);
  auto records = DecodeRecords(*batch);
  ASSERT_TRUE(records.ok());
  ExpectRecordsMatch(*records, want, 0, 1019);
}

TEST(RecordBatchTest, ParseBatchHeaderChecks) {
  std::string good = BuildBatch(Compression::kNone, 0, SampleRecords(false));
  EXPECT_TRUE(ParseBatchHeader(good).ok());
  // The header alone is enough.
  EXPECT_TRUE(ParseBatchHeader(std::string_view(good).substr(0, 61)).ok());
  EXPECT_EQ(ParseBatchHeader(std::string_view(good).substr(0, 60)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseBatchHeader("").ok());

  std::string bad = good;
  bad[16] = 1;
  EXPECT_EQ(ParseBatchHeader(bad).status().code(), absl::StatusCode::kDataLoss);
  bad = good;
  PutBig(&bad, 8, 48, 4);
  EXPECT_EQ(ParseBatchHeader(bad).status().code(), absl::StatusCode::kDataLoss);
  PutBig(&bad, 8, 0xffffffff, 4);  // -1
  EXPECT_FALSE(ParseBatchHeader(bad).ok());
  bad = good;
  PutBig(&bad, 23, 0xffffffff, 4);  // lastOffsetDelta -1
  EXPECT_FALSE(ParseBatchHeader(bad).ok());
  bad = good;
  PutBig(&bad, 57, 0x80000000, 4);  // recordsCount INT32_MIN
  EXPECT_FALSE(ParseBatchHeader(bad).ok());
  // Offsets past INT64_MAX (found by fuzz_record_batch: last_offset() overflowed).
  bad = good;
  PutBig(&bad, 0, 0x7fffffffffffffffULL, 8);
  EXPECT_EQ(ParseBatchHeader(bad).status().code(), absl::StatusCode::kDataLoss);
  const int32_t delta = ParseBatchHeader(good)->last_offset_delta;
  PutBig(&bad, 0, static_cast<uint64_t>(INT64_MAX - 1 - delta), 8);
  EXPECT_TRUE(ParseBatchHeader(bad).ok());
  PutBig(&bad, 0, static_cast<uint64_t>(INT64_MAX - delta), 8);
  EXPECT_FALSE(ParseBatchHeader(bad).ok());
}

TEST(RecordBatchTest, PeekBatchSize) {
  std::string good = BuildBatch(Compression::kNone, 0, SampleRecords(false));
  EXPECT_EQ(*PeekBatchSize(good), good.size());
  EXPECT_EQ(*PeekBatchSize(std::string_view(good).substr(0, 12)), good.size());
  EXPECT_EQ(PeekBatchSize(std::string_view(good).substr(0, 11)).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string bad = good;
  PutBig(&bad, 8, 48, 4);
  EXPECT_EQ(PeekBatchSize(bad).status().code(), absl::StatusCode::kDataLoss);
  PutBig(&bad, 8, 0x80000000, 4);
  EXPECT_EQ(PeekBatchSize(bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordBatchTest, ValidateBatchRejectsBadHeadersSizesAndCrcs) {
  const std::string good = BuildBatch(Compression::kNone, 0, SampleRecords(false));
  ASSERT_TRUE(ValidateBatch(good).ok());
  auto expect_corrupt = [](const std::string& b, const char* what) {
    auto h = ValidateBatch(b);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss) << what << ": " << h.status();
  };

  std::string bad = good;
  bad[bad.size() - 1] ^= 1;
  expect_corrupt(bad, "record byte changed");
  bad = good;
  bad[17] ^= 1;
  expect_corrupt(bad, "crc changed");
  expect_corrupt(good + "x", "trailing byte");
  expect_corrupt(good.substr(0, good.size() - 1), "missing byte");
  expect_corrupt(good.substr(0, 30), "shorter than a header");
  expect_corrupt("", "empty");
  bad = good;
  bad[16] = 3;
  expect_corrupt(bad, "magic 3");

  // Header fields that disagree with the records, with a correct CRC.
  bad = good;
  PutBig(&bad, 57, ParseBatchHeader(good)->records_count + 1, 4);
  FixCrc(&bad);
  expect_corrupt(bad, "one record too many in the count");
  bad = good;
  PutBig(&bad, 57, ParseBatchHeader(good)->records_count - 1, 4);
  FixCrc(&bad);
  expect_corrupt(bad, "one record too few in the count");
  bad = good;
  PutBig(&bad, 23, ParseBatchHeader(good)->last_offset_delta - 1, 4);
  FixCrc(&bad);
  expect_corrupt(bad, "lastOffsetDelta below the last record's");
  bad = good;
  PutBig(&bad, 21, 6, 2);
  FixCrc(&bad);
  expect_corrupt(bad, "unknown codec 6");
}

TEST(RecordBatchTest, CompressedBatchesAreCheckedByHeaderAndCrcThenFullyByDecode) {
  // A compressed payload that is garbage passes ValidateBatch (no decompression) but not
  // DecodeRecords.
  std::string b = MakeRawBatch("not gzip at all", 1, 0, /*attributes=*/1);
  ASSERT_TRUE(ValidateBatch(b).ok());
  auto records = DecodeRecords(b);
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(records.status().message().find("gzip"), absl::string_view::npos);

  // Valid compression, wrong count inside.
  std::string good = BuildBatch(Compression::kZstd, 0, SampleRecords(false));
  PutBig(&good, 57, ParseBatchHeader(good)->records_count + 1, 4);
  FixCrc(&good);
  EXPECT_TRUE(ValidateBatch(good).ok());
  EXPECT_EQ(DecodeRecords(good).status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordBatchTest, CompactedBatchesWithGapsAreValid) {
  std::string records = Framed(SimpleBody(0)) + Framed(SimpleBody(2, 5)) + Framed(SimpleBody(5));
  std::string b = MakeRawBatch(records, 3, 7, 0, 100);
  auto decoded = DecodeRecords(b);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_EQ(decoded->size(), 3u);
  EXPECT_EQ((*decoded)[1].offset, 102);
  EXPECT_EQ((*decoded)[1].timestamp, 1005);
  EXPECT_EQ((*decoded)[2].offset, 105);
  EXPECT_EQ(ParseBatchHeader(b)->next_offset(), 108);
  // All records compacted away.
  std::string empty = MakeRawBatch("", 0, 3);
  ASSERT_TRUE(ValidateBatch(empty).ok());
  EXPECT_TRUE(DecodeRecords(empty)->empty());
}

TEST(RecordBatchTest, RejectsMalformedRecords) {
  const std::string z(1, '\0');
  struct Case {
    const char* what;
    std::string records;
    int32_t count;
    int32_t last_offset_delta;
  } cases[] = {
      {"record length one too long", Varint(static_cast<int32_t>(SimpleBody(0).size() + 1)) +
                                         SimpleBody(0) + "x", 1, 0},
      {"record length one too short", Varint(static_cast<int32_t>(SimpleBody(0).size() - 1)) +
                                          SimpleBody(0), 1, 0},
      {"record length past the end", Varint(100) + SimpleBody(0), 1, 0},
      {"negative record length", Varint(-1) + SimpleBody(0), 1, 0},
      {"record length overflows", std::string("\xff\xff\xff\xff\x7f", 5) + SimpleBody(0), 1, 0},
      {"key length -2", Framed(z + z + z + Varint(-2) + Varint(-1) + z), 1, 0},
      {"key past the record", Framed(z + z + z + Varint(10) + "abc" + Varint(-1) + z), 1, 0},
      {"value length -5", Framed(z + z + z + Varint(-1) + Varint(-5) + z), 1, 0},
      {"negative header count", Framed(z + z + z + Varint(-1) + Varint(-1) + Varint(-1)), 1, 0},
      {"huge header count", Framed(z + z + z + Varint(-1) + Varint(-1) +
                                   Varint(std::numeric_limits<int32_t>::max())), 1, 0},
      {"null header key", Framed(z + z + z + Varint(-1) + Varint(-1) + Varint(1) + Varint(-1) +
                                 Varint(-1)), 1, 0},
      {"header value past the record", Framed(z + z + z + Varint(-1) + Varint(-1) + Varint(1) +
                                              Varint(1) + "h" + Varint(4) + "ab"), 1, 0},
      {"missing header", Framed(z + z + z + Varint(-1) + Varint(-1) + Varint(2) + Varint(1) +
                                "h" + Varint(-1)), 1, 0},
      {"overlong varint in offsetDelta",
       Framed(z + z + std::string("\x80\x80\x80\x80\x80\x00", 6) + Varint(-1) + Varint(-1) + z),
       1, 0},
      {"overlong varlong in timestampDelta",
       Framed(z + std::string(10, '\x80') + z + z + Varint(-1) + Varint(-1) + z), 1, 0},
      {"record truncated before its fields", Framed(z), 1, 0},
      {"trailing bytes after the records", Framed(SimpleBody(0)) + "xyz", 1, 0},
      {"count above what the bytes can hold", Framed(SimpleBody(0)), 1'000'000'000, 999'999'999},
      {"count of records missing", Framed(SimpleBody(0)), 2, 1},
      {"duplicate offset delta", Framed(SimpleBody(0)) + Framed(SimpleBody(0)), 2, 1},
      {"decreasing offset delta", Framed(SimpleBody(1)) + Framed(SimpleBody(0)), 2, 1},
      {"negative offset delta", Framed(SimpleBody(-1)), 1, 0},
      {"offset delta beyond lastOffsetDelta", Framed(SimpleBody(1)), 1, 0},
  };
  for (const Case& c : cases) {
    std::string b = MakeRawBatch(c.records, c.count, c.last_offset_delta);
    auto h = ValidateBatch(b);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss) << c.what << ": " << h.status();
    EXPECT_FALSE(DecodeRecords(b).ok()) << c.what;
    // The same records, compressed: ValidateBatch cannot see them, DecodeRecords must.
    auto gz = Compress(Compression::kGzip, c.records);
    ASSERT_TRUE(gz.ok());
    std::string cb = MakeRawBatch(*gz, c.count, c.last_offset_delta, 1);
    EXPECT_TRUE(ValidateBatch(cb).ok()) << c.what;
    EXPECT_EQ(DecodeRecords(cb).status().code(), absl::StatusCode::kDataLoss) << c.what;
  }
  // Sanity: the helpers make a valid record.
  EXPECT_TRUE(DecodeRecords(MakeRawBatch(Framed(SimpleBody(0)), 1, 0)).ok());
}

// ------------------------------------------------------------------------------------------------
// BatchIterator

std::vector<std::string> ThreeBatches() {
  return {BuildBatch(Compression::kNone, 0, SampleRecords(false)),
          BuildBatch(Compression::kSnappy, 100, SampleRecords(false)),
          BuildBatch(Compression::kZstd, 200, {{"k", "v", 5, {}}})};
}

TEST(RecordBatchIteratorTest, SplitsConcatenatedBatches) {
  auto batches = ThreeBatches();
  std::string all = batches[0] + batches[1] + batches[2];
  BatchIterator it(all);
  BatchHeader h;
  std::string_view batch;
  size_t position = 0;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(it.Next(&h, &batch)) << it.status();
    EXPECT_EQ(batch, batches[i]);
    EXPECT_EQ(batch.data(), all.data() + position);
    position += batches[i].size();
    EXPECT_EQ(it.position(), position);
    EXPECT_TRUE(ValidateBatch(batch).ok());
  }
  EXPECT_EQ(h.base_offset, 200);
  EXPECT_FALSE(it.Next(&h, &batch));
  EXPECT_TRUE(it.status().ok());
  EXPECT_EQ(it.position(), all.size());

  BatchIterator empty("");
  EXPECT_FALSE(empty.Next(&h, &batch));
  EXPECT_TRUE(empty.status().ok());
}

TEST(RecordBatchIteratorTest, TrailingPartialBatchEndsCleanly) {
  auto batches = ThreeBatches();
  std::string whole = batches[0] + batches[1];
  for (size_t cut = 0; cut < batches[2].size(); ++cut) {
    std::string data = whole + batches[2].substr(0, cut);
    BatchIterator it(data);
    BatchHeader h;
    std::string_view batch;
    int n = 0;
    while (it.Next(&h, &batch)) ++n;
    EXPECT_EQ(n, 2) << "cut " << cut;
    EXPECT_TRUE(it.status().ok()) << "cut " << cut << ": " << it.status();
    EXPECT_EQ(it.position(), whole.size());
  }
}

TEST(RecordBatchIteratorTest, ImpossibleLengthOrBadMagicIsAnError) {
  auto batches = ThreeBatches();
  BatchHeader h;
  std::string_view batch;

  std::string bad_length = batches[2];
  PutBig(&bad_length, 8, 48, 4);
  std::string data = batches[0] + bad_length;
  // Even when the batch with the bad length is cut short: 12 bytes are enough to know.
  for (size_t len : {data.size(), batches[0].size() + 12}) {
    BatchIterator it(std::string_view(data).substr(0, len));
    ASSERT_TRUE(it.Next(&h, &batch));
    EXPECT_FALSE(it.Next(&h, &batch));
    EXPECT_EQ(it.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(it.position(), batches[0].size());
    EXPECT_FALSE(it.Next(&h, &batch));  // stays failed
  }

  std::string bad_magic = batches[1];
  bad_magic[16] = 1;
  data = batches[0] + bad_magic;
  for (size_t len : {data.size(), batches[0].size() + 17}) {
    BatchIterator it(std::string_view(data).substr(0, len));
    ASSERT_TRUE(it.Next(&h, &batch));
    EXPECT_FALSE(it.Next(&h, &batch));
    EXPECT_EQ(it.status().code(), absl::StatusCode::kDataLoss);
  }

  // A header the iterator cannot accept (negative recordsCount) in a whole batch.
  std::string bad_count = batches[2];
  PutBig(&bad_count, 57, 0xffffffff, 4);
  BatchIterator it(bad_count);
  EXPECT_FALSE(it.Next(&h, &batch));
  EXPECT_FALSE(it.status().ok());
}

// ------------------------------------------------------------------------------------------------
// Robustness: whatever the bytes, a Status and never a crash (also run under ASan/UBSan).

// Checks the invariants of any decode result.
void CheckDecodeIsSane(std::string_view batch) {
  auto h = ValidateBatch(batch);
  auto records = DecodeRecords(batch);
  if (!h.ok()) {
    EXPECT_FALSE(records.ok());
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss) << h.status();
    return;
  }
  // An uncompressed batch is checked record by record by ValidateBatch (on a quick path that
  // must agree with the full decoder): if it passes, the records decode.
  if (h->compression() == Compression::kNone) {
    EXPECT_TRUE(records.ok()) << records.status();
  }
  if (records.ok()) {
    EXPECT_EQ(records->size(), static_cast<size_t>(h->records_count));
  } else {
    EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss) << records.status();
  }
}

TEST(RecordBatchRobustnessTest, TruncationAtEveryLength) {
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    const std::string batch = BuildBatch(c, 0, SampleRecords(false));
    for (size_t len = 0; len < batch.size(); ++len) {
      std::string cut = batch.substr(0, len);
      EXPECT_FALSE(ValidateBatch(cut).ok()) << len;
      EXPECT_FALSE(DecodeRecords(cut).ok()) << len;
      BatchIterator it(cut);
      BatchHeader h;
      std::string_view b;
      EXPECT_FALSE(it.Next(&h, &b));
      EXPECT_TRUE(it.status().ok());
      // The same cut with batchLength and CRC made to agree: the records decoder sees it.
      if (len >= kBatchHeaderSize) {
        FixLength(&cut);
        FixCrc(&cut);
        EXPECT_FALSE(DecodeRecords(cut).ok()) << len;
        CheckDecodeIsSane(cut);
      }
    }
  }
}

TEST(RecordBatchRobustnessTest, FlipEveryByteOfEveryCodec) {
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    const std::string batch = BuildBatch(c, 0, SampleRecords(false));
    for (size_t pos = 0; pos < batch.size(); ++pos) {
      for (uint8_t mask : {0x01, 0x40, 0x80, 0xff}) {
        std::string bad = batch;
        bad[pos] = static_cast<char>(bad[pos] ^ mask);
        // Only baseOffset and partitionLeaderEpoch are outside the CRC and unchecked.
        bool harmless = pos < 8 || (pos >= 12 && pos < 16);
        EXPECT_EQ(ValidateBatch(bad).ok(), harmless) << "pos " << pos;
        CheckDecodeIsSane(bad);
        // Corruption the CRC does not catch (or a CRC recomputed over it): the record and
        // codec decoders must cope.
        if (pos >= kAttributesOffset) {
          FixCrc(&bad);
          CheckDecodeIsSane(bad);
        }
      }
    }
  }
}

TEST(RecordBatchRobustnessTest, FlipRandomBytesOfLargeBatches) {
  std::mt19937 rng(1234);
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    const std::string batch = BuildBatch(c, 0, SampleRecords(/*with_large_value=*/true));
    for (int i = 0; i < 60; ++i) {
      std::string bad = batch;
      size_t pos = kAttributesOffset + rng() % (batch.size() - kAttributesOffset);
      bad[pos] = static_cast<char>(bad[pos] ^ (1 + rng() % 255));
      FixCrc(&bad);
      CheckDecodeIsSane(bad);
    }
  }
}

TEST(RecordBatchRobustnessTest, RandomRecordSectionsNeverCrash) {
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    std::string records;
    size_t n = rng() % 120;
    for (size_t j = 0; j < n; ++j) {
      // Mostly small bytes so that lengths and counts are plausible.
      records.push_back(static_cast<char>(rng() % 4 == 0 ? rng() & 0xff : rng() % 8));
    }
    int32_t count = static_cast<int32_t>(rng() % 6);
    int16_t attributes = static_cast<int16_t>(rng() % 8 == 0 ? rng() % 8 : 0);
    CheckDecodeIsSane(MakeRawBatch(records, count, static_cast<int32_t>(rng() % 10), attributes));
  }
}

TEST(RecordBatchRobustnessTest, RandomGarbageIntoBatchIterator) {
  std::mt19937 rng(7);
  const std::string valid = BuildBatch(Compression::kGzip, 0, SampleRecords(false));
  for (int i = 0; i < 2000; ++i) {
    std::string data;
    if (rng() % 2) data = valid;
    size_t n = rng() % 300;
    for (size_t j = 0; j < n; ++j) data.push_back(static_cast<char>(rng() & 0xff));
    if (rng() % 3 == 0 && data.size() >= 17) {
      // Plausible length and magic so the iterator gets further.
      size_t at = data.size() > valid.size() + 17 && rng() % 2 ? valid.size() : 0;
      PutBig(&data, at + 8, 49 + rng() % 200, 4);
      data[at + 16] = kMagicV2;
    }
    BatchIterator it(data);
    BatchHeader h;
    std::string_view batch;
    size_t end = 0;
    while (it.Next(&h, &batch)) {
      end += batch.size();
      EXPECT_EQ(batch.size(), h.size_bytes());
      CheckDecodeIsSane(batch);
    }
    EXPECT_EQ(it.position(), end);
    EXPECT_LE(it.position(), data.size());
  }
}

}  // namespace
}  // namespace gregor::record
