// Consumer fetches with and without an incremental fetch session (KIP-227), against one broker:
// a topic of --partitions partitions, all on that broker (RF 1), is filled by the caller
// (tests/bench/fetch_sessions.sh), then read from offset 0 to its end, then polled while idle.
// Fetch v11 either way: without a session every request names every partition and every answer
// carries every partition; with one, a request names only the partitions whose position moved
// and an answer only the partitions with news.
//
//   fetch_session_bench --broker 127.0.0.1:9092 --topic T --partitions 100 --mode session|full
//   fetch_session_bench ... --create --broker-id 1   (creates T with every partition on broker 1)
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/kafka/api.h"
#include "common/kafka/messages.h"
#include "common/record_batch.h"

namespace {

using namespace gregor;         // NOLINT: a small tool
using namespace gregor::kafka;  // NOLINT

struct Args {
  std::string broker = "127.0.0.1:9092";
  std::string topic = "bench-fetch-sessions";
  int partitions = 100;
  std::string mode = "session";
  bool create = false;
  int broker_id = 1;
  int idle_polls = 2000;
};

int Connect(const std::string& address) {
  std::vector<std::string> parts = absl::StrSplit(address, ':');
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (parts.size() != 2 || getaddrinfo(parts[0].c_str(), parts[1].c_str(), &hints, &res) != 0) {
    std::fprintf(stderr, "bad broker address %s\n", address.c_str());
    std::exit(2);
  }
  int fd = socket(res->ai_family, SOCK_STREAM, 0);
  if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  freeaddrinfo(res);
  return fd;
}

void WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0) std::exit(1);
    off += static_cast<size_t>(n);
  }
}

std::string ReadFrame(int fd) {
  auto read_exactly = [fd](size_t n) {
    std::string out(n, '\0');
    size_t off = 0;
    while (off < n) {
      ssize_t r = read(fd, out.data() + off, n - off);
      if (r <= 0) {
        std::fprintf(stderr, "the broker closed the connection\n");
        std::exit(1);
      }
      off += static_cast<size_t>(r);
    }
    return out;
  };
  std::string size = read_exactly(4);
  uint32_t n = (static_cast<uint8_t>(size[0]) << 24) | (static_cast<uint8_t>(size[1]) << 16) |
               (static_cast<uint8_t>(size[2]) << 8) | static_cast<uint8_t>(size[3]);
  return read_exactly(n);
}

struct Traffic {
  int64_t requests = 0;
  int64_t request_bytes = 0;
  int64_t response_bytes = 0;
};

template <typename Request, typename Encode>
std::string Call(int fd, ApiKey key, int16_t version, const Request& request, Encode encode,
                 Traffic* traffic) {
  static int32_t correlation = 0;
  Writer body;
  if (!encode(request, version, body).ok()) std::exit(1);
  RequestHeader header{key, version, ++correlation, std::string("fetch-session-bench"), {}};
  Writer frame = FrameRequest(header, std::move(body));
  std::string bytes = *frame.Flatten();
  WriteAll(fd, bytes);
  std::string response = ReadFrame(fd);
  if (traffic) {
    ++traffic->requests;
    traffic->request_bytes += static_cast<int64_t>(bytes.size());
    traffic->response_bytes += static_cast<int64_t>(response.size()) + 4;
  }
  auto parsed = ParseResponseHeader(response, key, version);
  if (!parsed.ok()) std::exit(1);
  return std::string(parsed->body);
}

void CreateTopic(int fd, const Args& a) {
  CreateTopicsRequest request;
  CreatableTopic& t = request.topics.emplace_back();
  t.name = a.topic;
  for (int p = 0; p < a.partitions; ++p) t.assignments.push_back({p, {a.broker_id}});
  request.timeout_ms = 30000;
  auto resp = DecodeCreateTopicsResponse(
      Call(fd, ApiKey::kCreateTopics, 3, request, EncodeCreateTopicsRequest, nullptr), 3);
  if (!resp.ok() || resp->topics.empty() ||
      (resp->topics[0].error_code != KafkaErrorCode::kNone &&
       resp->topics[0].error_code != KafkaErrorCode::kTopicAlreadyExists)) {
    std::fprintf(stderr, "CreateTopics failed\n");
    std::exit(1);
  }
}

struct Position {
  int64_t offset = 0;
  int64_t high_watermark = -1;
  bool sent = false;  // the session knows this offset
};

