// Kafka batch codecs on top of zlib, snappy, lz4frame and zstd.
//
// Every Decompress path streams into a growing buffer and stops as soon as the output would
// exceed `max_output_bytes`, so a small hostile payload cannot make us allocate gigabytes.
// Every failure of the underlying libraries (bad magic, bad checksum, truncation, trailing
// garbage, over-long output) is reported as DataLoss naming the codec.
#include "common/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gregor {
namespace {

// Output grows in steps of at most this many bytes.
constexpr size_t kOutputChunkBytes = 64 * 1024;

// Java's xerial SnappyOutputStream header: magic "\x82SNAPPY\0", version 1, compatible 1.
constexpr char kXerialMagic[8] = {'\x82', 'S', 'N', 'A', 'P', 'P', 'Y', '\0'};
constexpr size_t kXerialHeaderBytes = 16;
// The xerial (and Kafka Java client) default block size, in uncompressed bytes.
constexpr size_t kXerialBlockBytes = 32 * 1024;

// Debian's Abseil has its own absl::string_view, which does not convert from std::string_view.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status CodecError(absl::string_view codec, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(codec, ": ", what));
}

absl::Status TooLarge(absl::string_view codec, size_t max_output_bytes) {
  return CodecError(codec, absl::StrCat("decompressed data exceeds the limit of ",
                                        max_output_bytes, " bytes"));
}

// Collects decompressed output, refusing to grow past `max` bytes. Decoders ask for a window
// of at most `max + 1 - size()` bytes so that exceeding the limit is detected by a single byte
// too many, without allocating more than one chunk past it.
class BoundedOutput {
 public:
  explicit BoundedOutput(size_t max) : max_(max) {}

  // Makes room for the next write and returns the window (never empty).
  std::pair<char*, size_t> Window() {
    size_t left = max_ - out_.size();  // out_.size() <= max_ always holds here
    size_t n = left >= kOutputChunkBytes ? kOutputChunkBytes : left + 1;
    used_ = out_.size();
    out_.resize(used_ + n);
    return {out_.data() + used_, n};
  }
  // Records that `n` bytes of the last window were written. Returns false if the limit was
  // exceeded.
  bool Commit(size_t n) {
    out_.resize(used_ + n);
    return out_.size() <= max_;
  }
  std::string Take() && { return std::move(out_); }

 private:
  size_t max_;
  size_t used_ = 0;
  std::string out_;
};

void AppendBigEndian32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

// ----------------------------------------------------------------------------------------------
// gzip

absl::StatusOr<std::string> GzipCompress(std::string_view data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("gzip: deflateInit2 failed");
  }
  std::string out;
  const char* in = data.data();
  size_t in_left = data.size();
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (zs.avail_in == 0 && in_left > 0) {
      size_t n = std::min<size_t>(in_left, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
      zs.avail_in = static_cast<uInt>(n);
      in += n;
      in_left -= n;
    }
    size_t used = out.size();
    out.resize(used + kOutputChunkBytes);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(kOutputChunkBytes);
    ret = deflate(&zs, in_left == 0 ? Z_FINISH : Z_NO_FLUSH);
    out.resize(used + kOutputChunkBytes - zs.avail_out);
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      deflateEnd(&zs);
      return absl::InternalError(absl::StrCat("gzip: deflate failed (", ret, ")"));
    }
  }
  deflateEnd(&zs);
  return out;
}

