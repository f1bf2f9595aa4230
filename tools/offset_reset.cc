#include "tools/offset_reset.h"

#include <ctime>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace gregor::tools {

absl::StatusOr<NewOffset> ComputeNewOffset(const ResetSpec& spec, const std::string& topic,
                                           int32_t partition, const PartitionState& s) {
  const std::string where = absl::StrCat(topic, "-", partition);
  NewOffset out;
  auto clamp = [&](int64_t wanted) {
    if (wanted < s.log_start) {
      out.warning = absl::StrCat("New offset (", wanted, ") is lower than earliest offset for topic partition ",
                                 where, ". Value will be set to ", s.log_start);
      return s.log_start;
    }
    if (wanted > s.log_end) {
      out.warning = absl::StrCat("New offset (", wanted, ") is higher than latest offset for topic partition ",
                                 where, ". Value will be set to ", s.log_end);
      return s.log_end;
    }
    return wanted;
  };
  switch (spec.kind) {
    case ResetSpec::Kind::kEarliest: out.offset = s.log_start; break;
    case ResetSpec::Kind::kLatest: out.offset = s.log_end; break;
    case ResetSpec::Kind::kOffset: out.offset = clamp(spec.value); break;
    case ResetSpec::Kind::kShiftBy:
    case ResetSpec::Kind::kCurrent:
      if (!s.committed) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the group has no committed offset for ", where,
            " to start from; use --to-earliest, --to-latest or --to-offset for it"));
      }
      out.offset = spec.kind == ResetSpec::Kind::kCurrent ? *s.committed : clamp(*s.committed + spec.value);
      break;
    case ResetSpec::Kind::kTimestamp:
      if (!s.by_time || *s.by_time < 0) {
        out.warning = absl::StrCat("Partition ", partition, " from topic ", topic,
                                   " is empty. Falling back to latest known offset.");
        out.offset = s.log_end;
      } else {
        out.offset = *s.by_time;
      }
      break;
  }
  return out;
}

absl::StatusOr<std::pair<std::string, std::vector<int32_t>>> ParseTopicSpec(const std::string& text) {
  const size_t colon = text.find(':');
  std::pair<std::string, std::vector<int32_t>> out;
  out.first = text.substr(0, colon);
  if (out.first.empty()) return absl::InvalidArgumentError(absl::StrCat("bad --topic '", text, "': no topic name"));
  if (colon == std::string::npos) return out;
  const std::string partitions = text.substr(colon + 1);  // outlives the split's views
  for (absl::string_view part : absl::StrSplit(ToAbsl(partitions), ',')) {
    int32_t p;
    if (!absl::SimpleAtoi(part, &p) || p < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "bad --topic '", text, "': want TOPIC or TOPIC:P,P,... with partition numbers"));
    }
    out.second.push_back(p);
  }
  return out;
}

absl::StatusOr<int64_t> ParseDatetime(const std::string& text) {
  static const std::regex kPattern(
      R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:?\d{2})?)");
  std::smatch m;
  if (!std::regex_match(text, m, kPattern)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --to-datetime '", text, "': want YYYY-MM-DDTHH:mm:SS.sss, e.g. 2026-12-05T10:30:00.000 "
        "(local time; add Z or +01:00 for another zone)"));
  }
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = m[6].matched ? std::stoi(m[6]) : 0;
  int64_t ms = 0;
  if (m[7].matched) {
    std::string frac = m[7].str();
    while (frac.size() < 3) frac.push_back('0');
    ms = std::stoi(frac);
  }
  int64_t seconds;
  if (m[8].matched) {
    seconds = static_cast<int64_t>(timegm(&tm));
    std::string zone = m[8].str();
    if (zone != "Z") {
      std::string digits;
      for (char c : zone) if (c != ':' && c != '+' && c != '-') digits.push_back(c);
      const int64_t offset = (std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2))) * 60;
      seconds -= zone[0] == '-' ? -offset : offset;
    }
  } else {
    tm.tm_isdst = -1;
    seconds = static_cast<int64_t>(mktime(&tm));
  }
  return seconds * 1000 + ms;
}

absl::StatusOr<int64_t> ParseDurationMs(const std::string& text) {
  static const std::regex kPattern(
      R"(P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?)");
  std::smatch m;
  if (text == "P" || text == "PT" || !std::regex_match(text, m, kPattern)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad --by-duration '", text, "': want an ISO-8601 duration PnDTnHnMnS, e.g. PT15M or P1DT2H"));
  }
  auto num = [&](int i) -> int64_t { return m[i].matched ? std::stoll(m[i]) : 0; };
  int64_t ms = ((num(1) * 24 + num(2)) * 60 + num(3)) * 60 * 1000;
  if (m[4].matched) ms += static_cast<int64_t>(std::stod(m[4]) * 1000 + 0.5);
  return ms;
}

}  // namespace gregor::tools
