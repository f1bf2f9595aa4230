#include "tools/topic.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "tools/raw_kafka.h"
#include "tools/rdkafka_admin.h"

namespace gregor::tools {
namespace {

using controller::Controller;

bool ParseConfigs(const std::vector<std::string>& items, std::map<std::string, std::string>* out,
                  std::ostream& err) {
  for (const std::string& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "--config takes key=value, got '" << item << "'\n";
      return false;
    }
    (*out)[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return true;
}

// Runs one admin operation and returns its result event (or nullptr on timeout).
rd_kafka_event_t* AwaitAdmin(rd_kafka_queue_t* queue, int timeout_ms) {
  return rd_kafka_queue_poll(queue, timeout_ms);
}

}  // namespace

int RunTopicCreate(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> configs;
  if (!ParseConfigs(o.configs, &configs, err)) return 2;
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  char errstr[512];
  // Not given: -1, the brokers' num.partitions / default.replication.factor (CreateTopics v4+).
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
      o.name.c_str(), o.partitions > 0 ? o.partitions : -1,
      o.replication_factor > 0 ? o.replication_factor : -1, errstr, sizeof(errstr));
  if (!topic) {
    err << "invalid topic request: " << errstr << "\n";
    return 2;
  }
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(topic, k.c_str(), v.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, o.timeout_ms, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk.get(), &topic, 1, options, queue);
  rd_kafka_event_t* event = AwaitAdmin(queue, o.timeout_ms + 2000);
  int code = 0;
  if (!event) {
    err << BrokerUnreachable(o.cluster, "timed out") << "\n";
    code = 1;
  } else if (rd_kafka_event_error(event)) {
    std::string e = rd_kafka_event_error_string(event);
    err << (rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__TIMED_OUT ? BrokerUnreachable(o.cluster, e)
                                                                         : "create failed: " + e)
        << "\n";
    code = 1;
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out << "Created topic " << o.name << "." << "\n";
      } else if (e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && o.if_not_exists) {
        out << "Topic " << o.name << " already exists." << "\n";
      } else {
        const char* msg = rd_kafka_topic_result_error_string(results[i]);
        err << "cannot create topic " << o.name << ": " << rd_kafka_err2name(e) << ": "
            << (msg ? msg : rd_kafka_err2str(e)) << "\n";
        code = 1;
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(topic);
  rd_kafka_queue_destroy(queue);
  return code;
}

int RunTopicDelete(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  char errstr[512];
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(o.name.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, o.timeout_ms, errstr, sizeof(errstr));
  rd_kafka_DeleteTopics(rk.get(), &topic, 1, options, queue);
  rd_kafka_event_t* event = AwaitAdmin(queue, o.timeout_ms + 2000);
  int code = 0;
  if (!event || rd_kafka_event_error(event)) {
    err << BrokerUnreachable(o.cluster, event ? rd_kafka_event_error_string(event) : "timed out") << "\n";
    code = 1;
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out << "Deleted topic " << o.name << ".\n";
      } else if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && o.if_exists) {
        out << "Topic " << o.name << " does not exist.\n";
      } else {
        err << "cannot delete topic " << o.name << ": " << rd_kafka_err2name(e) << ": "
            << rd_kafka_err2str(e) << "\n";
        code = 1;
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_DeleteTopic_destroy(topic);
  rd_kafka_queue_destroy(queue);
  return code;
}

int RunTopicList(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk.get(), 1, nullptr, &md, o.timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    err << BrokerUnreachable(o.cluster, rd_kafka_err2str(e)) << "\n";
    return 1;
  }
  std::vector<std::string> names;
  for (int i = 0; i < md->topic_cnt; ++i) names.push_back(md->topics[i].topic);
  rd_kafka_metadata_destroy(md);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) out << n << "\n";
  return 0;
}

