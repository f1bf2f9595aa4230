#include "common/voters.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/strings.h"

namespace gregor {

absl::Status SplitHostPort(std::string_view address, std::string* host, int32_t* port) {
  size_t colon = address.rfind(':');
  int32_t p = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(ToAbsl(address.substr(colon + 1)), &p) || p < 1 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", ToAbsl(address), "' is not host:port with a port from 1 to 65535"));
  }
  *host = std::string(address.substr(0, colon));
  *port = p;
  return absl::OkStatus();
}

absl::StatusOr<std::map<int32_t, std::string>> ParseQuorumVoters(std::string_view text) {
  std::map<int32_t, std::string> voters;
  for (absl::string_view item : absl::StrSplit(ToAbsl(text), ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    std::vector<absl::string_view> parts = absl::StrSplit(item, absl::MaxSplits('@', 1));
    int32_t id = -1;
    std::string host;
    int32_t port = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &id) || id < 0 ||
        !SplitHostPort(ToStd(parts[1]), &host, &port).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "controller.quorum.voters entry '", item, "' is not <id>@<host>:<port>"));
    }
    if (!voters.emplace(id, std::string(parts[1])).second) {
      return absl::InvalidArgumentError(absl::StrCat("controller.quorum.voters names id ", id, " twice"));
    }
  }
  if (voters.empty()) return absl::InvalidArgumentError("controller.quorum.voters is empty");
  return voters;
}

}  // namespace gregor
