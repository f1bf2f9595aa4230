#include "common/compression.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace gregor {
namespace {

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip,
                                      Compression::kSnappy, Compression::kLz4,
                                      Compression::kZstd};
constexpr Compression kRealCodecs[] = {Compression::kGzip, Compression::kSnappy,
                                       Compression::kLz4, Compression::kZstd};

std::string Name(Compression c) { return std::string(CompressionName(c)); }

// Compressible but not trivial: text with a counter, and some pseudo-random bytes.
std::string SampleData(size_t size, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(size);
  int line = 0;
  while (s.size() < size) {
    s += "record " + std::to_string(line++) + " payload ";
    for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>(rng() & 0xff));
    s.push_back('\n');
  }
  s.resize(size);
  return s;
}

// A failed Decompress must be DataLoss and name the codec.
void ExpectDataLossNamingCodec(const absl::Status& status, Compression codec) {
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_TRUE(absl::StrContains(std::string(status.message()), Name(codec))) << status;
}

// Golden vectors written by independent implementations (Python gzip, python-lz4,
// python-zstandard, python-snappy via kafka-python), all of the same 86 bytes.
const std::string kGoldenPlain = "Gregor golden vector: " + std::string(
    "abcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefghabcdefgh");

// zstandard stream_writer: no content size in the frame header.
const std::string kGoldenZstdNoContentSize(
    "\x28\xb5\x2f\xfd\x00\x58\x2d\x01\x00\xf0\x47\x72\x65\x67\x6f\x72\x20\x67\x6f\x6c\x64\x65"
    "\x6e\x20\x76\x65\x63\x74\x6f\x72\x3a\x20\x61\x62\x63\x64\x65\x66\x67\x68\x01\x00\x76\x67"
    "\x71\x02",
    46);
// lz4.frame with content size, block checksums and a content checksum.
const std::string kGoldenLz4AllChecksums(
    "\x04\x22\x4d\x18\x7c\x40\x56\x00\x00\x00\x00\x00\x00\x00\x40\x29\x00\x00\x00\xff\x0f\x47"
    "\x72\x65\x67\x6f\x72\x20\x67\x6f\x6c\x64\x65\x6e\x20\x76\x65\x63\x74\x6f\x72\x3a\x20\x61"
    "\x62\x63\x64\x65\x66\x67\x68\x08\x00\x20\x50\x64\x65\x66\x67\x68\x87\xfc\x19\xa5\x00\x00"
    "\x00\x00\x26\xe6\xdc\x40",
    72);
// Two gzip members (first 40 bytes, then the rest), as `cat a.gz b.gz`.
const std::string kGoldenGzipTwoMembers(
    "\x1f\x8b\x08\x00\xaf\x0a\x07\x6b\x02\xff\x73\x2f\x4a\x4d\xcf\x2f\x52\x48\xcf\xcf\x49\x49"
    "\xcd\x53\x28\x4b\x4d\x2e\xc9\x2f\xb2\x52\x48\x4c\x4a\x4e\x49\x4d\x4b\xcf\x40\xd0\x00\x31"
    "\x2d\xc2\x87\x28\x00\x00\x00\x1f\x8b\x08\x00\xaf\x0a\x07\x6b\x02\xff\x4b\x4e\x49\x4d\x4b"
    "\xcf\x48\x4c\x4a\x26\x8a\x06\x00\x3b\xb3\x02\x6b\x2e\x00\x00\x00",
    82);
// kafka-python's snappy_encode: xerial framing, one block.
const std::string kGoldenSnappyXerial(
    "\x82\x53\x4e\x41\x50\x50\x59\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x23\x56\x74"
    "\x47\x72\x65\x67\x6f\x72\x20\x67\x6f\x6c\x64\x65\x6e\x20\x76\x65\x63\x74\x6f\x72\x3a\x20"
    "\x61\x62\x63\x64\x65\x66\x67\x68\xde\x08\x00",
    55);
// python-snappy's compress: one raw block (what librdkafka sends).
const std::string kGoldenSnappyRaw(
    "\x56\x74\x47\x72\x65\x67\x6f\x72\x20\x67\x6f\x6c\x64\x65\x6e\x20\x76\x65\x63\x74\x6f\x72"
    "\x3a\x20\x61\x62\x63\x64\x65\x66\x67\x68\xde\x08\x00",
    35);