// For a partition of a compacted topic: what its leader's log cleaner reported (checkpoint = the
// first dirty offset, dirty ratio, or why it gave up). Empty for other topics.
std::string CleanerColumn(const controller::DescribeClusterResponse& d,
                          const controller::TopicDescription& t, int32_t partition,
                          int32_t leader) {
  auto policy = t.configs().find("cleanup.policy");
  if (policy == t.configs().end() || policy->second.find("compact") == std::string::npos) return "";
  for (const auto& b : d.cleaner()) {
    if (b.broker_id() != leader) continue;
    for (const auto& r : b.partitions()) {
      if (r.topic() != t.name() || r.partition() != partition) continue;
      if (!r.uncleanable().empty()) return absl::StrCat("\tCleaner: UNCLEANABLE (", r.uncleanable(), ")");
      return absl::StrCat("\tCleaner: checkpoint ",
                          r.checkpoint() < 0 ? std::string("none yet") : std::to_string(r.checkpoint()),
                          ", dirty ", absl::StrFormat("%.1f%%", 100 * r.dirty_ratio()));
    }
  }
  return "\tCleaner: no report yet";
}

int RunTopicDescribe(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  auto client = MakeControllerClient(o.cluster);
  controller::DescribeClusterRequest request;
  if (!o.name.empty()) request.add_topics(o.name);
  auto d = client->Call(&Controller::Stub::DescribeCluster, request, absl::Milliseconds(o.timeout_ms));
  if (!d.ok()) {
    err << ControllerUnreachable(o.cluster, d.status()) << "\n";
    return 1;
  }
  if (d->error().code() != 0) {
    err << "cannot describe: " << d->error().message() << "\n";
    return 1;
  }
  std::map<int32_t, const controller::BrokerDescription*> brokers;
  for (const auto& b : d->brokers()) brokers[b.id()] = &b;
  for (const auto& t : d->topics()) {
    int rf = t.partitions_size() > 0 ? t.partitions(0).replicas_size() : 0;
    std::vector<std::string> configs;
    for (const auto& [k, v] : t.configs()) configs.push_back(absl::StrCat(k, "=", v));
    std::sort(configs.begin(), configs.end());
    // Offsets from each partition's leader: log start (earliest), high watermark (latest, as
    // consumers see it) and log end (latest, as a debugging replica sees it).
    std::map<int32_t, std::tuple<int64_t, int64_t, int64_t>> offsets;
    std::map<int32_t, std::vector<int32_t>> by_leader;
    for (const auto& p : t.partitions()) {
      if (p.leader() >= 0) by_leader[p.leader()].push_back(p.partition());
    }
    for (const auto& [leader, parts] : by_leader) {
      auto it = brokers.find(leader);
      if (it == brokers.end()) continue;
      for (int which = 0; which < 3; ++which) {
        kafka::ListOffsetsRequest req;
        req.replica_id = which == 2 ? -2 : -1;
        kafka::ListOffsetsRequestTopic rt;
        rt.name = t.name();
        for (int32_t p : parts) {
          kafka::ListOffsetsRequestPartition rp;
          rp.partition_index = p;
          rp.timestamp = which == 0 ? kafka::kEarliestTimestamp : kafka::kLatestTimestamp;
          rt.partitions.push_back(rp);
        }
        req.topics.push_back(rt);
        auto resp = RawListOffsets(it->second->kafka_host(), it->second->kafka_port(), req, 3000);
        if (!resp.ok()) continue;
        for (const auto& rtopic : resp->topics) {
          for (const auto& rp : rtopic.partitions) {
            if (rp.error_code != KafkaErrorCode::kNone) continue;
            auto& tuple = offsets.try_emplace(rp.partition_index, -1, -1, -1).first->second;
            if (which == 0) std::get<0>(tuple) = rp.offset;
            if (which == 1) std::get<1>(tuple) = rp.offset;
            if (which == 2) std::get<2>(tuple) = rp.offset;
          }
        }
      }
    }
    int32_t min_isr = 1;
    if (auto it = t.configs().find("min.insync.replicas"); it != t.configs().end()) {
      min_isr = std::max(1, std::atoi(it->second.c_str()));
    }
    bool header_printed = false;
    for (const auto& p : t.partitions()) {
      bool offline = p.leader() < 0;
      bool under = p.isr_size() < p.replicas_size();
      bool under_min = p.isr_size() < min_isr;
      if (o.under_replicated_only && !under) continue;
      if (o.unavailable_only && !offline) continue;
      if (!header_printed) {
        out << "Topic: " << t.name() << "\tPartitionCount: " << t.partitions_size()
            << "\tReplicationFactor: " << rf << "\tConfigs: " << absl::StrJoin(configs, ",") << "\n";
        header_printed = true;
      }
      std::string marks;
      if (offline) marks += " OFFLINE";
      if (under) marks += " UNDER-REPLICATED";
      if (under_min && !offline) marks += " UNDER-MIN-ISR";
      auto off = offsets.find(p.partition());
      std::string offs = off == offsets.end()
                             ? "LogStart: -\tHW: -\tLogEnd: -"
                             : absl::StrCat("LogStart: ", std::get<0>(off->second), "\tHW: ",
                                            std::get<1>(off->second), "\tLogEnd: ", std::get<2>(off->second));
      out << "\tTopic: " << t.name() << "\tPartition: " << p.partition() << "\tLeader: "
          << (offline ? std::string("none") : std::to_string(p.leader()))
          << "\tLeaderEpoch: " << p.leader_epoch() << "\tReplicas: " << JoinIds(p.replicas())
          << "\tIsr: " << JoinIds(p.isr()) << "\t" << offs
          << CleanerColumn(*d, t, p.partition(), p.leader()) << marks << "\n";
    }
  }
  return 0;
}

