#include "tools/perf.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gregor::tools {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kMiB = 1024.0 * 1024.0;
// e2e values start with the send time (steady clock, ns) and the run id.
constexpr size_t kStampSize = 16;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* t) const { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};

// Counts, bytes and latencies (microseconds) of completed records: a window since the last
// progress line and the whole run. Thread-safe (e2e records from the consumer thread).
class Stats {
 public:
  struct Window {
    int64_t count = 0;
    int64_t bytes = 0;
    double latency_sum_us = 0;
    uint32_t latency_max_us = 0;
  };

  void Record(int64_t bytes, int64_t latency_ns) {
    uint32_t us = static_cast<uint32_t>(std::clamp<int64_t>(latency_ns / 1000, 0, UINT32_MAX));
    std::lock_guard<std::mutex> lock(mu_);
    for (Window* w : {&window_, &total_}) {
      ++w->count;
      w->bytes += bytes;
      w->latency_sum_us += us;
      w->latency_max_us = std::max(w->latency_max_us, us);
    }
    latencies_.push_back(us);
    last_ = Clock::now();
  }
  void Reserve(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    latencies_.reserve(static_cast<size_t>(std::min<int64_t>(n, 50'000'000)));
  }
  Window TakeWindow() {
    std::lock_guard<std::mutex> lock(mu_);
    Window w = window_;
    window_ = Window();
    return w;
  }
  Window Total() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_;
  }
  int64_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_.count;
  }
  // Time of the last record (or `otherwise` if none).
  Clock::time_point last(Clock::time_point otherwise) const {
    std::lock_guard<std::mutex> lock(mu_);
    return total_.count > 0 ? last_ : otherwise;
  }
  // Latency percentiles in ms, q in [0, 1].
  std::vector<double> Percentiles(std::initializer_list<double> qs) {
    std::lock_guard<std::mutex> lock(mu_);
    std::sort(latencies_.begin(), latencies_.end());
    std::vector<double> out;
    for (double q : qs) {
      if (latencies_.empty()) {
        out.push_back(0);
        continue;
      }
      size_t i = std::min(latencies_.size() - 1, static_cast<size_t>(q * latencies_.size()));
      out.push_back(latencies_[i] / 1000.0);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  Window window_;
  Window total_;
  std::vector<uint32_t> latencies_;
  Clock::time_point last_;
};

std::string ProgressLine(const char* verb, const Stats::Window& w, double seconds,
                         const char* latency_kind) {
  std::string line = absl::StrFormat("%d records %s, %.1f records/sec (%.2f MB/sec)", w.count, verb,
                                     w.count / seconds, w.bytes / kMiB / seconds);
  if (latency_kind != nullptr) {
    absl::StrAppendFormat(&line, ", %.1f ms avg %slatency, %.1f ms max %slatency",
                          w.count ? w.latency_sum_us / w.count / 1000.0 : 0.0, latency_kind,
                          w.latency_max_us / 1000.0, latency_kind);
  }
  return line;
}

std::string SummaryLine(const char* verb, Stats& stats, double seconds, const char* latency_kind) {
  Stats::Window t = stats.Total();
  auto p = stats.Percentiles({0.5, 0.95, 0.99, 0.999});
  return absl::StrFormat(
      "%d records %s, %.1f records/sec (%.2f MB/sec), %.2f ms avg %slatency, %.2f ms max "
      "%slatency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.",
      t.count, verb, seconds > 0 ? t.count / seconds : 0.0,
      seconds > 0 ? t.bytes / kMiB / seconds : 0.0,
      t.count ? t.latency_sum_us / t.count / 1000.0 : 0.0, latency_kind,
      t.latency_max_us / 1000.0, latency_kind, p[0], p[1], p[2], p[3]);
}

absl::Status CheckLoadOptions(const PerfOptions& o, size_t min_record_size) {
  if (o.topic.empty()) return absl::InvalidArgumentError("--topic is required");
  if (o.record_size < static_cast<int>(min_record_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--record-size must be at least ", min_record_size, " bytes"));
  }
  if (o.num_records <= 0 && o.duration_s <= 0) {
    return absl::InvalidArgumentError(
        "say how much to send: --num-records N or --duration-s S (or both: whichever ends first)");
  }
  if (o.throughput == 0 || o.throughput < -1) {
    return absl::InvalidArgumentError("--throughput must be > 0 records/s, or -1 for unlimited");
  }
  if (o.reporting_interval_ms <= 0) {
    return absl::InvalidArgumentError("--reporting-interval-ms must be positive");
  }
  if (auto d = DeliverySettings(o.acks, o.idempotence); !d.ok()) return d.status();
  if (auto c = CompressionSetting(o.compression); !c.ok()) return c.status();
  return absl::OkStatus();
}

KafkaSettings ProducerSettings(const PerfOptions& o) {
  KafkaSettings s = *DeliverySettings(o.acks, o.idempotence);
  s.push_back({"compression.type", o.compression});
  s.push_back({"message.timeout.ms", "30000"});
  if (o.linger_ms) s.push_back({"linger.ms", std::to_string(*o.linger_ms)});
  if (o.batch_size) s.push_back({"batch.size", std::to_string(*o.batch_size)});
  return s;
}

// `bulk`: a throughput run. librdkafka's defaults (1 MiB per partition and fetch, a 100,000
// message queue per partition) keep one fetch of each partition in flight and then wait for the
// application; bigger fetches and queues let a reader of small records go as fast as it can
// take them. --property overrides either.
KafkaSettings ConsumerSettings(bool bulk) {
  KafkaSettings s = {{"group.id", "gregor-cli-no-group"},  // required by librdkafka; unused with assign()
                     {"enable.auto.commit", "false"},
                     {"enable.auto.offset.store", "false"},
                     {"enable.partition.eof", "false"},
                     {"isolation.level", "read_committed"},
                     {"auto.offset.reset", "earliest"},
                     {"allow.auto.create.topics", "false"}};
  if (bulk) {
    s.push_back({"max.partition.fetch.bytes", "8388608"});
    s.push_back({"queued.min.messages", "1000000"});
  }
  return s;
}

// Delivery-report bookkeeping of the load producer.
struct ProduceState {
  Stats stats;
  int record_size = 0;
  int64_t failed = 0;
  std::string first_error;
};

// The shared produce loop of `perf produce` and `perf e2e`: sends until --num-records or
// --duration-s, throttled to --throughput, then waits for every delivery report. `tick` runs
// every reporting interval (also while draining). Returns records handed to librdkafka.
int64_t ProduceLoad(const PerfOptions& o, rd_kafka_t* rk, rd_kafka_topic_t* rkt, ProduceState* st,
                    uint64_t run_id, bool stamp, const std::function<void()>& tick,
                    std::ostream& err) {
  std::vector<char> payload(static_cast<size_t>(o.record_size));
  std::mt19937_64 rng(run_id);
  for (char& c : payload) c = static_cast<char>('A' + rng() % 26);  // like Kafka's perf test
  if (stamp) std::memcpy(payload.data() + 8, &run_id, 8);

  const auto interval = std::chrono::milliseconds(o.reporting_interval_ms);
  const auto start = Clock::now();
  const auto end = o.duration_s > 0
                       ? start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.duration_s))
                       : Clock::time_point::max();
  auto next_report = start + interval;
  auto report_if_due = [&](Clock::time_point now) {
    if (now < next_report) return;
    tick();
    next_report += interval;
    if (next_report <= now) next_report = now + interval;
  };
  int64_t sent = 0;
  while (!Interrupted()) {
    auto now = Clock::now();
    if (o.num_records > 0 && sent >= o.num_records) break;
    if (now >= end) break;
    report_if_due(now);
    if (o.throughput > 0) {
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(sent / o.throughput));
      if (now < due) {
        if (due - now > std::chrono::milliseconds(2)) {
          rd_kafka_poll(rk, 1);
        } else {
          rd_kafka_poll(rk, 0);
          std::this_thread::sleep_until(due);
        }
        continue;
      }
    }
    int64_t t = NowNs();
    if (stamp) std::memcpy(payload.data(), &t, 8);
    // Without a stamp every record has the same bytes: librdkafka may reference them (they live
    // until every delivery report is in) instead of copying each one, as Kafka's perf test does.
    std::string key;
    if (o.key_count > 0) key = absl::StrCat("key-", rng() % static_cast<uint64_t>(o.key_count));
    if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, stamp ? RD_KAFKA_MSG_F_COPY : 0, payload.data(),
                         payload.size(), key.empty() ? nullptr : key.data(), key.size(),
                         reinterpret_cast<void*>(t)) == -1) {
      rd_kafka_resp_err_t e = rd_kafka_last_error();
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 1);
        continue;
      }
      err << "error: cannot send record " << sent << ": " << rd_kafka_err2str(e) << "\n";
      ++st->failed;
      break;
    }
    ++sent;
    if ((sent & 63) == 0) rd_kafka_poll(rk, 0);
  }
  // Drain: every record is delivered or failed within message.timeout.ms.
  const auto deadline = Clock::now() + std::chrono::seconds(40);
  while (rd_kafka_outq_len(rk) > 0 && Clock::now() < deadline) {
    rd_kafka_poll(rk, 50);
    report_if_due(Clock::now());
  }
  if (int left = rd_kafka_outq_len(rk); left > 0) {
    err << "error: " << left << " record(s) still unacknowledged after 40 s\n";
    st->failed += left;
  }
  return sent;
}

