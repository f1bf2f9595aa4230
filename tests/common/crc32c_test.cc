#include "common/crc32c.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace gregor {
namespace {

using crc32c_internal::ExtendHardware;
using crc32c_internal::ExtendPortable;
using crc32c_internal::HardwareAvailable;

// The implementations under test, so every known-answer test covers each path.
struct Impl {
  const char* name;
  uint32_t (*extend)(uint32_t, const void*, size_t);
};

std::vector<Impl> Impls() {
  std::vector<Impl> impls = {{"dispatch", &Crc32cExtend}, {"portable", &ExtendPortable}};
  if (HardwareAvailable()) impls.push_back({"hardware", &ExtendHardware});
  return impls;
}

uint32_t OneShot(const Impl& impl, const std::vector<uint8_t>& data) {
  return impl.extend(0, data.data(), data.size());
}

std::vector<uint8_t> RandomBytes(std::mt19937_64& rng, size_t size) {
  std::vector<uint8_t> bytes(size);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

TEST(Crc32cTest, CheckValue) {
  for (const Impl& impl : Impls()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(impl.extend(0, "123456789", 9), 0xE3069283u);
  }
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32cTest, EmptyInputIsZero) {
  for (const Impl& impl : Impls()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(impl.extend(0, nullptr, 0), 0u);
    // Extending by nothing leaves any value unchanged.
    EXPECT_EQ(impl.extend(0xDEADBEEF, nullptr, 0), 0xDEADBEEFu);
  }
  EXPECT_EQ(Crc32c(std::string_view()), 0u);
}

// RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  std::vector<uint8_t> zeros(32, 0x00);
  std::vector<uint8_t> ones(32, 0xFF);
  std::vector<uint8_t> ascending(32);
  std::vector<uint8_t> descending(32);
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<uint8_t>(i);
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  for (const Impl& impl : Impls()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(OneShot(impl, zeros), 0x8A9136AAu);
    EXPECT_EQ(OneShot(impl, ones), 0x62A8AB43u);
    EXPECT_EQ(OneShot(impl, ascending), 0x46DD794Eu);
    EXPECT_EQ(OneShot(impl, descending), 0x113FDB5Cu);
  }
}

TEST(Crc32cTest, ExtendAtEverySplitPointEqualsOneShot) {
  std::mt19937_64 rng(20240601);
  const std::vector<uint8_t> data = RandomBytes(rng, 1000);
  for (const Impl& impl : Impls()) {
    SCOPED_TRACE(impl.name);
    const uint32_t expected = OneShot(impl, data);
    for (size_t split = 0; split <= data.size(); ++split) {
      const uint32_t head = impl.extend(0, data.data(), split);
      ASSERT_EQ(impl.extend(head, data.data() + split, data.size() - split), expected)
          << "split at " << split;
    }
  }
}

// Splits inside and across the three-stream blocks of the hardware path.
TEST(Crc32cTest, ExtendAcrossLargeBlocksEqualsOneShot) {
  std::mt19937_64 rng(7);
  const std::vector<uint8_t> data = RandomBytes(rng, 3 * 8192 * 2 + 3 * 256 + 13);
  const uint32_t expected = ExtendPortable(0, data.data(), data.size());
  for (const Impl& impl : Impls()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(OneShot(impl, data), expected);
    for (size_t split : {1, 7, 8, 255, 256, 767, 768, 8191, 8192, 24575, 24576, 24577, 40000}) {
      const uint32_t head = impl.extend(0, data.data(), split);
      ASSERT_EQ(impl.extend(head, data.data() + split, data.size() - split), expected)
          << "split at " << split;
    }
  }
}

TEST(Crc32cTest, PortableAndHardwareAgreeOnRandomBuffers) {
  if (!HardwareAvailable()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937_64 rng(42);
  // Room for the largest buffer at every misalignment.
  const std::vector<uint8_t> pool = RandomBytes(rng, 100'000 + 8);

  std::vector<size_t> sizes;
  for (size_t size = 0; size <= 1100; ++size) sizes.push_back(size);
  // Around the short (3 * 256) and long (3 * 8192) three-stream thresholds.
  for (size_t edge : {768u, 1536u, 24576u, 49152u}) {
    for (size_t size = edge - 9; size <= edge + 9; ++size) sizes.push_back(size);
  }
  std::uniform_int_distribution<size_t> any_size(0, 100'000);
  for (int i = 0; i < 200; ++i) sizes.push_back(any_size(rng));
  sizes.push_back(100'000);

  for (size_t size : sizes) {
    for (size_t offset = 0; offset < 8; ++offset) {
      const uint8_t* start = pool.data() + offset;
      const uint32_t seed = static_cast<uint32_t>(rng());
      ASSERT_EQ(ExtendHardware(0, start, size), ExtendPortable(0, start, size))
          << "size " << size << " offset " << offset;
      ASSERT_EQ(ExtendHardware(seed, start, size), ExtendPortable(seed, start, size))
          << "size " << size << " offset " << offset << " seed " << seed;
    }
  }
}

TEST(Crc32cTest, DetectsSingleBitFlip) {
  std::mt19937_64 rng(3);
  std::vector<uint8_t> data = RandomBytes(rng, 4096);
  const uint32_t original = Crc32c(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; bit += 97) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(Crc32c(data.data(), data.size()), original) << "bit " << bit;
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace gregor
