// What a Kafka request handler produced: a response body to frame and send, or none (acks=0
// produce), or a request so malformed that the connection must close (as Kafka does); and the
// helpers every handler uses to make one.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka/wire.h"

namespace gregor::broker {

struct KafkaOutcome {
  std::optional<kafka::Writer> body;
  bool close_connection = false;
  std::string close_reason;
  // Metadata only: the answer would name a leader whose connection this broker just lost
  // (peer_liveness.h); ask again once the metadata image changes (or the hold ends).
  bool wait_for_metadata = false;
};

inline KafkaOutcome Respond(kafka::Writer body) {
  KafkaOutcome o;
  o.body = std::move(body);
  return o;
}

inline KafkaOutcome CloseConnection(std::string reason) {
  KafkaOutcome o;
  o.close_connection = true;
  o.close_reason = std::move(reason);
  return o;
}

// Encodes `response` for `version`; a response the version cannot carry closes the connection.
template <typename Response, typename Encode>
KafkaOutcome EncodeOrClose(const Response& response, int16_t version, Encode encode) {
  kafka::Writer w;
  absl::Status s = encode(response, version, w);
  if (!s.ok()) return CloseConnection(absl::StrCat("cannot encode the response: ", s.message()));
  return Respond(std::move(w));
}

}  // namespace gregor::broker
