// The one list of the Kafka APIs and versions this broker serves. ApiVersions answers are made
// from it and requests outside it are refused before they are decoded, so a version cannot be
// advertised without a codec (checked at compile time against the schema). KafkaApis and
// KafkaServer dispatch on exactly these keys.
#pragma once

#include <cstdint>
#include <vector>

#include "common/kafka/messages.h"

namespace gregor::broker {

struct ServedApi {
  kafka::ApiKey key;
  // Advertised from here; below `min` a request is refused (Produce only, see the .cc).
  int16_t advertised_min;
  int16_t min;
  int16_t max;
};

const std::vector<ServedApi>& ServedApis();

// Whether requests of (key, version) are decoded and handled.
bool IsServed(kafka::ApiKey key, int16_t version);

// The ApiVersions answer: error 0 and the advertised ranges, sorted by key.
kafka::ApiVersionsResponse MakeApiVersionsResponse();
// The answer to an ApiVersions request of a version we do not serve (KIP-511): error 35
// (UNSUPPORTED_VERSION) and only the ApiVersions entry. Encode it as v0 (and response header
// v0), whatever version the client asked for.
kafka::ApiVersionsResponse MakeUnsupportedApiVersionsResponse();

}  // namespace gregor::broker
