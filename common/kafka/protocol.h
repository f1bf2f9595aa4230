// The Kafka wire-protocol codec in one include: primitives (wire.h), api keys and headers
// (api.h), the typed messages generated from schema/*.api (messages.h) and their constants.
// Pure code: no sockets, threads or clocks.
#pragma once

#include "common/kafka/api.h"        // IWYU pragma: export
#include "common/kafka/constants.h"  // IWYU pragma: export
#include "common/kafka/messages.h"   // IWYU pragma: export
#include "common/kafka/wire.h"       // IWYU pragma: export
