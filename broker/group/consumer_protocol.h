// The consumer protocol's payloads, which the coordinator otherwise passes through opaquely:
// a member's subscription (JoinGroup metadata) and assignment (SyncGroup), protocol type
// "consumer" (ConsumerProtocolSubscription/Assignment). Read for expiry, OffsetDelete and
// `describe`; a payload that does not parse is "unknown", never a reason to refuse a member.
// Every version's fields start with those of v0, so newer versions parse by their v0 prefix.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gregor::group {

// The topics a subscription names; nullopt if it does not parse.
std::optional<std::vector<std::string>> ParseSubscriptionTopics(std::string_view metadata);

// topic -> partitions of an assignment; nullopt if it does not parse. Empty bytes are an empty
// assignment (what the coordinator gives a member the leader left out).
std::optional<std::map<std::string, std::vector<int32_t>>> ParseAssignment(std::string_view bytes);

// Test helpers: encode v0 payloads.
std::string EncodeSubscriptionV0(const std::vector<std::string>& topics);
std::string EncodeAssignmentV0(const std::map<std::string, std::vector<int32_t>>& assignment);

}  // namespace gregor::group
