#include "tools/config_cmd.h"

#include <iostream>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/rdkafka_admin.h"

namespace gregor::tools {
namespace {

std::string Show(const std::optional<std::string>& value, bool sensitive) {
  if (sensitive) return "(sensitive)";
  return value ? *value : "null";
}

// "retention.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=3600000, ...}"
std::string Line(const ConfigEntry& e) {
  std::vector<std::string> synonyms;
  for (const ConfigSynonym& s : e.synonyms) {
    synonyms.push_back(s.source + ":" + s.name + "=" + Show(s.value, e.sensitive));
  }
  return e.name + "=" + Show(e.value, e.sensitive) + " sensitive=" + (e.sensitive ? "true" : "false") +
         " synonyms={" + absl::StrJoin(synonyms, ", ") + "}";
}

bool CheckResource(const ConfigOptions& o, std::ostream& err) {
  if (o.topic.empty() == o.broker.empty()) {
    err << "give exactly one of --topic NAME or --broker ID\n";
    return false;
  }
  return true;
}

int Report(const ConfigOptions& o, const absl::Status& s, const std::string& what, std::ostream& err) {
  if (absl::IsDeadlineExceeded(s)) {
    err << BrokerUnreachable(o.cluster, std::string(s.message())) << "\n";
  } else {
    err << "cannot " << what << ": " << s.message() << "\n";
  }
  return 1;
}

}  // namespace

bool ParseAddConfig(const std::string& text, std::map<std::string, std::string>* out,
                    std::string* error) {
  std::string item;
  int depth = 0;
  auto flush = [&]() {
    if (item.empty()) return true;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "--add-config takes key=value[,key=value], got '" + item + "'";
      return false;
    }
    std::string value = item.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
      value = value.substr(1, value.size() - 2);
    }
    (*out)[item.substr(0, eq)] = value;
    item.clear();
    return true;
  };
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      if (!flush()) return false;
      continue;
    }
    item += c;
  }
  return flush();
}

int RunConfigDescribe(const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  if (!CheckResource(o, err)) return 2;
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  const bool topic = !o.topic.empty();
  auto entries = DescribeConfigs(rk.get(), topic ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_BROKER,
                                 topic ? o.topic : o.broker, o.timeout_ms);
  if (!entries.ok()) {
    return Report(o, entries.status(),
                  "describe the configs of " + (topic ? "topic " + o.topic : "broker " + o.broker), err);
  }
  const std::string what = topic ? "topic " + o.topic : "broker " + o.broker;
  out << (o.all ? "All" : topic ? "Dynamic" : "Static") << " configs for " << what << " are:\n";
  for (const ConfigEntry& e : *entries) {
    if (!o.all && e.is_default) continue;
    out << "  " << Line(e) << "\n";
  }
  return 0;
}

int RunConfigAlter(const ConfigOptions& o, std::ostream& out, std::ostream& err) {
  if (!CheckResource(o, err)) return 2;
  std::map<std::string, std::string> set;
  for (const std::string& text : o.add_configs) {
    std::string error;
    if (!ParseAddConfig(text, &set, &error)) {
      err << error << "\n";
      return 2;
    }
  }
  std::vector<std::string> remove;
  for (const std::string& text : o.delete_configs) {
    for (absl::string_view k : absl::StrSplit(text, ',', absl::SkipEmpty())) remove.emplace_back(k);
  }
  if (set.empty() && remove.empty()) {
    err << "nothing to alter: give --add-config key=value or --delete-config key\n";
    return 2;
  }
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  if (!o.topic.empty()) {
    absl::Status s = AlterTopicConfigs(rk.get(), o.topic, set, remove, o.timeout_ms);
    if (!s.ok()) return Report(o, s, "alter the configs of topic " + o.topic, err);
    out << "Completed updating config for topic " << o.topic << ".\n";
    return 0;
  }
  for (const std::string& k : remove) set[k] = "";
  absl::Status s = AlterBrokerConfigs(rk.get(), o.broker, set, o.timeout_ms);
  if (!s.ok()) return Report(o, s, "alter the configs of broker " + o.broker, err);
  out << "Completed updating config for broker " << o.broker << ".\n";
  return 0;
}

void AddConfigCommands(CLI::App& app, int* exit_code) {
  CLI::App* config = app.add_subcommand("config", "Describe and change topic and broker configs");
  config->require_subcommand(1);
  auto o = std::make_shared<ConfigOptions>();
  auto common = [o](CLI::App* cmd) {
    cmd->add_option("--topic", o->topic, "A topic");
    cmd->add_option("--broker", o->broker, "A broker id");
    cmd->add_option("--bootstrap-server", o->cluster.bootstrap_server, "A broker's host:port")
        ->capture_default_str();
    cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the cluster")->capture_default_str();
  };
  CLI::App* describe = config->add_subcommand(
      "describe",
      "Show the configs set on a topic (or broker) with their sources and synonyms.\n"
      "Example: gregor config describe --topic orders --all");
  describe->add_flag("--all", o->all, "Every config, defaults included");
  common(describe);
  describe->callback([o, exit_code] { *exit_code = RunConfigDescribe(*o, std::cout, std::cerr); });

  CLI::App* alter = config->add_subcommand(
      "alter",
      "Set or remove topic config overrides (broker configs are static: set them in "
      "server.properties).\nExample: gregor config alter --topic orders --add-config "
      "retention.ms=3600000,cleanup.policy=[delete,compact] --delete-config segment.ms");
  alter->add_option("--add-config", o->add_configs, "key=value[,key=value] (repeatable)");
  alter->add_option("--delete-config", o->delete_configs, "key[,key] (repeatable)");
  common(alter);
  alter->callback([o, exit_code] { *exit_code = RunConfigAlter(*o, std::cout, std::cerr); });
}

}  // namespace gregor::tools
