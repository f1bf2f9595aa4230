// Kafka wire primitives: Reader and Writer against hand-written bytes.
#include "common/kafka/wire.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kafka/test_bytes.h"
#include "tests/storage/test_util.h"

namespace gregor::kafka {
namespace {

using ::gregor::kafka::testing::Hex;
using ::gregor::kafka::testing::ToHex;
using ::testing::HasSubstr;

std::string Flat(const Writer& w) {
  absl::StatusOr<std::string> flat = w.Flatten();
  EXPECT_TRUE(flat.ok()) << flat.status();
  return flat.ok() ? *flat : std::string();
}

TEST(KafkaProtocolReaderTest, IntegersAreBigEndian) {
  std::string data = Hex("7f | 80 01 | 12 34 56 78 | ff ff ff ff ff ff ff fe | 01 00");
  Reader r(data);
  EXPECT_EQ(r.ReadInt8("a"), 127);
  EXPECT_EQ(r.ReadInt16("b"), -32767);
  EXPECT_EQ(r.ReadInt32("c"), 0x12345678);
  EXPECT_EQ(r.ReadInt64("d"), -2);
  EXPECT_TRUE(r.ReadBool("e"));
  EXPECT_FALSE(r.ReadBool("f"));
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolReaderTest, ExtremeIntegers) {
  std::string data = Hex("80 00 00 00 00 00 00 00 | 7f ff ff ff ff ff ff ff | 80 00 00 00 | 80");
  Reader r(data);
  EXPECT_EQ(r.ReadInt64("min"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.ReadInt64("max"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(r.ReadInt32("min32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(r.ReadInt8("min8"), -128);
  EXPECT_TRUE(r.ok());
}

TEST(KafkaProtocolReaderTest, TruncationNamesTheFieldAndStopsReading) {
  std::string data = Hex("00 01 02");
  Reader r(data);
  EXPECT_EQ(r.ReadInt16("first"), 1);
  EXPECT_EQ(r.ReadInt32("correlation_id"), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("correlation_id"));
  EXPECT_THAT(r.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(r.status().message(), HasSubstr("at byte 2"));
  // Sticky: later reads return zero values, do not move, and keep the first error.
  EXPECT_EQ(r.ReadInt8("later"), 0);
  EXPECT_EQ(r.position(), 2u);
  EXPECT_THAT(r.status().message(), HasSubstr("correlation_id"));
}

TEST(KafkaProtocolReaderTest, UnsignedVarints) {
  std::string data = Hex("00 | 7f | 80 01 | ac 02 | ff ff ff ff 0f");
  Reader r(data);
  EXPECT_EQ(r.ReadUnsignedVarint("a"), 0u);
  EXPECT_EQ(r.ReadUnsignedVarint("b"), 127u);
  EXPECT_EQ(r.ReadUnsignedVarint("c"), 128u);
  EXPECT_EQ(r.ReadUnsignedVarint("d"), 300u);
  EXPECT_EQ(r.ReadUnsignedVarint("e"), 0xffffffffu);
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolReaderTest, UnsignedVarintErrors) {
  {
    std::string data = Hex("80 80");
    Reader r(data);
    r.ReadUnsignedVarint("len");
    EXPECT_THAT(r.status().message(), HasSubstr("len: truncated varint"));
  }
  {
    std::string data = Hex("ff ff ff ff 1f");  // 2^33-1: more than 32 bits
    Reader r(data);
    r.ReadUnsignedVarint("len");
    EXPECT_THAT(r.status().message(), HasSubstr("32 bits"));
  }
  {
    std::string data = Hex("80 80 80 80 80 00");
    Reader r(data);
    r.ReadUnsignedVarint("len");
    EXPECT_FALSE(r.ok());
  }
}

TEST(KafkaProtocolReaderTest, ZigzagVarints) {
  // Zigzag: 0 -> 0, -1 -> 1, 1 -> 2, -64 -> 127, 64 -> 128.
  std::string data = Hex("00 01 02 7f 80 01 | fe ff ff ff 0f | ff ff ff ff 0f");
  Reader r(data);
  EXPECT_EQ(r.ReadVarint("a"), 0);
  EXPECT_EQ(r.ReadVarint("b"), -1);
  EXPECT_EQ(r.ReadVarint("c"), 1);
  EXPECT_EQ(r.ReadVarint("d"), -64);
  EXPECT_EQ(r.ReadVarint("e"), 64);
  EXPECT_EQ(r.ReadVarint("max"), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(r.ReadVarint("min"), std::numeric_limits<int32_t>::min());
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();

  std::string longs = Hex("01 | fe ff ff ff ff ff ff ff ff 01 | ff ff ff ff ff ff ff ff ff 01");
  Reader rl(longs);
  EXPECT_EQ(rl.ReadVarlong("a"), -1);
  EXPECT_EQ(rl.ReadVarlong("max"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(rl.ReadVarlong("min"), std::numeric_limits<int64_t>::min());
  rl.ExpectEnd();
  EXPECT_TRUE(rl.ok()) << rl.status();

  std::string too_long = Hex("ff ff ff ff ff ff ff ff ff 7f");
  Reader bad(too_long);
  bad.ReadVarlong("v");
  EXPECT_FALSE(bad.ok());
}

TEST(KafkaProtocolReaderTest, Strings) {
  std::string data = Hex("00 03 'abc' | ff ff | 00 00 | 00 02 'xy'");
  Reader r(data);
  EXPECT_EQ(r.ReadString("a"), "abc");
  EXPECT_EQ(r.ReadNullableString("b"), std::nullopt);
  EXPECT_EQ(r.ReadNullableString("c"), std::optional<std::string_view>(""));
  EXPECT_EQ(r.ReadNullableString("d"), std::optional<std::string_view>("xy"));
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolReaderTest, StringErrors) {
  {
    std::string data = Hex("ff ff");
    Reader r(data);
    r.ReadString("topics[].name");
    EXPECT_THAT(r.status().message(), HasSubstr("topics[].name: null string"));
  }
  {
    std::string data = Hex("ff fe");
    Reader r(data);
    r.ReadNullableString("client_id");
    EXPECT_THAT(r.status().message(), HasSubstr("negative string length -2"));
  }
  {
    std::string data = Hex("00 05 'abc'");
    Reader r(data);
    r.ReadString("name");
    EXPECT_THAT(r.status().message(), HasSubstr("need 5 bytes, 3 left"));
  }
}

TEST(KafkaProtocolReaderTest, CompactStringsAreLengthPlusOne) {
  std::string data = Hex("04 'abc' | 00 | 01");
  Reader r(data);
  EXPECT_EQ(r.ReadCompactString("a"), "abc");
  EXPECT_EQ(r.ReadCompactNullableString("b"), std::nullopt);
  EXPECT_EQ(r.ReadCompactNullableString("c"), std::optional<std::string_view>(""));
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();

  std::string null = Hex("00");
  Reader rn(null);
  rn.ReadCompactString("client_software_name");
  EXPECT_THAT(rn.status().message(), HasSubstr("client_software_name: null string"));

  std::string huge = Hex("ff ff 03 'x'");  // 65535-1 bytes: more than a string may hold
  Reader rh(huge);
  rh.ReadCompactString("s");
  EXPECT_THAT(rh.status().message(), HasSubstr("exceeds 32767"));
}

TEST(KafkaProtocolReaderTest, Bytes) {
  std::string data = Hex("00 00 00 02 01 02 | ff ff ff ff | 00 00 00 00 | 03 aa bb | 00 | 01");
  Reader r(data);
  EXPECT_EQ(r.ReadBytes("a"), Hex("01 02"));
  EXPECT_EQ(r.ReadNullableBytes("b"), std::nullopt);
  EXPECT_EQ(r.ReadNullableBytes("c"), std::optional<std::string_view>(""));
  EXPECT_EQ(r.ReadCompactBytes("d"), Hex("aa bb"));
  EXPECT_EQ(r.ReadCompactNullableBytes("e"), std::nullopt);
  EXPECT_EQ(r.ReadCompactNullableBytes("f"), std::optional<std::string_view>(""));
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();

  std::string negative = Hex("ff ff ff fe");
  Reader rneg(negative);
  rneg.ReadNullableBytes("records");
  EXPECT_THAT(rneg.status().message(), HasSubstr("negative bytes length"));

  std::string big = Hex("7f ff ff ff 00");
  Reader rbig(big);
  rbig.ReadBytes("records");
  EXPECT_THAT(rbig.status().message(), HasSubstr("records: truncated"));

  std::string null = Hex("ff ff ff ff");
  Reader rnull(null);
  rnull.ReadBytes("metadata");
  EXPECT_THAT(rnull.status().message(), HasSubstr("null bytes"));
}

TEST(KafkaProtocolReaderTest, ArrayLengths) {
  std::string data = Hex("00 00 00 02 | ff ff ff ff | 00 00 00 00 | 03 | 00 | 01 | 00 00");
  Reader r(data);
  EXPECT_EQ(r.ReadArrayLength("a"), 2);
  EXPECT_EQ(r.ReadNullableArrayLength("b"), -1);
  EXPECT_EQ(r.ReadNullableArrayLength("c"), 0);
  EXPECT_EQ(r.ReadCompactArrayLength("d"), 2);  // N+1 = 3
  EXPECT_EQ(r.ReadCompactNullableArrayLength("e"), -1);
  EXPECT_EQ(r.ReadCompactNullableArrayLength("f"), 0);
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolReaderTest, NullArrayWhereRequiredIsAnError) {
  std::string data = Hex("ff ff ff ff");
  Reader r(data);
  EXPECT_EQ(r.ReadArrayLength("topics"), 0);
  EXPECT_THAT(r.status().message(), HasSubstr("topics: null array"));

  std::string compact = Hex("00");
  Reader rc(compact);
  EXPECT_EQ(rc.ReadCompactArrayLength("api_keys"), 0);
  EXPECT_THAT(rc.status().message(), HasSubstr("api_keys: null array"));

  std::string negative = Hex("ff ff ff fe");
  Reader rn(negative);
  EXPECT_EQ(rn.ReadNullableArrayLength("topics"), 0);
  EXPECT_THAT(rn.status().message(), HasSubstr("negative array length -2"));
}

TEST(KafkaProtocolReaderTest, AbsurdArrayCountsAreRejectedBeforeAllocating) {
  std::string data = Hex("7f ff ff ff 00 00 00 00 00 00");
  Reader r(data);
  EXPECT_EQ(r.ReadArrayLength("topics"), 0);
  EXPECT_THAT(r.status().message(), HasSubstr("array length 2147483647 cannot fit"));

  // 3 elements of at least 4 bytes do not fit in 8 bytes.
  std::string small = Hex("00 00 00 03 00 00 00 01 00 00 00 02");
  Reader rs(small);
  EXPECT_EQ(rs.ReadArrayLength("replica_nodes", 4), 0);
  EXPECT_FALSE(rs.ok());
  // ... but 2 do.
  std::string exact = Hex("00 00 00 02 00 00 00 01 00 00 00 02");
  Reader re(exact);
  EXPECT_EQ(re.ReadArrayLength("replica_nodes", 4), 2);
  EXPECT_TRUE(re.ok());

  std::string compact = Hex("ff ff ff ff 0f");
  Reader rc(compact);
  EXPECT_EQ(rc.ReadCompactArrayLength("api_keys"), 0);
  EXPECT_FALSE(rc.ok());
}

TEST(KafkaProtocolReaderTest, TaggedFields) {
  std::string data = Hex("02 | 00 02 aa bb | 05 00 | 'x'");
  Reader r(data);
  std::vector<TaggedField> fields = r.ReadTaggedFields("tags");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].tag, 0u);
  EXPECT_EQ(fields[0].data, Hex("aa bb"));
  EXPECT_EQ(fields[1].tag, 5u);
  EXPECT_EQ(fields[1].data, "");
  EXPECT_EQ(r.remaining(), 1u);

  std::string skip = Hex("01 03 01 ff | 00");
  Reader rs(skip);
  rs.SkipTaggedFields("tags");
  rs.SkipTaggedFields("empty tags");
  rs.ExpectEnd();
  EXPECT_TRUE(rs.ok()) << rs.status();
}

TEST(KafkaProtocolReaderTest, TaggedFieldErrors) {
  {
    std::string data = Hex("02 | 05 00 | 05 00");  // repeated tag
    Reader r(data);
    r.SkipTaggedFields("tags");
    EXPECT_THAT(r.status().message(), HasSubstr("out of order"));
  }
  {
    std::string data = Hex("01 | 00 05 aa");  // field longer than the data
    Reader r(data);
    r.SkipTaggedFields("tags");
    EXPECT_THAT(r.status().message(), HasSubstr("tags: truncated"));
  }
  {
    std::string data = Hex("ff ff ff ff 0f");  // absurd count
    Reader r(data);
    r.SkipTaggedFields("tags");
    EXPECT_THAT(r.status().message(), HasSubstr("cannot fit"));
  }
}

TEST(KafkaProtocolReaderTest, ExpectEndRejectsTrailingBytes) {
  std::string data = Hex("00 01 ee ee");
  Reader r(data);
  r.ReadInt16("x");
  r.ExpectEnd();
  EXPECT_THAT(r.status().message(), HasSubstr("2 trailing bytes"));
}

TEST(KafkaProtocolReaderTest, FailKeepsTheFirstError) {
  std::string data;
  Reader r(data);
  r.Fail("isolation_level: unknown value 7");
  r.ReadInt8("x");
  EXPECT_EQ(r.status().message(), "isolation_level: unknown value 7");
}

TEST(KafkaProtocolWriterTest, Integers) {
  Writer w;
  w.WriteInt8(-1);
  w.WriteInt16(0x1234);
  w.WriteInt32(-2);
  w.WriteInt64(0x0102030405060708);
  w.WriteBool(true);
  w.WriteBool(false);
  EXPECT_EQ(ToHex(Flat(w)), ToHex(Hex("ff 12 34 ff ff ff fe 01 02 03 04 05 06 07 08 01 00")));
  EXPECT_EQ(w.size(), 17u);
}

TEST(KafkaProtocolWriterTest, Varints) {
  Writer w;
  w.WriteUnsignedVarint(0);
  w.WriteUnsignedVarint(300);
  w.WriteUnsignedVarint(0xffffffffu);
  w.WriteVarint(-1);
  w.WriteVarint(64);
  w.WriteVarint(std::numeric_limits<int32_t>::min());
  w.WriteVarlong(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ToHex(Flat(w)), ToHex(Hex("00 ac 02 ff ff ff ff 0f 01 80 01 ff ff ff ff 0f "
                                      "fe ff ff ff ff ff ff ff ff 01")));
}

TEST(KafkaProtocolWriterTest, VarintsRoundTrip) {
  const int64_t values[] = {0,         1,         -1,        63,        -64,       64,
                            8191,      -8192,     1 << 20,   -(1 << 27), INT32_MAX, INT32_MIN,
                            INT64_MAX, INT64_MIN, 1LL << 40, -(1LL << 50)};
  Writer w;
  for (int64_t v : values) {
    if (v >= INT32_MIN && v <= INT32_MAX) w.WriteVarint(static_cast<int32_t>(v));
    w.WriteVarlong(v);
    w.WriteUnsignedVarint(static_cast<uint32_t>(v));
  }
  std::string data = Flat(w);
  Reader r(data);
  for (int64_t v : values) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      EXPECT_EQ(r.ReadVarint("v"), v);
    }
    EXPECT_EQ(r.ReadVarlong("l"), v);
    EXPECT_EQ(r.ReadUnsignedVarint("u"), static_cast<uint32_t>(v));
  }
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolWriterTest, StringsAndBytes) {
  Writer w;
  w.WriteString("abc");
  w.WriteNullableString(std::nullopt);
  w.WriteNullableString("");
  w.WriteCompactString("abc");
  w.WriteCompactNullableString(std::nullopt);
  w.WriteBytes(Hex("01 02"));
  w.WriteNullableBytes(std::nullopt);
  w.WriteCompactBytes("");
  w.WriteCompactNullableBytes(std::nullopt);
  EXPECT_EQ(ToHex(Flat(w)), ToHex(Hex("00 03 'abc' ff ff 00 00 04 'abc' 00 "
                                      "00 00 00 02 01 02 ff ff ff ff 01 00")));
}

TEST(KafkaProtocolWriterTest, ArraysAndTags) {
  Writer w;
  w.WriteArrayLength(3);
  w.WriteNullArray();
  w.WriteCompactArrayLength(0);
  w.WriteCompactArrayLength(200);
  w.WriteCompactNullArray();
  w.WriteEmptyTaggedFields();
  std::string payload = Hex("aa");
  w.WriteTaggedFields({TaggedField{1, payload}, TaggedField{300, ""}});
  EXPECT_EQ(ToHex(Flat(w)), ToHex(Hex("00 00 00 03 ff ff ff ff 01 c9 01 00 00 "
                                      "02 01 01 aa ac 02 00")));
}

TEST(KafkaProtocolWriterTest, PrimitivesRoundTripThroughReader) {
  Writer w;
  w.WriteString("topic");
  w.WriteNullableString(std::nullopt);
  w.WriteCompactNullableString("flex");
  w.WriteNullableBytes(Hex("00 ff"));
  w.WriteCompactBytes(Hex("01"));
  w.WriteArrayLength(1);
  w.WriteCompactArrayLength(1);
  w.WriteTaggedFields({TaggedField{7, "zz"}});
  std::string data = Flat(w);
  Reader r(data);
  EXPECT_EQ(r.ReadString("a"), "topic");
  EXPECT_EQ(r.ReadNullableString("b"), std::nullopt);
  EXPECT_EQ(r.ReadCompactNullableString("c"), std::optional<std::string_view>("flex"));
  EXPECT_EQ(r.ReadNullableBytes("d"), std::optional<std::string_view>(Hex("00 ff")));
  EXPECT_EQ(r.ReadCompactBytes("e"), Hex("01"));
  EXPECT_EQ(r.ReadArrayLength("f"), 1);
  EXPECT_EQ(r.ReadCompactArrayLength("g"), 1);
  std::vector<TaggedField> tags = r.ReadTaggedFields("h");
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].tag, 7u);
  EXPECT_EQ(tags[0].data, "zz");
  r.ExpectEnd();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST(KafkaProtocolWriterTest, OverlongStringIsAnError) {
  Writer w;
  w.WriteString(std::string(32768, 'x'));
  EXPECT_FALSE(w.status().ok());
  EXPECT_THAT(w.status().message(), HasSubstr("exceeds 32767"));
  EXPECT_FALSE(w.Flatten().ok());

  Writer ok;
  ok.WriteString(std::string(32767, 'x'));
  EXPECT_TRUE(ok.status().ok());
  EXPECT_EQ(ok.size(), 32769u);

  Writer compact;
  compact.WriteCompactString(std::string(40000, 'x'));
  EXPECT_FALSE(compact.status().ok());
}

TEST(KafkaProtocolWriterTest, FileSlicesAreZeroCopyChunks) {
  storage::testing::TempDir dir;
  absl::StatusOr<std::shared_ptr<File>> file = File::Open(dir.Sub("segment"), /*create=*/true);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->WriteAt(0, "0123456789").ok());

  Writer w;
  w.WriteInt32(4);
  w.AppendFileSlice(FileSlice{*file, 2, 4});  // "2345"
  w.AppendFileSlice(FileSlice{*file, 0, 0});  // dropped
  w.WriteInt8(1);
  w.WriteInt8(2);
  w.AppendFileSlice(FileSlice{*file, 8, 2});  // "89"
  EXPECT_EQ(w.size(), 4u + 4 + 2 + 2);
  EXPECT_TRUE(w.has_file_slices());
  ASSERT_EQ(w.chunks().size(), 4u);
  EXPECT_TRUE(std::holds_alternative<std::string>(w.chunks()[0]));
  EXPECT_TRUE(std::holds_alternative<FileSlice>(w.chunks()[1]));
  EXPECT_EQ(std::get<std::string>(w.chunks()[2]), Hex("01 02"));
  EXPECT_TRUE(std::holds_alternative<FileSlice>(w.chunks()[3]));
  EXPECT_EQ(Flat(w), Hex("00 00 00 04 '2345' 01 02 '89'"));

  std::vector<Chunk> chunks = std::move(w).TakeChunks();
  EXPECT_EQ(chunks.size(), 4u);

  Writer bad;
  bad.AppendFileSlice(FileSlice{*file, 0, -1});
  EXPECT_FALSE(bad.status().ok());
  Writer no_file;
  no_file.AppendFileSlice(FileSlice{nullptr, 0, 3});
  EXPECT_FALSE(no_file.status().ok());
}

TEST(KafkaProtocolWriterTest, AppendMergesSmallChunksAndCarriesErrors) {
  storage::testing::TempDir dir;
  absl::StatusOr<std::shared_ptr<File>> file = File::Open(dir.Sub("f"), /*create=*/true);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->WriteAt(0, "abcdef").ok());

  Writer body;
  body.WriteInt16(7);
  body.AppendFileSlice(FileSlice{*file, 0, 6});
  body.WriteRaw(std::string(5000, 'z'));

  Writer frame;
  frame.WriteInt32(1);
  frame.Append(std::move(body));
  EXPECT_EQ(body.size(), 0u);
  EXPECT_EQ(frame.size(), 4u + 2 + 6 + 5000);
  ASSERT_EQ(frame.chunks().size(), 3u);  // [int32+int16], slice, 5000 bytes
  EXPECT_EQ(std::get<std::string>(frame.chunks()[0]), Hex("00 00 00 01 00 07"));
  absl::StatusOr<std::string> flat = frame.Flatten();
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->substr(0, 12), Hex("00 00 00 01 00 07 'abcdef'"));

  Writer failing;
  failing.WriteString(std::string(40000, 'x'));
  Writer outer;
  outer.Append(std::move(failing));
  EXPECT_FALSE(outer.status().ok());
}

}  // namespace
}  // namespace gregor::kafka
