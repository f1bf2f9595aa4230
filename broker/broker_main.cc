// gregor-broker --config server.properties [--override key=value ...]
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>

#include "broker/broker.h"
#include "broker/hang_guard.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  CLI::App app{"gregor-broker: a Gregor broker serving the Kafka protocol"};
  std::string config_path;
  std::vector<std::string> overrides;
  app.add_option("--config,-c", config_path, "server.properties file (Kafka key names)");
  app.add_option("--override", overrides, "key=value, wins over the file (repeatable)");
  app.footer("Example:\n  gregor-broker --config deploy/config/broker-1.properties");
  CLI11_PARSE(app, argc, argv);

  auto config = gregor::broker::LoadBrokerConfig(config_path, overrides);
  if (!config.ok()) {
    std::cerr << "gregor-broker: bad configuration: " << config.status().message() << "\n";
    return 2;
  }
  // Before any thread exists: the guard is a fork of this process (hang_guard.h).
  std::unique_ptr<gregor::broker::HangGuard> guard = gregor::broker::HangGuard::Start();
  gregor::InitLogging(config->log_level);
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Raised by the broker itself when it must stop (a failed log dir): see Broker::Create.
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto broker = gregor::broker::Broker::Create(
      *config, &gregor::SystemClock::Get(), guard.get(),
      [](const std::string&) { ::kill(::getpid(), SIGUSR1); });
  if (!broker.ok()) {
    std::cerr << "gregor-broker: " << broker.status().message() << "\n";
    return 1;
  }
  if (auto s = (*broker)->Start(); !s.ok()) {
    std::cerr << "gregor-broker: cannot start: " << s.message() << "\n";
    gregor::Logger("broker")->error("cannot start: {}", s.message());
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  if (signal == SIGUSR1) {
    gregor::Logger("broker")->error("stopping after a failure (see above)");
    (*broker)->Shutdown();
    std::cerr << "gregor-broker: stopped after a log dir failure (see the log)\n";
    return 1;
  }
  gregor::Logger("broker")->info("received signal {}, shutting down", signal);
  (*broker)->Shutdown();
  return 0;
}
