// What DescribeConfigs (and CreateTopics v5+) say about a topic's or this broker's configs:
// each value with its source and, when asked, its synonyms and documentation. Pure: built from
// the topic's overrides (the metadata image), the topic config table
// (common/metadata/topic_configs.h) and the broker's own settings (BrokerConfig::settings).
//
// Sources (DescribeConfigs' ConfigSource): 1 a topic override, 4 set in server.properties or
// --override, 5 a default. Gregor has no dynamic broker configs, so every broker config is
// read-only and never of source 2 or 3; and none is sensitive (no passwords).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "broker/broker_config.h"

namespace gregor::broker {

enum ConfigSource : int8_t {
  kDynamicTopicConfig = 1,
  kStaticBrokerConfig = 4,
  kDefaultConfig = 5,
};

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  int8_t source = kDefaultConfig;
};

struct ConfigDescription {
  std::string name;
  std::optional<std::string> value;
  int8_t source = kDefaultConfig;
  bool read_only = false;
  int8_t type = 0;  // DescribeConfigs' ConfigType
  std::string doc;
  std::vector<ConfigSynonym> synonyms;  // the winning value first
};

// Every topic config (or those in `keys`, when given) of a topic with `overrides`.
std::vector<ConfigDescription> DescribeTopicConfigs(
    const std::map<std::string, std::string>& overrides, const BrokerConfig& broker,
    const std::optional<std::vector<std::string>>& keys);

// Every broker config (or those in `keys`) of this broker.
std::vector<ConfigDescription> DescribeBrokerConfigs(
    const BrokerConfig& broker, const std::optional<std::vector<std::string>>& keys);

// IncrementalAlterConfigs on a topic's overrides: SET, DELETE, APPEND and SUBTRACT (the last two
// on list configs, starting from the effective value). Errors: INVALID_REQUEST for a key named
// twice, INVALID_CONFIG for an unknown key, operation, or a list operation on a non-list (the
// values themselves are checked by the controller, as at create time).
struct ConfigOp {
  std::string name;
  int8_t operation = 0;  // 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT
  std::optional<std::string> value;
};
absl::StatusOr<std::map<std::string, std::string>> ApplyConfigOps(
    std::map<std::string, std::string> overrides, const std::vector<ConfigOp>& ops,
    const BrokerConfig& broker);

}  // namespace gregor::broker
