#include "common/kafka/wire.h"

#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace gregor::kafka {
namespace {

template <typename T>
T LoadBigEndian(const char* p) {
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v = static_cast<U>((v << 8) | static_cast<unsigned char>(p[i]));
  }
  return static_cast<T>(v);
}

template <typename T>
void StoreBigEndian(T value, std::string& out) {
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(value);
  char buf[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) {
    buf[sizeof(T) - 1 - i] = static_cast<char>(v & 0xff);
    v = static_cast<U>(v >> 8);
  }
  out.append(buf, sizeof(T));
}

constexpr size_t kMaxInt16String = std::numeric_limits<int16_t>::max();
constexpr size_t kMaxInt32 = std::numeric_limits<int32_t>::max();
// Compact lengths are N+1 in a uvarint of at most 32 bits, and Kafka reads them into an int.
constexpr size_t kMaxCompact = std::numeric_limits<int32_t>::max() - 1;
// Writer::Append copies owned chunks up to this size into its tail and moves larger ones.
constexpr size_t kMergeBytesMax = 4096;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reader

void Reader::SetError(const char* field, std::string_view what) {
  if (!status_.ok()) return;
  status_ = absl::InvalidArgumentError(
      absl::StrCat(field, ": ", ToAbsl(what), " at byte ", pos_));
}

void Reader::Fail(std::string_view message) {
  if (!status_.ok()) return;
  status_ = absl::InvalidArgumentError(ToAbsl(message));
}

bool Reader::Need(size_t n, const char* field) {
  if (!status_.ok()) return false;
  if (remaining() < n) {
    SetError(field, absl::StrCat("truncated: need ", n, " bytes, ", remaining(), " left"));
    return false;
  }
  return true;
}

int8_t Reader::ReadInt8(const char* field) {
  if (!Need(1, field)) return 0;
  return static_cast<int8_t>(data_[pos_++]);
}

int16_t Reader::ReadInt16(const char* field) {
  if (!Need(2, field)) return 0;
  int16_t v = LoadBigEndian<int16_t>(data_.data() + pos_);
  pos_ += 2;
  return v;
}

int32_t Reader::ReadInt32(const char* field) {
  if (!Need(4, field)) return 0;
  int32_t v = LoadBigEndian<int32_t>(data_.data() + pos_);
  pos_ += 4;
  return v;
}

int64_t Reader::ReadInt64(const char* field) {
  if (!Need(8, field)) return 0;
  int64_t v = LoadBigEndian<int64_t>(data_.data() + pos_);
  pos_ += 8;
  return v;
}

bool Reader::ReadBool(const char* field) { return ReadInt8(field) != 0; }

uint32_t Reader::ReadUnsignedVarint(const char* field) {
  if (!status_.ok()) return 0;
  uint32_t value = 0;
  for (int i = 0; i < 5; ++i) {
    if (pos_ >= data_.size()) {
      SetError(field, "truncated varint");
      return 0;
    }
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (i == 4 && (b & 0xf0) != 0) {
      SetError(field, "varint does not fit in 32 bits");
      return 0;
    }
    value |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  SetError(field, "varint longer than 5 bytes");
  return 0;
}

int32_t Reader::ReadVarint(const char* field) {
  uint32_t raw = ReadUnsignedVarint(field);
  return static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
}

int64_t Reader::ReadVarlong(const char* field) {
  if (!status_.ok()) return 0;
  uint64_t raw = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) {
      SetError(field, "truncated varlong");
      return 0;
    }
    uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (i == 9 && (b & 0xfe) != 0) {
      SetError(field, "varlong does not fit in 64 bits");
      return 0;
    }
    raw |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
  }
  SetError(field, "varlong longer than 10 bytes");
  return 0;
}

