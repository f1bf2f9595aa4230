// Incremental fetch sessions (KIP-227): a broker remembers, per session, the partitions a
// consumer fetches and what it last told it about each, so that the consumer's next request
// names only the partitions whose position changed and the answer carries only the partitions
// with something new. Kafka's FetchSession.scala, as data: no sockets, threads or clocks (the
// caller passes the time), so every rule is tested directly (tests/broker/fetch_sessions_test.cc).
//
// A request's (session_id, epoch) decides its kind:
//   (0, -1)  sessionless full fetch: the request's partitions, all answered, no session;
//   (0,  0)  full fetch that opens a session (if a slot is free or can be freed): its id goes
//            back in the answer, or 0 when no slot;
//   (S, -1)  closes session S, then a sessionless full fetch;
//   (S,  E)  incremental: S must exist (else FETCH_SESSION_ID_NOT_FOUND) and expect epoch E
//            (else INVALID_FETCH_SESSION_EPOCH). The request's partitions are added or updated,
//            its forgotten ones removed; every partition of the session is read, in the
//            session's order, and the answer holds those with records, an error, or a new high
//            watermark or log start offset. Partitions that returned records move to the end of
//            the order, so each gets its turn under the response's byte budget.
//
// The cache holds at most `max_slots` sessions (`max.incremental.fetch.session.cache.slots`).
// When full, a new session may take the slot of one unused for `eviction_ms`
// (`min.incremental.fetch.session.eviction.ms`), else of the smallest session older than
// `eviction_ms` if the new one has more partitions (Kafka's rule for unprivileged sessions;
// Gregor's followers replicate over their own protocol, so every session here is a consumer's).
//
// Thread-safety: thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/errors.h"

namespace gregor::broker {

struct FetchSessionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const FetchSessionKey&) const = default;
};

// What a request asks of one partition.
struct FetchSessionRead {
  FetchSessionKey key;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  int32_t current_leader_epoch = -1;
  int32_t last_fetched_epoch = -1;
};

// What the answer of one partition said, to decide whether an incremental answer carries it.
struct FetchSessionAnswer {
  bool has_records = false;
  bool has_error = false;
  bool diverging = false;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  bool preferred_replica = false;  // names a replica to read from instead (KIP-392)
};

class FetchSessionCache {
 public:
  static constexpr int32_t kInitialEpoch = 0;
  static constexpr int32_t kFinalEpoch = -1;

  FetchSessionCache(int32_t max_slots, int64_t eviction_ms, uint64_t seed = std::random_device{}());

  struct Request {
    int32_t session_id = 0;
    int32_t epoch = kFinalEpoch;
    std::vector<FetchSessionRead> partitions;
    std::vector<FetchSessionKey> forgotten;
  };
  struct Context {
    KafkaErrorCode error = KafkaErrorCode::kNone;  // a session error: answer nothing else
    bool incremental = false;
    bool open_session = false;  // a full fetch that asks for a new session
    int32_t session_id = 0;     // the incremental session
    std::vector<FetchSessionRead> reads;  // what to read, in answer order
  };
  // Opens a request: closes, checks and updates sessions as its kind says.
  Context Open(const Request& request, int64_t now_ms);

  // After the reads of a full fetch that asked for a session: a new session holding them, or
  // 0 when no slot is free. `answers` follows `context.reads`.
  int32_t CreateSession(const Context& context, const std::vector<FetchSessionAnswer>& answers,
                        int64_t now_ms);
  // After the reads of an incremental fetch: which of `context.reads` the answer carries;
  // remembers what it sends and reorders the session. A session closed meanwhile (another
  // request): everything is sent.
  std::vector<bool> SelectIncremental(const Context& context,
                                      const std::vector<FetchSessionAnswer>& answers,
                                      int64_t now_ms);

  size_t size() const;
  int64_t partitions_cached() const;
  int64_t evictions() const;

 private:
  struct Cached {
    FetchSessionRead read;
    int64_t high_watermark = -1;  // as last sent; -1: never sent, so the next answer carries it
    int64_t log_start_offset = -1;
  };
  struct Session {
    int32_t id = 0;
    int32_t epoch = 0;  // the epoch the next request must carry
    int64_t created_ms = 0;
    int64_t last_used_ms = 0;
    std::list<Cached> order;
    std::map<FetchSessionKey, std::list<Cached>::iterator> index;
  };

  bool MakeRoomLocked(size_t new_size, int64_t now_ms) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int32_t NewIdLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static int32_t NextEpoch(int32_t epoch);

  const int32_t max_slots_;
  const int64_t eviction_ms_;
  mutable absl::Mutex mu_;
  std::mt19937 rng_ ABSL_GUARDED_BY(mu_);
  std::map<int32_t, Session> sessions_ ABSL_GUARDED_BY(mu_);
  int64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace gregor::broker
