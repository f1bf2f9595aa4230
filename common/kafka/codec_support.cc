#include "common/kafka/codec_support.h"

#include <limits>
#include <variant>

#include "absl/strings/str_cat.h"

namespace gregor::kafka::codec {

absl::Status UnsupportedVersion(const char* message, int16_t version) {
  return absl::InvalidArgumentError(absl::StrCat(message, " v", version, ": unsupported version"));
}

absl::Status FinishDecode(Reader& r, const char* message, int16_t version) {
  r.ExpectEnd();
  if (r.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(message, " v", version, ": ", r.status().message()));
}

absl::Status FinishEncode(const Writer& w, const char* message, int16_t version) {
  if (w.status().ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(message, " v", version, ": ", w.status().message()));
}

int32_t ReadArrayLength(Reader& r, bool flexible, bool nullable, const char* field,
                        size_t min_element_bytes) {
  if (flexible) {
    return nullable ? r.ReadCompactNullableArrayLength(field, min_element_bytes)
                    : r.ReadCompactArrayLength(field, min_element_bytes);
  }
  return nullable ? r.ReadNullableArrayLength(field, min_element_bytes)
                  : r.ReadArrayLength(field, min_element_bytes);
}

void WriteArrayLength(Writer& w, bool flexible, size_t n) {
  if (flexible) {
    w.WriteCompactArrayLength(n);
  } else {
    w.WriteArrayLength(n);
  }
}

namespace {

void NullNotAllowed(Writer& w, const char* field) {
  w.Fail(absl::StrCat(field, ": null is not allowed in this version"));
}

std::optional<std::string> Own(std::optional<std::string_view> s) {
  if (!s.has_value()) return std::nullopt;
  return std::string(*s);
}

}  // namespace

void WriteNullArray(Writer& w, bool flexible, bool nullable, const char* field) {
  if (!nullable) return NullNotAllowed(w, field);
  if (flexible) {
    w.WriteCompactNullArray();
  } else {
    w.WriteNullArray();
  }
}

std::string ReadString(Reader& r, bool flexible, const char* field) {
  return std::string(flexible ? r.ReadCompactString(field) : r.ReadString(field));
}

std::optional<std::string> ReadNullableString(Reader& r, bool flexible, bool nullable,
                                              const char* field) {
  if (!nullable) return ReadString(r, flexible, field);
  return Own(flexible ? r.ReadCompactNullableString(field) : r.ReadNullableString(field));
}

void WriteString(Writer& w, bool flexible, std::string_view s) {
  if (flexible) {
    w.WriteCompactString(s);
  } else {
    w.WriteString(s);
  }
}

void WriteNullableString(Writer& w, bool flexible, bool nullable,
                         const std::optional<std::string>& s, const char* field) {
  if (s.has_value()) return WriteString(w, flexible, *s);
  if (!nullable) return NullNotAllowed(w, field);
  if (flexible) {
    w.WriteCompactNullableString(std::nullopt);
  } else {
    w.WriteNullableString(std::nullopt);
  }
}

std::string ReadBytes(Reader& r, bool flexible, const char* field) {
  return std::string(flexible ? r.ReadCompactBytes(field) : r.ReadBytes(field));
}

std::optional<std::string> ReadNullableBytes(Reader& r, bool flexible, bool nullable,
                                             const char* field) {
  if (!nullable) return ReadBytes(r, flexible, field);
  return Own(flexible ? r.ReadCompactNullableBytes(field) : r.ReadNullableBytes(field));
}

void WriteBytes(Writer& w, bool flexible, std::string_view b) {
  if (flexible) {
    w.WriteCompactBytes(b);
  } else {
    w.WriteBytes(b);
  }
}

void WriteNullableBytes(Writer& w, bool flexible, bool nullable,
                        const std::optional<std::string>& b, const char* field) {
  if (b.has_value()) return WriteBytes(w, flexible, *b);
  WriteRecords(w, flexible, nullable, std::nullopt, field);
}

std::optional<std::string_view> ReadRecords(Reader& r, bool flexible, bool nullable,
                                            const char* field) {
  if (!nullable) return flexible ? r.ReadCompactBytes(field) : r.ReadBytes(field);
  return flexible ? r.ReadCompactNullableBytes(field) : r.ReadNullableBytes(field);
}

void WriteRecords(Writer& w, bool flexible, bool nullable, std::optional<std::string_view> b,
                  const char* field) {
  if (!b.has_value() && !nullable) return NullNotAllowed(w, field);
  if (flexible) {
    w.WriteCompactNullableBytes(b);
  } else {
    w.WriteNullableBytes(b);
  }
}

std::vector<Chunk> ReadChunkedRecords(Reader& r, bool flexible, const char* field) {
  std::optional<std::string_view> bytes =
      flexible ? r.ReadCompactNullableBytes(field) : r.ReadNullableBytes(field);
  std::vector<Chunk> chunks;
  if (bytes.has_value() && !bytes->empty()) chunks.emplace_back(std::string(*bytes));
  return chunks;
}

void WriteChunkedRecords(Writer& w, bool flexible, const std::vector<Chunk>& chunks) {
  const size_t size = ChunksSize(chunks);
  if (size > static_cast<size_t>(std::numeric_limits<int32_t>::max()) - 1) {
    w.Fail(absl::StrCat("records of ", size, " bytes exceed 2^31-1"));
    return;
  }
  if (flexible) {
    w.WriteUnsignedVarint(static_cast<uint32_t>(size) + 1);
  } else {
    w.WriteInt32(static_cast<int32_t>(size));
  }
  for (const Chunk& chunk : chunks) {
    if (const auto* bytes = std::get_if<std::string>(&chunk)) {
      w.WriteRaw(*bytes);
    } else {
      w.AppendFileSlice(std::get<FileSlice>(chunk));
    }
  }
}

size_t ChunksSize(const std::vector<Chunk>& chunks) {
  size_t total = 0;
  for (const Chunk& chunk : chunks) {
    if (const auto* bytes = std::get_if<std::string>(&chunk)) {
      total += bytes->size();
    } else {
      int64_t size = std::get<FileSlice>(chunk).size;
      if (size > 0) total += static_cast<size_t>(size);
    }
  }
  return total;
}

Uuid ReadUuid(Reader& r, const char* field) {
  Uuid id;
  std::string_view raw = r.ReadRaw(id.bytes.size(), field);
  if (raw.size() == id.bytes.size()) {
    for (size_t i = 0; i < raw.size(); ++i) id.bytes[i] = static_cast<uint8_t>(raw[i]);
  }
  return id;
}

void WriteUuid(Writer& w, const Uuid& id) {
  w.WriteRaw(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()));
}

Writer& TaggedFieldsWriter::Add(uint32_t tag) { return fields_.emplace_back(tag, Writer()).second; }

void TaggedFieldsWriter::WriteTo(Writer& w) {
  std::vector<std::string> data;
  std::vector<TaggedField> fields;
  data.reserve(fields_.size());
  for (auto& [tag, field] : fields_) {
    absl::StatusOr<std::string> bytes = field.Flatten();
    const absl::Status& error = !field.status().ok() ? field.status() : bytes.status();
    if (!error.ok()) {
      w.Fail(std::string(error.message()));
      return;
    }
    data.push_back(std::move(*bytes));
    fields.push_back({tag, data.back()});
  }
  w.WriteTaggedFields(fields);
}

}  // namespace gregor::kafka::codec
