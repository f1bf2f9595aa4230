#include "tools/admin_common.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace gregor::tools {

std::unique_ptr<controller::ControllerClient> MakeControllerClient(const ClusterAddress& address) {
  std::vector<std::string> members = absl::StrSplit(address.controller, ',', absl::SkipEmpty());
  return std::make_unique<controller::ControllerClient>(members);
}

std::string ControllerUnreachable(const ClusterAddress& address, const absl::Status& status) {
  return absl::StrCat("no controller reachable at ", address.controller,
                      " — is the cluster running? try ./run.sh (or pass --controller host:port)\n  (",
                      status.message(), ")");
}

std::string JoinIds(const google::protobuf::RepeatedField<int32_t>& ids) {
  return absl::StrJoin(ids, ",");
}

}  // namespace gregor::tools