int RunTopicLeader(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  auto client = MakeControllerClient(o.cluster);
  controller::DescribeClusterRequest request;
  request.add_topics(o.name);
  auto d = client->Call(&Controller::Stub::DescribeCluster, request, absl::Milliseconds(o.timeout_ms));
  if (!d.ok()) {
    err << ControllerUnreachable(o.cluster, d.status()) << "\n";
    return 1;
  }
  if (d->error().code() != 0 || d->topics_size() != 1) {
    err << "cannot find the leader: " << d->error().message() << "\n";
    return 1;
  }
  const auto& t = d->topics(0);
  for (const auto& p : t.partitions()) {
    if (p.partition() != o.partition) continue;
    if (p.leader() < 0) {
      err << o.name << "-" << o.partition << " has no leader (offline)\n";
      return 1;
    }
    out << p.leader() << "\n";
    return 0;
  }
  err << "topic " << o.name << " has no partition " << o.partition << " (it has "
      << t.partitions_size() << ")\n";
  return 1;
}

int RunTopicAlter(const TopicOptions& o, std::ostream& out, std::ostream& err) {
  if (o.partitions < 0 && o.configs.empty() && o.delete_configs.empty()) {
    err << "nothing to alter: give --partitions N, --config key=value or --delete-config key\n";
    return 2;
  }
  std::map<std::string, std::string> configs;
  if (!ParseConfigs(o.configs, &configs, err)) return 2;
  RdKafka rk = MakeAdminClient(o.cluster, err);
  if (!rk) return 2;
  auto report = [&](const absl::Status& s, const std::string& what) {
    if (absl::IsDeadlineExceeded(s)) {
      err << BrokerUnreachable(o.cluster, std::string(s.message())) << "\n";
    } else {
      err << "cannot " << what << " of " << o.name << ": " << s.message() << "\n";
    }
    return 1;
  };
  if (o.partitions >= 0) {
    absl::Status s = CreatePartitions(rk.get(), o.name, o.partitions, o.timeout_ms);
    if (!s.ok()) return report(s, "change the partition count");
    out << "Topic " << o.name << " now has " << o.partitions << " partitions.\n";
  }
  if (!configs.empty() || !o.delete_configs.empty()) {
    absl::Status s = AlterTopicConfigs(rk.get(), o.name, configs, o.delete_configs, o.timeout_ms);
    if (!s.ok()) return report(s, "alter the configs");
    out << "Updated the configs of topic " << o.name << ".\n";
  }
  return 0;
}

