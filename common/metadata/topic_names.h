// Kafka's topic name rules, shared by the controller (CreateTopics) and the brokers (Metadata
// answers and auto-creation).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/metadata/metadata_image.h"

namespace gregor::metadata {

// 1..249 chars of [a-zA-Z0-9._-], not "." or "..". Also rejects a name that collides with an
// existing topic of `image` when '.' and '_' are considered equal.
absl::Status ValidateTopicName(const MetadataImage& image, const std::string& name);

}  // namespace gregor::metadata
