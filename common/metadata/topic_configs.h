// The topic configs Gregor accepts: one table (name, type, the broker config that gives its
// default, Kafka's default, a line of documentation) and the rule that checks a value. The
// controller validates CreateTopics / AlterConfigs with it; brokers describe a topic's configs
// from it (DescribeConfigs, CreateTopics v5+), with each value's source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace gregor::metadata {

// DescribeConfigs' ConfigType (v3+).
enum class TopicConfigType : int8_t {
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7,
};

struct TopicConfigDef {
  std::string_view name;
  TopicConfigType type;
  // The broker config whose value is the default (Kafka's synonym, e.g. log.retention.ms for
  // retention.ms); "" when brokers have none.
  std::string_view broker_key;
  // The default when no broker config gives one.
  std::string_view default_value;
  std::string_view doc;
  // Validation: the smallest integer (kInt, kLong); the accepted values, comma-separated
  // ("|" between them; kString, kList); kDouble is a ratio in [0, 1].
  int64_t min = 0;
  std::string_view one_of = "";
};

// Every accepted topic config, sorted by name.
const std::vector<TopicConfigDef>& TopicConfigDefs();
const TopicConfigDef* FindTopicConfig(std::string_view name);

// InvalidArgument naming the key and the expected form when `value` is not valid for `key`, or
// `key` is not a topic config.
absl::Status ValidateTopicConfig(const std::string& key, const std::string& value);

}  // namespace gregor::metadata
