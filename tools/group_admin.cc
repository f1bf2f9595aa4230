#include "tools/group_admin.h"

#include "absl/strings/str_cat.h"
#include "tools/kafka_client.h"

namespace gregor::tools {
namespace {

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// An admin request's queue and options, freed together.
struct Request {
  Request(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms)
      : queue(rd_kafka_queue_new(rk)), options(rd_kafka_AdminOptions_new(rk, op)) {
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof(errstr));
  }
  ~Request() {
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
  }
  rd_kafka_queue_t* queue;
  rd_kafka_AdminOptions_t* options;
};

PartitionList ToList(const std::vector<TopicPartitionId>& partitions) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& [t, p] : partitions) rd_kafka_topic_partition_list_add(list.get(), t.c_str(), p);
  return list;
}

std::string ErrorText(rd_kafka_resp_err_t e) {
  return absl::StrCat(rd_kafka_err2name(e), ": ", rd_kafka_err2str(e));
}

// The per-partition results of a group result (offset lists, alter and delete results).
std::map<TopicPartitionId, const rd_kafka_topic_partition_t*> Partitions(const rd_kafka_group_result_t* g) {
  std::map<TopicPartitionId, const rd_kafka_topic_partition_t*> out;
  const rd_kafka_topic_partition_list_t* list = rd_kafka_group_result_partitions(g);
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    out[{list->elems[i].topic, list->elems[i].partition}] = &list->elems[i];
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<GroupAdmin>> GroupAdmin::Create(const std::string& bootstrap,
                                                               int timeout_ms) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("bad --bootstrap-server: ", errstr));
  }
  rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));  // errors are reported here
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InternalError(absl::StrCat("cannot create a Kafka client: ", errstr));
  std::unique_ptr<GroupAdmin> admin(new GroupAdmin());
  admin->rk_ = rk;
  admin->bootstrap_ = bootstrap;
  admin->timeout_ms_ = timeout_ms;
  // Reach a broker now, so "the cluster is not running" is the first thing said.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, nullptr, &md, timeout_ms);
  if (e) return admin->Unreachable(rd_kafka_err2str(e));
  rd_kafka_metadata_destroy(md);
  return admin;
}

GroupAdmin::~GroupAdmin() {
  if (rk_) rd_kafka_destroy(rk_);
}

absl::Status GroupAdmin::Unreachable(const std::string& detail) const {
  return absl::UnavailableError(absl::StrCat(UnreachableMessage(bootstrap_), "\n  (", detail, ")"));
}

absl::StatusOr<rd_kafka_event_t*> GroupAdmin::Await(rd_kafka_queue_t* queue) {
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, timeout_ms_ + 2000);
  if (event == nullptr) return Unreachable("timed out");
  if (rd_kafka_event_error(event)) {
    std::string text = rd_kafka_event_error_string(event);
    const bool timeout = rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__TIMED_OUT;
    rd_kafka_event_destroy(event);
    if (timeout) return Unreachable(text);
    return absl::InternalError(text);
  }
  return event;
}

