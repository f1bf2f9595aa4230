// `gregor log dump PATH`: prints the batches of a segment file or of every segment in a
// partition directory, verifies CRCs and indexes, and reports corruption with its byte position.
#pragma once

#include <ostream>
#include <string>

namespace gregor::tools {

struct LogDumpOptions {
  std::string path;            // a .log file or a partition directory
  bool print_records = false;  // also keys, values and headers of every record
  bool verify_indexes = true;  // check .index / .timeindex against the log
};

// Returns the process exit status: 0 all valid, 1 corruption found, 2 unusable input.
int RunLogDump(const LogDumpOptions& options, std::ostream& out, std::ostream& err);

}  // namespace gregor::tools