absl::StatusOr<std::string> GzipDecompress(std::string_view data, size_t max_output_bytes) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 15 + 32: accept gzip (and zlib) headers, automatically detected.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return absl::InternalError("gzip: inflateInit2 failed");
  struct Ender {
    z_stream* zs;
    ~Ender() { inflateEnd(zs); }
  } ender{&zs};

  BoundedOutput out(max_output_bytes);
  const char* in = data.data();
  size_t in_left = data.size();
  while (true) {
    if (zs.avail_in == 0 && in_left > 0) {
      size_t n = std::min<size_t>(in_left, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
      zs.avail_in = static_cast<uInt>(n);
      in += n;
      in_left -= n;
    }
    auto [window, window_size] = out.Window();
    zs.next_out = reinterpret_cast<Bytef*>(window);
    zs.avail_out = static_cast<uInt>(window_size);
    int ret = inflate(&zs, Z_NO_FLUSH);
    if (!out.Commit(window_size - zs.avail_out)) return TooLarge("gzip", max_output_bytes);
    if (ret == Z_STREAM_END) {
      if (zs.avail_in == 0 && in_left == 0) break;
      // Concatenated gzip members are one stream (as Java's GZIPInputStream and Python read
      // them); anything else after the end fails on the next member's header.
      if (inflateReset(&zs) != Z_OK) return CodecError("gzip", "inflateReset failed");
      continue;
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR) {
      // No progress possible: either the output window is full (impossible here: the window
      // is never empty and a full one is reported by Commit) or the input ran out.
      if (zs.avail_in == 0 && in_left == 0) return CodecError("gzip", "truncated stream");
      continue;
    }
    return CodecError("gzip", zs.msg != nullptr ? zs.msg : absl::StrCat("inflate error ", ret));
  }
  return std::move(out).Take();
}

// ----------------------------------------------------------------------------------------------
// snappy

absl::StatusOr<std::string> SnappyCompress(std::string_view data) {
  std::string out(kXerialMagic, sizeof(kXerialMagic));
  AppendBigEndian32(&out, 1);  // version
  AppendBigEndian32(&out, 1);  // minimum compatible version
  std::string block;
  for (size_t pos = 0; pos < data.size(); pos += kXerialBlockBytes) {
    size_t n = std::min(kXerialBlockBytes, data.size() - pos);
    block.resize(snappy::MaxCompressedLength(n));
    size_t block_size = 0;
    snappy::RawCompress(data.data() + pos, n, block.data(), &block_size);
    AppendBigEndian32(&out, static_cast<uint32_t>(block_size));
    out.append(block.data(), block_size);
  }
  return out;
}

// Appends the uncompressed contents of one raw snappy block to `out`.
absl::Status SnappyRawBlock(std::string_view block, size_t max_output_bytes, std::string* out) {
  size_t length = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &length)) {
    return CodecError("snappy", "invalid block header");
  }
  if (length > max_output_bytes - out->size()) return TooLarge("snappy", max_output_bytes);
  size_t used = out->size();
  out->resize(used + length);
  if (!snappy::RawUncompress(block.data(), block.size(), out->data() + used)) {
    return CodecError("snappy", "corrupt block");
  }
  return absl::OkStatus();
}

bool HasXerialMagic(std::string_view data) {
  return data.size() >= kXerialHeaderBytes &&
         std::memcmp(data.data(), kXerialMagic, sizeof(kXerialMagic)) == 0;
}