void AddTopicCommands(CLI::App& app, int* exit_code) {
  CLI::App* topic =
      app.add_subcommand("topic", "Create, list, describe, alter and delete topics; find a leader");
  topic->require_subcommand(1);
  auto o = std::make_shared<TopicOptions>();
  auto common = [o](CLI::App* cmd, bool controller) {
    cmd->add_option("--bootstrap-server", o->cluster.bootstrap_server, "A broker's host:port")
        ->capture_default_str();
    if (controller) {
      cmd->add_option("--controller", o->cluster.controller,
                      "Controller quorum member(s), host:port[,host:port]")
          ->capture_default_str();
    }
    cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the cluster")->capture_default_str();
  };
  CLI::App* create = topic->add_subcommand(
      "create", "Create a topic.\nExample: gregor topic create orders --partitions 6 --replication-factor 3 --config min.insync.replicas=2");
  create->add_option("name", o->name, "Topic name")->required();
  create->add_option("--partitions", o->partitions,
                     "Number of partitions (default: the brokers' num.partitions)");
  create->add_option("--replication-factor", o->replication_factor,
                     "Copies of each partition, at most the number of live brokers (default: the "
                     "brokers' default.replication.factor)");
  create->add_option("--config", o->configs, "Topic config key=value (repeatable)");
  create->add_flag("--if-not-exists", o->if_not_exists, "Succeed if the topic exists already");
  common(create, false);
  create->callback([o, exit_code] { *exit_code = RunTopicCreate(*o, std::cout, std::cerr); });

  CLI::App* list = topic->add_subcommand("list", "List topics.\nExample: gregor topic list");
  common(list, false);
  list->callback([o, exit_code] { *exit_code = RunTopicList(*o, std::cout, std::cerr); });

  CLI::App* describe = topic->add_subcommand(
      "describe",
      "Describe topics: per partition the leader, leader epoch, replicas, ISR, offsets and\n"
      "OFFLINE / UNDER-REPLICATED / UNDER-MIN-ISR marks.\nExample: gregor topic describe orders");
  describe->add_option("name", o->name, "Topic name (default: all topics)");
  describe->add_flag("--under-replicated-partitions", o->under_replicated_only,
                     "Only partitions whose ISR is smaller than their replica set");
  describe->add_flag("--unavailable-partitions", o->unavailable_only, "Only partitions without a leader");
  common(describe, true);
  describe->callback([o, exit_code] { *exit_code = RunTopicDescribe(*o, std::cout, std::cerr); });

  CLI::App* leader = topic->add_subcommand(
      "leader",
      "Print the id of the broker that leads a partition (for scripts).\n"
      "Example: deploy/local/cluster.sh kill $(gregor topic leader orders --partition 0)");
  leader->add_option("name", o->name, "Topic name")->required();
  leader->add_option("--partition", o->partition, "Partition (default 0)")->capture_default_str();
  common(leader, true);
  leader->callback([o, exit_code] { *exit_code = RunTopicLeader(*o, std::cout, std::cerr); });

  CLI::App* del = topic->add_subcommand("delete", "Delete a topic.\nExample: gregor topic delete orders");
  del->add_option("name", o->name, "Topic name")->required();
  del->add_flag("--if-exists", o->if_exists, "Succeed if the topic does not exist");
  common(del, false);
  del->callback([o, exit_code] { *exit_code = RunTopicDelete(*o, std::cout, std::cerr); });

  CLI::App* alter = topic->add_subcommand(
      "alter",
      "Add partitions or change topic configs.\nExample: gregor topic alter orders --partitions 12 --config retention.ms=86400000");
  alter->add_option("name", o->name, "Topic name")->required();
  alter->add_option("--partitions", o->partitions, "The new (larger) number of partitions");
  alter->add_option("--config", o->configs, "Set a topic config key=value (repeatable)");
  alter->add_option("--delete-config", o->delete_configs, "Remove a topic config override (repeatable)");
  common(alter, false);
  alter->callback([o, exit_code] { *exit_code = RunTopicAlter(*o, std::cout, std::cerr); });
}

}  // namespace gregor::tools
