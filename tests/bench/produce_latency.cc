// produce_latency: the broker's own produce latency, measured with the Kafka protocol directly
// (no client library, one request in flight, a blocking socket), so that no client's batching,
// threads or timers are in the figure.
//
//   produce_latency --bootstrap 127.0.0.1:9092 --topic T [--partition 0] [--acks 0,1,all]
//                   [--rate 2000] [--count 20000] [--warmup 1000] [--record-size 100]
//                   [--producer-id N]
//
// It asks the bootstrap broker for the partition's leader (Metadata v1), connects to it and, for
// each acks setting in turn, sends --count Produce v3 requests of one record each at --rate per
// second (a fixed schedule; a late request is sent at once, not in a burst), timing each from
// the first byte sent to the last byte of its response. acks=0 has no response: each produce is
// followed on the same connection by an ApiVersions request, and the time to that answer is
// reported (the broker finishes the append before it starts the next request).
// With --producer-id, each batch is an idempotent producer's (that id, epoch 0, the next
// sequence number), so the broker checks and records its sequence (issue 14's cost per request).
// Prints p50 / p95 / p99 / p99.9 / max per setting.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/kafka/protocol.h"
#include "common/record_batch.h"

namespace {

using namespace gregor;  // NOLINT: a small tool
using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "produce_latency: %s\n", message.c_str());
  std::exit(1);
}

int Connect(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    Die("cannot resolve " + host);
  }
  int fd = socket(found->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    Die("cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  freeaddrinfo(found);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void SendAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) Die(std::string("send failed: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
}

void RecvAll(int fd, char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = recv(fd, out + done, size - done, 0);
    if (n <= 0) Die("the broker closed the connection");
    done += static_cast<size_t>(n);
  }
}

// One response frame (without its size prefix).
std::string ReadFrame(int fd) {
  char prefix[4];
  RecvAll(fd, prefix, 4);
  auto size = kafka::DecodeFrameSize(std::string_view(prefix, 4));
  if (!size.ok()) Die(std::string(size.status().message()));
  std::string frame(static_cast<size_t>(*size), '\0');
  RecvAll(fd, frame.data(), frame.size());
  return frame;
}

std::string Frame(kafka::ApiKey key, int16_t version, int32_t correlation_id, kafka::Writer body) {
  kafka::RequestHeader header;
  header.api_key = key;
  header.api_version = version;
  header.correlation_id = correlation_id;
  header.client_id = "produce_latency";
  auto bytes = kafka::FrameRequest(header, std::move(body)).Flatten();
  if (!bytes.ok()) Die(std::string(bytes.status().message()));
  return *bytes;
}

struct Leader {
  std::string host;
  int port = 0;
};

