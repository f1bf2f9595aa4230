// batch_tool: encodes and decodes RecordBatch v2 files with Gregor's codec so that a script can
// cross-check it against other implementations (kafka_python_crosscheck.py).
//
//   batch_tool decode FILE
//       FILE holds concatenated batches. Prints one JSON line per record:
//       {"offset":N,"timestamp":N,"key":HEX|null,"value":HEX|null,
//        "headers":[[KEYHEX,VALHEX|null],...],"batch_base_offset":N,"compression":"gzip"}
//       Exits 1 (message on stderr) on any invalid batch or trailing partial batch.
//   batch_tool build --compression C --base-offset N OUTFILE
//       Reads JSON lines of the same shape (key, value, timestamp, headers; other fields are
//       ignored) from stdin and writes them to OUTFILE as one batch.
//
// Bytes are hex-encoded so that binary keys, values and header keys survive JSON.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/compression.h"
#include "common/record_batch.h"
#include "nlohmann/json.hpp"

namespace {

using gregor::Compression;
using gregor::record::BatchBuilder;
using gregor::record::BatchHeader;
using gregor::record::BatchIterator;
using gregor::record::BuilderRecord;
using gregor::record::Record;
using gregor::record::RecordHeader;
using Json = nlohmann::ordered_json;

int Usage() {
  std::cerr << "usage: batch_tool decode FILE\n"
               "       batch_tool build --compression none|gzip|snappy|lz4|zstd "
               "--base-offset N OUTFILE  < records.jsonl\n";
  return 2;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

Json NullableHex(const std::optional<std::string>& bytes) {
  return bytes.has_value() ? Json(Hex(*bytes)) : Json(nullptr);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

int Decode(const std::string& path) {
  std::string data;
  if (!ReadFile(path, &data)) {
    std::cerr << "batch_tool: cannot read " << path << "\n";
    return 1;
  }
  BatchIterator it(data);
  BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    auto records = gregor::record::DecodeRecords(batch);
    if (!records.ok()) {
      std::cerr << "batch_tool: invalid batch at file position " << it.position() - batch.size()
                << ": " << records.status() << "\n";
      return 1;
    }
    const std::string compression(gregor::CompressionName(header.compression()));
    for (const Record& r : *records) {
      Json headers = Json::array();
      for (const RecordHeader& h : r.headers) {
        headers.push_back(Json::array({Hex(h.key), NullableHex(h.value)}));
      }
      Json line = {{"offset", r.offset},
                   {"timestamp", r.timestamp},
                   {"key", NullableHex(r.key)},
                   {"value", NullableHex(r.value)},
                   {"headers", std::move(headers)},
                   {"batch_base_offset", header.base_offset},
                   {"compression", compression}};
      std::cout << line.dump() << "\n";
    }
  }
  if (!it.status().ok()) {
    std::cerr << "batch_tool: " << it.status() << "\n";
    return 1;
  }
  if (it.position() != data.size()) {
    std::cerr << "batch_tool: " << data.size() - it.position()
              << " trailing bytes after the last whole batch (a partial batch)\n";
    return 1;
  }
  std::cout.flush();
  return std::cout.good() ? 0 : 1;
}

// Reads a hex string or null from `j[name]`.
bool GetNullableBytes(const Json& j, const char* name, std::optional<std::string>* out) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    out->reset();
    return true;
  }
  if (!it->is_string()) return false;
  *out = Unhex(it->get<std::string>());
  return out->has_value();
}

std::optional<BuilderRecord> ParseRecord(const Json& j, std::string* error) {
  if (!j.is_object()) {
    *error = "not a JSON object";
    return std::nullopt;
  }
  BuilderRecord r;
  if (!GetNullableBytes(j, "key", &r.key)) {
    *error = "key must be a hex string or null";
    return std::nullopt;
  }
  if (!GetNullableBytes(j, "value", &r.value)) {
    *error = "value must be a hex string or null";
    return std::nullopt;
  }
  auto ts = j.find("timestamp");
  if (ts == j.end() || !ts->is_number_integer()) {
    *error = "timestamp must be an integer";
    return std::nullopt;
  }
  r.timestamp = ts->get<int64_t>();
  auto headers = j.find("headers");
  if (headers != j.end() && !headers->is_null()) {
    if (!headers->is_array()) {
      *error = "headers must be an array";
      return std::nullopt;
    }
    for (const Json& h : *headers) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() ||
          !(h[1].is_string() || h[1].is_null())) {
        *error = "each header must be [KEYHEX, VALHEX|null]";
        return std::nullopt;
      }
      std::optional<std::string> key = Unhex(h[0].get<std::string>());
      if (!key.has_value()) {
        *error = "header key is not hex";
        return std::nullopt;
      }
      RecordHeader header{*key, std::nullopt};
      if (h[1].is_string()) {
        header.value = Unhex(h[1].get<std::string>());
        if (!header.value.has_value()) {
          *error = "header value is not hex";
          return std::nullopt;
        }
      }
      r.headers.push_back(std::move(header));
    }
  }
  return r;
}

int Build(int argc, char** argv) {
  std::optional<Compression> compression;
  std::optional<int64_t> base_offset;
  std::optional<std::string> out_path;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--compression" || arg == "--base-offset") && i + 1 < argc) {
      std::string_view value = argv[++i];
      if (arg == "--compression") {
        auto c = gregor::ParseCompression(value);
        if (!c.ok()) {
          std::cerr << "batch_tool: " << c.status() << "\n";
          return 2;
        }
        compression = *c;
      } else {
        int64_t n = 0;
        if (!absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &n)) {
          std::cerr << "batch_tool: bad --base-offset " << value << "\n";
          return 2;
        }
        base_offset = n;
      }
    } else if (!arg.starts_with("--") && !out_path.has_value()) {
      out_path = std::string(arg);
    } else {
      return Usage();
    }
  }
  if (!out_path.has_value()) return Usage();

  BatchBuilder builder(compression.value_or(Compression::kNone), base_offset.value_or(0));
  std::string line;
  int line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      std::cerr << "batch_tool: stdin line " << line_number << ": invalid JSON\n";
      return 1;
    }
    std::string error;
    std::optional<BuilderRecord> record = ParseRecord(j, &error);
    if (!record.has_value()) {
      std::cerr << "batch_tool: stdin line " << line_number << ": " << error << "\n";
      return 1;
    }
    builder.Add(*std::move(record));
  }
  auto batch = builder.Build();
  if (!batch.ok()) {
    std::cerr << "batch_tool: " << batch.status() << "\n";
    return 1;
  }
  std::ofstream out(*out_path, std::ios::binary | std::ios::trunc);
  out.write(batch->data(), static_cast<std::streamsize>(batch->size()));
  out.close();
  if (!out) {
    std::cerr << "batch_tool: cannot write " << *out_path << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string_view command = argv[1];
  if (command == "decode" && argc == 3) return Decode(argv[2]);
  if (command == "build") return Build(argc, argv);
  return Usage();
}