struct Setup {
  // Destroyed bottom-up: the topic handle, then the client, then the state its callback uses.
  std::shared_ptr<ProduceState> state;
  std::unique_ptr<KafkaClient> client;
  std::unique_ptr<rd_kafka_topic_t, TopicDeleter> topic;
};

absl::StatusOr<Setup> StartProducer(const PerfOptions& o, std::ostream& err) {
  Setup s;
  s.state = std::make_shared<ProduceState>();
  s.state->record_size = o.record_size;
  auto client = KafkaClient::Create(
      RD_KAFKA_PRODUCER, o.client, ProducerSettings(o),
      [st = s.state.get()](const rd_kafka_message_t& msg) {
        if (msg.err) {
          if (st->failed++ == 0) st->first_error = rd_kafka_err2str(msg.err);
          return;
        }
        st->stats.Record(st->record_size, NowNs() - reinterpret_cast<int64_t>(msg._private));
      });
  if (!client.ok()) return client.status();
  s.client = std::move(*client);
  auto t = s.client->WaitForTopic(o.topic, /*allow_create=*/true, 15000);
  if (!t.ok()) return t.status();
  err << LeaderlessWarning(*t);
  s.topic.reset(rd_kafka_topic_new(s.client->get(), o.topic.c_str(), nullptr));
  if (o.num_records > 0) s.state->stats.Reserve(o.num_records);
  return s;
}

