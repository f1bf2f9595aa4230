#include "common/config.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace gregor {
namespace {

// Debian's Abseil is built with its own absl::string_view, which does not convert from
// std::string_view; this bridges the two for StrCat and friends.
absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Quotes text echoed back in an error, cut short so that a binary file passed by mistake does
// not produce a megabyte-long message.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxEchoed = 80;
  if (s.size() <= kMaxEchoed) return absl::StrCat("'", Absl(s), "'");
  return absl::StrCat("'", Absl(s.substr(0, kMaxEchoed)), "...'");
}

const char* TypeName(ConfigType type) {
  switch (type) {
    case ConfigType::kString: return "string";
    case ConfigType::kInt: return "int";
    case ConfigType::kLong: return "long";
    case ConfigType::kBool: return "bool";
    case ConfigType::kDouble: return "double";
    case ConfigType::kList: return "list";
  }
  return "unknown";
}

bool IsNumeric(ConfigType type) {
  return type == ConfigType::kInt || type == ConfigType::kLong || type == ConfigType::kDouble;
}

enum class IntParse { kOk, kNotAnInteger, kOverflow };

// An optional sign and decimal digits, nothing else: no blanks, no "0x", no "1e3", no "1_000".
IntParse ParseInt64(std::string_view text, int64_t* out) {
  std::string_view digits = text;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty()) return IntParse::kNotAnInteger;
  for (char c : digits) {
    if (c < '0' || c > '9') return IntParse::kNotAnInteger;
  }
  // from_chars takes a leading '-' but not a '+'.
  const std::string_view number = text.front() == '+' ? digits : text;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), *out);
  if (ec == std::errc::result_out_of_range) return IntParse::kOverflow;
  return ec == std::errc() && end == number.data() + number.size() ? IntParse::kOk
                                                                   : IntParse::kNotAnInteger;
}

// Decimal or scientific notation with an optional sign; false for anything else, including
// values that overflow a double.
bool ParseDouble(std::string_view text, double* out) {
  std::string_view number = text;
  if (!number.empty() && number.front() == '+') {
    number.remove_prefix(1);
    if (!number.empty() && number.front() == '-') return false;  // "+-1"
  }
  if (number.empty()) return false;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), *out);
  return ec == std::errc() && end == number.data() + number.size();
}

std::optional<bool> ParseBool(std::string_view text) {
  if (absl::EqualsIgnoreCase(Absl(text), "true")) return true;
  if (absl::EqualsIgnoreCase(Absl(text), "false")) return false;
  return std::nullopt;
}

// Shortest text that reads back as the same double, so "2147483647" rather than "2.14748e+09".
std::string FormatNumber(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return ec == std::errc() ? std::string(buffer, end) : absl::StrCat(value);
}

// Checks `value` against the type and bounds of `def`. On error the message is only the
// reason ("expected an integer"); callers add the key and the location.
absl::Status ValidateValue(const ConfigKeyDef& def, std::string_view value) {
  double number = 0;
  switch (def.type) {
    case ConfigType::kString:
    case ConfigType::kList:
      return absl::OkStatus();
    case ConfigType::kBool:
      if (!ParseBool(value)) return absl::InvalidArgumentError("expected true or false");
      return absl::OkStatus();
    case ConfigType::kInt:
    case ConfigType::kLong: {
      int64_t integer = 0;
      switch (ParseInt64(value, &integer)) {
        case IntParse::kOk:
          break;
        case IntParse::kNotAnInteger:
          return absl::InvalidArgumentError("expected an integer");
        case IntParse::kOverflow:
          return absl::InvalidArgumentError("does not fit in a 64-bit integer");
      }
      if (def.type == ConfigType::kInt && (integer < std::numeric_limits<int32_t>::min() ||
                                           integer > std::numeric_limits<int32_t>::max())) {
        return absl::InvalidArgumentError("does not fit in a 32-bit integer");
      }
      number = static_cast<double>(integer);
      break;
    }
    case ConfigType::kDouble:
      if (!ParseDouble(value, &number) || !std::isfinite(number)) {
        return absl::InvalidArgumentError("expected a finite number");
      }
      break;
  }
  if (def.min && number < *def.min) {
    return absl::InvalidArgumentError(absl::StrCat("must be at least ", FormatNumber(*def.min)));
  }
  if (def.max && number > *def.max) {
    return absl::InvalidArgumentError(absl::StrCat("must be at most ", FormatNumber(*def.max)));
  }
  return absl::OkStatus();
}

