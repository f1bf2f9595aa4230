#include "common/metadata/topic_configs.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"

namespace gregor::metadata {
namespace {

using T = TopicConfigType;

// Facts from Kafka's TopicConfig / LogConfig (names, types, defaults, broker synonyms); the
// documentation lines are ours.
const std::vector<TopicConfigDef> kDefs = {
    {"cleanup.policy", T::kList, "log.cleanup.policy", "delete",
     "delete old segments, compact to the latest value per key, or both", 0,
     "delete|compact|delete,compact|compact,delete"},
    {"compression.type", T::kString, "", "producer",
     "the codec of the topic; Gregor stores what producers send (a zstd topic needs Fetch v10+)", 0,
     "producer|uncompressed|gzip|snappy|lz4|zstd"},
    {"delete.retention.ms", T::kLong, "log.cleaner.delete.retention.ms", "86400000",
     "how long tombstones stay readable after a clean of a compacted topic", 0},
    {"file.delete.delay.ms", T::kLong, "", "60000", "delay before a deleted segment's files go", 0},
    {"flush.messages", T::kLong, "log.flush.interval.messages", "9223372036854775807",
     "fsync after this many records", 1},
    {"flush.ms", T::kLong, "log.flush.interval.ms", "9223372036854775807",
     "fsync after this long", 0},
    {"index.interval.bytes", T::kInt, "log.index.interval.bytes", "4096",
     "bytes between offset-index entries", 0},
    {"max.compaction.lag.ms", T::kLong, "log.cleaner.max.compaction.lag.ms", "9223372036854775807",
     "the longest a record may stay uncompacted", 1},
    {"max.message.bytes", T::kInt, "message.max.bytes", "1048588",
     "the largest record batch accepted", 0},
    {"message.timestamp.type", T::kString, "log.message.timestamp.type", "CreateTime",
     "the producer's timestamps or the broker's append time", 0, "CreateTime|LogAppendTime"},
    {"min.cleanable.dirty.ratio", T::kDouble, "log.cleaner.min.cleanable.ratio", "0.5",
     "clean a compacted log when this share of it is dirty", 0},
    {"min.compaction.lag.ms", T::kLong, "log.cleaner.min.compaction.lag.ms", "0",
     "the shortest a record stays uncompacted", 0},
    {"min.insync.replicas", T::kInt, "min.insync.replicas", "1",
     "acks=all writes need at least this many in-sync replicas", 1},
    {"preallocate", T::kBoolean, "", "false", "preallocate segment files", 0, "true|false"},
    {"retention.bytes", T::kLong, "log.retention.bytes", "-1",
     "delete old segments beyond this size per partition (-1: no limit)", -1},
    {"retention.ms", T::kLong, "log.retention.ms", "604800000",
     "delete segments older than this (-1: never)", -1},
    {"segment.bytes", T::kInt, "log.segment.bytes", "1073741824", "segment size", 14},
    {"segment.index.bytes", T::kInt, "", "10485760", "the size of a segment's index", 0},
    {"segment.jitter.ms", T::kLong, "", "0", "random jitter subtracted from segment.ms", 0},
    {"segment.ms", T::kLong, "log.roll.ms", "604800000", "roll a segment after this long", 1},
    {"unclean.leader.election.enable", T::kBoolean, "", "false",
     "elect an out-of-sync replica when no in-sync one is left (may lose records)", 0,
     "true|false"},
};

absl::Status Invalid(const std::string& key, const std::string& value, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("invalid value '", value, "' for topic config '",
                                                 key, "': expected ", expected));
}

}  // namespace

const std::vector<TopicConfigDef>& TopicConfigDefs() { return kDefs; }

const TopicConfigDef* FindTopicConfig(std::string_view name) {
  for (const TopicConfigDef& def : kDefs) {
    if (def.name == name) return &def;
  }
  return nullptr;
}

absl::Status ValidateTopicConfig(const std::string& key, const std::string& value) {
  const TopicConfigDef* def = FindTopicConfig(key);
  if (def == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown topic config '", key, "'"));
  switch (def->type) {
    case T::kInt:
    case T::kShort:
    case T::kLong: {
      int64_t n = 0;
      const int64_t max = def->type == T::kLong ? std::numeric_limits<int64_t>::max()
                                                : std::numeric_limits<int32_t>::max();
      if (!absl::SimpleAtoi(value, &n) || n < def->min || n > max) {
        return Invalid(key, value, absl::StrCat("an integer between ", def->min, " and ", max));
      }
      return absl::OkStatus();
    }
    case T::kDouble: {
      double d = 0;
      if (!absl::SimpleAtod(value, &d) || !(d >= 0 && d <= 1)) {  // NaN fails too
        return Invalid(key, value, "a number between 0 and 1");
      }
      return absl::OkStatus();
    }
    case T::kBoolean:
    case T::kString:
    case T::kList: {
      const std::vector<std::string> options = absl::StrSplit(ToAbsl(def->one_of), '|');
      for (const std::string& option : options) {
        if (option == value) return absl::OkStatus();
      }
      return Invalid(key, value, absl::StrCat("one of ", absl::StrJoin(options, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace gregor::metadata
