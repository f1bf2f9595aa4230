// The replication settings of broker.properties, as the replication module takes them.
#pragma once

#include <cstdint>
#include <string>

namespace gregor::broker {

struct ReplicationConfig {
  int32_t node_id = 0;
  std::string replication_host;  // replication.listener
  int32_t replication_port = 0;
  int64_t replica_fetch_max_bytes = 0;
  int64_t replica_fetch_response_max_bytes = 0;
  int64_t replica_fetch_wait_max_ms = 0;
};

}  // namespace gregor::broker
