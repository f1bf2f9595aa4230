#include <stdlib.h>
#include <unistd.h>

#include <deque>
#include <memory>
#include <stdexcept>
#include <variant>

#include "common/file.h"
#include "common/kafka/messages_json.h"

namespace gregor::kafka::json {

const MessageCodec* FindMessageCodec(std::string_view name) {
  for (const MessageCodec& codec : MessageCodecs()) {
    if (name == codec.name) return &codec;
  }
  return nullptr;
}

std::string HexOf(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

std::string Unhex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) throw std::invalid_argument("bad hex digit");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Uuid UuidFromHex(std::string_view hex) {
  std::string raw = Unhex(hex);
  if (raw.size() != 16) throw std::invalid_argument("a uuid is 16 bytes");
  Uuid id;
  for (size_t i = 0; i < 16; ++i) id.bytes[i] = static_cast<uint8_t>(raw[i]);
  return id;
}

Json ChunksToJson(const std::vector<Chunk>& chunks) {
  Writer w;
  for (const Chunk& chunk : chunks) {
    if (const auto* bytes = std::get_if<std::string>(&chunk)) {
      w.WriteRaw(*bytes);
    } else {
      w.AppendFileSlice(std::get<FileSlice>(chunk));
    }
  }
  absl::StatusOr<std::string> flat = w.Flatten();
  if (!flat.ok()) throw std::runtime_error(std::string(flat.status().message()));
  return HexOf(*flat);
}

namespace {

// A FileSlice over `bytes`, in an unlinked temporary file.
FileSlice TempFileSlice(const std::string& bytes) {
  const char* dir = getenv("TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/gregor-chunk-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  absl::StatusOr<std::shared_ptr<File>> file = File::Open(path, /*create=*/true);
  unlink(path.c_str());
  if (!file.ok()) throw std::runtime_error(std::string(file.status().message()));
  absl::Status s = (*file)->WriteAt(0, bytes);
  if (!s.ok()) throw std::runtime_error(std::string(s.message()));
  return FileSlice{*file, 0, static_cast<int64_t>(bytes.size())};
}

}  // namespace

std::vector<Chunk> ChunksFromJson(const Json& j) {
  std::vector<Chunk> chunks;
  if (j.is_null()) return chunks;
  if (j.is_string()) {
    std::string bytes = Unhex(j.get<std::string>());
    if (!bytes.empty()) chunks.emplace_back(std::move(bytes));
    return chunks;
  }
  for (const Json& c : j) {
    if (c.contains("file_hex")) {
      chunks.emplace_back(TempFileSlice(Unhex(c.at("file_hex").get<std::string>())));
    } else {
      chunks.emplace_back(Unhex(c.at("hex").get<std::string>()));
    }
  }
  return chunks;
}

std::optional<std::string_view> RecordsFromJson(const Json& j) {
  static std::deque<std::string> kept;
  if (j.is_null()) return std::nullopt;
  return std::string_view(kept.emplace_back(Unhex(j.get<std::string>())));
}

}  // namespace gregor::kafka::json
