// `gregor topic create|list|describe|delete|alter`.
//
// create, delete, list and alter go through librdkafka's admin API to the brokers (the path
// Kafka's own tools take: CreateTopics, DeleteTopics, Metadata, CreatePartitions, DescribeConfigs
// and AlterConfigs); describe asks the controller (leader epochs, ISR, configs, cleaner state)
// and reads each partition's offsets from its leader.
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

struct TopicOptions {
  ClusterAddress cluster;
  std::string name;
  int partitions = -1;          // create: the brokers' num.partitions when not given
  int replication_factor = -1;  // create: the brokers' default.replication.factor when not given
  std::vector<std::string> configs;         // key=value
  std::vector<std::string> delete_configs;  // keys
  bool if_not_exists = false;
  bool if_exists = false;
  bool under_replicated_only = false;
  bool unavailable_only = false;
  int partition = 0;  // leader
  int timeout_ms = 15000;
};

int RunTopicCreate(const TopicOptions& options, std::ostream& out, std::ostream& err);
int RunTopicList(const TopicOptions& options, std::ostream& out, std::ostream& err);
int RunTopicDescribe(const TopicOptions& options, std::ostream& out, std::ostream& err);
int RunTopicDelete(const TopicOptions& options, std::ostream& out, std::ostream& err);
int RunTopicAlter(const TopicOptions& options, std::ostream& out, std::ostream& err);
// Prints the id of the broker that leads `partition` of the topic (for scripts:
// `cluster.sh kill $(gregor topic leader orders)`); exit 1 if it has no leader.
int RunTopicLeader(const TopicOptions& options, std::ostream& out, std::ostream& err);

void AddTopicCommands(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
