#include "tools/group_events.h"


#include "absl/strings/str_cat.h"
#include "broker/group/offsets_records.h"

namespace gregor::tools {

std::vector<std::string> GroupEventTracker::OnRecord(std::string_view key,
                                                     std::optional<std::string_view> value) {
  auto decoded = group::DecodeKey(key);
  if (!decoded.ok() || decoded->kind != group::RecordKey::Kind::kGroup) return {};
  const std::string& id = decoded->group;
  Known& k = groups_[id];
  if (!value) {
    k.state = "Dead";
    return {absl::StrCat("group ", id, ": deleted")};
  }
  auto v = group::DecodeGroupValue(*value);
  if (!v.ok()) return {};
  const bool same_generation = k.generation == v->generation;
  k.generation = v->generation;
  k.members = v->members.size();
  if (v->members.empty()) {
    k.state = "Empty";
    return {absl::StrCat("group ", id, ": empty (generation ", v->generation, ")")};
  }
  k.state = "Stable";
  if (same_generation) {
    return {absl::StrCat("group ", id, ": a static member rejoined without a rebalance (generation ",
                         v->generation, ", ", k.members, " member(s))")};
  }
  return {absl::StrCat("group ", id, ": rebalance completed: generation ", v->generation, ", ",
                       k.members, " member(s)", v->protocol ? ", assignor " + *v->protocol : "")};
}

std::vector<std::string> GroupEventTracker::OnPoll(const std::vector<GroupSnapshot>& groups,
                                                   bool initial) {
  std::vector<std::string> out;
  const bool first = !polled_;
  polled_ = true;
  for (const GroupSnapshot& g : groups) {
    auto [it, fresh] = groups_.try_emplace(g.id);
    Known& k = it->second;
    if (first) {
      if (initial) {
        out.push_back(absl::StrCat("[now] group ", g.id, ": ", g.state, ", ", g.members,
                                   " member(s), coordinator broker ", g.coordinator));
      }
    } else if (fresh || k.state == "Dead") {
      out.push_back(absl::StrCat("group ", g.id, ": appeared (", g.state, ", ", g.members,
                                 " member(s), coordinator broker ", g.coordinator, ")"));
    } else {
      if (k.coordinator >= 0 && g.coordinator >= 0 && k.coordinator != g.coordinator) {
        out.push_back(absl::StrCat("group ", g.id, ": coordinator moved from broker ", k.coordinator,
                                   " to broker ", g.coordinator));
      }
      if (g.state == "PreparingRebalance" && k.state != "PreparingRebalance") {
        out.push_back(absl::StrCat("group ", g.id, ": rebalance started (", k.members, " member(s)",
                                   k.generation ? absl::StrCat(", generation ", *k.generation) : "",
                                   ")"));
      }
    }
    // Records are authoritative for Stable and Empty (they carry the generation); the poll
    // only adds the states nothing is written for.
    if (first || g.state == "PreparingRebalance" || g.state == "CompletingRebalance" ||
        k.state.empty() || k.state == "Dead") {
      k.state = g.state;
      k.members = g.members;
    }
    if (g.coordinator >= 0) k.coordinator = g.coordinator;
  }
  // A group missing from one poll is not reported: while its coordinator moves (or loads) no
  // broker lists it; it comes back with its new coordinator ("coordinator moved"). Deletions
  // and expiry come from the records.
  return out;
}

}  // namespace gregor::tools