Leader FindLeader(const std::string& host, int port, const std::string& topic, int32_t partition) {
  int fd = Connect(host, port);
  kafka::MetadataRequest request;
  kafka::MetadataRequestTopic wanted;
  wanted.name = topic;
  request.topics = std::vector<kafka::MetadataRequestTopic>{wanted};
  kafka::Writer body;
  if (!kafka::EncodeMetadataRequest(request, 1, body).ok()) Die("cannot encode Metadata");
  SendAll(fd, Frame(kafka::ApiKey::kMetadata, 1, 1, std::move(body)));
  std::string frame = ReadFrame(fd);
  close(fd);
  auto header = kafka::ParseResponseHeader(frame, kafka::ApiKey::kMetadata, 1);
  if (!header.ok()) Die(std::string(header.status().message()));
  auto response = kafka::DecodeMetadataResponse(header->body, 1);
  if (!response.ok()) Die(std::string(response.status().message()));
  for (const auto& t : response->topics) {
    if (t.name != topic) continue;
    for (const auto& p : t.partitions) {
      if (p.partition_index != partition) continue;
      for (const auto& b : response->brokers) {
        if (b.node_id == p.leader_id) return {b.host, b.port};
      }
    }
  }
  Die("no leader for " + topic + "-" + std::to_string(partition) + " (does the topic exist?)");
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return sorted[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap = "127.0.0.1:9092", topic;
  std::string acks_list = "0,1,all";
  int32_t partition = 0;
  int rate = 2000, count = 20000, warmup = 1000, record_size = 100;
  int64_t producer_id = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    bool ok = true;
    if (flag == "--bootstrap") bootstrap = value;
    else if (flag == "--topic") topic = value;
    else if (flag == "--acks") acks_list = value;
    else if (flag == "--partition") ok = absl::SimpleAtoi(value, &partition);
    else if (flag == "--rate") ok = absl::SimpleAtoi(value, &rate);
    else if (flag == "--count") ok = absl::SimpleAtoi(value, &count);
    else if (flag == "--warmup") ok = absl::SimpleAtoi(value, &warmup);
    else if (flag == "--record-size") ok = absl::SimpleAtoi(value, &record_size);
    else if (flag == "--producer-id") ok = absl::SimpleAtoi(value, &producer_id);
    else Die("unknown flag " + flag);
    if (!ok) Die("bad value for " + flag + ": " + value);
  }
  if (topic.empty() || rate <= 0 || count <= 0) {
    Die("usage: produce_latency --bootstrap HOST:PORT --topic T [--partition N] [--acks 0,1,all] "
        "[--rate N] [--count N] [--warmup N] [--record-size N]");
  }
  std::vector<std::string> host_port = absl::StrSplit(bootstrap.substr(0, bootstrap.find(',')), ':');
  int port = 0;
  if (host_port.size() != 2 || !absl::SimpleAtoi(host_port[1], &port)) Die("bad --bootstrap");
  Leader leader = FindLeader(host_port[0], port, topic, partition);
  int fd = Connect(leader.host, leader.port);

  std::string value(static_cast<size_t>(record_size), 'x');
  auto batch = record::BatchBuilder().Add(std::nullopt, value, 0).Build();
  if (!batch.ok()) Die(std::string(batch.status().message()));
  int32_t correlation = 100;
  int32_t sequence = 0;

  for (const std::string& acks_name : std::vector<std::string>(absl::StrSplit(acks_list, ','))) {
    int16_t acks = acks_name == "all" || acks_name == "-1" ? -1 : (acks_name == "1" ? 1 : 0);
    kafka::ProduceRequest request;
    request.acks = acks;
    request.timeout_ms = 30000;
    request.topic_data.push_back({topic, {{partition, std::string_view(*batch)}}});
    std::vector<double> latencies_ms;
    latencies_ms.reserve(static_cast<size_t>(count));
    const auto interval = std::chrono::nanoseconds(1'000'000'000LL / rate);
    auto next = SteadyClock::now();
    for (int i = 0; i < warmup + count; ++i) {
      std::this_thread::sleep_until(next);
      next = std::max(next + interval, SteadyClock::now() - interval);
      if (producer_id >= 0) {
        batch = record::BatchBuilder().set_producer(producer_id, 0, sequence++).Add(std::nullopt, value, 0).Build();
        if (!batch.ok()) Die(std::string(batch.status().message()));
        request.topic_data[0].partition_data[0].records = std::string_view(*batch);
      }
      kafka::Writer body;
      if (!kafka::EncodeProduceRequest(request, 3, body).ok()) Die("cannot encode Produce");
      std::string frame = Frame(kafka::ApiKey::kProduce, 3, ++correlation, std::move(body));
      if (acks == 0) {
        frame += Frame(kafka::ApiKey::kApiVersions, 0, ++correlation, kafka::Writer());
      }
      auto start = SteadyClock::now();
      SendAll(fd, frame);
      std::string response = ReadFrame(fd);
      auto end = SteadyClock::now();
      if (acks != 0) {
        auto header = kafka::ParseResponseHeader(response, kafka::ApiKey::kProduce, 3);
        if (!header.ok()) Die(std::string(header.status().message()));
        auto decoded = kafka::DecodeProduceResponse(header->body, 3);
        if (!decoded.ok()) Die(std::string(decoded.status().message()));
        for (const auto& t : decoded->responses) {
          for (const auto& p : t.partition_responses) {
            if (p.error_code != KafkaErrorCode::kNone) {
              Die("produce failed: error " + std::to_string(static_cast<int>(p.error_code)));
            }
          }
        }
      }
      if (i >= warmup) latencies_ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    std::printf("acks=%-3s %d requests at %d/s, %d B: p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, "
                "p99.9 %.3f ms, max %.3f ms%s\n",
                acks_name.c_str(), count, rate, record_size,
                Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.95),
                Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 0.999),
                latencies_ms.back(), acks == 0 ? " (to the answer of the ApiVersions behind it)" : "");
    std::fflush(stdout);
  }
  close(fd);
  return 0;
}
