// Conversions between the Raft core's messages and their protobuf wire form (quorum.proto).
#pragma once

#include "controller/quorum/raft.h"
#include "proto/quorum.pb.h"

namespace gregor::quorum {

RaftMessage ToProto(const Message& message);
// Returns false if the proto is not a valid message (unknown type).
bool FromProto(const RaftMessage& proto, Message* message);

}  // namespace gregor::quorum