// A consumer assigned every partition of the topic at `offsets` (-1 entries: earliest).
absl::StatusOr<std::unique_ptr<KafkaClient>> StartConsumer(const PerfOptions& o, bool at_end,
                                                           std::ostream& err) {
  auto client = KafkaClient::Create(RD_KAFKA_CONSUMER, o.client, ConsumerSettings(/*bulk=*/!at_end));
  if (!client.ok()) return client.status();
  auto t = (*client)->WaitForTopic(o.topic, /*allow_create=*/false, 15000);
  if (!t.ok()) return t.status();
  err << LeaderlessWarning(*t);
  std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter> assignment(
      rd_kafka_topic_partition_list_new(t->partitions));
  for (int32_t p = 0; p < t->partitions; ++p) {
    int64_t offset = RD_KAFKA_OFFSET_BEGINNING;
    if (at_end) {
      // An absolute offset, so nothing produced after this point can be skipped.
      auto marks = (*client)->Watermarks(o.topic, p, 10000);
      if (!marks.ok()) return marks.status();
      offset = marks->second;
    }
    rd_kafka_topic_partition_list_add(assignment.get(), o.topic.c_str(), p)->offset = offset;
  }
  rd_kafka_t* rk = (*client)->get();
  rd_kafka_poll_set_consumer(rk);
  if (rd_kafka_resp_err_t e = rd_kafka_assign(rk, assignment.get()); e) {
    return absl::InternalError(absl::StrCat("cannot assign partitions: ", rd_kafka_err2str(e)));
  }
  return std::move(*client);
}

int Fail(std::ostream& err, const absl::Status& s) {
  err << "error: " << s.message() << "\n";
  return 2;
}

}  // namespace

