// `gregor`: the command-line tool. Each command group lives in its own file and registers its
// subcommands here.
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/cluster.h"
#include "tools/config_cmd.h"
#include "tools/consume.h"
#include "tools/group.h"
#include "tools/log_dump.h"
#include "tools/perf.h"
#include "tools/produce.h"
#include "tools/topic.h"

namespace {

void AddLogCommands(CLI::App& app, int* exit_code) {
  CLI::App* log = app.add_subcommand("log", "Inspect partition log files on disk");
  log->require_subcommand(1);
  auto options = std::make_shared<gregor::tools::LogDumpOptions>();
  CLI::App* dump = log->add_subcommand(
      "dump",
      "Print the record batches of a segment file or partition directory, verify CRCs and "
      "indexes.\nExit status: 0 valid, 1 corruption found, 2 unusable input.\n"
      "Example: gregor log dump /var/lib/gregor/broker-1/orders-0 --records");
  dump->add_option("path", options->path, "A <20-digit offset>.log file or a partition directory")
      ->required();
  dump->add_flag("--records", options->print_records, "Also print every record's key, value and headers");
  dump->add_flag("!--no-verify-index", options->verify_indexes, "Skip checking .index and .timeindex files");
  dump->callback([options, exit_code] {
    *exit_code = gregor::tools::RunLogDump(*options, std::cout, std::cerr);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gregor: command-line tool for Gregor, a Kafka-compatible replicated log"};
  app.require_subcommand(1);
  int exit_code = 0;
  AddLogCommands(app, &exit_code);
  gregor::tools::AddProduceCommand(app, &exit_code);
  gregor::tools::AddConsumeCommand(app, &exit_code);
  gregor::tools::AddGroupCommands(app, &exit_code);
  gregor::tools::AddPerfCommands(app, &exit_code);
  gregor::tools::AddTopicCommands(app, &exit_code);
  gregor::tools::AddClusterCommands(app, &exit_code);
  gregor::tools::AddConfigCommands(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
