// A minimal blocking Kafka-protocol client for the few requests librdkafka cannot express
// (ListOffsets as a debugging replica, which returns the log end offset rather than the high
// watermark). One request per call, on a fresh connection.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/kafka/constants.h"
#include "common/kafka/messages.h"

namespace gregor::tools {

absl::StatusOr<kafka::ListOffsetsResponse> RawListOffsets(const std::string& host, int port,
                                                          const kafka::ListOffsetsRequest& request,
                                                          int timeout_ms = 5000);

}  // namespace gregor::tools
