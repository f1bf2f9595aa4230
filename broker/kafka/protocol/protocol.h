// The Kafka wire-protocol codec in one include: primitives (wire.h), api keys, version table
// and headers (api.h), typed messages (messages.h). Pure code: no sockets, threads or clocks.
#pragma once

#include "broker/kafka/protocol/api.h"        // IWYU pragma: export
#include "broker/kafka/protocol/messages.h"   // IWYU pragma: export
#include "broker/kafka/protocol/wire.h"       // IWYU pragma: export
