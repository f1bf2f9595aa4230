// `controller.quorum.voters`: "1@127.0.0.1:9990,2@127.0.0.1:9991,3@127.0.0.1:9992".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gregor {

// id -> "host:port". InvalidArgument naming the bad entry.
absl::StatusOr<std::map<int32_t, std::string>> ParseQuorumVoters(std::string_view text);

// Splits "host:port" (port 1..65535). InvalidArgument otherwise.
absl::Status SplitHostPort(std::string_view address, std::string* host, int32_t* port);

}  // namespace gregor