int RunPerfProduce(const PerfOptions& o, std::ostream& out, std::ostream& err) {
  if (auto s = CheckLoadOptions(o, 1); !s.ok()) return Fail(err, s);
  auto setup = StartProducer(o, err);
  if (!setup.ok()) return Fail(err, setup.status());
  ProduceState& st = *setup->state;
  auto last_tick = Clock::now();
  const auto start = last_tick;
  auto tick = [&] {
    auto now = Clock::now();
    out << ProgressLine("sent", st.stats.TakeWindow(), Seconds(now - last_tick), "") << ".\n"
        << std::flush;
    last_tick = now;
  };
  int64_t sent = ProduceLoad(o, setup->client->get(), setup->topic.get(), &st,
                             std::random_device{}(), /*stamp=*/false, tick, err);
  double elapsed = Seconds(st.stats.last(Clock::now()) - start);
  out << SummaryLine("sent", st.stats, elapsed, "") << "\n";
  if (Interrupted()) err << "interrupted after " << sent << " records\n";
  if (st.failed > 0) {
    err << "error: " << st.failed << " of " << sent << " records failed; first error: "
        << st.first_error << "\n";
    return 1;
  }
  return 0;
}

int RunPerfConsume(const PerfOptions& o, std::ostream& out, std::ostream& err) {
  if (o.topic.empty()) return Fail(err, absl::InvalidArgumentError("--topic is required"));
  if (o.timeout_ms <= 0 || o.reporting_interval_ms <= 0) {
    return Fail(err, absl::InvalidArgumentError(
                         "--timeout-ms and --reporting-interval-ms must be positive"));
  }
  auto client = StartConsumer(o, /*at_end=*/false, err);
  if (!client.ok()) return Fail(err, client.status());
  rd_kafka_t* rk = (*client)->get();

  const auto interval = std::chrono::milliseconds(o.reporting_interval_ms);
  const auto start = Clock::now();
  const auto end = o.duration_s > 0
                       ? start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(o.duration_s))
                       : Clock::time_point::max();
  auto next_report = start + interval;
  auto last_tick = start;
  auto last_record = start;
  int64_t count = 0, bytes = 0, window_count = 0, window_bytes = 0;
  int status = 0;
  // Messages are taken in batches, as Kafka's consumer perf test takes a poll()'s worth: one
  // queue round trip per batch instead of per record.
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(
      rd_kafka_queue_get_consumer(rk), rd_kafka_queue_destroy);
  std::vector<rd_kafka_message_t*> batch(10000);
  while (!Interrupted()) {
    auto now = Clock::now();
    if (o.num_records > 0 && count >= o.num_records) break;
    if (now >= end) break;
    if (now - last_record >= std::chrono::milliseconds(o.timeout_ms)) break;
    if (now >= next_report) {
      Stats::Window w{window_count, window_bytes, 0, 0};
      out << ProgressLine("consumed", w, Seconds(now - last_tick), nullptr) << ".\n" << std::flush;
      window_count = window_bytes = 0;
      last_tick = now;
      next_report += interval;
      if (next_report <= now) next_report = now + interval;
    }
    size_t wanted = batch.size();
    if (o.num_records > 0) wanted = std::min<size_t>(wanted, static_cast<size_t>(o.num_records - count));
    ssize_t n = rd_kafka_consume_batch_queue(queue.get(), 100, batch.data(), wanted);
    bool fatal = false;
    int64_t got = 0;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (m->err) {
        err << "error: " << rd_kafka_message_errstr(m) << "\n";
        fatal = fatal || (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
                          m->err != RD_KAFKA_RESP_ERR__TRANSPORT);
      } else {
        ++got;
        int64_t size = static_cast<int64_t>(m->len + m->key_len);
        bytes += size;
        window_bytes += size;
      }
      rd_kafka_message_destroy(m);
    }
    if (got > 0) {
      count += got;
      window_count += got;
      last_record = Clock::now();
    }
    if (fatal) {
      status = 1;
      break;
    }
  }
  double elapsed = Seconds(last_record - start);
  out << absl::StrFormat(
      "%d records consumed, %.2f MB, in %.2f s: %.1f records/sec (%.2f MB/sec).\n", count,
      bytes / kMiB, elapsed, elapsed > 0 ? count / elapsed : 0.0,
      elapsed > 0 ? bytes / kMiB / elapsed : 0.0);
  if (o.num_records > 0 && count < o.num_records && status == 0) {
    err << "error: only " << count << " of " << o.num_records << " records arrived ("
        << (Interrupted() ? "interrupted" : absl::StrCat("none for ", o.timeout_ms, " ms"))
        << "); is there enough data in '" << o.topic << "'? fill it with gregor perf produce\n";
    status = 1;
  }
  return status;
}

