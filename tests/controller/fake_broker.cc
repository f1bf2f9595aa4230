// A stand-in broker for controller tests: registers with the controller quorum, heartbeats, and
// on SIGTERM asks for a controlled shutdown and to be fenced. It hosts no data.
//
//   fake_broker --id 1 --controllers 127.0.0.1:9990[,..] [--heartbeat-ms 250]
#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controller/client/controller_client.h"

namespace {
std::atomic<bool> stopping{false};
void OnSignal(int) { stopping = true; }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fake broker for controller tests"};
  int id = 0;
  std::string controllers;
  int heartbeat_ms = 250;
  app.add_option("--id", id)->required();
  app.add_option("--controllers", controllers)->required();
  app.add_option("--heartbeat-ms", heartbeat_ms);
  CLI11_PARSE(app, argc, argv);
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);

  std::vector<std::string> addresses = absl::StrSplit(controllers, ',');
  gregor::controller::ControllerClient client(addresses);
  using Stub = gregor::controller::Controller::Stub;
  std::string incarnation = absl::StrCat(std::random_device{}());
  int64_t epoch = -1;
  while (!stopping) {
    if (epoch < 0) {
      gregor::controller::RegisterBrokerRequest req;
      req.set_broker_id(id);
      req.set_incarnation_id(incarnation);
      req.set_kafka_host("127.0.0.1");
      req.set_kafka_port(9000 + id);
      req.set_replication_host("127.0.0.1");
      req.set_replication_port(19000 + id);
      auto resp = client.Call(&Stub::RegisterBroker, req, absl::Seconds(2));
      if (resp.ok() && resp->error().code() == 0) {
        epoch = resp->broker_epoch();
        std::cout << "registered with epoch " << epoch << std::endl;
      } else {
        std::cout << "register failed: "
                  << (resp.ok() ? resp->error().message() : std::string(resp.status().message()))
                  << std::endl;
      }
    } else {
      gregor::controller::BrokerHeartbeatRequest req;
      req.set_broker_id(id);
      req.set_broker_epoch(epoch);
      req.set_metadata_offset(INT64_MAX);  // no metadata to replay: always caught up
      auto resp = client.Call(&Stub::BrokerHeartbeat, req, absl::Seconds(2));
      if (resp.ok() && (resp->error().code() == 77 || resp->error().code() == 102)) {
        std::cout << "heartbeat: " << resp->error().message() << "; registering again" << std::endl;
        epoch = -1;
        continue;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(heartbeat_ms));
  }
  if (epoch >= 0) {
    gregor::controller::ControlledShutdownRequest req;
    req.set_broker_id(id);
    req.set_broker_epoch(epoch);
    auto resp = client.Call(&Stub::ControlledShutdown, req, absl::Seconds(5));
    std::cout << "controlled shutdown: "
              << (resp.ok() ? absl::StrCat("remaining leaderships ", resp->remaining_leaderships())
                            : std::string(resp.status().message()))
              << std::endl;
    gregor::controller::BrokerHeartbeatRequest hb;
    hb.set_broker_id(id);
    hb.set_broker_epoch(epoch);
    hb.set_want_fence(true);
    (void)client.Call(&Stub::BrokerHeartbeat, hb, absl::Seconds(5));
  }
  return 0;
}
