// Kafka wire primitives: a bounds-checked Reader over a request frame and a Writer that builds
// a response as a list of chunks (owned bytes and zero-copy FileSlices).
//
// Types (../../../shared/reference/kafka-wire-protocol.md §2), all big-endian:
//   int8/16/32/64; boolean = int8 (non-zero is true);
//   string = int16 length + bytes (nullable: length -1);
//   bytes = int32 length + bytes (nullable: length -1);
//   array = int32 count (nullable: -1);
//   flexible versions: compact_string / compact_bytes / compact_array = unsigned varint N+1
//   (0 = null), and a tagged-field section (uvarint count, then uvarint tag, uvarint size, bytes)
//   at the end of every struct. These uvarints are plain LEB128, not zigzag.
//   varint / varlong (zigzag + LEB128) are used only inside records.
//
// Both classes are plain values with no threads inside; one owner at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/file.h"

namespace gregor::kafka {

// A Kafka uuid (topic ids): 16 raw bytes on the wire; all zero is Kafka's "no id".
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Uuid&) const = default;
};

// One entry of a tagged-field section. `data` views the buffer it was read from.
struct TaggedField {
  uint32_t tag = 0;
  std::string_view data;
};

// Reads Kafka primitives from `data` (not owned; must outlive the Reader and every view it
// returns). Errors are sticky: the first failure (truncation, a negative or absurd length, a
// malformed varint, ...) is recorded with the name of the field and the byte offset, and every
// later read returns a zero value / empty view without touching memory. Decoders read a whole
// message and check status() once; loops over arrays should also test ok() so that they stop
// at the first error.
//
// No read ever looks beyond `data`, and no array count is trusted before it is checked against
// the bytes that remain (so a 2^31 count in a 10-byte frame is an error, not an allocation).
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  // `field` names what is being read, for the error message ("topics[].name"); it must be a
  // string literal or otherwise outlive the Reader.
  int8_t ReadInt8(const char* field);
  int16_t ReadInt16(const char* field);
  int32_t ReadInt32(const char* field);
  int64_t ReadInt64(const char* field);
  bool ReadBool(const char* field);
  // Unsigned LEB128, at most 5 bytes (values up to 2^32-1).
  uint32_t ReadUnsignedVarint(const char* field);
  // Zigzag LEB128 (records): at most 5 / 10 bytes.
  int32_t ReadVarint(const char* field);
  int64_t ReadVarlong(const char* field);

  // int16-length string; null (-1) is an error here.
  std::string_view ReadString(const char* field);
  // int16-length string; nullopt for length -1.
  std::optional<std::string_view> ReadNullableString(const char* field);
  // uvarint N+1 string; null (0) is an error here.
  std::string_view ReadCompactString(const char* field);
  std::optional<std::string_view> ReadCompactNullableString(const char* field);

  // int32-length bytes; null (-1) is an error here.
  std::string_view ReadBytes(const char* field);
  std::optional<std::string_view> ReadNullableBytes(const char* field);
  std::string_view ReadCompactBytes(const char* field);
  std::optional<std::string_view> ReadCompactNullableBytes(const char* field);

  // int32 array count. `min_element_bytes` (>= 1) is the smallest encoding of one element; a
  // count that could not fit in the remaining bytes is an error, so the caller may reserve()
  // the result. ReadArrayLength rejects null (-1); ReadNullableArrayLength returns -1 for null.
  // Both return 0 after an error.
  int32_t ReadArrayLength(const char* field, size_t min_element_bytes = 1);
  int32_t ReadNullableArrayLength(const char* field, size_t min_element_bytes = 1);
  // Compact (flexible) array: uvarint N+1, 0 = null. Same checks and return values as above.
  int32_t ReadCompactArrayLength(const char* field, size_t min_element_bytes = 1);
  int32_t ReadCompactNullableArrayLength(const char* field, size_t min_element_bytes = 1);

  // A tagged-field section. Read returns the fields (views into the data); Skip drops them.
  // Tags must be strictly increasing (as Kafka requires).
  std::vector<TaggedField> ReadTaggedFields(const char* field);
  void SkipTaggedFields(const char* field);

  // `n` raw bytes (no length prefix).
  std::string_view ReadRaw(size_t n, const char* field);

  // Records an error unless the whole buffer has been consumed ("N trailing bytes").
  void ExpectEnd();
  // Records a semantic error found by a decoder (e.g. a bad enum value), if none yet.
  void Fail(std::string_view message);

  bool ok() const { return status_.ok(); }
  // OK, or InvalidArgument("<field>: <what went wrong> at byte <offset>") for the first error.
  const absl::Status& status() const { return status_; }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  // True (and nothing recorded) if `n` more bytes are available.
  bool Need(size_t n, const char* field);
  void SetError(const char* field, std::string_view what);
  int32_t CheckedCount(int64_t count, bool nullable, size_t min_element_bytes, const char* field);

  std::string_view data_;
  size_t pos_ = 0;
  absl::Status status_;
};