int RunPerfE2e(const PerfOptions& o, std::ostream& out, std::ostream& err) {
  if (auto s = CheckLoadOptions(o, kStampSize); !s.ok()) return Fail(err, s);
  if (o.timeout_ms <= 0) return Fail(err, absl::InvalidArgumentError("--timeout-ms must be positive"));
  auto setup = StartProducer(o, err);  // first: may auto-create the topic
  if (!setup.ok()) return Fail(err, setup.status());
  auto consumer = StartConsumer(o, /*at_end=*/true, err);
  if (!consumer.ok()) return Fail(err, consumer.status());
  ProduceState& st = *setup->state;
  const uint64_t run_id = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ NowNs();

  Stats e2e;
  if (o.num_records > 0) e2e.Reserve(o.num_records);
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    rd_kafka_t* rk = (*consumer)->get();
    while (!stop.load() && !Interrupted()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) continue;
      int64_t now = NowNs();
      if (!m->err && m->len >= kStampSize &&
          std::memcmp(static_cast<const char*>(m->payload) + 8, &run_id, 8) == 0) {
        int64_t sent_at;
        std::memcpy(&sent_at, m->payload, 8);
        e2e.Record(static_cast<int64_t>(m->len), now - sent_at);
      }
      rd_kafka_message_destroy(m);
    }
  });

  auto last_tick = Clock::now();
  const auto start = last_tick;
  auto tick = [&] {
    auto now = Clock::now();
    double s = Seconds(now - last_tick);
    out << ProgressLine("sent", st.stats.TakeWindow(), s, "produce ") << "; "
        << ProgressLine("received", e2e.TakeWindow(), s, "e2e ") << ".\n"
        << std::flush;
    last_tick = now;
  };
  int64_t sent = ProduceLoad(o, setup->client->get(), setup->topic.get(), &st, run_id,
                             /*stamp=*/true, tick, err);
  const int64_t expected = *AcksSetting(o.acks) == "0" ? sent : st.stats.count();
  // Wait for the consumer to see everything acknowledged (or --timeout-ms of silence).
  const auto interval = std::chrono::milliseconds(o.reporting_interval_ms);
  auto next_report = Clock::now() + interval;
  while (!Interrupted() && e2e.count() < expected) {
    auto now = Clock::now();
    if (now - e2e.last(now) >= std::chrono::milliseconds(o.timeout_ms) &&
        now - start >= std::chrono::milliseconds(o.timeout_ms)) {
      break;
    }
    if (now >= next_report) {
      tick();
      next_report = now + interval;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.store(true);
  reader.join();

  out << SummaryLine("sent", st.stats, Seconds(st.stats.last(Clock::now()) - start), "produce ")
      << "\n";
  out << SummaryLine("received", e2e, Seconds(e2e.last(Clock::now()) - start), "end-to-end ")
      << "\n";
  int status = 0;
  if (st.failed > 0) {
    err << "error: " << st.failed << " of " << sent << " records failed; first error: "
        << st.first_error << "\n";
    status = 1;
  }
  if (e2e.count() < expected) {
    err << "error: the consumer received " << e2e.count() << " of " << expected
        << " acknowledged records"
        << (Interrupted() ? " (interrupted)" : absl::StrCat(" (none for ", o.timeout_ms, " ms)"))
        << "\n";
    status = 1;
  }
  if (Interrupted()) err << "interrupted after " << sent << " records\n";
  return status;
}

void AddPerfCommands(CLI::App& app, int* exit_code) {
  CLI::App* perf = app.add_subcommand(
      "perf", "Load tests: producer and consumer throughput, produce and end-to-end latency");
  perf->require_subcommand(1);

  auto common = [](CLI::App* cmd, PerfOptions* o) {
    cmd->add_option("--topic,-t", o->topic, "Topic to use")->required();
    AddClientFlags(cmd, &o->client, "librdkafka property, repeatable (e.g. -X queue.buffering.max.kbytes=65536)");
    cmd->add_option("--reporting-interval-ms", o->reporting_interval_ms,
                    "Time between progress lines")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  };
  auto load = [](CLI::App* cmd, PerfOptions* o) {
    cmd->add_option("--record-size,-s", o->record_size, "Bytes per record (value only, no key)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100 << 20));
    cmd->add_option("--num-records,-n", o->num_records, "Records to send")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--duration-s,-d", o->duration_s,
                    "Send for this many seconds (with --num-records: whichever ends first)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--throughput", o->throughput, "Target records/s; -1 = as fast as possible")
        ->capture_default_str();
    cmd->add_option("--acks", o->acks, "all (= -1), 1 or 0")
        ->capture_default_str()
        ->check(CLI::IsMember({"all", "-1", "1", "0"}));
    cmd->add_flag("--idempotence", o->idempotence,
                  "Idempotent producer (librdkafka enable.idempotence; needs --acks all)");
    cmd->add_option("--linger-ms", o->linger_ms, "librdkafka linger.ms (default 5)")
        ->check(CLI::Range(0, 900000));
    cmd->add_option("--batch-size", o->batch_size,
                    "librdkafka batch.size: max bytes per batch (default 1000000)")
        ->check(CLI::Range(1, 2147483647));
    cmd->add_option("--compression", o->compression, "Batch compression codec")
        ->capture_default_str()
        ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
    cmd->add_option("--key-count", o->key_count,
                    "Give records keys key-<random below N> (needed for compacted topics); "
                    "default: no key")
        ->check(CLI::PositiveNumber);
  };

  auto produce = std::make_shared<PerfOptions>();
  CLI::App* p = perf->add_subcommand(
      "produce",
      "Send records as fast as allowed and report throughput and produce latency (produce() to "
      "delivery report), like kafka-producer-perf-test.sh");
  p->footer(
      "Example:\n  gregor perf produce --topic perf --num-records 1000000 --record-size 100 "
      "--throughput -1 --acks all");
  common(p, produce.get());
  load(p, produce.get());
  p->callback([produce, exit_code] {
    InstallInterruptHandler();
    *exit_code = RunPerfProduce(*produce, std::cout, std::cerr);
  });

  auto consume = std::make_shared<PerfOptions>();
  CLI::App* c = perf->add_subcommand(
      "consume",
      "Read records from the start of every partition and report throughput, like "
      "kafka-consumer-perf-test.sh");
  c->footer("Example:\n  gregor perf consume --topic perf --num-records 1000000");
  common(c, consume.get());
  c->add_option("--num-records,-n,--messages", consume->num_records,
                "Records to read (default: until --timeout-ms passes without one)")
      ->check(CLI::PositiveNumber);
  c->add_option("--duration-s,-d", consume->duration_s, "Read for at most this many seconds")
      ->check(CLI::PositiveNumber);
  c->add_option("--timeout-ms", consume->timeout_ms, "Stop after this long without a record")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->callback([consume, exit_code] {
    InstallInterruptHandler();
    *exit_code = RunPerfConsume(*consume, std::cout, std::cerr);
  });

  auto e2e = std::make_shared<PerfOptions>();
  CLI::App* e = perf->add_subcommand(
      "e2e",
      "Produce while a second client reads the same topic; report end-to-end latency (send "
      "time stamped into the value, to the consumer's receipt) next to produce latency");
  e->footer(
      "Example:\n  gregor perf e2e --topic perf --num-records 100000 --record-size 100 "
      "--throughput 10000");
  common(e, e2e.get());
  load(e, e2e.get());
  e->add_option("--timeout-ms", e2e->timeout_ms,
                "Give up waiting for the consumer after this long without a record")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  e->callback([e2e, exit_code] {
    InstallInterruptHandler();
    *exit_code = RunPerfE2e(*e2e, std::cout, std::cerr);
  });
}

}  // namespace gregor::tools
