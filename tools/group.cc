#include "tools/group.h"

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/group_admin.h"
#include "tools/kafka_client.h"
#include "tools/offset_reset.h"

namespace gregor::tools {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Columns left-aligned, as wide as their widest cell, two spaces apart.
void PrintTable(const std::vector<std::string>& header, const Rows& rows, std::ostream& out) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    out << text << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

// Exit code 2 with the message: the command could not start.
int Fail(std::ostream& err, const absl::Status& s) {
  err << "error: " << s.message() << "\n";
  return 2;
}

absl::StatusOr<std::unique_ptr<GroupAdmin>> Connect(const GroupOptions& o) {
  return GroupAdmin::Create(o.bootstrap_server.empty() ? kDefaultBootstrapServer : o.bootstrap_server,
                            o.timeout_ms);
}

// The groups --group (repeatable) or --all-groups name; nullopt after printing why there are
// none (*code: 0 for an empty cluster with --all-groups, 2 for missing options).
std::optional<std::vector<std::string>> NamedGroups(GroupAdmin& admin, const GroupOptions& o,
                                                    std::ostream& err, int* code) {
  std::vector<std::string> ids = o.groups;
  if (o.all_groups) {
    auto all = admin.ListGroups();
    if (!all.ok()) {
      *code = Fail(err, all.status());
      return std::nullopt;
    }
    ids = *all;
  }
  if (ids.empty()) {
    err << (o.all_groups ? "no consumer groups\n" : "error: give --group G (repeatable) or --all-groups\n");
    *code = o.all_groups ? 0 : 2;
    return std::nullopt;
  }
  return ids;
}

// The partitions of --topic TOPIC[:P,P] arguments (every partition when none is named). With
// `must_exist`, unknown topics and partitions beyond a topic's count are errors.
absl::StatusOr<std::vector<TopicPartitionId>> PartitionsOf(const std::vector<std::string>& specs,
                                                           const std::map<std::string, int32_t>& topics,
                                                           bool must_exist) {
  std::vector<TopicPartitionId> out;
  for (const std::string& text : specs) {
    auto parsed = ParseTopicSpec(text);
    if (!parsed.ok()) return parsed.status();
    auto it = topics.find(parsed->first);
    if (it == topics.end() && must_exist) {
      return absl::NotFoundError(absl::StrCat("unknown topic '", parsed->first, "'"));
    }
    std::vector<int32_t> ps = parsed->second;
    if (ps.empty() && it != topics.end()) {
      for (int32_t p = 0; p < it->second; ++p) ps.push_back(p);
    }
    for (int32_t p : ps) {
      if (must_exist && p >= it->second) {
        return absl::InvalidArgumentError(absl::StrCat("partition ", p, " does not exist: topic '",
                                                       it->first, "' has ", it->second, " partition(s)"));
      }
      out.push_back({parsed->first, p});
    }
  }
  return out;
}

std::string OneGroup(const GroupOptions& o, std::ostream& err) {
  if (o.groups.size() != 1) {
    err << "error: give exactly one --group\n";
    return "";
  }
  return o.groups[0];
}

// Every partition of every topic: what the group may have committed (librdkafka 2.0.2 cannot
// ask for "all committed offsets", consumer-groups.md §8.7).
absl::StatusOr<std::vector<TopicPartitionId>> AllPartitions(GroupAdmin& admin) {
  auto topics = admin.Topics();
  if (!topics.ok()) return topics.status();
  std::vector<TopicPartitionId> out;
  for (const auto& [t, n] : *topics) {
    for (int32_t p = 0; p < n; ++p) out.push_back({t, p});
  }
  return out;
}

std::string AssignmentText(const std::vector<TopicPartitionId>& assignment) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& [t, p] : assignment) by_topic[t].push_back(p);
  std::vector<std::string> parts;
  for (const auto& [t, ps] : by_topic) parts.push_back(absl::StrCat(t, "(", absl::StrJoin(ps, ","), ")"));
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

// The note kafka-consumer-groups.sh prints about a group's state (to stderr), or "".
std::string StateNote(const GroupInfo& g) {
  if (g.state == "Empty") return absl::StrCat("Consumer group '", g.id, "' has no active members.");
  if (g.state == "PreparingRebalance" || g.state == "CompletingRebalance") {
    return absl::StrCat("Warning: Consumer group '", g.id, "' is rebalancing.");
  }
  return "";
}