// A piece of an encoded message: bytes the Writer owns, or a byte range of a file that the
// network layer sends without copying (sendfile).
using Chunk = std::variant<std::string, FileSlice>;

// Builds an encoded message as a list of chunks. Bytes written through Write* go to the last
// owned chunk; AppendFileSlice adds a slice chunk, so a Fetch response is: bytes, slice,
// bytes, ... (Append may also keep a large owned chunk of the other Writer as its own chunk.)
//
// Errors are sticky, as in Reader: a value that cannot be encoded (a string longer than 32767
// bytes, an array longer than 2^31-1, a negative slice size) records InvalidArgument in
// status(), and encoders return it. Nothing is checked with GREGOR_CHECK here because such
// values can come from client input (e.g. a long topic name echoed back).
class Writer {
 public:
  Writer() = default;
  Writer(Writer&&) = default;
  Writer& operator=(Writer&&) = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void WriteInt8(int8_t v);
  void WriteInt16(int16_t v);
  void WriteInt32(int32_t v);
  void WriteInt64(int64_t v);
  void WriteBool(bool v);
  void WriteUnsignedVarint(uint32_t v);
  void WriteVarint(int32_t v);
  void WriteVarlong(int64_t v);

  void WriteString(std::string_view s);
  void WriteNullableString(std::optional<std::string_view> s);
  void WriteCompactString(std::string_view s);
  void WriteCompactNullableString(std::optional<std::string_view> s);

  void WriteBytes(std::string_view b);
  void WriteNullableBytes(std::optional<std::string_view> b);
  void WriteCompactBytes(std::string_view b);
  void WriteCompactNullableBytes(std::optional<std::string_view> b);

  // Array counts; the elements follow. WriteNullArray writes -1 (int32) / 0 (compact).
  void WriteArrayLength(size_t n);
  void WriteNullArray();
  void WriteCompactArrayLength(size_t n);
  void WriteCompactNullArray();

  // A tagged-field section: an empty one (a single 0 byte), or the given fields (sorted by tag
  // by the caller).
  void WriteEmptyTaggedFields();
  void WriteTaggedFields(const std::vector<TaggedField>& fields);

  // Bytes with no length prefix.
  void WriteRaw(std::string_view bytes);
  // A zero-copy chunk with no length prefix. Empty slices are dropped.
  void AppendFileSlice(const FileSlice& slice);
  // Moves all of `other`'s chunks (and its error, if any) to the end of this Writer.
  void Append(Writer&& other);

  // Total bytes encoded so far, owned and sliced.
  size_t size() const { return size_; }
  const absl::Status& status() const { return status_; }
  bool has_file_slices() const { return slices_ > 0; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  std::vector<Chunk> TakeChunks() &&;
  // All bytes in one string, reading FileSlices from their files (tests, tools, transports
  // that cannot sendfile).
  absl::StatusOr<std::string> Flatten() const;

  // Records an error (if none yet); for encoders that find a value they cannot represent.
  void Fail(std::string_view message);

 private:
  std::string& Tail();

  std::vector<Chunk> chunks_;
  size_t size_ = 0;
  size_t slices_ = 0;
  absl::Status status_;
};

}  // namespace gregor::kafka
