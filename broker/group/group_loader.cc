#include "broker/group/group_loader.h"

namespace gregor::group {

void GroupLoader::Apply(std::optional<std::string_view> key, std::optional<std::string_view> value) {
  ++out_.records;
  if (!key) {
    ++out_.skipped;
    return;
  }
  auto decoded = DecodeKey(*key);
  if (!decoded.ok() || decoded->kind == RecordKey::Kind::kUnknown) {
    ++out_.skipped;
    return;
  }
  if (decoded->kind == RecordKey::Kind::kOffset) {
    const OffsetKey& k = decoded->offset;
    TopicPartitionKey tp{k.topic, k.partition};
    if (!value) {
      auto it = out_.groups.find(k.group);
      if (it != out_.groups.end()) it->second.offsets.erase(tp);
      return;
    }
    auto v = DecodeOffsetValue(*value);
    if (!v.ok()) {
      ++out_.skipped;
      return;
    }
    out_.groups[k.group].offsets[tp] = std::move(*v);
    return;
  }
  if (!value) {
    auto it = out_.groups.find(decoded->group);
    if (it != out_.groups.end()) it->second.metadata.reset();
    return;
  }
  auto v = DecodeGroupValue(*value);
  if (!v.ok()) {
    ++out_.skipped;
    return;
  }
  out_.groups[decoded->group].metadata = std::move(*v);
}

LoadedPartition GroupLoader::Finish() && {
  for (auto it = out_.groups.begin(); it != out_.groups.end();) {
    if (!it->second.metadata && it->second.offsets.empty()) {
      it = out_.groups.erase(it);
    } else {
      ++it;
    }
  }
  return std::move(out_);
}

}  // namespace gregor::group