absl::StatusOr<std::vector<std::string>> GroupAdmin::ListGroups() {
  Request r(rk_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms_);
  rd_kafka_ListConsumerGroups(rk_, r.options, r.queue);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  const auto* result = rd_kafka_event_ListConsumerGroups_result(*event);
  size_t n = 0, errors = 0;
  const rd_kafka_ConsumerGroupListing_t** valid = rd_kafka_ListConsumerGroups_result_valid(result, &n);
  const rd_kafka_error_t** failed = rd_kafka_ListConsumerGroups_result_errors(result, &errors);
  if (errors > 0 && n == 0) {
    return absl::UnavailableError(absl::StrCat("listing groups failed: ", rd_kafka_error_string(failed[0])));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::StatusOr<std::vector<GroupInfo>> GroupAdmin::Describe(const std::vector<std::string>& groups) {
  Request r(rk_, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms_);
  std::vector<const char*> names;
  for (const std::string& g : groups) names.push_back(g.c_str());
  rd_kafka_DescribeConsumerGroups(rk_, names.data(), names.size(), r.options, r.queue);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** described = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(*event), &n);
  std::vector<GroupInfo> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_ConsumerGroupDescription_t* d = described[i];
    GroupInfo g;
    g.id = rd_kafka_ConsumerGroupDescription_group_id(d);
    if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(d)) {
      g.error = rd_kafka_error_string(e);
    }
    g.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d));
    if (const char* a = rd_kafka_ConsumerGroupDescription_partition_assignor(d)) g.assignor = a;
    if (const rd_kafka_Node_t* node = rd_kafka_ConsumerGroupDescription_coordinator(d)) {
      g.coordinator_id = rd_kafka_Node_id(node);
      g.coordinator = absl::StrCat(rd_kafka_Node_host(node), ":", rd_kafka_Node_port(node));
    }
    for (size_t m = 0; m < rd_kafka_ConsumerGroupDescription_member_count(d); ++m) {
      const rd_kafka_MemberDescription_t* md = rd_kafka_ConsumerGroupDescription_member(d, m);
      GroupMemberInfo member;
      member.consumer_id = rd_kafka_MemberDescription_consumer_id(md);
      if (const char* id = rd_kafka_MemberDescription_group_instance_id(md)) member.instance_id = id;
      member.host = rd_kafka_MemberDescription_host(md);
      member.client_id = rd_kafka_MemberDescription_client_id(md);
      const rd_kafka_topic_partition_list_t* list =
          rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
      for (int k = 0; list != nullptr && k < list->cnt; ++k) {
        member.assignment.push_back({list->elems[k].topic, list->elems[k].partition});
      }
      std::sort(member.assignment.begin(), member.assignment.end());
      g.members.push_back(std::move(member));
    }
    out.push_back(std::move(g));
  }
  return out;
}

absl::StatusOr<std::map<std::string, int32_t>> GroupAdmin::Topics() {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk_, 1, nullptr, &md, timeout_ms_);
  if (e) return Unreachable(rd_kafka_err2str(e));
  std::map<std::string, int32_t> out;
  for (int i = 0; i < md->topic_cnt; ++i) {
    std::string name = md->topics[i].topic;
    if (name.rfind("__", 0) == 0 || md->topics[i].err) continue;
    out[name] = md->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

absl::StatusOr<std::map<TopicPartitionId, int64_t>> GroupAdmin::Committed(
    const std::string& group, const std::vector<TopicPartitionId>& partitions) {
  std::map<TopicPartitionId, int64_t> out;
  if (partitions.empty()) return out;
  Request r(rk_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms_);
  // Explicit partitions: librdkafka 2.0.2 sends "all" as an empty list, which means none
  // (consumer-groups.md §8.7).
  PartitionList list = ToList(partitions);
  rd_kafka_ListConsumerGroupOffsets_t* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get());
  rd_kafka_ListConsumerGroupOffsets(rk_, &request, 1, r.options, r.queue);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  size_t n = 0;
  const rd_kafka_group_result_t** groups =
      rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(*event), &n);
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) {
      return absl::UnavailableError(absl::StrCat("reading the offsets of group '", group,
                                                 "' failed: ", rd_kafka_error_string(e)));
    }
    for (const auto& [tp, p] : Partitions(groups[i])) {
      if (p->err == RD_KAFKA_RESP_ERR_NO_ERROR && p->offset >= 0) out[tp] = p->offset;
    }
  }
  return out;
}

absl::StatusOr<std::pair<int64_t, int64_t>> GroupAdmin::Watermarks(const TopicPartitionId& tp) {
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t e =
      rd_kafka_query_watermark_offsets(rk_, tp.first.c_str(), tp.second, &low, &high, timeout_ms_);
  if (e) {
    return absl::UnavailableError(absl::StrCat("reading the offsets of ", tp.first, "-", tp.second,
                                               " failed: ", ErrorText(e)));
  }
  return std::pair(low, high);
}