// One fetch: returns the records read. `session` holds (id, next epoch) when sessions are on.
int64_t FetchOnce(int fd, const Args& a, std::vector<Position>& pos, int32_t* session_id,
                  int32_t* epoch, Traffic* traffic, int64_t* bytes, int max_wait_ms) {
  const bool sessions = a.mode == "session";
  FetchRequest request;
  request.max_wait_ms = max_wait_ms;
  request.min_bytes = 1;
  request.max_bytes = 50 * 1024 * 1024;
  request.session_id = sessions ? *session_id : 0;
  request.session_epoch = sessions ? *epoch : -1;
  FetchRequestTopic& topic = request.topics.emplace_back();
  topic.topic = a.topic;
  for (int p = 0; p < a.partitions; ++p) {
    if (sessions && *epoch > 0 && pos[p].sent) continue;  // the session has it
    FetchRequestPartition fp;
    fp.partition = p;
    fp.fetch_offset = pos[p].offset;
    fp.partition_max_bytes = 1024 * 1024;
    topic.partitions.push_back(fp);
    pos[p].sent = true;
  }
  auto resp = DecodeFetchResponse(Call(fd, ApiKey::kFetch, 11, request, EncodeFetchRequest, traffic), 11);
  if (!resp.ok() || resp->error_code != KafkaErrorCode::kNone) {
    std::fprintf(stderr, "fetch failed: %s\n", resp.ok() ? "session error" : std::string(resp.status().message()).c_str());
    std::exit(1);
  }
  if (sessions) {
    *session_id = resp->session_id;
    *epoch = resp->session_id == 0 ? 0 : (*epoch == 0 ? 1 : *epoch + 1);
  }
  int64_t records = 0;
  for (const auto& t : resp->responses) {
    for (const auto& p : t.partitions) {
      Position& position = pos[p.partition_index];
      position.high_watermark = p.high_watermark;
      for (const Chunk& chunk : p.records) {
        const std::string& data = std::get<std::string>(chunk);
        *bytes += static_cast<int64_t>(data.size());
        record::BatchIterator it(data);
        record::BatchHeader h;
        std::string_view batch;
        while (it.Next(&h, &batch)) {
          if (h.next_offset() <= position.offset) continue;
          records += h.next_offset() - std::max(h.base_offset, position.offset);
          position.offset = h.next_offset();
          position.sent = false;  // the next request tells the session
        }
      }
    }
  }
  return records;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (k == "--broker") a.broker = v, ++i;
    else if (k == "--topic") a.topic = v, ++i;
    else if (k == "--partitions") (void)absl::SimpleAtoi(v, &a.partitions), ++i;
    else if (k == "--mode") a.mode = v, ++i;
    else if (k == "--broker-id") (void)absl::SimpleAtoi(v, &a.broker_id), ++i;
    else if (k == "--idle-polls") (void)absl::SimpleAtoi(v, &a.idle_polls), ++i;
    else if (k == "--create") a.create = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  int fd = Connect(a.broker);
  if (a.create) {
    CreateTopic(fd, a);
    return 0;
  }
  std::vector<Position> pos(a.partitions);
  int32_t session_id = 0, epoch = 0;
  Traffic catchup;
  int64_t records = 0, bytes = 0;
  auto start = std::chrono::steady_clock::now();
  while (true) {
    records += FetchOnce(fd, a, pos, &session_id, &epoch, &catchup, &bytes, 100);
    bool done = true;
    for (const Position& p : pos) done = done && p.high_watermark >= 0 && p.offset >= p.high_watermark;
    if (done) break;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: read %lld records (%.1f MB) from %d partitions in %.2f s: %.0f records/s, %.1f MB/s; "
              "%lld fetches, %.0f B per request, %.0f B per response\n",
              a.mode.c_str(), static_cast<long long>(records), bytes / 1e6, a.partitions, s,
              records / s, bytes / 1e6 / s, static_cast<long long>(catchup.requests),
              static_cast<double>(catchup.request_bytes) / catchup.requests,
              static_cast<double>(catchup.response_bytes) / catchup.requests);
  // Idle: everything read; each poll answers at once (max_wait 0).
  Traffic idle;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < a.idle_polls; ++i) FetchOnce(fd, a, pos, &session_id, &epoch, &idle, &bytes, 0);
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: %d idle polls in %.2f s: %.0f polls/s, %.0f B per request, %.0f B per response\n",
              a.mode.c_str(), a.idle_polls, s, a.idle_polls / s,
              static_cast<double>(idle.request_bytes) / idle.requests,
              static_cast<double>(idle.response_bytes) / idle.requests);
  close(fd);
  return 0;
}
