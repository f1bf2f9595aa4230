// gregor-controller --config controller.properties [--override key=value ...]
#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/logging.h"
#include "controller/controller_config.h"
#include "controller/controller_server.h"

int main(int argc, char** argv) {
  CLI::App app{"gregor-controller: a member of Gregor's controller quorum"};
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("--config,-c", config_path, "controller.properties file (Kafka-style key=value)");
  app.add_option("--override", overrides, "key=value, wins over the file (repeatable)");
  app.footer(
      "Example:\n  gregor-controller --config deploy/config/controller.properties "
      "--override node.id=1");
  CLI11_PARSE(app, argc, argv);

  auto config = gregor::controller::LoadControllerConfig(config_path, overrides);
  if (!config.ok()) {
    std::cerr << "gregor-controller: bad configuration: " << config.status().message() << "\n";
    return 2;
  }
  gregor::InitLogging(config->log_level);

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = gregor::controller::ControllerServer::Create(*config, &gregor::SystemClock::Get());
  if (!server.ok()) {
    std::cerr << "gregor-controller: cannot start: " << server.status().message() << "\n";
    return 1;
  }
  if (auto s = (*server)->Start(); !s.ok()) {
    std::cerr << "gregor-controller: cannot start: " << s.message() << "\n";
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  gregor::Logger("controller")->info("received signal {}, shutting down", signal);
  (*server)->Shutdown();
  return 0;
}
