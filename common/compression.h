// Kafka's batch compression codecs: the payload of a compressed RecordBatch v2 is one blob in
// one of these formats (attributes bits 0-2).
//
//   gzip   RFC 1952 gzip stream (zlib)
//   snappy raw snappy block (librdkafka, kafka-python) or xerial-framed (Java client); both
//          are read, Compress writes xerial framing as the Java client does
//   lz4    LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream, magic 2: correct header checksum)
//   zstd   zstd frame, content size possibly absent (streamed)
//
// Decompress is defensive: output is capped at `max_output_bytes` and any malformed input yields
// a DataLoss status, never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gregor {

enum class Compression : uint8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

std::string_view CompressionName(Compression c);
// "none", "gzip", "snappy", "lz4", "zstd" (as Kafka's compression.type values).
absl::StatusOr<Compression> ParseCompression(std::string_view name);

absl::StatusOr<std::string> Compress(Compression codec, std::string_view data);

inline constexpr size_t kDefaultMaxDecompressedBytes = 256u << 20;
absl::StatusOr<std::string> Decompress(Compression codec, std::string_view data,
                                       size_t max_output_bytes = kDefaultMaxDecompressedBytes);

}  // namespace gregor