int DescribeOffsets(GroupAdmin& admin, const GroupInfo& g, std::ostream& out, std::ostream& err) {
  auto all = AllPartitions(admin);
  if (!all.ok()) return Fail(err, all.status());
  auto committed = admin.Committed(g.id, *all);
  if (!committed.ok()) return Fail(err, committed.status());
  if (g.state == "Dead" && committed->empty()) {
    err << "Error: Consumer group '" << g.id << "' does not exist.\n";
    return 1;
  }
  if (std::string note = StateNote(g); !note.empty()) err << "\n" << note << "\n";
  // Members with the most partitions first; partitions in order; then committed partitions no
  // member owns.
  std::vector<const GroupMemberInfo*> members;
  for (const auto& m : g.members) members.push_back(&m);
  std::stable_sort(members.begin(), members.end(), [](auto* a, auto* b) {
    return a->assignment.size() > b->assignment.size();
  });
  Rows rows;
  std::set<TopicPartitionId> owned;
  auto row = [&](const TopicPartitionId& tp, const GroupMemberInfo* m) -> absl::Status {
    auto marks = admin.Watermarks(tp);
    if (!marks.ok()) return marks.status();
    auto it = committed->find(tp);
    const bool has = it != committed->end();
    rows.push_back({g.id, tp.first, std::to_string(tp.second), has ? std::to_string(it->second) : "-",
                    std::to_string(marks->second),
                    has ? std::to_string(std::max<int64_t>(0, marks->second - it->second)) : "-",
                    m ? m->consumer_id : "-", m ? m->host : "-", m ? m->client_id : "-"});
    return absl::OkStatus();
  };
  for (const GroupMemberInfo* m : members) {
    for (const auto& tp : m->assignment) {
      owned.insert(tp);
      if (absl::Status s = row(tp, m); !s.ok()) return Fail(err, s);
    }
  }
  for (const auto& [tp, offset] : *committed) {
    if (owned.count(tp)) continue;
    if (absl::Status s = row(tp, nullptr); !s.ok()) return Fail(err, s);
  }
  out << "\n";
  PrintTable({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
              "HOST", "CLIENT-ID"},
             rows, out);
  return 0;
}

int DescribeMembers(const GroupInfo& g, bool verbose, std::ostream& out, std::ostream& err) {
  if (g.state == "Dead") {
    err << "Error: Consumer group '" << g.id << "' does not exist.\n";
    return 1;
  }
  if (std::string note = StateNote(g); !note.empty()) err << "\n" << note << "\n";
  const bool instances = std::any_of(g.members.begin(), g.members.end(),
                                     [](const auto& m) { return !m.instance_id.empty(); });
  std::vector<std::string> header = {"GROUP", "CONSUMER-ID"};
  if (instances) header.push_back("GROUP-INSTANCE-ID");
  for (const char* h : {"HOST", "CLIENT-ID", "#PARTITIONS"}) header.push_back(h);
  if (verbose) header.push_back("ASSIGNMENT");
  Rows rows;
  for (const auto& m : g.members) {
    std::vector<std::string> r = {g.id, m.consumer_id};
    if (instances) r.push_back(m.instance_id.empty() ? "-" : m.instance_id);
    r.push_back(m.host);
    r.push_back(m.client_id);
    r.push_back(std::to_string(m.assignment.size()));
    if (verbose) r.push_back(AssignmentText(m.assignment));
    rows.push_back(std::move(r));
  }
  out << "\n";
  PrintTable(header, rows, out);
  return 0;
}

int DescribeState(const GroupInfo& g, std::ostream& out, std::ostream& err) {
  if (g.state == "Dead") {
    err << "Error: Consumer group '" << g.id << "' does not exist.\n";
    return 1;
  }
  out << "\n";
  PrintTable({"GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"},
             {{g.id, absl::StrCat(g.coordinator, "  (", g.coordinator_id, ")"),
               g.assignor.empty() ? "-" : g.assignor, g.state, std::to_string(g.members.size())}},
             out);
  return 0;
}

