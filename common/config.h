// Kafka-style properties files: `key=value` lines, `#` and `!` comments, blank lines, and
// `--override key=value` from the command line.
//
// A ConfigSchema lists every key a program accepts, with its type, default and doc. Loading
// checks every key against the schema: an unknown key or a malformed value is an error whose
// message names the key and where it came from ("server.properties:12" or "--override").
// Programs turn the loaded Config into their plain config structs once at start-up.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace gregor {

enum class ConfigType { kString, kInt, kLong, kBool, kDouble, kList };

struct ConfigKeyDef {
  std::string name;
  ConfigType type = ConfigType::kString;
  // Default as text, parsed by the same rules as a file value; nullopt = no default (required
  // keys are checked by the program's Validate()).
  std::optional<std::string> default_value;
  std::string doc;
  // Inclusive bounds for kInt/kLong/kDouble.
  std::optional<double> min;
  std::optional<double> max;
};

class ConfigSchema {
 public:
  ConfigSchema& Define(ConfigKeyDef def);
  // Shorthands for Define(); defaults are given as text and parsed by the value rules.
  ConfigSchema& String(std::string name, std::optional<std::string> default_value, std::string doc);
  ConfigSchema& Int(std::string name, std::optional<std::string> default_value, std::string doc,
                    std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt);
  ConfigSchema& Long(std::string name, std::optional<std::string> default_value, std::string doc,
                     std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt);
  ConfigSchema& Double(std::string name, std::optional<std::string> default_value, std::string doc,
                       std::optional<double> min = std::nullopt,
                       std::optional<double> max = std::nullopt);
  ConfigSchema& Bool(std::string name, std::optional<std::string> default_value, std::string doc);
  ConfigSchema& List(std::string name, std::optional<std::string> default_value, std::string doc);
  const ConfigKeyDef* Find(std::string_view name) const;
  const std::vector<ConfigKeyDef>& keys() const { return keys_; }

 private:
  std::vector<ConfigKeyDef> keys_;
};

class Config {
 public:
  // Parses properties text. `source` names it in error messages (a file name).
  static absl::StatusOr<Config> Parse(const ConfigSchema& schema, std::string_view text,
                                      std::string_view source);
  static absl::StatusOr<Config> LoadFile(const ConfigSchema& schema, const std::string& path);
  // Applies one `key=value` override; it wins over the file.
  absl::Status ApplyOverride(std::string_view key_equals_value);

  // Typed accessors: the value set in the file/overrides, else the schema default. Calling
  // them for a key that is not in the schema, with the wrong type, or without a value and
  // default is a programming error (GREGOR_CHECK).
  std::string GetString(std::string_view key) const;
  int32_t GetInt(std::string_view key) const;
  int64_t GetLong(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  // Comma-separated, items trimmed, empty items dropped.
  std::vector<std::string> GetList(std::string_view key) const;
  // Whether the key was set explicitly (file or override).
  bool IsSet(std::string_view key) const;
  // The value as text (set, else the schema default); nullopt without either.
  std::optional<std::string> Text(std::string_view key) const;

 private:
  explicit Config(const ConfigSchema* schema) : schema_(schema) {}
  absl::Status Set(std::string_view key, std::string_view value, const std::string& where);
  const std::string* RawValue(std::string_view key) const;

  const ConfigSchema* schema_;  // not owned; outlives the Config
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace gregor