absl::StatusOr<std::map<TopicPartitionId, int64_t>> GroupAdmin::OffsetsForTimes(
    const std::map<TopicPartitionId, int64_t>& timestamps) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(timestamps.size())));
  for (const auto& [tp, ts] : timestamps) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = ts;
  }
  rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk_, list.get(), timeout_ms_);
  if (e) return absl::UnavailableError(absl::StrCat("looking up offsets by time failed: ", ErrorText(e)));
  std::map<TopicPartitionId, int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& el = list->elems[i];
    if (el.err) {
      return absl::UnavailableError(absl::StrCat("looking up offsets by time in ", el.topic, "-",
                                                 el.partition, " failed: ", ErrorText(el.err)));
    }
    out[{el.topic, el.partition}] = el.offset;
  }
  return out;
}

absl::StatusOr<std::map<TopicPartitionId, std::string>> GroupAdmin::AlterOffsets(
    const std::string& group, const std::map<TopicPartitionId, int64_t>& offsets) {
  Request r(rk_, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, timeout_ms_);
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  }
  rd_kafka_AlterConsumerGroupOffsets_t* request = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get());
  rd_kafka_AlterConsumerGroupOffsets(rk_, &request, 1, r.options, r.queue);
  rd_kafka_AlterConsumerGroupOffsets_destroy(request);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  size_t n = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(*event), &n);
  std::map<TopicPartitionId, std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_error_t* ge = rd_kafka_group_result_error(groups[i]);
    for (const auto& [tp, p] : Partitions(groups[i])) {
      out[tp] = p->err ? ErrorText(p->err) : (ge ? rd_kafka_error_string(ge) : "");
    }
    if (ge && out.empty()) return absl::FailedPreconditionError(rd_kafka_error_string(ge));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> GroupAdmin::DeleteGroups(
    const std::vector<std::string>& groups) {
  Request r(rk_, RD_KAFKA_ADMIN_OP_DELETEGROUPS, timeout_ms_);
  std::vector<rd_kafka_DeleteGroup_t*> requests;
  for (const std::string& g : groups) requests.push_back(rd_kafka_DeleteGroup_new(g.c_str()));
  rd_kafka_DeleteGroups(rk_, requests.data(), requests.size(), r.options, r.queue);
  for (auto* d : requests) rd_kafka_DeleteGroup_destroy(d);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(*event), &n);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < n; ++i) {
    const rd_kafka_error_t* e = rd_kafka_group_result_error(results[i]);
    out[rd_kafka_group_result_name(results[i])] = e ? rd_kafka_error_string(e) : "";
  }
  return out;
}

absl::StatusOr<std::pair<std::string, std::map<TopicPartitionId, std::string>>>
GroupAdmin::DeleteOffsets(const std::string& group, const std::vector<TopicPartitionId>& partitions) {
  Request r(rk_, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS, timeout_ms_);
  PartitionList list = ToList(partitions);
  rd_kafka_DeleteConsumerGroupOffsets_t* request =
      rd_kafka_DeleteConsumerGroupOffsets_new(group.c_str(), list.get());
  rd_kafka_DeleteConsumerGroupOffsets(rk_, &request, 1, r.options, r.queue);
  rd_kafka_DeleteConsumerGroupOffsets_destroy(request);
  auto event = Await(r.queue);
  if (!event.ok()) return event.status();
  Event owned(*event);
  size_t n = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
      rd_kafka_event_DeleteConsumerGroupOffsets_result(*event), &n);
  std::pair<std::string, std::map<TopicPartitionId, std::string>> out;
  for (size_t i = 0; i < n; ++i) {
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[i])) out.first = rd_kafka_error_string(e);
    for (const auto& [tp, p] : Partitions(groups[i])) out.second[tp] = p->err ? ErrorText(p->err) : "";
  }
  return out;
}

}  // namespace gregor::tools
