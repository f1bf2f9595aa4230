// Byte-string helpers for the Kafka protocol tests: hex in and out, encoding a message into one
// flat string, and the golden-bytes check.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/kafka/wire.h"
#include "gtest/gtest.h"

namespace gregor::kafka::testing {

// "00 01 ab" -> the bytes {0x00, 0x01, 0xab}. Spaces, newlines and '|' are ignored; a quoted
// run 'abc' stands for its ASCII bytes.
inline std::string Hex(std::string_view text) {
  std::string out;
  int pending = -1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      size_t end = text.find('\'', i + 1);
      out.append(text.substr(i + 1, end - i - 1));
      i = end;
      continue;
    }
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (pending < 0) {
      pending = v;
    } else {
      out.push_back(static_cast<char>(pending * 16 + v));
      pending = -1;
    }
  }
  EXPECT_EQ(pending, -1) << "odd number of hex digits in " << text;
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(' ');
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

// Encodes `message` with `encode` at `version` into a flat string; fails the test on error.
template <typename T>
std::string EncodeToString(absl::Status (*encode)(const T&, int16_t, Writer&), const T& message,
                           int16_t version) {
  Writer w;
  absl::Status status = encode(message, version, w);
  EXPECT_TRUE(status.ok()) << status;
  absl::StatusOr<std::string> flat = w.Flatten();
  EXPECT_TRUE(flat.ok()) << flat.status();
  return flat.ok() ? *flat : std::string();
}

// Golden check: `message` encodes to exactly `hex`, and `hex` decodes back to `message`.
template <typename T>
void ExpectGolden(absl::Status (*encode)(const T&, int16_t, Writer&),
                  absl::StatusOr<T> (*decode)(std::string_view, int16_t), const T& message,
                  int16_t version, std::string_view hex) {
  std::string golden = Hex(hex);
  EXPECT_EQ(ToHex(EncodeToString(encode, message, version)), ToHex(golden)) << "v" << version;
  absl::StatusOr<T> decoded = decode(golden, version);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, message) << "v" << version;
}

}  // namespace gregor::kafka::testing