// The schema entry behind a typed accessor; asking for an undefined key or with the wrong
// type is a bug in the caller.
const ConfigKeyDef& DefFor(const ConfigSchema& schema, std::string_view key, ConfigType type) {
  const ConfigKeyDef* def = schema.Find(key);
  GREGOR_CHECK_MSG(def != nullptr, "config key '", Absl(key), "' is not in the schema");
  GREGOR_CHECK_MSG(def->type == type, "config key '", Absl(key), "' has type ", TypeName(def->type),
                   ", not ", TypeName(type));
  return *def;
}

const std::string& Required(const std::string* raw, std::string_view key) {
  GREGOR_CHECK_MSG(raw != nullptr, "config key '", Absl(key), "' has no value and no default");
  return *raw;
}

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

}  // namespace

namespace {
ConfigKeyDef MakeDef(std::string name, ConfigType type, std::optional<std::string> default_value,
                     std::string doc, std::optional<double> min, std::optional<double> max) {
  ConfigKeyDef def;
  def.name = std::move(name);
  def.type = type;
  def.default_value = std::move(default_value);
  def.doc = std::move(doc);
  def.min = min;
  def.max = max;
  return def;
}
}  // namespace

ConfigSchema& ConfigSchema::String(std::string name, std::optional<std::string> default_value,
                                   std::string doc) {
  return Define(MakeDef(std::move(name), ConfigType::kString, std::move(default_value),
                        std::move(doc), std::nullopt, std::nullopt));
}
ConfigSchema& ConfigSchema::Int(std::string name, std::optional<std::string> default_value,
                                std::string doc, std::optional<double> min,
                                std::optional<double> max) {
  return Define(MakeDef(std::move(name), ConfigType::kInt, std::move(default_value),
                        std::move(doc), min, max));
}
ConfigSchema& ConfigSchema::Long(std::string name, std::optional<std::string> default_value,
                                 std::string doc, std::optional<double> min,
                                 std::optional<double> max) {
  return Define(MakeDef(std::move(name), ConfigType::kLong, std::move(default_value),
                        std::move(doc), min, max));
}
ConfigSchema& ConfigSchema::Double(std::string name, std::optional<std::string> default_value,
                                   std::string doc, std::optional<double> min,
                                   std::optional<double> max) {
  return Define(MakeDef(std::move(name), ConfigType::kDouble, std::move(default_value),
                        std::move(doc), min, max));
}
ConfigSchema& ConfigSchema::Bool(std::string name, std::optional<std::string> default_value,
                                 std::string doc) {
  return Define(MakeDef(std::move(name), ConfigType::kBool, std::move(default_value),
                        std::move(doc), std::nullopt, std::nullopt));
}
ConfigSchema& ConfigSchema::List(std::string name, std::optional<std::string> default_value,
                                 std::string doc) {
  return Define(MakeDef(std::move(name), ConfigType::kList, std::move(default_value),
                        std::move(doc), std::nullopt, std::nullopt));
}

ConfigSchema& ConfigSchema::Define(ConfigKeyDef def) {
  GREGOR_CHECK_MSG(!def.name.empty(), "config key with an empty name");
  GREGOR_CHECK_MSG(Find(def.name) == nullptr, "config key '", def.name, "' defined twice");
  GREGOR_CHECK_MSG(IsNumeric(def.type) || (!def.min && !def.max), "config key '", def.name,
                   "' has type ", TypeName(def.type), " and cannot have bounds");
  GREGOR_CHECK_MSG(!def.min || !def.max || *def.min <= *def.max, "config key '", def.name,
                   "' has min > max");
  if (def.default_value) {
    const absl::Status valid = ValidateValue(def, *def.default_value);
    GREGOR_CHECK_MSG(valid.ok(), "default ", Quote(*def.default_value), " of config key '",
                     def.name, "' is invalid: ", valid.message());
  }
  keys_.push_back(std::move(def));
  return *this;
}

