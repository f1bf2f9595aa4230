// Figures for the controller (not a test): failover time of a 3-node quorum after kill -9 of
// the active controller, metadata commit latency, time to create 10,000 partitions, and the
// load time of a snapshot holding 100,000 partitions.
//
//   build/tests/controller_bench [--failovers N] [--commits N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/metadata/metadata_image.h"
#include "controller/control.h"
#include "tests/controller/cluster_harness.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gregor::controller::Controller;

namespace {

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())));
  return v[i];
}

void Failover(int rounds) {
  gregor::testing::ControllerCluster cluster(3);
  for (int id = 1; id <= 3; ++id) cluster.StartController(id);
  int active = -1;
  gregor::testing::WaitFor([&] { return (active = cluster.ActiveController()) > 0; }, 30s);
  for (int b = 1; b <= 3; ++b) cluster.StartBroker(b);
  cluster.WaitForBrokers({1, 2, 3}, "alive", 30s);
  (void)cluster.CreateTopic("bench", 6, 3);
  std::vector<double> times;
  for (int i = 0; i < rounds; ++i) {
    active = cluster.ActiveController();
    auto start = Clock::now();
    cluster.KillController(active);
    int next = -1;
    bool ok = gregor::testing::WaitFor(
        [&] { return (next = cluster.ActiveController()) > 0 && next != active; }, 30s);
    double ms = Ms(Clock::now() - start);
    if (!ok) {
      std::printf("failover %d: no new active controller within 30 s\n", i + 1);
      continue;
    }
    times.push_back(ms);
    std::printf("failover %d: controller %d killed -> controller %d active after %.0f ms\n", i + 1,
                active, next, ms);
    cluster.StartController(active);
    gregor::testing::WaitFor([&] {
      auto d = cluster.DescribeFrom(active);
      auto a = cluster.DescribeFrom(next);
      return d.ok() && a.ok() && d->metadata_offset() >= a->metadata_offset();
    }, 30s);
  }
  std::printf("failover (kill -9 of the active controller, default timings): median %.0f ms, max %.0f ms over %zu\n",
              Percentile(times, 50), times.empty() ? 0 : *std::max_element(times.begin(), times.end()),
              times.size());

  // Commit latency: small metadata changes committed by the 3-node quorum.
}

void CommitLatency(int count) {
  gregor::testing::ControllerCluster cluster(3);
  for (int id = 1; id <= 3; ++id) cluster.StartController(id);
  gregor::testing::WaitFor([&] { return cluster.ActiveController() > 0; }, 30s);
  cluster.StartBroker(1);
  cluster.WaitForBrokers({1}, "alive", 30s);
  (void)cluster.CreateTopic("latency", 1, 1);
  std::vector<double> times;
  for (int i = 0; i < count; ++i) {
    gregor::controller::AlterConfigsRequest request;
    request.set_topic("latency");
    (*request.mutable_set())["retention.ms"] = absl::StrCat(100000 + i);
    auto start = Clock::now();
    auto r = cluster.client().Call(&Controller::Stub::AlterConfigs, request, absl::Seconds(10));
    if (r.ok() && r->error().code() == 0) times.push_back(Ms(Clock::now() - start));
  }
  std::printf("metadata commit latency (3-node quorum, AlterConfigs round trip incl. fsync): p50 %.2f ms, p99 %.2f ms over %zu\n",
              Percentile(times, 50), Percentile(times, 99), times.size());

  for (int b = 2; b <= 3; ++b) cluster.StartBroker(b);
  cluster.WaitForBrokers({1, 2, 3}, "alive", 30s);
  auto start = Clock::now();
  auto r = cluster.CreateTopic("ten-thousand", 10000, 3);
  double ms = Ms(Clock::now() - start);
  std::printf("create 10,000 partitions (RF 3, one request, 3-node quorum): %.0f ms (%s)\n", ms,
              r.ok() && r->results(0).error().code() == 0 ? "ok" : "FAILED");
}

void SnapshotLoad() {
  gregor::metadata::MetadataImage image;
  int64_t offset = 1;
  for (int b = 1; b <= 3; ++b) {
    gregor::metadata::MetadataRecord r;
    r.mutable_register_broker()->set_broker_id(b);
    r.mutable_register_broker()->set_kafka_host("127.0.0.1");
    r.mutable_register_broker()->set_kafka_port(9091 + b);
    (void)image.ApplyRecord(offset++, r);
  }
  for (int t = 0; t < 100; ++t) {
    gregor::metadata::MetadataRecord topic;
    topic.mutable_topic()->set_name(absl::StrCat("topic-", t));
    topic.mutable_topic()->set_topic_id(std::string(16, static_cast<char>(t)));
    (void)image.ApplyRecord(offset, topic);
    for (int p = 0; p < 1000; ++p) {
      gregor::metadata::PartitionState s;
      s.replicas = {1 + p % 3, 1 + (p + 1) % 3, 1 + (p + 2) % 3};
      s.isr = s.replicas;
      s.leader = s.replicas[0];
      (void)image.ApplyRecord(offset, gregor::metadata::MakePartitionRecord(absl::StrCat("topic-", t), p, s));
    }
    ++offset;
  }
  auto start = Clock::now();
  std::string bytes = image.ToSnapshot().SerializeAsString();
  double write_ms = Ms(Clock::now() - start);
  start = Clock::now();
  gregor::metadata::MetadataSnapshot parsed;
  parsed.ParseFromString(bytes);
  auto loaded = gregor::metadata::MetadataImage::FromSnapshot(parsed);
  double load_ms = Ms(Clock::now() - start);
  std::printf("snapshot of 100,000 partitions: %.1f MiB, written in %.0f ms, loaded in %.0f ms (%s)\n",
              static_cast<double>(bytes.size()) / (1 << 20), write_ms, load_ms,
              loaded.ok() && loaded->PartitionCount() == 100000 ? "ok" : "FAILED");
}

}  // namespace

int main(int argc, char** argv) {
  int failovers = 5, commits = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--failovers")) failovers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--commits")) commits = std::atoi(argv[i + 1]);
  }
  SnapshotLoad();
  CommitLatency(commits);
  Failover(failovers);
  return 0;
}
