#include "broker/storage/checkpoint_file.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file.h"
#include "common/status.h"
#include "common/strings.h"

namespace gregor::storage {

std::string FormatOffsetCheckpoint(const OffsetMap& offsets) {
  std::string out = absl::StrCat("0\n", offsets.size(), "\n");
  for (const auto& [tp, offset] : offsets) {
    absl::StrAppend(&out, tp.first, " ", tp.second, " ", offset, "\n");
  }
  return out;
}

std::vector<std::pair<size_t, std::string>> CheckpointLines(std::string_view text) {
  std::vector<std::pair<size_t, std::string>> out;
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(ToAbsl(text), '\n')) {
    ++number;
    if (!line.empty()) out.emplace_back(number, std::string(line));
  }
  return out;
}

absl::StatusOr<OffsetMap> ParseOffsetCheckpoint(std::string_view text, std::string_view source) {
  auto lines = CheckpointLines(text);
  auto bad = [&](size_t line, std::string_view why) {
    return absl::DataLossError(absl::StrCat(ToAbsl(source), ":", line, ": ", ToAbsl(why)));
  };
  if (lines.size() < 2) return bad(lines.empty() ? 1 : lines[0].first, "missing version or count line");
  if (lines[0].second != "0") {
    return bad(lines[0].first, absl::StrCat("unsupported version '", lines[0].second, "'"));
  }
  size_t count = 0;
  if (!absl::SimpleAtoi(lines[1].second, &count)) return bad(lines[1].first, "bad entry count");
  if (lines.size() - 2 != count) {
    return bad(lines[1].first, absl::StrCat("expected ", count, " entries, found ", lines.size() - 2));
  }
  OffsetMap out;
  for (size_t i = 2; i < lines.size(); ++i) {
    const auto& [number, line] = lines[i];
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int32_t partition = 0;
    int64_t offset = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[1], &partition) ||
        !absl::SimpleAtoi(parts[2], &offset)) {
      return bad(number, absl::StrCat("malformed entry '", line, "'"));
    }
    out[{std::string(parts[0]), partition}] = offset;
  }
  return out;
}

absl::Status WriteOffsetCheckpoint(const std::string& path, const OffsetMap& offsets) {
  return WriteFileAtomically(path, FormatOffsetCheckpoint(offsets));
}

absl::StatusOr<OffsetMap> ReadOffsetCheckpoint(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (absl::IsNotFound(text.status())) return OffsetMap{};
  if (!text.ok()) return text.status();
  return ParseOffsetCheckpoint(*text, path);
}

}  // namespace gregor::storage
