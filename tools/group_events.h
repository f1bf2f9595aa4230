// Turns what `gregor cluster watch` sees of consumer groups into event lines: the group records
// the coordinators write to __consumer_offsets (a generation completed, the group emptied or was
// deleted) and periodic descriptions of every group (a rebalance started, the coordinator
// moved, a group appeared). Pure: the watcher (group_watch.h) feeds it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::tools {

struct GroupSnapshot {
  std::string id;
  std::string state;
  size_t members = 0;
  int32_t coordinator = -1;
};

class GroupEventTracker {
 public:
  // A record of __consumer_offsets; returns the lines it causes (none for offset commits).
  std::vector<std::string> OnRecord(std::string_view key, std::optional<std::string_view> value);
  // Every group the cluster lists right now. The first call describes the current state
  // ("[now] ..." lines) when `initial` is set.
  std::vector<std::string> OnPoll(const std::vector<GroupSnapshot>& groups, bool initial);

 private:
  struct Known {
    std::string state;
    size_t members = 0;
    int32_t coordinator = -1;
    std::optional<int32_t> generation;
  };
  std::map<std::string, Known> groups_;
  bool polled_ = false;
};

}  // namespace gregor::tools
