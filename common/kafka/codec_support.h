// What the generated codec (common/kafka/messages/*, from schema/*.api) calls: each Kafka wire
// shape written once, with the classic / flexible encoding chosen by a flag. Not for use
// outside generated code and its tests; handlers use the typed messages (messages.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/kafka/wire.h"

namespace gregor::kafka {

// The versions of a message the codec can read and write.
struct VersionRange {
  int16_t min = 0;
  int16_t max = 0;
  constexpr bool contains(int16_t v) const { return v >= min && v <= max; }
};

namespace codec {

// "Metadata request v12: unsupported version".
absl::Status UnsupportedVersion(const char* message, int16_t version);
// OK, or the first error of `r` (or trailing bytes) as "<message> v<N>: <field>: <what> at byte
// <offset>".
absl::Status FinishDecode(Reader& r, const char* message, int16_t version);
absl::Status FinishEncode(const Writer& w, const char* message, int16_t version);

// Array counts: int32 (classic) or uvarint N+1 (flexible). With `nullable` false a null count is
// an error; with it true ReadArrayLength returns -1 for null. A count that cannot fit in the bytes
// left (`min_element_bytes` each) is an error, so the caller may reserve() it.
int32_t ReadArrayLength(Reader& r, bool flexible, bool nullable, const char* field,
                        size_t min_element_bytes);
void WriteArrayLength(Writer& w, bool flexible, size_t n);
// A null array, or an error naming `field` when the version does not allow null.
void WriteNullArray(Writer& w, bool flexible, bool nullable, const char* field);

std::string ReadString(Reader& r, bool flexible, const char* field);
// With `nullable` false (a version where the field cannot be null) a null is an error.
std::optional<std::string> ReadNullableString(Reader& r, bool flexible, bool nullable,
                                              const char* field);
void WriteString(Writer& w, bool flexible, std::string_view s);
void WriteNullableString(Writer& w, bool flexible, bool nullable,
                         const std::optional<std::string>& s, const char* field);

std::string ReadBytes(Reader& r, bool flexible, const char* field);
std::optional<std::string> ReadNullableBytes(Reader& r, bool flexible, bool nullable,
                                             const char* field);
void WriteBytes(Writer& w, bool flexible, std::string_view b);
void WriteNullableBytes(Writer& w, bool flexible, bool nullable,
                        const std::optional<std::string>& b, const char* field);

// `records` fields in requests: a view into the frame (no copy); nullopt for null.
std::optional<std::string_view> ReadRecords(Reader& r, bool flexible, bool nullable,
                                            const char* field);
void WriteRecords(Writer& w, bool flexible, bool nullable, std::optional<std::string_view> b,
                  const char* field);

// `chunked_records` fields in responses: FileSlices and owned bytes sent as one length-prefixed
// field, never null (librdkafka 2.0.2 cannot parse a null records field); decoded as one owned
// chunk (none when empty or null).
std::vector<Chunk> ReadChunkedRecords(Reader& r, bool flexible, const char* field);
void WriteChunkedRecords(Writer& w, bool flexible, const std::vector<Chunk>& chunks);
size_t ChunksSize(const std::vector<Chunk>& chunks);

Uuid ReadUuid(Reader& r, const char* field);
void WriteUuid(Writer& w, const Uuid& id);

// Collects the tagged fields of one struct (each encoded into its own Writer), then writes the
// section in tag order.
class TaggedFieldsWriter {
 public:
  // Tags must be added in increasing order.
  Writer& Add(uint32_t tag);
  void WriteTo(Writer& w);

 private:
  std::vector<std::pair<uint32_t, Writer>> fields_;
};

}  // namespace codec
}  // namespace gregor::kafka
