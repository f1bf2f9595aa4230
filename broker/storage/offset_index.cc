#include "broker/storage/offset_index.h"

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace gregor::storage {

OffsetPosition OffsetIndex::EntryAt(size_t i) const {
  const char* e = file_.entry(i);
  return {base_offset_ + absl::big_endian::Load32(e), absl::big_endian::Load32(e + 4)};
}

absl::Status OffsetIndex::Load(int64_t log_size_bytes) {
  RETURN_IF_ERROR(file_.Load());
  OffsetPosition prev{-1, -1};
  for (size_t i = 0; i < entries(); ++i) {
    OffsetPosition e = EntryAt(i);
    if (e.offset <= prev.offset || e.position <= prev.position || e.position >= log_size_bytes) {
      return absl::DataLossError(absl::StrCat("corrupt index ", path(), " at entry ", i, ": offset ",
                                              e.offset, " position ", e.position));
    }
    prev = e;
  }
  return absl::OkStatus();
}

void OffsetIndex::Append(int64_t offset, int64_t position) {
  int64_t relative = offset - base_offset_;
  GREGOR_CHECK(relative >= 0 && relative <= UINT32_MAX && position >= 0 && position <= UINT32_MAX);
  if (entries() > 0) {
    OffsetPosition last = EntryAt(entries() - 1);
    GREGOR_CHECK_MSG(offset > last.offset && position > last.position, "index entries must grow");
  }
  char e[kEntrySize];
  absl::big_endian::Store32(e, static_cast<uint32_t>(relative));
  absl::big_endian::Store32(e + 4, static_cast<uint32_t>(position));
  file_.Append(e);
}

OffsetPosition OffsetIndex::Lookup(int64_t target) const {
  // Binary search for the last entry with offset <= target.
  size_t lo = 0, hi = entries();
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (EntryAt(mid).offset <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return {base_offset_, 0};
  return EntryAt(lo - 1);
}

void OffsetIndex::TruncateTo(int64_t offset) {
  size_t keep = entries();
  while (keep > 0 && EntryAt(keep - 1).offset >= offset) --keep;
  file_.Truncate(keep);
}

}  // namespace gregor::storage