absl::StatusOr<std::string> SnappyDecompress(std::string_view data, size_t max_output_bytes) {
  std::string out;
  if (!HasXerialMagic(data)) {
    absl::Status s = SnappyRawBlock(data, max_output_bytes, &out);
    if (!s.ok()) return s;
    return out;
  }
  size_t pos = 0;
  while (pos < data.size()) {
    // A stream may be several xerial streams concatenated (the Java reader skips the repeated
    // header); a block length can never look like the magic since it would be negative.
    if (HasXerialMagic(data.substr(pos))) {
      pos += kXerialHeaderBytes;
      continue;
    }
    if (data.size() - pos < 4) return CodecError("snappy", "truncated xerial block length");
    uint32_t block_size = LoadBigEndian32(data.data() + pos);
    pos += 4;
    if (block_size > INT32_MAX || block_size > data.size() - pos) {
      return CodecError("snappy", absl::StrCat("xerial block length ", block_size,
                                               " exceeds the remaining ", data.size() - pos,
                                               " bytes"));
    }
    absl::Status s = SnappyRawBlock(data.substr(pos, block_size), max_output_bytes, &out);
    if (!s.ok()) return s;
    pos += block_size;
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// lz4

absl::StatusOr<std::string> Lz4Compress(std::string_view data) {
  // As Kafka's KafkaLZ4BlockOutputStream: 64 KB independent blocks, no checksums but the
  // (correct) header checksum.
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  if (LZ4F_isError(n)) {
    return absl::InternalError(absl::StrCat("lz4: ", LZ4F_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> Lz4Decompress(std::string_view data, size_t max_output_bytes) {
  LZ4F_dctx* raw_ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw_ctx, LZ4F_VERSION))) {
    return absl::InternalError("lz4: cannot create a decompression context");
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(
      raw_ctx, &LZ4F_freeDecompressionContext);
  if (data.empty()) return CodecError("lz4", "empty input");

  BoundedOutput out(max_output_bytes);
  size_t pos = 0;
  size_t hint = 1;  // nonzero: a frame is in progress
  while (true) {
    auto [window, window_size] = out.Window();
    size_t dst_size = window_size;
    size_t src_size = data.size() - pos;
    hint = LZ4F_decompress(ctx.get(), window, &dst_size, data.data() + pos, &src_size, nullptr);
    if (LZ4F_isError(hint)) return CodecError("lz4", LZ4F_getErrorName(hint));
    if (!out.Commit(dst_size)) return TooLarge("lz4", max_output_bytes);
    pos += src_size;
    if (hint == 0) {
      // Frame complete (the context is ready for a next frame, if any).
      if (pos == data.size()) break;
      continue;
    }
    if (pos == data.size() && dst_size < window_size) {
      return CodecError("lz4", "truncated frame");
    }
    if (src_size == 0 && dst_size == 0) return CodecError("lz4", "decoder made no progress");
  }
  return std::move(out).Take();
}

// ----------------------------------------------------------------------------------------------
// zstd

absl::StatusOr<std::string> ZstdCompress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), ZSTD_CLEVEL_DEFAULT);
  if (ZSTD_isError(n)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(n)));
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> ZstdDecompress(std::string_view data, size_t max_output_bytes) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  if (ctx == nullptr) return absl::InternalError("zstd: cannot create a decompression context");
  if (data.empty()) return CodecError("zstd", "empty input");

  BoundedOutput out(max_output_bytes);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  while (true) {
    auto [window, window_size] = out.Window();
    ZSTD_outBuffer dst{window, window_size, 0};
    size_t in_before = in.pos;
    size_t ret = ZSTD_decompressStream(ctx.get(), &dst, &in);
    if (ZSTD_isError(ret)) return CodecError("zstd", ZSTD_getErrorName(ret));
    if (!out.Commit(dst.pos)) return TooLarge("zstd", max_output_bytes);
    if (ret == 0) {
      // Frame complete and flushed; more input means another frame.
      if (in.pos == in.size) break;
      continue;
    }
    if (in.pos == in.size && dst.pos < dst.size) return CodecError("zstd", "truncated frame");
    if (in.pos == in_before && dst.pos == 0) return CodecError("zstd", "decoder made no progress");
  }
  return std::move(out).Take();
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<Compression> ParseCompression(std::string_view name) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                        Compression::kLz4, Compression::kZstd}) {
    if (name == CompressionName(c)) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression type '", Absl(name),
                   "' (expected none, gzip, snappy, lz4 or zstd)"));
}

absl::StatusOr<std::string> Compress(Compression codec, std::string_view data) {
  switch (codec) {
    case Compression::kNone:
      return std::string(data);
    case Compression::kGzip:
      return GzipCompress(data);
    case Compression::kSnappy:
      return SnappyCompress(data);
    case Compression::kLz4:
      return Lz4Compress(data);
    case Compression::kZstd:
      return ZstdCompress(data);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

absl::StatusOr<std::string> Decompress(Compression codec, std::string_view data,
                                       size_t max_output_bytes) {
  switch (codec) {
    case Compression::kNone:
      if (data.size() > max_output_bytes) return TooLarge("none", max_output_bytes);
      return std::string(data);
    case Compression::kGzip:
      return GzipDecompress(data, max_output_bytes);
    case Compression::kSnappy:
      return SnappyDecompress(data, max_output_bytes);
    case Compression::kLz4:
      return Lz4Decompress(data, max_output_bytes);
    case Compression::kZstd:
      return ZstdDecompress(data, max_output_bytes);
  }
  return absl::DataLossError(absl::StrCat("unknown compression codec ", static_cast<int>(codec)));
}

}  // namespace gregor
