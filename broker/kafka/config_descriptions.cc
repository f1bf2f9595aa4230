#include "broker/kafka/config_descriptions.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"

#include "common/metadata/topic_configs.h"

namespace gregor::broker {
namespace {

bool Wanted(const std::optional<std::vector<std::string>>& keys, std::string_view name) {
  return !keys || std::find(keys->begin(), keys->end(), name) != keys->end();
}

int8_t TypeOf(ConfigType type) {
  switch (type) {
    case ConfigType::kBool: return 1;
    case ConfigType::kString: return 2;
    case ConfigType::kInt: return 3;
    case ConfigType::kLong: return 5;
    case ConfigType::kDouble: return 6;
    case ConfigType::kList: return 7;
  }
  return 0;
}

}  // namespace

std::vector<ConfigDescription> DescribeTopicConfigs(
    const std::map<std::string, std::string>& overrides, const BrokerConfig& broker,
    const std::optional<std::vector<std::string>>& keys) {
  std::vector<ConfigDescription> out;
  for (const metadata::TopicConfigDef& def : metadata::TopicConfigDefs()) {
    if (!Wanted(keys, def.name)) continue;
    ConfigDescription d;
    d.name = std::string(def.name);
    d.type = static_cast<int8_t>(def.type);
    d.doc = std::string(def.doc);
    if (auto it = overrides.find(d.name); it != overrides.end()) {
      d.synonyms.push_back({d.name, it->second, kDynamicTopicConfig});
    }
    // The broker's value of its synonym: set in its configuration, else its default.
    const BrokerConfig::Setting* setting = nullptr;
    if (auto it = broker.settings.find(std::string(def.broker_key)); it != broker.settings.end()) {
      setting = &it->second;
    }
    if (setting != nullptr && setting->is_set) {
      d.synonyms.push_back({std::string(def.broker_key), setting->value, kStaticBrokerConfig});
    }
    const std::string default_name = def.broker_key.empty() ? d.name : std::string(def.broker_key);
    std::optional<std::string> default_value = std::string(def.default_value);
    if (setting != nullptr && !setting->is_set) default_value = setting->value;
    d.synonyms.push_back({default_name, default_value, kDefaultConfig});
    d.value = d.synonyms.front().value;
    d.source = d.synonyms.front().source;
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<ConfigDescription> DescribeBrokerConfigs(
    const BrokerConfig& broker, const std::optional<std::vector<std::string>>& keys) {
  std::vector<ConfigDescription> out;
  for (const auto& [name, setting] : broker.settings) {
    if (!Wanted(keys, name)) continue;
    ConfigDescription d;
    d.name = name;
    d.value = setting.value;
    d.source = setting.is_set ? kStaticBrokerConfig : kDefaultConfig;
    d.read_only = true;  // no dynamic broker configs
    d.type = TypeOf(setting.type);
    d.doc = setting.doc;
    d.synonyms.push_back({name, setting.value, d.source});
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ApplyConfigOps(
    std::map<std::string, std::string> overrides, const std::vector<ConfigOp>& ops,
    const BrokerConfig& broker) {
  std::set<std::string> seen;
  for (const ConfigOp& op : ops) {
    if (!seen.insert(op.name).second) {
      return KafkaError(KafkaErrorCode::kInvalidRequest,
                        absl::StrCat("config '", op.name, "' is named twice"));
    }
  }
  for (const ConfigOp& op : ops) {
    const metadata::TopicConfigDef* def = metadata::FindTopicConfig(op.name);
    if (def == nullptr) {
      return KafkaError(KafkaErrorCode::kInvalidConfig,
                        absl::StrCat("unknown topic config '", op.name, "'"));
    }
    switch (op.operation) {
      case 0:  // SET
        if (!op.value) {
          return KafkaError(KafkaErrorCode::kInvalidRequest,
                            absl::StrCat("null value for config '", op.name, "'"));
        }
        overrides[op.name] = *op.value;
        break;
      case 1:  // DELETE
        overrides.erase(op.name);
        break;
      case 2:    // APPEND
      case 3: {  // SUBTRACT
        if (def->type != metadata::TopicConfigType::kList) {
          return KafkaError(KafkaErrorCode::kInvalidConfig,
                            absl::StrCat("config '", op.name, "' is not a list: ",
                                         op.operation == 2 ? "APPEND" : "SUBTRACT",
                                         " applies to list configs only"));
        }
        auto described = DescribeTopicConfigs(overrides, broker, std::vector<std::string>{op.name});
        std::vector<std::string> items;
        if (!described.empty() && described.front().value) {
          items = absl::StrSplit(*described.front().value, ',', absl::SkipWhitespace());
        }
        for (absl::string_view v : absl::StrSplit(op.value.value_or(""), ',', absl::SkipWhitespace())) {
          auto it = std::find(items.begin(), items.end(), v);
          if (op.operation == 2 && it == items.end()) items.emplace_back(v);
          if (op.operation == 3 && it != items.end()) items.erase(it);
        }
        overrides[op.name] = absl::StrJoin(items, ",");
        break;
      }
      default:
        return KafkaError(KafkaErrorCode::kInvalidConfig,
                          absl::StrCat("unknown config operation ", static_cast<int>(op.operation),
                                       " for '", op.name, "'"));
    }
  }
  return overrides;
}

}  // namespace gregor::broker
