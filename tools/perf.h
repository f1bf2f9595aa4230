// `gregor perf produce|consume|e2e`: load generators in the spirit of kafka-producer-perf-test
// and kafka-consumer-perf-test. Progress lines every --reporting-interval-ms and a final summary
// go to `out`; errors to `err`.
//
//  * produce: --num-records (or --duration-s) records of --record-size random bytes at
//    --throughput records/s (-1: as fast as possible); latency = produce() to delivery report.
//  * consume: reads --num-records records (or until --timeout-ms passes without one) from the
//    start of every partition; records/s and MB/s.
//  * e2e: produces as above while a second client reads the same topic; latency = the
//    producer's send time (stamped into the value) to the consumer's receipt.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "tools/kafka_client.h"

namespace CLI {
class App;
}

namespace gregor::tools {

struct PerfOptions {
  ClientOptions client;
  std::string topic;
  int record_size = 100;
  int64_t num_records = -1;      // -1: use duration_s
  double duration_s = -1;        // -1: use num_records
  double throughput = -1;        // records/s; -1 unlimited
  std::string acks = "all";
  bool idempotence = false;       // librdkafka's enable.idempotence
  std::optional<int> linger_ms;
  std::optional<int> batch_size;  // bytes (librdkafka batch.size)
  std::string compression = "none";
  int64_t key_count = 0;          // > 0: keys "key-<random below key_count>" (compacted topics)
  int64_t timeout_ms = 10000;     // consume/e2e: stop after this long without a record
  int reporting_interval_ms = 1000;
};

// Exit status: 0 success; 1 some records failed (or, for consume/e2e, fewer arrived than
// expected); 2 could not start (bad options, no broker, unknown topic).
int RunPerfProduce(const PerfOptions& options, std::ostream& out, std::ostream& err);
int RunPerfConsume(const PerfOptions& options, std::ostream& out, std::ostream& err);
int RunPerfE2e(const PerfOptions& options, std::ostream& out, std::ostream& err);

// Registers `gregor perf produce|consume|e2e`; the exit status is stored in *exit_code.
void AddPerfCommands(CLI::App& app, int* exit_code);

}  // namespace gregor::tools
