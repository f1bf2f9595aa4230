#include "tools/group_watch.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>

#include "tools/group_admin.h"
#include "tools/group_events.h"

namespace gregor::tools {
namespace {

constexpr char kOffsetsTopic[] = "__consumer_offsets";
constexpr int kPollEveryMs = 500;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ConsumerDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};

// A consumer of every partition of __consumer_offsets from its end; nullptr until the topic
// exists (it is created on a group's first use).
std::unique_ptr<rd_kafka_t, ConsumerDeleter> TailOffsetsTopic(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto [k, v] : {std::pair{"bootstrap.servers", bootstrap.c_str()},
                      {"group.id", "gregor-cluster-watch"},
                      {"enable.auto.commit", "false"},
                      {"enable.partition.eof", "false"},
                      {"log_level", "0"}}) {
    rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr));
  }
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)));
  if (!rk) return nullptr;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk.get(), kOffsetsTopic, nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk.get(), 0, topic, &md, 5000);
  rd_kafka_topic_destroy(topic);
  if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
    if (md) rd_kafka_metadata_destroy(md);
    return nullptr;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(list, kOffsetsTopic, p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_assign(rk.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  return rk;
}

}  // namespace

GroupWatcher::GroupWatcher(std::string bootstrap, bool initial_state, Print print)
    : bootstrap_(std::move(bootstrap)), initial_state_(initial_state), print_(std::move(print)) {}

GroupWatcher::~GroupWatcher() { Stop(); }

void GroupWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void GroupWatcher::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void GroupWatcher::Run() {
  GroupEventTracker tracker;
  std::unique_ptr<GroupAdmin> admin;
  std::unique_ptr<rd_kafka_t, ConsumerDeleter> tail;
  auto next_poll = std::chrono::steady_clock::now();
  auto next_tail_attempt = next_poll;
  bool first_poll = true;
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    if (!tail && now >= next_tail_attempt) {
      tail = TailOffsetsTopic(bootstrap_);
      next_tail_attempt = now + std::chrono::seconds(2);
    }
    if (tail) {
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(tail.get(), 100);
      if (msg != nullptr) {
        if (!msg->err && msg->key != nullptr) {
          std::optional<std::string_view> value;
          if (msg->payload != nullptr) value = std::string_view(static_cast<const char*>(msg->payload), msg->len);
          for (const std::string& line :
               tracker.OnRecord(std::string_view(static_cast<const char*>(msg->key), msg->key_len), value)) {
            print_(rd_kafka_message_timestamp(msg, nullptr), line);
          }
        }
        rd_kafka_message_destroy(msg);
        continue;  // drain records before the next poll of the groups
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // no topic yet: pace
    }
    if (std::chrono::steady_clock::now() < next_poll) continue;
    next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(kPollEveryMs);
    if (!admin) {
      auto created = GroupAdmin::Create(bootstrap_, 3000);
      if (!created.ok()) continue;
      admin = std::move(*created);
    }
    auto ids = admin->ListGroups();
    if (!ids.ok()) continue;
    std::vector<GroupSnapshot> snapshots;
    if (!ids->empty()) {
      auto described = admin->Describe(*ids);
      if (!described.ok()) continue;
      for (const GroupInfo& g : *described) {
        if (!g.error.empty()) continue;
        snapshots.push_back({g.id, g.state, g.members.size(), g.coordinator_id});
      }
    }
    for (const std::string& line : tracker.OnPoll(snapshots, first_poll && initial_state_)) {
      print_(NowMs(), line);
    }
    first_poll = false;
  }
}

}  // namespace gregor::tools
