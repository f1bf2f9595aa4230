// `gregor config describe|alter`: the configs of a topic or a broker, as kafka-configs.sh shows
// and changes them, through librdkafka's admin API (DescribeConfigs, AlterConfigs;
// tools/rdkafka_admin.h).
//
//   gregor config describe --topic orders [--all]   the overrides (or every config) and where
//                                                    each value comes from
//   gregor config describe --broker 1 [--all]        what server.properties set (or every config)
//   gregor config alter --topic orders --add-config retention.ms=3600000,cleanup.policy=[delete,compact]
//                       --delete-config segment.ms
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "tools/admin_common.h"

namespace CLI {
class App;
}

namespace gregor::tools {

struct ConfigOptions {
  ClusterAddress cluster;
  std::string topic;
  std::string broker;
  bool all = false;
  std::vector<std::string> add_configs;     // k=v[,k=v]; a value with commas in [brackets]
  std::vector<std::string> delete_configs;  // k[,k]
  int timeout_ms = 15000;
};

int RunConfigDescribe(const ConfigOptions& options, std::ostream& out, std::ostream& err);
int RunConfigAlter(const ConfigOptions& options, std::ostream& out, std::ostream& err);

// Splits kafka-configs' "--add-config" syntax: "a=1,b=[x,y]" -> {a: 1, b: x,y}. False (and a
// message) on an item without '='.
bool ParseAddConfig(const std::string& text, std::map<std::string, std::string>* out,
                    std::string* error);

void AddConfigCommands(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
