#include "broker/storage/time_index.h"

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace gregor::storage {

TimestampOffset TimeIndex::EntryAt(size_t i) const {
  const char* e = file_.entry(i);
  return {static_cast<int64_t>(absl::big_endian::Load64(e)),
          base_offset_ + absl::big_endian::Load32(e + 8)};
}

absl::Status TimeIndex::Load(int64_t next_offset_bound) {
  RETURN_IF_ERROR(file_.Load());
  TimestampOffset prev{INT64_MIN, -1};
  for (size_t i = 0; i < entries(); ++i) {
    TimestampOffset e = EntryAt(i);
    if (e.timestamp <= prev.timestamp || e.offset < prev.offset || e.offset >= next_offset_bound) {
      return absl::DataLossError(absl::StrCat("corrupt time index ", path(), " at entry ", i,
                                              ": timestamp ", e.timestamp, " offset ", e.offset));
    }
    prev = e;
  }
  return absl::OkStatus();
}

void TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset) {
  if (entries() > 0) {
    TimestampOffset last = EntryAt(entries() - 1);
    if (timestamp <= last.timestamp) return;
    GREGOR_CHECK(offset >= last.offset);
  }
  int64_t relative = offset - base_offset_;
  GREGOR_CHECK(relative >= 0 && relative <= UINT32_MAX);
  char e[kEntrySize];
  absl::big_endian::Store64(e, static_cast<uint64_t>(timestamp));
  absl::big_endian::Store32(e + 8, static_cast<uint32_t>(relative));
  file_.Append(e);
}

std::optional<TimestampOffset> TimeIndex::LookupBefore(int64_t target) const {
  size_t lo = 0, hi = entries();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (EntryAt(mid).timestamp < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return EntryAt(lo - 1);
}

std::optional<TimestampOffset> TimeIndex::Last() const {
  if (entries() == 0) return std::nullopt;
  return EntryAt(entries() - 1);
}

void TimeIndex::TruncateTo(int64_t offset) {
  size_t keep = entries();
  while (keep > 0 && EntryAt(keep - 1).offset >= offset) --keep;
  file_.Truncate(keep);
}

}  // namespace gregor::storage