absl::StatusOr<ResetSpec> SpecFrom(const GroupOptions& o) {
  std::vector<ResetSpec> specs;
  if (o.to_earliest) specs.push_back({ResetSpec::Kind::kEarliest, 0});
  if (o.to_latest) specs.push_back({ResetSpec::Kind::kLatest, 0});
  if (o.to_current) specs.push_back({ResetSpec::Kind::kCurrent, 0});
  if (o.to_offset) specs.push_back({ResetSpec::Kind::kOffset, *o.to_offset});
  if (o.shift_by) specs.push_back({ResetSpec::Kind::kShiftBy, *o.shift_by});
  if (!o.to_datetime.empty()) {
    auto ts = ParseDatetime(o.to_datetime);
    if (!ts.ok()) return ts.status();
    specs.push_back({ResetSpec::Kind::kTimestamp, *ts});
  }
  if (!o.by_duration.empty()) {
    auto d = ParseDurationMs(o.by_duration);
    if (!d.ok()) return d.status();
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    specs.push_back({ResetSpec::Kind::kTimestamp, now - *d});
  }
  if (specs.size() != 1) {
    return absl::InvalidArgumentError(
        "give exactly one of --to-earliest, --to-latest, --to-current, --to-offset N, --shift-by N, "
        "--to-datetime T, --by-duration D");
  }
  return specs[0];
}

}  // namespace

int RunGroupList(const GroupOptions& o, std::ostream& out, std::ostream& err) {
  auto admin = Connect(o);
  if (!admin.ok()) return Fail(err, admin.status());
  auto groups = (*admin)->ListGroups();
  if (!groups.ok()) return Fail(err, groups.status());
  if (!o.state) {
    for (const std::string& g : *groups) out << g << "\n";
    return 0;
  }
  Rows rows;
  if (!groups->empty()) {
    auto described = (*admin)->Describe(*groups);
    if (!described.ok()) return Fail(err, described.status());
    for (const GroupInfo& g : *described) rows.push_back({g.id, g.state});
  }
  PrintTable({"GROUP", "STATE"}, rows, out);
  return 0;
}

int RunGroupDescribe(const GroupOptions& o, std::ostream& out, std::ostream& err) {
  auto admin = Connect(o);
  if (!admin.ok()) return Fail(err, admin.status());
  int code = 0;
  auto ids = NamedGroups(**admin, o, err, &code);
  if (!ids) return code;
  auto described = (*admin)->Describe(*ids);
  if (!described.ok()) return Fail(err, described.status());
  for (const GroupInfo& g : *described) {
    if (!g.error.empty()) {
      err << "Error: describing group '" << g.id << "' failed: " << g.error << "\n";
      code = 1;
      continue;
    }
    int c = o.members ? DescribeMembers(g, o.verbose, out, err)
            : o.state ? DescribeState(g, out, err)
                      : DescribeOffsets(**admin, g, out, err);
    code = std::max(code, c);
  }
  return code;
}

