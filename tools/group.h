// `gregor group list|describe|reset-offsets|delete|delete-offsets`: consumer groups as
// kafka-consumer-groups.sh shows and changes them, through librdkafka's admin API
// (tools/group_admin.h). describe prints per partition CURRENT-OFFSET, LOG-END-OFFSET (the high
// watermark), LAG, CONSUMER-ID, HOST and CLIENT-ID, or the --members / --state views;
// reset-offsets is a dry run unless --execute, and refuses a group with active members.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace gregor::tools {

struct GroupOptions {
  std::string bootstrap_server;
  std::vector<std::string> groups;  // --group (repeatable where it makes sense)
  bool all_groups = false;
  int timeout_ms = 10000;
  // list / describe
  bool state = false;
  bool members = false;
  bool verbose = false;
  // reset-offsets / delete-offsets
  std::vector<std::string> topics;  // TOPIC or TOPIC:P,P
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  bool to_current = false;
  std::optional<int64_t> to_offset;
  std::optional<int64_t> shift_by;
  std::string to_datetime;
  std::string by_duration;
  bool execute = false;
  bool dry_run = false;
  bool export_csv = false;
};

// Exit status: 0 done, 1 the cluster refused or failed (a live group, an unknown group, a
// partial failure), 2 bad options or no broker reachable.
int RunGroupList(const GroupOptions& options, std::ostream& out, std::ostream& err);
int RunGroupDescribe(const GroupOptions& options, std::ostream& out, std::ostream& err);
int RunGroupResetOffsets(const GroupOptions& options, std::ostream& out, std::ostream& err);
int RunGroupDelete(const GroupOptions& options, std::ostream& out, std::ostream& err);
int RunGroupDeleteOffsets(const GroupOptions& options, std::ostream& out, std::ostream& err);

void AddGroupCommands(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
