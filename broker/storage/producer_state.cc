#include "broker/storage/producer_state.h"

#include <algorithm>

namespace gregor::storage {
namespace {

bool InSequence(int32_t last_seq, int32_t next_seq) {
  return (last_seq < INT32_MAX && next_seq == last_seq + 1) || (last_seq == INT32_MAX && next_seq == 0);
}

}  // namespace

int32_t LastSequence(int32_t first_seq, int32_t record_count) {
  const int64_t last = static_cast<int64_t>(first_seq) + record_count - 1;
  return static_cast<int32_t>(last > INT32_MAX ? last - INT32_MAX - 1 : last);
}

ProducerCheck ProducerStateTable::Check(int64_t producer_id, int16_t epoch, int32_t first_seq,
                                        int32_t record_count) const {
  return CheckBatch(Find(producer_id), epoch, first_seq, record_count);
}

ProducerCheck CheckBatch(const ProducerEntry* entry, int16_t epoch, int32_t first_seq,
                         int32_t record_count) {
  ProducerCheck check;
  if (entry == nullptr || entry->epoch < 0) return check;  // any sequence starts a producer
  if (epoch < entry->epoch) {
    check.error = KafkaErrorCode::kInvalidProducerEpoch;
    return check;
  }
  const int32_t last_seq = LastSequence(first_seq, record_count);
  if (epoch == entry->epoch) {
    for (const ProducerBatch& b : entry->batches) {
      if (b.first_seq == first_seq && b.last_seq == last_seq) {
        check.duplicate = b;
        return check;
      }
    }
    const int32_t current_last = entry->batches.empty() ? -1 : entry->batches.back().last_seq;
    if (current_last >= 0 && !InSequence(current_last, first_seq)) {
      check.error = KafkaErrorCode::kOutOfOrderSequenceNumber;
    }
    return check;
  }
  // A newer epoch starts at sequence 0.
  if (first_seq != 0) check.error = KafkaErrorCode::kOutOfOrderSequenceNumber;
  return check;
}

void ProducerStateTable::Record(int64_t producer_id, int16_t epoch, const ProducerBatch& batch) {
  AppendBatch(entries_[producer_id], epoch, batch);
}

void AppendBatch(ProducerEntry& entry, int16_t epoch, const ProducerBatch& batch) {
  if (epoch != entry.epoch) {
    entry.epoch = epoch;
    entry.batches.clear();  // a new epoch restarts the sequences
  }
  entry.batches.push_back(batch);
  while (entry.batches.size() > ProducerStateTable::kBatchesToRetain) entry.batches.pop_front();
  entry.last_timestamp = std::max(entry.last_timestamp, batch.timestamp);
}

void ProducerStateTable::TruncateFrom(int64_t offset) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.back().first_offset >= offset) batches.pop_back();
    it = batches.empty() ? entries_.erase(it) : std::next(it);
  }
}

void ProducerStateTable::RemoveBelow(int64_t offset) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto& batches = it->second.batches;
    while (!batches.empty() && batches.front().last_offset < offset) batches.pop_front();
    it = batches.empty() ? entries_.erase(it) : std::next(it);
  }
}

void ProducerStateTable::Expire(int64_t now_ms, int64_t expiration_ms) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now_ms - it->second.last_timestamp > expiration_ms ? entries_.erase(it) : std::next(it);
  }
}

const ProducerEntry* ProducerStateTable::Find(int64_t producer_id) const {
  auto it = entries_.find(producer_id);
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace gregor::storage
