#include "broker/kafka/fetch_sessions.h"

#include <algorithm>

namespace gregor::broker {

FetchSessionCache::FetchSessionCache(int32_t max_slots, int64_t eviction_ms, uint64_t seed)
    : max_slots_(max_slots), eviction_ms_(eviction_ms), rng_(static_cast<uint32_t>(seed)) {}

int32_t FetchSessionCache::NextEpoch(int32_t epoch) {
  if (epoch < 0) return kFinalEpoch;
  return epoch == INT32_MAX ? 1 : epoch + 1;
}

FetchSessionCache::Context FetchSessionCache::Open(const Request& request, int64_t now_ms) {
  Context context;
  absl::MutexLock lock(&mu_);
  if (request.epoch == kInitialEpoch || request.epoch == kFinalEpoch) {
    // A full fetch closes the session it names.
    if (request.session_id != 0) sessions_.erase(request.session_id);
    context.open_session = request.epoch == kInitialEpoch;
    context.reads = request.partitions;
    return context;
  }
  auto it = sessions_.find(request.session_id);
  if (it == sessions_.end()) {
    context.error = KafkaErrorCode::kFetchSessionIdNotFound;
    return context;
  }
  Session& session = it->second;
  if (session.epoch != request.epoch) {
    context.error = KafkaErrorCode::kInvalidFetchSessionEpoch;
    return context;
  }
  for (const FetchSessionRead& read : request.partitions) {
    auto found = session.index.find(read.key);
    if (found != session.index.end()) {
      found->second->read = read;  // what was last sent stays
    } else {
      session.order.push_back(Cached{read});
      session.index.emplace(read.key, std::prev(session.order.end()));
    }
  }
  for (const FetchSessionKey& key : request.forgotten) {
    auto found = session.index.find(key);
    if (found == session.index.end()) continue;
    session.order.erase(found->second);
    session.index.erase(found);
  }
  if (session.order.empty()) {  // nothing left to remember: Kafka answers without a session
    sessions_.erase(it);
    context.reads = request.partitions;
    return context;
  }
  session.last_used_ms = now_ms;
  session.epoch = NextEpoch(session.epoch);
  context.incremental = true;
  context.session_id = session.id;
  for (const Cached& c : session.order) context.reads.push_back(c.read);
  return context;
}

int32_t FetchSessionCache::CreateSession(const Context& context,
                                         const std::vector<FetchSessionAnswer>& answers,
                                         int64_t now_ms) {
  absl::MutexLock lock(&mu_);
  if (!MakeRoomLocked(context.reads.size(), now_ms)) return 0;
  Session session;
  session.id = NewIdLocked();
  session.epoch = NextEpoch(kInitialEpoch);
  session.created_ms = now_ms;
  session.last_used_ms = now_ms;
  for (size_t i = 0; i < context.reads.size(); ++i) {
    const FetchSessionRead& read = context.reads[i];
    if (session.index.count(read.key) != 0) continue;  // a partition named twice
    Cached cached{read};
    if (i < answers.size() && !answers[i].has_error) {
      cached.high_watermark = answers[i].high_watermark;
      cached.log_start_offset = answers[i].log_start_offset;
    }
    session.order.push_back(cached);
    session.index.emplace(read.key, std::prev(session.order.end()));
  }
  const int32_t id = session.id;
  sessions_.emplace(id, std::move(session));
  return id;
}

std::vector<bool> FetchSessionCache::SelectIncremental(const Context& context,
                                                       const std::vector<FetchSessionAnswer>& answers,
                                                       int64_t now_ms) {
  std::vector<bool> send(context.reads.size(), true);
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(context.session_id);
  if (it == sessions_.end()) return send;
  Session& session = it->second;
  session.last_used_ms = std::max(session.last_used_ms, now_ms);
  for (size_t i = 0; i < context.reads.size() && i < answers.size(); ++i) {
    auto found = session.index.find(context.reads[i].key);
    if (found == session.index.end()) continue;  // forgotten meanwhile
    Cached& cached = *found->second;
    const FetchSessionAnswer& a = answers[i];
    send[i] = a.has_records || a.has_error || a.diverging || a.preferred_replica ||
              a.high_watermark != cached.high_watermark ||
              a.log_start_offset != cached.log_start_offset;
    // An error clears what was sent, so the partition is sent again once the error is gone.
    cached.high_watermark = a.has_error ? -1 : a.high_watermark;
    cached.log_start_offset = a.log_start_offset;
    if (a.has_records) session.order.splice(session.order.end(), session.order, found->second);
  }
  return send;
}

bool FetchSessionCache::MakeRoomLocked(size_t new_size, int64_t now_ms) {
  if (static_cast<int64_t>(sessions_.size()) < max_slots_) return true;
  if (sessions_.empty()) return false;  // no slots at all
  // A session unused for eviction_ms gives its slot to anyone.
  auto lru = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
    return a.second.last_used_ms < b.second.last_used_ms;
  });
  if (now_ms - lru->second.last_used_ms > eviction_ms_) {
    sessions_.erase(lru);
    ++evictions_;
    return true;
  }
  // Else the smallest session that has lived eviction_ms, if the new one is bigger.
  auto smallest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (now_ms - it->second.created_ms <= eviction_ms_) continue;
    if (smallest == sessions_.end() || it->second.order.size() < smallest->second.order.size()) {
      smallest = it;
    }
  }
  if (smallest == sessions_.end() || new_size <= smallest->second.order.size()) return false;
  sessions_.erase(smallest);
  ++evictions_;
  return true;
}

int32_t FetchSessionCache::NewIdLocked() {
  std::uniform_int_distribution<int32_t> ids(1, INT32_MAX - 1);
  int32_t id = 0;
  do {
    id = ids(rng_);
  } while (sessions_.count(id) != 0);
  return id;
}

size_t FetchSessionCache::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

int64_t FetchSessionCache::partitions_cached() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [id, s] : sessions_) n += static_cast<int64_t>(s.order.size());
  return n;
}

int64_t FetchSessionCache::evictions() const {
  absl::MutexLock lock(&mu_);
  return evictions_;
}

}  // namespace gregor::broker
