#include "tools/cluster.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <set>
#include <sstream>
#include <memory>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/group_watch.h"
#include "tools/kafka_client.h"

namespace gregor::tools {
namespace {

using controller::Controller;

std::string FormatTime(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return absl::StrFormat("%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>(ms % 1000));
}

}  // namespace

int RunClusterDescribe(const ClusterOptions& o, std::ostream& out, std::ostream& err) {
  auto client = MakeControllerClient(o.cluster);
  auto d = client->Call(&Controller::Stub::DescribeCluster, controller::DescribeClusterRequest{},
                        absl::Milliseconds(o.timeout_ms));
  if (!d.ok()) {
    err << ControllerUnreachable(o.cluster, d.status()) << "\n";
    return 1;
  }
  out << "Cluster id: " << (d->cluster_id().empty() ? "(not written yet)" : d->cluster_id()) << "\n";
  out << "Controller quorum (term " << d->controller_term() << ", metadata offset "
      << d->metadata_offset() << "):\n";
  for (const auto& m : d->quorum()) {
    out << "  controller " << m.id() << " at " << m.address() << (m.active() ? "  ACTIVE" : "") << "\n";
  }
  if (d->active_controller_id() < 0) out << "  (no active controller right now: an election is under way)\n";
  out << "Brokers:\n";
  out << absl::StrFormat("  %-4s %-22s %-14s %s\n", "ID", "ADDRESS", "STATE", "EPOCH");
  for (const auto& b : d->brokers()) {
    out << absl::StrFormat("  %-4d %-22s %-14s %d\n", b.id(),
                           absl::StrCat(b.kafka_host(), ":", b.kafka_port()), b.state(), b.epoch());
  }
  if (d->brokers_size() == 0) out << "  (none registered)\n";
  int partitions = 0, leaders_offline = 0, under = 0;
  for (const auto& t : d->topics()) {
    for (const auto& p : t.partitions()) {
      ++partitions;
      if (p.leader() < 0) ++leaders_offline;
      if (p.isr_size() < p.replicas_size()) ++under;
    }
  }
  out << "Topics: " << d->topics_size() << ", partitions: " << partitions << " (" << leaders_offline
      << " offline, " << under << " under-replicated)\n";
  return 0;
}

namespace {

// Writes the health report of `d` to `out`; true when healthy.
bool ReportHealth(const controller::DescribeClusterResponse& d, std::ostream& out) {
  bool healthy = true;
  if (d.active_controller_id() < 0) {
    out << "NO ACTIVE CONTROLLER\n";
    healthy = false;
  }
  for (const auto& b : d.brokers()) {
    if (b.state() != "alive") {
      out << "broker " << b.id() << " is " << b.state() << "\n";
      healthy = false;
    }
  }
  int offline = 0, under = 0;
  for (const auto& t : d.topics()) {
    for (const auto& p : t.partitions()) {
      if (p.leader() < 0) {
        out << "OFFLINE " << t.name() << "-" << p.partition() << " (replicas " << JoinIds(p.replicas())
            << ", ISR " << JoinIds(p.isr()) << ")\n";
        ++offline;
      } else if (p.isr_size() < p.replicas_size()) {
        out << "UNDER-REPLICATED " << t.name() << "-" << p.partition() << " (leader " << p.leader()
            << ", replicas " << JoinIds(p.replicas()) << ", ISR " << JoinIds(p.isr()) << ")\n";
        ++under;
      }
    }
  }
  healthy = healthy && offline == 0 && under == 0;
  out << (healthy ? "healthy" : "NOT healthy") << ": " << d.brokers_size() << " broker(s), "
      << offline << " offline and " << under << " under-replicated partition(s)\n";
  return healthy;
}

}  // namespace

int RunClusterHealth(const ClusterOptions& o, std::ostream& out, std::ostream& err) {
  auto client = MakeControllerClient(o.cluster);
  const absl::Time give_up = absl::Now() + absl::Seconds(std::max(0, o.wait_s));
  bool said_waiting = false;
  while (true) {
    auto d = client->Call(&Controller::Stub::DescribeCluster, controller::DescribeClusterRequest{},
                          absl::Milliseconds(o.timeout_ms));
    std::ostringstream report;
    bool healthy = d.ok() && ReportHealth(*d, report);
    if (healthy || absl::Now() >= give_up) {
      if (!d.ok()) {
        err << ControllerUnreachable(o.cluster, d.status()) << "\n";
        return 1;
      }
      out << report.str();
      return healthy ? 0 : 1;
    }
    if (!said_waiting) {
      err << "waiting up to " << o.wait_s << " s for the cluster to become healthy...\n";
      said_waiting = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

int RunClusterWatch(const ClusterOptions& o, std::ostream& out, std::ostream& err) {
  auto client = MakeControllerClient(o.cluster);
  absl::Time stop_at = o.duration_s > 0 ? absl::Now() + absl::Seconds(o.duration_s) : absl::InfiniteFuture();
  int events = 0;
  int64_t last_offset = 0;  // events at or below it were printed already (reconnects repeat them)
  bool first = true;
  std::string last_controller;
  // Two sources print: the controller's event stream (here) and the group watcher (its thread).
  std::mutex out_mu;
  auto emit = [&](const std::string& line) {
    std::lock_guard lock(out_mu);
    out << line << "\n" << std::flush;
  };
  emit("Watching cluster events (Ctrl-C to stop)...");
  std::unique_ptr<GroupWatcher> groups;
  auto start_groups = [&] {
    if (groups || o.no_groups) return;
    groups = std::make_unique<GroupWatcher>(
        o.cluster.bootstrap_server, !o.no_initial_state, [&](int64_t ts, const std::string& line) {
          emit(absl::StrCat(FormatTime(ts), "  ", line));
        });
    groups->Start();
  };
  while (absl::Now() < stop_at && (o.max_events == 0 || events < o.max_events)) {
    // Ask the quorum which member is active; any member serves the stream.
    auto d = client->Call(&Controller::Stub::DescribeCluster, controller::DescribeClusterRequest{},
                          absl::Seconds(2));
    if (!d.ok()) {
      if (first) {
        err << ControllerUnreachable(o.cluster, d.status()) << "\n";
        return 1;
      }
      emit(absl::StrCat(FormatTime(absl::ToUnixMillis(absl::Now())), "  (controller unreachable, retrying)"));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));  // retry pace
      continue;
    }
    start_groups();
    std::string address = client->CurrentAddress();
    if (address != last_controller && d->active_controller_id() >= 0) {
      emit(absl::StrCat(FormatTime(absl::ToUnixMillis(absl::Now())), "  active controller: ",
                        d->active_controller_id(), " (term ", d->controller_term(), ")"));
      last_controller = address;
    }
    grpc::ClientContext context;
    if (o.duration_s > 0) context.set_deadline(absl::ToChronoTime(stop_at));
    controller::WatchClusterEventsRequest request;
    request.set_include_current_state(first && !o.no_initial_state);
    auto reader = client->StubFor(address)->WatchClusterEvents(&context, request);
    controller::WatchClusterEventsResponse message;
    while (reader->Read(&message)) {
      // Several events share their batch's offset; a reconnect repeats whole batches.
      const int64_t printed_up_to = last_offset;
      for (const auto& e : message.events()) {
        bool state = e.kind() == "broker_state" || e.kind() == "partition_state";
        if (!state && e.offset() <= printed_up_to) continue;
        if (!state) last_offset = std::max(last_offset, e.offset());
        emit(absl::StrCat(FormatTime(e.timestamp_ms()), "  ", state ? "[now] " : "", e.text()));
        ++events;
      }
      if (o.max_events > 0 && events >= o.max_events) {
        context.TryCancel();
        break;
      }
    }
    (void)reader->Finish();
    first = false;
    if (absl::Now() >= stop_at || (o.max_events > 0 && events >= o.max_events)) break;
    emit(absl::StrCat(FormatTime(absl::ToUnixMillis(absl::Now())),
                      "  (event stream from the controller ended; reconnecting)"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // reconnect pace
  }
  if (groups) groups->Stop();
  return 0;
}

void AddClusterCommands(CLI::App& app, int* exit_code) {
  CLI::App* cluster = app.add_subcommand("cluster", "Brokers, controllers and partition health");
  cluster->require_subcommand(1);
  auto o = std::make_shared<ClusterOptions>();
  auto common = [o](CLI::App* cmd) {
    cmd->add_option("--controller", o->cluster.controller,
                    "Controller quorum member(s), host:port[,host:port]")
        ->capture_default_str();
    cmd->add_option("--bootstrap-server", o->cluster.bootstrap_server,
                    "Brokers (watch: where consumer groups are followed; other views use the "
                    "controller)");
    cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the controller")
        ->capture_default_str();
  };
  CLI::App* describe = cluster->add_subcommand(
      "describe", "Brokers (state, epoch), the controller quorum and its active member.\nExample: gregor cluster describe");
  common(describe);
  describe->callback([o, exit_code] { *exit_code = RunClusterDescribe(*o, std::cout, std::cerr); });
  CLI::App* health = cluster->add_subcommand(
      "health",
      "List offline and under-replicated partitions and fenced brokers; exit 1 if any.\n"
      "Example: gregor cluster health --wait-s 30   (after restarting a broker)");
  common(health);
  health->add_option("--wait-s", o->wait_s,
                     "Wait up to this many seconds for the cluster to become healthy");
  health->callback([o, exit_code] { *exit_code = RunClusterHealth(*o, std::cout, std::cerr); });
  CLI::App* watch = cluster->add_subcommand(
      "watch",
      "Live, timestamped cluster events: brokers fenced/alive, leaders moving (old -> new, with\n"
      "epochs), ISRs shrinking and expanding. Starts with the current state.\n"
      "Example: gregor cluster watch   (then kill a broker in another terminal)");
  common(watch);
  watch->add_option("--max-events", o->max_events, "Stop after this many events");
  watch->add_option("--duration-s", o->duration_s, "Stop after this many seconds");
  watch->add_flag("--no-initial-state", o->no_initial_state, "Only new events");
  watch->add_flag("--no-groups", o->no_groups,
                  "Leave out consumer-group events (rebalances, coordinator moves)");
  watch->callback([o, exit_code] { *exit_code = RunClusterWatch(*o, std::cout, std::cerr); });
}

}  // namespace gregor::tools
