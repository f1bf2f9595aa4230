// Idempotent producers (KIP-98), per partition, as data: for each producer id its epoch and the
// metadata of its last 5 batches, and the rule that checks a batch before it is appended —
// Kafka's ProducerStateManager / ProducerAppendInfo. Pure (no files, locks or clocks: the caller
// passes times and holds the log's lock). PartitionLog keeps one (partition_log_producers.cc).
//
// A batch of an idempotent producer (producer id >= 0) is, against the producer's entry:
//   - a duplicate when its epoch is the entry's and its first and last sequence are those of one
//     of the last 5 batches: the append must not happen, and the answer is that batch's offsets;
//   - INVALID_PRODUCER_EPOCH when its epoch is older than the entry's;
//   - OUT_OF_ORDER_SEQUENCE_NUMBER when its first sequence does not follow the last one (with
//     the same epoch), or is not 0 in a newer epoch;
//   - otherwise accepted. A producer without an entry (new, or expired, or all its batches
//     deleted) is accepted at any sequence, as Kafka does since KIP-360 — so this never answers
//     UNKNOWN_PRODUCER_ID for an append.
// Sequences wrap: after INT32_MAX comes 0.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>

#include "common/errors.h"

namespace gregor::storage {

struct ProducerBatch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t timestamp = -1;  // the batch's max timestamp
  bool operator==(const ProducerBatch&) const = default;
};

struct ProducerEntry {
  int16_t epoch = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kBatchesToRetain
  int64_t last_timestamp = -1;        // of the newest batch (expiry)
  bool operator==(const ProducerEntry&) const = default;
};

// What the check of one batch decided.
struct ProducerCheck {
  KafkaErrorCode error = KafkaErrorCode::kNone;
  std::optional<ProducerBatch> duplicate;  // set: do not append; answer with these offsets
};

class ProducerStateTable {
 public:
  static constexpr size_t kBatchesToRetain = 5;

  // The check of a batch about to be appended (nothing changes).
  ProducerCheck Check(int64_t producer_id, int16_t epoch, int32_t first_seq,
                      int32_t record_count) const;
  // Records an appended batch (also what a follower, a recovery or a snapshot load replays).
  void Record(int64_t producer_id, int16_t epoch, const ProducerBatch& batch);

  // Truncation: forgets batches at or above `offset` (a producer with none left is removed).
  void TruncateFrom(int64_t offset);
  // Retention / DeleteRecords: forgets batches that end below `offset` (and producers left with
  // none), as a replay of the log from `offset` would.
  void RemoveBelow(int64_t offset);
  // producer.id.expiration.ms: forgets producers whose newest batch is older than `now - ms`.
  void Expire(int64_t now_ms, int64_t expiration_ms);

  const ProducerEntry* Find(int64_t producer_id) const;
  const std::map<int64_t, ProducerEntry>& entries() const { return entries_; }
  bool operator==(const ProducerStateTable&) const = default;

 private:
  std::map<int64_t, ProducerEntry> entries_;
};

// The last sequence of a batch of `record_count` records starting at `first_seq` (wrapping).
int32_t LastSequence(int32_t first_seq, int32_t record_count);

// The rules of one producer's entry (null: a producer without one), which the table applies:
// a log append checking several batches of one producer stages them on a copy of its entry.
ProducerCheck CheckBatch(const ProducerEntry* entry, int16_t epoch, int32_t first_seq,
                         int32_t record_count);
void AppendBatch(ProducerEntry& entry, int16_t epoch, const ProducerBatch& batch);

}  // namespace gregor::storage