int RunGroupResetOffsets(const GroupOptions& o, std::ostream& out, std::ostream& err) {
  const std::string group = OneGroup(o, err);
  if (group.empty()) return 2;
  auto spec = SpecFrom(o);
  if (!spec.ok()) return Fail(err, spec.status());
  if (o.all_topics == !o.topics.empty()) {
    err << "error: give --topic TOPIC[:P,P] (repeatable) or --all-topics\n";
    return 2;
  }
  if (o.execute && o.dry_run) {
    err << "error: --dry-run and --execute exclude each other\n";
    return 2;
  }
  auto admin = Connect(o);
  if (!admin.ok()) return Fail(err, admin.status());
  auto described = (*admin)->Describe({group});
  if (!described.ok()) return Fail(err, described.status());
  const GroupInfo& g = described->at(0);
  if (g.state != "Empty" && g.state != "Dead") {
    err << "Error: Assignments can only be reset if the group '" << group
        << "' is inactive, but the current state is " << g.state << ".\n";
    return 1;
  }
  auto topics = (*admin)->Topics();
  if (!topics.ok()) return Fail(err, topics.status());
  std::vector<TopicPartitionId> partitions;
  if (o.all_topics) {
    auto all = AllPartitions(**admin);
    if (!all.ok()) return Fail(err, all.status());
    auto committed = (*admin)->Committed(group, *all);
    if (!committed.ok()) return Fail(err, committed.status());
    for (const auto& [tp, offset] : *committed) partitions.push_back(tp);
  } else {
    auto named = PartitionsOf(o.topics, *topics, /*must_exist=*/true);
    if (!named.ok()) return Fail(err, named.status());
    partitions = std::move(*named);
  }
  auto committed = (*admin)->Committed(group, partitions);
  if (!committed.ok()) return Fail(err, committed.status());
  std::map<TopicPartitionId, int64_t> by_time;
  if (spec->kind == ResetSpec::Kind::kTimestamp && !partitions.empty()) {
    std::map<TopicPartitionId, int64_t> asked;
    for (const auto& tp : partitions) asked[tp] = spec->value;
    auto found = (*admin)->OffsetsForTimes(asked);
    if (!found.ok()) return Fail(err, found.status());
    by_time = *found;
  }
  std::map<TopicPartitionId, int64_t> new_offsets;
  for (const auto& tp : partitions) {
    auto marks = (*admin)->Watermarks(tp);
    if (!marks.ok()) return Fail(err, marks.status());
    PartitionState state{marks->first, marks->second, std::nullopt, std::nullopt};
    if (auto it = committed->find(tp); it != committed->end()) state.committed = it->second;
    if (auto it = by_time.find(tp); it != by_time.end()) state.by_time = it->second;
    auto computed = ComputeNewOffset(*spec, tp.first, tp.second, state);
    if (!computed.ok()) return Fail(err, computed.status());
    if (!computed->warning.empty()) err << "WARN: " << computed->warning << "\n";
    new_offsets[tp] = computed->offset;
  }
  if (o.execute) {
    auto result = (*admin)->AlterOffsets(group, new_offsets);
    if (!result.ok()) {
      err << "Error: resetting the offsets of group '" << group << "' failed: " << result.status().message() << "\n";
      return 1;
    }
    int code = 0;
    for (const auto& [tp, e] : *result) {
      if (!e.empty()) {
        err << "Error: " << tp.first << "-" << tp.second << ": " << e << "\n";
        code = 1;
      }
    }
    if (code != 0) return code;
  }
  if (o.export_csv) {
    for (const auto& [tp, offset] : new_offsets) out << tp.first << "," << tp.second << "," << offset << "\n";
  } else {
    Rows rows;
    for (const auto& [tp, offset] : new_offsets) {
      rows.push_back({group, tp.first, std::to_string(tp.second), std::to_string(offset)});
    }
    out << "\n";
    PrintTable({"GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"}, rows, out);
  }
  if (!o.execute) err << "(dry run: nothing was changed; add --execute to reset these offsets)\n";
  return 0;
}

int RunGroupDelete(const GroupOptions& o, std::ostream& out, std::ostream& err) {
  auto admin = Connect(o);
  if (!admin.ok()) return Fail(err, admin.status());
  int code = 0;
  auto ids = NamedGroups(**admin, o, err, &code);
  if (!ids) return code;
  auto result = (*admin)->DeleteGroups(*ids);
  if (!result.ok()) return Fail(err, result.status());
  std::vector<std::string> ok;
  std::vector<std::string> failed;
  for (const auto& [id, e] : *result) {
    if (e.empty()) ok.push_back(absl::StrCat("'", id, "'"));
    else failed.push_back(absl::StrCat("* Group '", id, "' could not be deleted due to: ", e));
  }
  if (!ok.empty()) {
    out << "Deletion of requested consumer groups (" << absl::StrJoin(ok, ", ") << ") was successful.\n";
  }
  if (!failed.empty()) {
    err << "Error: Deletion of some consumer groups failed:\n" << absl::StrJoin(failed, "\n") << "\n";
    return 1;
  }
  return 0;
}

int RunGroupDeleteOffsets(const GroupOptions& o, std::ostream& out, std::ostream& err) {
  const std::string group = OneGroup(o, err);
  if (group.empty()) return 2;
  if (o.topics.empty()) {
    err << "error: give --topic TOPIC[:P,P] (repeatable)\n";
    return 2;
  }
  auto admin = Connect(o);
  if (!admin.ok()) return Fail(err, admin.status());
  auto topics = (*admin)->Topics();
  if (!topics.ok()) return Fail(err, topics.status());
  // A topic that no longer exists may still have offsets to delete when partitions are named.
  auto partitions = PartitionsOf(o.topics, *topics, /*must_exist=*/false);
  if (!partitions.ok()) return Fail(err, partitions.status());
  auto result = (*admin)->DeleteOffsets(group, *partitions);
  if (!result.ok()) return Fail(err, result.status());
  if (!result->first.empty()) {
    err << "Error: deleting offsets of group '" << group << "' failed: " << result->first << "\n";
    return 1;
  }
  Rows rows;
  int code = 0;
  for (const auto& [tp, e] : result->second) {
    rows.push_back({tp.first, std::to_string(tp.second), e.empty() ? "Successful" : "Error: " + e});
    if (!e.empty()) code = 1;
  }
  out << "\n";
  PrintTable({"TOPIC", "PARTITION", "STATUS"}, rows, out);
  return code;
}

void AddGroupCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand(
      "group", "Consumer groups: list, describe (lag), reset offsets, delete (like kafka-consumer-groups.sh)");
  group->require_subcommand(1);
  auto o = std::make_shared<GroupOptions>();
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--bootstrap-server", o->bootstrap_server,
                    std::string("Brokers to ask (default ") + kDefaultBootstrapServer + ")");
    cmd->add_option("--timeout", o->timeout_ms, "Milliseconds to wait for the cluster (default 10000)");
  };
  auto run = [exit_code, o](CLI::App* cmd, int (*fn)(const GroupOptions&, std::ostream&, std::ostream&)) {
    cmd->callback([exit_code, o, fn] { *exit_code = fn(*o, std::cout, std::cerr); });
  };

  CLI::App* list = group->add_subcommand("list", "List the consumer groups of the cluster");
  common(list);
  list->add_flag("--state", o->state, "Also show each group's state");
  run(list, RunGroupList);

  CLI::App* describe = group->add_subcommand(
      "describe", "Per partition: committed offset, log end offset, lag and owner; or --members / --state");
  common(describe);
  describe->add_option("--group,-g", o->groups, "Group to describe (repeatable)");
  describe->add_flag("--all-groups", o->all_groups, "Describe every group");
  describe->add_flag("--members", o->members, "One line per member");
  describe->add_flag("--verbose", o->verbose, "With --members: each member's partitions");
  describe->add_flag("--state", o->state, "The group's coordinator, assignor, state and size");
  describe->footer("Examples:\n  gregor group describe --group billing\n"
                   "  gregor group describe --group billing --members --verbose");
  run(describe, RunGroupDescribe);

  CLI::App* reset = group->add_subcommand(
      "reset-offsets", "Change a group's committed offsets (dry run unless --execute; the group must have no active members)");
  common(reset);
  reset->add_option("--group,-g", o->groups, "The group")->required();
  reset->add_option("--topic,-t", o->topics, "TOPIC or TOPIC:P,P (repeatable)");
  reset->add_flag("--all-topics", o->all_topics, "Every topic the group has committed offsets for");
  reset->add_flag("--to-earliest", o->to_earliest, "The log start offset");
  reset->add_flag("--to-latest", o->to_latest, "The log end offset (high watermark)");
  reset->add_flag("--to-current", o->to_current, "The committed offset (no change)");
  reset->add_option("--to-offset", o->to_offset, "This offset (clamped to the partition's range)");
  reset->add_option("--shift-by", o->shift_by, "The committed offset plus N (N may be negative)");
  reset->add_option("--to-datetime", o->to_datetime, "The first offset at or after YYYY-MM-DDTHH:mm:SS.sss");
  reset->add_option("--by-duration", o->by_duration, "The first offset at or after now minus PnDTnHnMnS");
  reset->add_flag("--dry-run", o->dry_run, "Only show the new offsets (the default)");
  reset->add_flag("--execute", o->execute, "Commit the new offsets");
  reset->add_flag("--export", o->export_csv, "Print topic,partition,offset lines (CSV)");
  reset->footer("Examples:\n  gregor group reset-offsets --group billing --topic orders --to-earliest --execute\n"
                "  gregor group reset-offsets --group billing --all-topics --by-duration PT1H");
  run(reset, RunGroupResetOffsets);

  CLI::App* del = group->add_subcommand("delete", "Delete groups without active members (their offsets go too)");
  common(del);
  del->add_option("--group,-g", o->groups, "Group to delete (repeatable)");
  del->add_flag("--all-groups", o->all_groups, "Delete every group without active members");
  run(del, RunGroupDelete);

  CLI::App* del_offsets = group->add_subcommand(
      "delete-offsets", "Delete a group's committed offsets of some topics (not of topics its members read)");
  common(del_offsets);
  del_offsets->add_option("--group,-g", o->groups, "The group")->required();
  del_offsets->add_option("--topic,-t", o->topics, "TOPIC or TOPIC:P,P (repeatable)")->required();
  run(del_offsets, RunGroupDeleteOffsets);
}

}  // namespace gregor::tools