std::string_view Reader::ReadRaw(size_t n, const char* field) {
  if (!Need(n, field)) return {};
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

std::optional<std::string_view> Reader::ReadNullableString(const char* field) {
  int16_t len = ReadInt16(field);
  if (!ok()) return std::string_view();
  if (len == -1) return std::nullopt;
  if (len < 0) {
    SetError(field, absl::StrCat("negative string length ", len));
    return std::string_view();
  }
  return ReadRaw(static_cast<size_t>(len), field);
}

std::string_view Reader::ReadString(const char* field) {
  std::optional<std::string_view> s = ReadNullableString(field);
  if (!s.has_value()) {
    SetError(field, "null string where a string is required");
    return {};
  }
  return *s;
}

std::optional<std::string_view> Reader::ReadCompactNullableString(const char* field) {
  uint32_t len_plus_one = ReadUnsignedVarint(field);
  if (!ok()) return std::string_view();
  if (len_plus_one == 0) return std::nullopt;
  uint32_t len = len_plus_one - 1;
  if (len > kMaxInt16String) {
    SetError(field, absl::StrCat("compact string length ", len, " exceeds 32767"));
    return std::string_view();
  }
  return ReadRaw(len, field);
}

std::string_view Reader::ReadCompactString(const char* field) {
  std::optional<std::string_view> s = ReadCompactNullableString(field);
  if (!s.has_value()) {
    SetError(field, "null string where a string is required");
    return {};
  }
  return *s;
}

std::optional<std::string_view> Reader::ReadNullableBytes(const char* field) {
  int32_t len = ReadInt32(field);
  if (!ok()) return std::string_view();
  if (len == -1) return std::nullopt;
  if (len < 0) {
    SetError(field, absl::StrCat("negative bytes length ", len));
    return std::string_view();
  }
  return ReadRaw(static_cast<size_t>(len), field);
}

std::string_view Reader::ReadBytes(const char* field) {
  std::optional<std::string_view> b = ReadNullableBytes(field);
  if (!b.has_value()) {
    SetError(field, "null bytes where bytes are required");
    return {};
  }
  return *b;
}

std::optional<std::string_view> Reader::ReadCompactNullableBytes(const char* field) {
  uint32_t len_plus_one = ReadUnsignedVarint(field);
  if (!ok()) return std::string_view();
  if (len_plus_one == 0) return std::nullopt;
  return ReadRaw(len_plus_one - 1, field);
}

std::string_view Reader::ReadCompactBytes(const char* field) {
  std::optional<std::string_view> b = ReadCompactNullableBytes(field);
  if (!b.has_value()) {
    SetError(field, "null bytes where bytes are required");
    return {};
  }
  return *b;
}

int32_t Reader::CheckedCount(int64_t count, bool nullable, size_t min_element_bytes,
                             const char* field) {
  if (!ok()) return 0;
  if (count == -1) {
    if (nullable) return -1;
    SetError(field, "null array where an array is required");
    return 0;
  }
  if (count < 0) {
    SetError(field, absl::StrCat("negative array length ", count));
    return 0;
  }
  if (min_element_bytes == 0) min_element_bytes = 1;
  if (static_cast<uint64_t>(count) > remaining() / min_element_bytes) {
    SetError(field, absl::StrCat("array length ", count, " cannot fit in the ", remaining(),
                                 " bytes left"));
    return 0;
  }
  return static_cast<int32_t>(count);
}

int32_t Reader::ReadArrayLength(const char* field, size_t min_element_bytes) {
  int32_t n = ReadInt32(field);
  return CheckedCount(n, /*nullable=*/false, min_element_bytes, field);
}

int32_t Reader::ReadNullableArrayLength(const char* field, size_t min_element_bytes) {
  int32_t n = ReadInt32(field);
  return CheckedCount(n, /*nullable=*/true, min_element_bytes, field);
}

int32_t Reader::ReadCompactArrayLength(const char* field, size_t min_element_bytes) {
  uint32_t n = ReadUnsignedVarint(field);
  return CheckedCount(static_cast<int64_t>(n) - 1, /*nullable=*/false, min_element_bytes, field);
}

int32_t Reader::ReadCompactNullableArrayLength(const char* field, size_t min_element_bytes) {
  uint32_t n = ReadUnsignedVarint(field);
  return CheckedCount(static_cast<int64_t>(n) - 1, /*nullable=*/true, min_element_bytes, field);
}

std::vector<TaggedField> Reader::ReadTaggedFields(const char* field) {
  std::vector<TaggedField> fields;
  uint32_t count = ReadUnsignedVarint(field);
  if (!ok()) return fields;
  // Each field takes at least two bytes (tag and size).
  if (count > remaining() / 2) {
    SetError(field, absl::StrCat("tagged field count ", count, " cannot fit in the ",
                                 remaining(), " bytes left"));
    return fields;
  }
  fields.reserve(count);
  int64_t previous_tag = -1;
  for (uint32_t i = 0; i < count && ok(); ++i) {
    uint32_t tag = ReadUnsignedVarint(field);
    uint32_t size = ReadUnsignedVarint(field);
    if (!ok()) break;
    if (static_cast<int64_t>(tag) <= previous_tag) {
      SetError(field, absl::StrCat("tagged field ", tag, " out of order or repeated"));
      break;
    }
    previous_tag = tag;
    std::string_view data = ReadRaw(size, field);
    if (!ok()) break;
    fields.push_back(TaggedField{tag, data});
  }
  if (!ok()) fields.clear();
  return fields;
}

void Reader::SkipTaggedFields(const char* field) { (void)ReadTaggedFields(field); }

void Reader::ExpectEnd() {
  if (!ok()) return;
  if (remaining() != 0) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(remaining(), " trailing bytes after the message at byte ", pos_));
  }
}