const ConfigKeyDef* ConfigSchema::Find(std::string_view name) const {
  for (const ConfigKeyDef& def : keys_) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

absl::StatusOr<Config> Config::Parse(const ConfigSchema& schema, std::string_view text,
                                     std::string_view source) {
  Config config(&schema);
  int line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;

    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const std::string where = absl::StrCat(Absl(source), ":", line_number);
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected 'key=value', got ", Quote(line)));
    }
    const std::string_view key = Trim(line.substr(0, equals));
    if (key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": missing key before '='"));
    }
    // Later lines overwrite earlier ones, as with java.util.Properties.
    RETURN_IF_ERROR(config.Set(key, Trim(line.substr(equals + 1)), where));
  }
  return config;
}

absl::StatusOr<Config> Config::LoadFile(const ConfigSchema& schema, const std::string& path) {
  // Unreadable for any reason (missing, no permission, a directory) is reported as NotFound:
  // the operator's fix is the same, point at the right file.
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open config file '", path, "': ", std::strerror(errno)));
  }
  std::string text;
  char buffer[8192];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) {
    return absl::NotFoundError(
        absl::StrCat("cannot read config file '", path, "': ", std::strerror(errno)));
  }
  return Parse(schema, text, path);
}

absl::Status Config::ApplyOverride(std::string_view key_equals_value) {
  static const std::string kWhere = "--override";
  const size_t equals = key_equals_value.find('=');
  if (equals == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhere, ": expected 'key=value', got ", Quote(key_equals_value)));
  }
  const std::string_view key = Trim(key_equals_value.substr(0, equals));
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhere, ": missing key before '='"));
  }
  return Set(key, Trim(key_equals_value.substr(equals + 1)), kWhere);
}

absl::Status Config::Set(std::string_view key, std::string_view value, const std::string& where) {
  const ConfigKeyDef* def = schema_->Find(key);
  if (def == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unknown config key '", Absl(key), "'"));
  }
  if (absl::Status valid = ValidateValue(*def, value); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": invalid value ", Quote(value),
                                                   " for '", Absl(key), "': ", valid.message()));
  }
  values_.insert_or_assign(std::string(key), std::string(value));
  return absl::OkStatus();
}

const std::string* Config::RawValue(std::string_view key) const {
  if (auto it = values_.find(key); it != values_.end()) return &it->second;
  const ConfigKeyDef* def = schema_->Find(key);
  return def != nullptr && def->default_value ? &*def->default_value : nullptr;
}

std::optional<std::string> Config::Text(std::string_view key) const {
  const std::string* raw = RawValue(key);
  if (raw == nullptr) return std::nullopt;
  return *raw;
}

// The accessors re-parse text that Set() or Define() already validated, so a parse failure
// here would be a bug in this file.

std::string Config::GetString(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kString);
  return Required(RawValue(key), key);
}

int32_t Config::GetInt(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kInt);
  int64_t value = 0;
  GREGOR_CHECK(ParseInt64(Required(RawValue(key), key), &value) == IntParse::kOk);
  return static_cast<int32_t>(value);
}

int64_t Config::GetLong(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kLong);
  int64_t value = 0;
  GREGOR_CHECK(ParseInt64(Required(RawValue(key), key), &value) == IntParse::kOk);
  return value;
}

bool Config::GetBool(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kBool);
  const std::optional<bool> value = ParseBool(Required(RawValue(key), key));
  GREGOR_CHECK(value.has_value());
  return *value;
}

double Config::GetDouble(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kDouble);
  double value = 0;
  GREGOR_CHECK(ParseDouble(Required(RawValue(key), key), &value));
  return value;
}

std::vector<std::string> Config::GetList(std::string_view key) const {
  DefFor(*schema_, key, ConfigType::kList);
  const std::string_view text = Required(RawValue(key), key);
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = Trim(text.substr(start, end - start));
    if (!item.empty()) items.emplace_back(item);
    start = end + 1;
  }
  return items;
}

bool Config::IsSet(std::string_view key) const {
  // A key outside the schema can never be set; asking about one is a typo in the caller.
  GREGOR_CHECK_MSG(schema_->Find(key) != nullptr, "config key '", Absl(key),
                   "' is not in the schema");
  return values_.find(key) != values_.end();
}

}  // namespace gregor