TEST(CompressionTest, NamesRoundTrip) {
  for (Compression c : kAllCodecs) {
    auto parsed = ParseCompression(CompressionName(c));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_EQ(CompressionName(Compression::kGzip), "gzip");
  EXPECT_EQ(CompressionName(Compression::kZstd), "zstd");
  EXPECT_EQ(ParseCompression("brotli").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseCompression("").ok());
  EXPECT_FALSE(ParseCompression("GZIP").ok());
}

TEST(CompressionTest, UnknownCodecIsAnError) {
  auto bad = static_cast<Compression>(5);
  EXPECT_EQ(Compress(bad, "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Decompress(bad, "x").status().code(), absl::StatusCode::kDataLoss);
}

TEST(CompressionTest, RoundTripEveryCodec) {
  std::vector<std::string> inputs = {"", "x", std::string(1, '\0'), kGoldenPlain,
                                     SampleData(1000), SampleData(200 * 1024, 7),
                                     std::string(1 << 20, 'z')};
  for (Compression c : kAllCodecs) {
    for (const std::string& in : inputs) {
      SCOPED_TRACE(Name(c) + " size " + std::to_string(in.size()));
      auto compressed = Compress(c, in);
      ASSERT_TRUE(compressed.ok()) << compressed.status();
      auto back = Decompress(c, *compressed);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_TRUE(*back == in);
    }
  }
}

TEST(CompressionTest, CompressionShrinksRepetitiveData) {
  std::string in(100000, 'a');
  for (Compression c : kRealCodecs) {
    auto compressed = Compress(c, in);
    ASSERT_TRUE(compressed.ok());
    EXPECT_LT(compressed->size(), in.size() / 10) << Name(c);
  }
}

TEST(CompressionTest, SnappyWritesXerialFramingInBlocksOf32KiB) {
  std::string in = SampleData(100 * 1024);
  auto compressed = Compress(Compression::kSnappy, in);
  ASSERT_TRUE(compressed.ok());
  ASSERT_GE(compressed->size(), 16u);
  EXPECT_EQ(compressed->substr(0, 16), std::string("\x82SNAPPY\0\0\0\0\x01\0\0\0\x01", 16));
  // Walk the blocks: 100 KiB in 32 KiB blocks is 4 blocks.
  size_t pos = 16;
  int blocks = 0;
  while (pos < compressed->size()) {
    ASSERT_LE(pos + 4, compressed->size());
    const auto* p = reinterpret_cast<const unsigned char*>(compressed->data() + pos);
    uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    pos += 4 + len;
    ++blocks;
  }
  EXPECT_EQ(pos, compressed->size());
  EXPECT_EQ(blocks, 4);
}

TEST(CompressionTest, DecodesGoldenVectorsFromOtherImplementations) {
  struct Case {
    Compression codec;
    const std::string* data;
  } cases[] = {{Compression::kZstd, &kGoldenZstdNoContentSize},
               {Compression::kLz4, &kGoldenLz4AllChecksums},
               {Compression::kGzip, &kGoldenGzipTwoMembers},
               {Compression::kSnappy, &kGoldenSnappyXerial},
               {Compression::kSnappy, &kGoldenSnappyRaw}};
  for (const Case& c : cases) {
    auto out = Decompress(c.codec, *c.data);
    ASSERT_TRUE(out.ok()) << Name(c.codec) << ": " << out.status();
    EXPECT_EQ(*out, kGoldenPlain) << Name(c.codec);
  }
}

TEST(CompressionTest, SnappyReadsHandMadeRawBlocks) {
  // Literal "hello".
  auto hello = Decompress(Compression::kSnappy, std::string("\x05\x10hello", 7));
  ASSERT_TRUE(hello.ok()) << hello.status();
  EXPECT_EQ(*hello, "hello");
  // Literal "abc" then a 9-byte copy at offset 3.
  auto abc = Decompress(Compression::kSnappy, std::string("\x0c\x08" "abc\x15\x03", 7));
  ASSERT_TRUE(abc.ok()) << abc.status();
  EXPECT_EQ(*abc, "abcabcabcabc");
  // A copy reaching before the start of the output.
  ExpectDataLossNamingCodec(
      Decompress(Compression::kSnappy, std::string("\x0c\x08" "abc\x15\x09", 7)).status(),
      Compression::kSnappy);
}

TEST(CompressionTest, SnappyReadsConcatenatedXerialStreams) {
  std::string a = SampleData(5000, 1), b = SampleData(40000, 2);
  auto ca = Compress(Compression::kSnappy, a);
  auto cb = Compress(Compression::kSnappy, b);
  ASSERT_TRUE(ca.ok() && cb.ok());
  auto out = Decompress(Compression::kSnappy, *ca + *cb);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == a + b);
}

TEST(CompressionTest, MaxOutputBytesIsEnforcedOnEveryCodec) {
  std::string in(1 << 20, '\0');
  for (Compression c : kAllCodecs) {
    SCOPED_TRACE(Name(c));
    auto compressed = Compress(c, in);
    ASSERT_TRUE(compressed.ok());
    auto exact = Decompress(c, *compressed, in.size());
    ASSERT_TRUE(exact.ok()) << exact.status();
    EXPECT_EQ(exact->size(), in.size());
    for (size_t max : {in.size() - 1, size_t{100}, size_t{0}}) {
      auto limited = Decompress(c, *compressed, max);
      ASSERT_FALSE(limited.ok()) << "max " << max;
      ExpectDataLossNamingCodec(limited.status(), c);
    }
  }
  // Streams without a declared size are capped too.
  EXPECT_TRUE(Decompress(Compression::kZstd, kGoldenZstdNoContentSize, 86).ok());
  ExpectDataLossNamingCodec(Decompress(Compression::kZstd, kGoldenZstdNoContentSize, 85).status(),
                            Compression::kZstd);
  ExpectDataLossNamingCodec(Decompress(Compression::kGzip, kGoldenGzipTwoMembers, 85).status(),
                            Compression::kGzip);
  ExpectDataLossNamingCodec(Decompress(Compression::kLz4, kGoldenLz4AllChecksums, 85).status(),
                            Compression::kLz4);
  ExpectDataLossNamingCodec(Decompress(Compression::kSnappy, kGoldenSnappyXerial, 85).status(),
                            Compression::kSnappy);
}

TEST(CompressionTest, SnappyClaimingAHugeLengthIsRejectedBeforeAllocating) {
  // Raw block whose header claims 4 GiB - 1 bytes.
  ExpectDataLossNamingCodec(
      Decompress(Compression::kSnappy, std::string("\xff\xff\xff\xff\x0f\x00", 6)).status(),
      Compression::kSnappy);
  // Xerial block whose length runs past the input, and a negative one.
  std::string xerial("\x82SNAPPY\0\0\0\0\x01\0\0\0\x01", 16);
  ExpectDataLossNamingCodec(
      Decompress(Compression::kSnappy, xerial + std::string("\x00\x00\x10\x00\x05", 5)).status(),
      Compression::kSnappy);
  ExpectDataLossNamingCodec(
      Decompress(Compression::kSnappy, xerial + std::string("\xff\xff\xff\xfe\x05", 5)).status(),
      Compression::kSnappy);
  ExpectDataLossNamingCodec(
      Decompress(Compression::kSnappy, xerial + std::string("\x00\x00", 2)).status(),
      Compression::kSnappy);
}

TEST(CompressionTest, TruncatedInputIsDataLoss) {
  std::string in = SampleData(70000);
  for (Compression c : kRealCodecs) {
    SCOPED_TRACE(Name(c));
    auto compressed = Compress(c, in);
    ASSERT_TRUE(compressed.ok());
    // Every length near both ends, and a stride through the middle.
    const size_t size = compressed->size();
    for (size_t len = 0; len < size; len += (len < 200 || len + 200 > size) ? 1 : 97) {
      auto out = Decompress(c, std::string_view(*compressed).substr(0, len));
      if (out.ok()) {
        // Only xerial snappy can end cleanly between blocks; it then yields a prefix.
        ASSERT_EQ(c, Compression::kSnappy) << "len " << len;
        EXPECT_LT(out->size(), in.size());
        EXPECT_TRUE(in.compare(0, out->size(), *out) == 0);
      } else {
        ExpectDataLossNamingCodec(out.status(), c);
      }
    }
  }
}

TEST(CompressionTest, TrailingGarbageIsDataLoss) {
  for (Compression c : {Compression::kGzip, Compression::kLz4, Compression::kZstd}) {
    auto compressed = Compress(c, kGoldenPlain);
    ASSERT_TRUE(compressed.ok());
    ExpectDataLossNamingCodec(Decompress(c, *compressed + "garbage!").status(), c);
  }
}

TEST(CompressionTest, FlippedBytesYieldDataLossOrOutputNeverACrash) {
  std::string in = SampleData(3000);
  for (Compression c : kRealCodecs) {
    SCOPED_TRACE(Name(c));
    auto compressed = Compress(c, in);
    ASSERT_TRUE(compressed.ok());
    for (size_t pos = 0; pos < compressed->size(); ++pos) {
      for (uint8_t mask : {0x01, 0x10, 0x80, 0xff}) {
        std::string bad = *compressed;
        bad[pos] = static_cast<char>(bad[pos] ^ mask);
        auto out = Decompress(c, bad, 1 << 20);
        if (!out.ok()) ExpectDataLossNamingCodec(out.status(), c);
      }
    }
  }
}

TEST(CompressionTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20240601);
  const std::string magics[] = {std::string("\x1f\x8b\x08\x00", 4),
                                std::string("\x82SNAPPY\0\0\0\0\x01\0\0\0\x01", 16),
                                std::string("\x04\x22\x4d\x18", 4),
                                std::string("\x28\xb5\x2f\xfd", 4), ""};
  for (int i = 0; i < 3000; ++i) {
    std::string data = magics[rng() % 5];
    size_t n = rng() % 400;
    for (size_t j = 0; j < n; ++j) data.push_back(static_cast<char>(rng() & 0xff));
    for (Compression c : kRealCodecs) {
      auto out = Decompress(c, data, 1 << 20);
      if (!out.ok()) ExpectDataLossNamingCodec(out.status(), c);
    }
  }
}

}  // namespace
}  // namespace gregor