// ---------------------------------------------------------------------------------------------
// Writer

std::string& Writer::Tail() {
  if (chunks_.empty() || !std::holds_alternative<std::string>(chunks_.back())) {
    chunks_.emplace_back(std::string());
  }
  return std::get<std::string>(chunks_.back());
}

void Writer::Fail(std::string_view message) {
  if (status_.ok()) status_ = absl::InvalidArgumentError(ToAbsl(message));
}

void Writer::WriteInt8(int8_t v) {
  Tail().push_back(static_cast<char>(v));
  size_ += 1;
}

void Writer::WriteInt16(int16_t v) {
  StoreBigEndian(v, Tail());
  size_ += 2;
}

void Writer::WriteInt32(int32_t v) {
  StoreBigEndian(v, Tail());
  size_ += 4;
}

void Writer::WriteInt64(int64_t v) {
  StoreBigEndian(v, Tail());
  size_ += 8;
}

void Writer::WriteBool(bool v) { WriteInt8(v ? 1 : 0); }

void Writer::WriteUnsignedVarint(uint32_t v) {
  std::string& out = Tail();
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
    ++size_;
  }
  out.push_back(static_cast<char>(v));
  ++size_;
}

void Writer::WriteVarint(int32_t v) {
  uint32_t zigzag = (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  WriteUnsignedVarint(zigzag);
}

void Writer::WriteVarlong(int64_t v) {
  uint64_t zigzag = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  std::string& out = Tail();
  while (zigzag >= 0x80) {
    out.push_back(static_cast<char>((zigzag & 0x7f) | 0x80));
    zigzag >>= 7;
    ++size_;
  }
  out.push_back(static_cast<char>(zigzag));
  ++size_;
}

void Writer::WriteRaw(std::string_view bytes) {
  if (bytes.empty()) return;
  Tail().append(bytes.data(), bytes.size());
  size_ += bytes.size();
}

void Writer::WriteString(std::string_view s) {
  if (s.size() > kMaxInt16String) {
    Fail(absl::StrCat("string of ", s.size(), " bytes exceeds 32767"));
    return;
  }
  WriteInt16(static_cast<int16_t>(s.size()));
  WriteRaw(s);
}

void Writer::WriteNullableString(std::optional<std::string_view> s) {
  if (!s.has_value()) {
    WriteInt16(-1);
    return;
  }
  WriteString(*s);
}

void Writer::WriteCompactString(std::string_view s) {
  if (s.size() > kMaxInt16String) {
    Fail(absl::StrCat("string of ", s.size(), " bytes exceeds 32767"));
    return;
  }
  WriteUnsignedVarint(static_cast<uint32_t>(s.size() + 1));
  WriteRaw(s);
}

void Writer::WriteCompactNullableString(std::optional<std::string_view> s) {
  if (!s.has_value()) {
    WriteUnsignedVarint(0);
    return;
  }
  WriteCompactString(*s);
}

void Writer::WriteBytes(std::string_view b) {
  if (b.size() > kMaxInt32) {
    Fail(absl::StrCat("bytes of ", b.size(), " bytes exceed 2^31-1"));
    return;
  }
  WriteInt32(static_cast<int32_t>(b.size()));
  WriteRaw(b);
}

void Writer::WriteNullableBytes(std::optional<std::string_view> b) {
  if (!b.has_value()) {
    WriteInt32(-1);
    return;
  }
  WriteBytes(*b);
}

void Writer::WriteCompactBytes(std::string_view b) {
  if (b.size() > kMaxCompact) {
    Fail(absl::StrCat("bytes of ", b.size(), " bytes exceed 2^31-2"));
    return;
  }
  WriteUnsignedVarint(static_cast<uint32_t>(b.size() + 1));
  WriteRaw(b);
}

void Writer::WriteCompactNullableBytes(std::optional<std::string_view> b) {
  if (!b.has_value()) {
    WriteUnsignedVarint(0);
    return;
  }
  WriteCompactBytes(*b);
}

void Writer::WriteArrayLength(size_t n) {
  if (n > kMaxInt32) {
    Fail(absl::StrCat("array of ", n, " elements exceeds 2^31-1"));
    return;
  }
  WriteInt32(static_cast<int32_t>(n));
}

void Writer::WriteNullArray() { WriteInt32(-1); }

void Writer::WriteCompactArrayLength(size_t n) {
  if (n > kMaxCompact) {
    Fail(absl::StrCat("array of ", n, " elements exceeds 2^31-2"));
    return;
  }
  WriteUnsignedVarint(static_cast<uint32_t>(n + 1));
}

void Writer::WriteCompactNullArray() { WriteUnsignedVarint(0); }

void Writer::WriteEmptyTaggedFields() { WriteUnsignedVarint(0); }

void Writer::WriteTaggedFields(const std::vector<TaggedField>& fields) {
  WriteUnsignedVarint(static_cast<uint32_t>(fields.size()));
  for (const TaggedField& f : fields) {
    if (f.data.size() > kMaxCompact) {
      Fail("tagged field too large");
      return;
    }
    WriteUnsignedVarint(f.tag);
    WriteUnsignedVarint(static_cast<uint32_t>(f.data.size()));
    WriteRaw(f.data);
  }
}

void Writer::AppendFileSlice(const FileSlice& slice) {
  if (slice.size < 0 || slice.position < 0 || slice.file == nullptr) {
    if (slice.size == 0 && slice.position >= 0) return;
    Fail(absl::StrCat("invalid file slice (position ", slice.position, ", size ", slice.size,
                      slice.file == nullptr ? ", no file)" : ")"));
    return;
  }
  if (slice.size == 0) return;
  chunks_.emplace_back(slice);
  size_ += static_cast<size_t>(slice.size);
  ++slices_;
}

void Writer::Append(Writer&& other) {
  if (!other.status_.ok()) Fail(ToStd(other.status_.message()));
  for (Chunk& chunk : other.chunks_) {
    if (auto* bytes = std::get_if<std::string>(&chunk)) {
      // Small pieces are merged into our tail; large ones are moved, not copied.
      if (bytes->size() < kMergeBytesMax) {
        WriteRaw(*bytes);
      } else {
        size_ += bytes->size();
        chunks_.push_back(std::move(chunk));
      }
    } else {
      chunks_.push_back(std::move(chunk));
      size_ += static_cast<size_t>(std::get<FileSlice>(chunks_.back()).size);
      ++slices_;
    }
  }
  other.chunks_.clear();
  other.size_ = 0;
  other.slices_ = 0;
}

std::vector<Chunk> Writer::TakeChunks() && {
  std::vector<Chunk> chunks = std::move(chunks_);
  chunks_.clear();
  size_ = 0;
  slices_ = 0;
  return chunks;
}

absl::StatusOr<std::string> Writer::Flatten() const {
  if (!status_.ok()) return status_;
  std::string out;
  out.reserve(size_);
  for (const Chunk& chunk : chunks_) {
    if (const auto* bytes = std::get_if<std::string>(&chunk)) {
      out += *bytes;
    } else {
      absl::StatusOr<std::string> data = ReadSlice(std::get<FileSlice>(chunk));
      if (!data.ok()) return data.status();
      out += *data;
    }
  }
  return out;
}

}  // namespace gregor::kafka
