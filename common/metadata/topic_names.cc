#include "common/metadata/topic_names.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gregor::metadata {

absl::Status ValidateTopicName(const MetadataImage& image, const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("topic name is empty");
  if (name == "." || name == "..") return absl::InvalidArgumentError("topic name cannot be '.' or '..'");
  if (name.size() > 249) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic name is ", name.size(), " characters long; the maximum is 249"));
  }
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topic name '", name, "' is illegal: it may contain only ASCII letters, digits, '.', "
          "'_' and '-'"));
    }
  }
  auto unify = [](std::string s) {
    std::replace(s.begin(), s.end(), '.', '_');
    return s;
  };
  std::string key = unify(name);
  for (const auto& [existing, topic] : image.topics()) {
    if (existing != name && unify(existing) == key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "topic '", name, "' collides with existing topic '", existing,
          "' ('.' and '_' are interchangeable in metric names)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace gregor::metadata
