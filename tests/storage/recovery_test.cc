// Crash recovery of PartitionLog: what an open after an unclean stop (had_clean_shutdown=false,
// with a recovery point) keeps, truncates and rebuilds, and what a clean open does not look at.
//
// A "crash" here is dropping the PartitionLog without Close(): the bytes written so far are in
// the files (page cache), but nothing was flushed or finalised. Damage is then made by hand on
// the files, usually on a copy of a pristine directory so one setup serves many cases.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"
#include "broker/storage/leader_epoch_cache.h"
#include "broker/storage/log_segment.h"
#include "broker/storage/partition_log.h"
#include "common/record_batch.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/test_util.h"

namespace gregor::storage {
namespace {

namespace fs = std::filesystem;
using testing::AppendOrDie;
using testing::FileBytes;
using testing::MakeBatch;
using testing::OpenLog;
using testing::ReadAll;
using testing::TempDir;
using testing::WriteBytes;

// (offset, value) of every record, the part of a record recovery must preserve.
using Contents = std::vector<std::pair<int64_t, std::string>>;

Contents ContentsOf(const PartitionLog& log) {
  Contents out;
  for (const record::Record& r : ReadAll(log)) out.emplace_back(r.offset, r.value.value_or(""));
  return out;
}

Contents Below(const Contents& all, int64_t offset) {
  Contents out;
  for (const auto& entry : all) {
    if (entry.first < offset) out.push_back(entry);
  }
  return out;
}

struct BatchLocation {
  int64_t position = 0;
  record::BatchHeader header;
};

// The whole batches of a segment file, in order.
std::vector<BatchLocation> BatchesIn(const std::string& path) {
  std::string bytes = FileBytes(path);
  std::vector<BatchLocation> out;
  record::BatchIterator it(bytes);
  record::BatchHeader header;
  std::string_view batch;
  while (it.Next(&header, &batch)) {
    out.push_back({static_cast<int64_t>(it.position() - batch.size()), header});
  }
  EXPECT_TRUE(it.status().ok()) << it.status();
  EXPECT_EQ(it.position(), bytes.size()) << path << " has a partial batch";
  return out;
}

std::string LogFile(const std::string& dir, int64_t base) {
  return SegmentFileName(dir, base, ".log");
}

void FlipByte(const std::string& path, int64_t position) {
  std::string bytes = FileBytes(path);
  ASSERT_LT(position, static_cast<int64_t>(bytes.size())) << path;
  bytes[static_cast<size_t>(position)] ^= 0x5a;
  WriteBytes(path, bytes);
}

// A byte in the middle of the records of `batch`: covered by the CRC, never looked at by a
// header-only scan.
int64_t RecordsByte(const BatchLocation& batch) {
  int64_t records = static_cast<int64_t>(batch.header.size_bytes() - record::kBatchHeaderSize);
  return batch.position + static_cast<int64_t>(record::kBatchHeaderSize) + records / 2;
}

void CopyDir(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

std::vector<int64_t> SegmentBases(const PartitionLog& log) {
  std::vector<int64_t> out;
  for (const SegmentInfo& s : log.Segments()) out.push_back(s.base_offset);
  return out;
}

// Every offset of the log can be read: the first batch returned contains it.
void ExpectEveryOffsetReadable(const PartitionLog& log) {
  int64_t leo = log.log_end_offset().value();
  for (int64_t offset = log.log_start_offset().value(); offset < leo; ++offset) {
    auto slice = log.Read(Offset(offset), 1, Offset(leo));
    ASSERT_TRUE(slice.ok()) << "offset " << offset << ": " << slice.status();
    auto bytes = ReadSlice(*slice);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto header = record::ValidateBatch(*bytes);
    ASSERT_TRUE(header.ok()) << "offset " << offset << ": " << header.status();
    EXPECT_LE(header->base_offset, offset);
    EXPECT_GE(header->last_offset(), offset);
  }
}

// Small batches (3 records of 40-byte values, about 230 bytes) and segments of about three
// batches, with an index entry for nearly every batch.
LogConfig SmallSegments() {
  LogConfig config;
  config.segment_bytes = 800;
  config.index_interval_bytes = 100;
  return config;
}

// Appends `batches` batches of 3 records; batch i has values "b<i>-<j>" and timestamps
// 1000 * (i + 1) + j.
void Fill(PartitionLog& log, int batches, int32_t epoch = 0) {
  for (int i = 0; i < batches; ++i) {
    AppendOrDie(log, MakeBatch(3, 1000 * (i + 1), 40, Compression::kNone, absl::StrCat("b", i)),
                epoch);
  }
}

// (a) A batch torn anywhere inside: recovery keeps exactly the batches before it.
TEST(RecoveryTest, TornLastBatchAtEveryCutPointIsRemoved) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  const LogConfig config;  // one segment
  Contents all;
  {
    auto log = OpenLog(pristine, config, &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 4);
    all = ContentsOf(*log);
    ASSERT_EQ(all.size(), 12u);
  }  // dropped without Close(): a crash
  const std::string bytes = FileBytes(LogFile(pristine, 0));
  std::vector<BatchLocation> batches = BatchesIn(LogFile(pristine, 0));
  ASSERT_EQ(batches.size(), 4u);
  const BatchLocation last = batches.back();
  const int64_t last_base = last.header.base_offset;
  ASSERT_EQ(last_base, 9);
  const Contents earlier = Below(all, last_base);

  const std::string work = dir.Sub("work");
  for (size_t kept = 0; kept < last.header.size_bytes(); ++kept) {
    SCOPED_TRACE(::testing::Message() << "kept " << kept << " of " << last.header.size_bytes()
                                    << " bytes of the last batch");
    CopyDir(pristine, work);
    WriteBytes(LogFile(work, 0), bytes.substr(0, static_cast<size_t>(last.position) + kept));
    auto log = OpenLog(work, config, &clock, /*clean=*/false, /*recovery_point=*/0);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->log_end_offset(), Offset(last_base));
    EXPECT_EQ(log->recovery_point(), Offset(last_base));
    EXPECT_EQ(log->size_bytes(), last.position);
    EXPECT_EQ(FileBytes(LogFile(work, 0)).size(), static_cast<size_t>(last.position));
    EXPECT_EQ(ContentsOf(*log), earlier);
    // Appends continue where the valid log ends.
    EXPECT_EQ(AppendOrDie(*log, MakeBatch(2, 99000, 40, Compression::kNone, "new")), last_base);
    EXPECT_EQ(log->log_end_offset(), Offset(last_base + 2));
    Contents expected = earlier;
    expected.emplace_back(last_base, "new-0" + std::string(35, 'x'));
    expected.emplace_back(last_base + 1, "new-1" + std::string(35, 'x'));
    EXPECT_EQ(ContentsOf(*log), expected);
    if (::testing::Test::HasFailure()) break;  // one failing cut point says it all
  }
}

// (b) A corrupt batch in a middle segment: the log ends where it starts, and the segments
// after it are gone (their offsets would no longer follow the log).
TEST(RecoveryTest, CorruptBatchInMiddleSegmentTruncatesThereAndDeletesLaterSegments) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  const LogConfig config = SmallSegments();
  Contents all;
  std::vector<int64_t> bases;
  {
    auto log = OpenLog(pristine, config, &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 12);
    all = ContentsOf(*log);
    bases = SegmentBases(*log);
  }
  ASSERT_GE(bases.size(), 3u);
  const int64_t middle = bases[1];
  std::vector<BatchLocation> batches = BatchesIn(LogFile(pristine, middle));
  ASSERT_GE(batches.size(), 3u);
  const BatchLocation victim = batches[1];  // neither the first nor the last of its segment

  // Each way of damaging the batch must be caught.
  struct Damage {
    const char* name;
    int64_t position;
    std::string bytes;  // written at `position`; empty = flip the byte there
  };
  std::string huge_length(4, '\0');
  absl::big_endian::Store32(huge_length.data(), 0x7ffffff0);
  std::string next_offset(8, '\0');  // a base offset that does not follow the previous batch
  absl::big_endian::Store64(next_offset.data(), static_cast<uint64_t>(middle));
  const std::vector<Damage> damages = {
      {"record byte", RecordsByte(victim), ""},
      {"crc field", victim.position + static_cast<int64_t>(record::kCrcOffset), ""},
      {"magic", victim.position + 16, ""},
      {"batch length", victim.position + 8, huge_length},
      {"base offset", victim.position, next_offset},
  };
  const std::string work = dir.Sub("work");
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    CopyDir(pristine, work);
    const std::string path = LogFile(work, middle);
    if (damage.bytes.empty()) {
      FlipByte(path, damage.position);
    } else {
      std::string bytes = FileBytes(path);
      bytes.replace(static_cast<size_t>(damage.position), damage.bytes.size(), damage.bytes);
      WriteBytes(path, bytes);
    }
    auto log = OpenLog(work, config, &clock, /*clean=*/false, /*recovery_point=*/0);
    ASSERT_NE(log, nullptr);
    const int64_t cut = victim.header.base_offset;
    EXPECT_EQ(log->log_end_offset(), Offset(cut));
    EXPECT_EQ(SegmentBases(*log), (std::vector<int64_t>{bases[0], middle}));
    EXPECT_EQ(FileBytes(path).size(), static_cast<size_t>(victim.position));
    for (size_t i = 2; i < bases.size(); ++i) {
      for (const char* suffix : {".log", ".index", ".timeindex"}) {
        EXPECT_FALSE(fs::exists(SegmentFileName(work, bases[i], suffix)))
            << SegmentFileName(work, bases[i], suffix);
      }
    }
    EXPECT_EQ(ContentsOf(*log), Below(all, cut));
    ExpectEveryOffsetReadable(*log);
    EXPECT_EQ(AppendOrDie(*log, MakeBatch(1, 99000)), cut);
    EXPECT_EQ(log->log_end_offset(), Offset(cut + 1));
  }
}

// (c) Bytes after the last whole batch, whatever they look like, are removed.
TEST(RecoveryTest, GarbageAfterTheLastBatchIsRemoved) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  const LogConfig config;
  Contents all;
  {
    auto log = OpenLog(pristine, config, &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 4);
    all = ContentsOf(*log);
  }
  const std::string good = FileBytes(LogFile(pristine, 0));
  std::vector<BatchLocation> batches = BatchesIn(LogFile(pristine, 0));
  ASSERT_EQ(batches.size(), 4u);
  const std::string last_batch = good.substr(static_cast<size_t>(batches.back().position));

  std::mt19937 rng(42);
  std::string random_bytes(100, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  // A plausible header at the next offset claiming a huge batch.
  std::string huge(record::kBatchHeaderSize + 20, '\0');
  absl::big_endian::Store64(huge.data(), 12);
  absl::big_endian::Store32(huge.data() + 8, 0x7fffffff);
  huge[16] = record::kMagicV2;
  // A whole, valid batch whose offsets repeat the previous one (an append written twice).
  const std::vector<std::pair<const char*, std::string>> tails = {
      {"100 random bytes", random_bytes},
      {"header claiming a huge length", huge},
      {"zeros (preallocated space)", std::string(4096, '\0')},
      {"a few bytes", std::string("\x00\x00\x00", 3)},
      {"a repeated batch", last_batch},
  };
  const std::string work = dir.Sub("work");
  for (const auto& [name, tail] : tails) {
    SCOPED_TRACE(name);
    CopyDir(pristine, work);
    WriteBytes(LogFile(work, 0), good + tail);
    auto log = OpenLog(work, config, &clock, /*clean=*/false, /*recovery_point=*/0);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->log_end_offset(), Offset(12));
    EXPECT_EQ(FileBytes(LogFile(work, 0)), good);
    EXPECT_EQ(ContentsOf(*log), all);
    EXPECT_EQ(AppendOrDie(*log, MakeBatch(1, 99000)), 12);
  }
}

// Sets up a closed (clean) log of several small segments in `dir`; returns its segment bases.
std::vector<int64_t> MakeCleanLog(const std::string& dir, ManualClock& clock, Contents* all,
                                  int batches = 12) {
  auto log = OpenLog(dir, SmallSegments(), &clock);
  EXPECT_NE(log, nullptr);
  if (log == nullptr) return {};
  Fill(*log, batches);
  *all = ContentsOf(*log);
  EXPECT_TRUE(log->Close().ok());
  return SegmentBases(*log);
}

// (d) Missing index files of a sealed segment are rebuilt on a clean open.
TEST(RecoveryTest, MissingIndexesOfSealedSegmentAreRebuiltOnCleanOpen) {
  TempDir dir;
  ManualClock clock;
  Contents all;
  const std::vector<int64_t> bases = MakeCleanLog(dir.path(), clock, &all);
  ASSERT_GE(bases.size(), 3u);
  const int64_t sealed = bases[1];
  ASSERT_GT(FileBytes(SegmentFileName(dir.path(), sealed, ".index")).size(), 0u);
  ASSERT_TRUE(fs::remove(SegmentFileName(dir.path(), sealed, ".index")));
  ASSERT_TRUE(fs::remove(SegmentFileName(dir.path(), sealed, ".timeindex")));

  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/true);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_end_offset(), Offset(all.back().first + 1));
  EXPECT_EQ(SegmentBases(*log), bases);
  EXPECT_EQ(ContentsOf(*log), all);
  ExpectEveryOffsetReadable(*log);
  // The time index works too: batch i's records have timestamps 1000 * (i + 1) + j.
  auto by_time = log->FetchOffsetByTimestamp(1000 * (static_cast<int>(sealed) / 3 + 1) + 1);
  ASSERT_TRUE(by_time.ok()) << by_time.status();
  ASSERT_TRUE(by_time->has_value());
  EXPECT_EQ((*by_time)->offset, sealed + 1);
}

// (d) Corrupt index contents are detected by the sanity checks and rebuilt.
TEST(RecoveryTest, CorruptIndexesOfSealedSegmentAreRebuiltOnCleanOpen) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  Contents all;
  const std::vector<int64_t> bases = MakeCleanLog(pristine, clock, &all);
  ASSERT_GE(bases.size(), 3u);
  const int64_t sealed = bases[1];

  std::mt19937 rng(7);
  auto random = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  struct Corruption {
    const char* name;
    std::string index;       // new contents of .index
    std::string time_index;  // new contents of .timeindex
  };
  std::string decreasing(16, '\0');  // entries (2, 100) then (1, 50): offsets go backwards
  absl::big_endian::Store32(decreasing.data(), 2);
  absl::big_endian::Store32(decreasing.data() + 4, 100);
  absl::big_endian::Store32(decreasing.data() + 8, 1);
  absl::big_endian::Store32(decreasing.data() + 12, 50);
  const std::vector<Corruption> corruptions = {
      {"random bytes, size not a multiple of 8", random(13), random(12)},
      {"random bytes, size a multiple of 8", random(64), random(24)},
      {"valid index, time index size not a multiple of 12", "", random(17)},
      {"entries going backwards", decreasing, ""},
  };
  const std::string work = dir.Sub("work");
  for (const Corruption& c : corruptions) {
    SCOPED_TRACE(c.name);
    CopyDir(pristine, work);
    if (!c.index.empty()) WriteBytes(SegmentFileName(work, sealed, ".index"), c.index);
    if (!c.time_index.empty()) WriteBytes(SegmentFileName(work, sealed, ".timeindex"), c.time_index);
    auto log = OpenLog(work, SmallSegments(), &clock, /*clean=*/true);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->log_end_offset(), Offset(all.back().first + 1));
    EXPECT_EQ(SegmentBases(*log), bases);
    EXPECT_EQ(ContentsOf(*log), all);
    ExpectEveryOffsetReadable(*log);
  }
}

// (d) A rebuilt index is written back, so the next start neither warns nor rescans again.
TEST(RecoveryTest, RebuiltIndexesOfSealedSegmentAreWrittenBack) {
  TempDir dir;
  ManualClock clock;
  Contents all;
  const std::vector<int64_t> bases = MakeCleanLog(dir.path(), clock, &all);
  ASSERT_GE(bases.size(), 3u);
  const std::string index = SegmentFileName(dir.path(), bases[1], ".index");
  const std::string time_index = SegmentFileName(dir.path(), bases[1], ".timeindex");
  const std::string original_index = FileBytes(index);
  ASSERT_GT(original_index.size(), 0u);
  ASSERT_TRUE(fs::remove(index));
  WriteBytes(time_index, "garbage");

  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/true);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Close().ok());
  // A clean open rebuilt the sealed segment's indexes; they must have been written back, or
  // every later start would rebuild (and CRC-check) the whole segment again.
  EXPECT_TRUE(fs::exists(index));
  EXPECT_EQ(FileBytes(index), original_index);
  EXPECT_EQ(FileBytes(time_index).size() % 12, 0u);
}

// (e) A clean open trusts the data: a flipped record byte in a sealed segment goes unnoticed.
// An unclean open from recovery point 0 re-checks every CRC and finds it.
TEST(RecoveryTest, CleanOpenDoesNotRescanButUncleanOpenDoes) {
  TempDir dir;
  ManualClock clock;
  Contents all;
  const std::vector<int64_t> bases = MakeCleanLog(dir.path(), clock, &all);
  ASSERT_GE(bases.size(), 3u);
  const int64_t leo = all.back().first + 1;
  std::vector<BatchLocation> batches = BatchesIn(LogFile(dir.path(), bases[1]));
  ASSERT_GE(batches.size(), 2u);
  const BatchLocation victim = batches[1];
  FlipByte(LogFile(dir.path(), bases[1]), RecordsByte(victim));

  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/true);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(log->log_end_offset(), Offset(leo));
    EXPECT_EQ(SegmentBases(*log), bases);
    // The corrupt batch is still there (and would be served): proof that nothing re-read it.
    auto slice = log->Read(Offset(victim.header.base_offset), 1, Offset(leo));
    ASSERT_TRUE(slice.ok()) << slice.status();
    auto bytes = ReadSlice(*slice);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_FALSE(record::ValidateBatch(*bytes).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/false, /*recovery_point=*/0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_end_offset(), Offset(victim.header.base_offset));
  EXPECT_EQ(SegmentBases(*log), (std::vector<int64_t>{bases[0], bases[1]}));
  EXPECT_EQ(ContentsOf(*log), Below(all, victim.header.base_offset));
}

using Entries = std::vector<EpochEntry>;

// Batches at epochs 0, 0, 3, 5 (3 records each): epoch 3 starts at 6, epoch 5 at 9.
std::string MakeEpochLog(const std::string& dir, ManualClock& clock, bool close) {
  auto log = OpenLog(dir, SmallSegments(), &clock);
  EXPECT_NE(log, nullptr);
  if (log == nullptr) return "";
  int i = 0;
  for (int32_t epoch : {0, 0, 3, 5}) {
    AppendOrDie(*log, MakeBatch(3, 1000 * ++i), epoch);
  }
  EXPECT_EQ(log->EpochEntries(), (Entries{{0, 0}, {3, 6}, {5, 9}}));
  if (close) {
    EXPECT_TRUE(log->Close().ok());
  }
  return FileBytes(dir + "/" + kLeaderEpochCheckpoint);
}

// (f) A missing or unreadable leader-epoch-checkpoint is rebuilt from the batch headers.
TEST(RecoveryTest, LeaderEpochCheckpointIsRebuiltFromBatches) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  const std::string original = MakeEpochLog(pristine, clock, /*close=*/true);
  ASSERT_EQ(original, "0\n3\n0 0\n3 6\n5 9\n");

  struct Case {
    const char* name;
    std::optional<std::string> contents;  // nullopt = file missing
  };
  const std::vector<Case> cases = {
      {"missing", std::nullopt},
      {"garbage", std::string("\x01\x02 not a checkpoint \xff\n")},
      {"empty", std::string()},
      {"unknown version", std::string("1\n3\n0 0\n3 6\n5 9\n")},
      {"count mismatch", std::string("0\n4\n0 0\n3 6\n5 9\n")},
  };
  const std::string work = dir.Sub("work");
  for (const Case& c : cases) {
    for (bool clean : {true, false}) {
      SCOPED_TRACE(::testing::Message() << c.name << (clean ? ", clean open" : ", unclean open"));
      CopyDir(pristine, work);
      const std::string path = work + "/" + kLeaderEpochCheckpoint;
      if (c.contents) {
        WriteBytes(path, *c.contents);
      } else {
        ASSERT_TRUE(fs::remove(path));
      }
      auto log = OpenLog(work, SmallSegments(), &clock, clean, /*recovery_point=*/0);
      ASSERT_NE(log, nullptr);
      EXPECT_EQ(log->EpochEntries(), (Entries{{0, 0}, {3, 6}, {5, 9}}));
      EXPECT_EQ(log->LatestEpoch(), LeaderEpoch(5));
      EXPECT_EQ(log->EndOffsetForEpoch(LeaderEpoch(3)), (EpochEndOffset{3, 9}));
      // The rebuilt cache is written back.
      EXPECT_EQ(FileBytes(path), original);
    }
  }
}

// (f) Recovery that removes a torn batch also removes the epoch that started in it.
TEST(RecoveryTest, TornTailTruncatesTheEpochCache) {
  TempDir dir;
  ManualClock clock;
  MakeEpochLog(dir.path(), clock, /*close=*/false);
  const std::vector<int64_t> bases = [&] {
    std::vector<int64_t> out;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
      if (entry.path().extension() == ".log") out.push_back(std::stoll(entry.path().stem().string()));
    }
    std::sort(out.begin(), out.end());
    return out;
  }();
  ASSERT_FALSE(bases.empty());
  const std::string last = LogFile(dir.path(), bases.back());
  std::vector<BatchLocation> batches = BatchesIn(last);
  ASSERT_FALSE(batches.empty());
  ASSERT_EQ(batches.back().header.base_offset, 9);
  ASSERT_EQ(batches.back().header.partition_leader_epoch, 5);
  std::string bytes = FileBytes(last);
  WriteBytes(last, bytes.substr(0, bytes.size() - 1));

  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/false, /*recovery_point=*/0);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_end_offset(), Offset(9));
  EXPECT_EQ(log->EpochEntries(), (Entries{{0, 0}, {3, 6}}));
  EXPECT_EQ(FileBytes(dir.path() + "/" + kLeaderEpochCheckpoint), "0\n2\n0 0\n3 6\n");
}

// (g) Only segments from the one holding the recovery point on are re-validated.
TEST(RecoveryTest, OnlySegmentsFromTheRecoveryPointAreRevalidated) {
  TempDir dir;
  ManualClock clock;
  const std::string pristine = dir.Sub("pristine");
  Contents all;
  std::vector<int64_t> bases;
  {
    auto log = OpenLog(pristine, SmallSegments(), &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 15);
    all = ContentsOf(*log);
    bases = SegmentBases(*log);
  }  // crash
  ASSERT_GE(bases.size(), 4u);
  const int64_t leo = all.back().first + 1;
  // The recovery point lies inside segment 2, past its first batch.
  std::vector<BatchLocation> in_rp_segment = BatchesIn(LogFile(pristine, bases[2]));
  ASSERT_GE(in_rp_segment.size(), 2u);
  const int64_t recovery_point = in_rp_segment[1].header.base_offset + 1;

  struct Case {
    const char* name;
    size_t segment;   // index into `bases`
    size_t batch;     // index of the batch in that segment
    bool detected;
  };
  const std::vector<Case> cases = {
      {"first segment, below the recovery point", 0, 1, false},
      {"segment before the recovery point's", 1, 1, false},
      {"recovery point's segment, batch below the recovery point", 2, 0, true},
      {"recovery point's segment, batch holding the recovery point", 2, 1, true},
      {"segment after the recovery point's", 3, 1, true},
  };
  const std::string work = dir.Sub("work");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CopyDir(pristine, work);
    std::vector<BatchLocation> batches = BatchesIn(LogFile(work, bases[c.segment]));
    ASSERT_GT(batches.size(), c.batch);
    const BatchLocation victim = batches[c.batch];
    FlipByte(LogFile(work, bases[c.segment]), RecordsByte(victim));

    auto log = OpenLog(work, SmallSegments(), &clock, /*clean=*/false, recovery_point);
    ASSERT_NE(log, nullptr);
    if (c.detected) {
      EXPECT_EQ(log->log_end_offset(), Offset(victim.header.base_offset));
      EXPECT_EQ(SegmentBases(*log).back(), bases[c.segment]);
      EXPECT_EQ(ContentsOf(*log), Below(all, victim.header.base_offset));
    } else {
      EXPECT_EQ(log->log_end_offset(), Offset(leo));
      EXPECT_EQ(SegmentBases(*log), bases);
    }
    EXPECT_EQ(log->recovery_point(), log->log_end_offset());
  }
}

// Without a recovery point checkpoint (a partition the checkpoint never listed) everything is
// re-validated.
TEST(RecoveryTest, MissingRecoveryPointRevalidatesEverything) {
  TempDir dir;
  ManualClock clock;
  Contents all;
  std::vector<int64_t> bases;
  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 9);
    all = ContentsOf(*log);
    bases = SegmentBases(*log);
  }
  ASSERT_GE(bases.size(), 3u);
  std::vector<BatchLocation> batches = BatchesIn(LogFile(dir.path(), bases[0]));
  ASSERT_GE(batches.size(), 2u);
  FlipByte(LogFile(dir.path(), bases[0]), RecordsByte(batches[1]));
  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/false,
                     /*recovery_point=*/std::nullopt);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->log_end_offset(), Offset(batches[1].header.base_offset));
  EXPECT_EQ(SegmentBases(*log), (std::vector<int64_t>{bases[0]}));
}

// An unclean open writes the rebuilt indexes of the segments it re-validated, and a following
// clean open reads them back.
TEST(RecoveryTest, RecoveredLogReopensCleanWithTheSameState) {
  TempDir dir;
  ManualClock clock;
  Contents all;
  std::vector<int64_t> bases;
  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock);
    ASSERT_NE(log, nullptr);
    Fill(*log, 10);
    all = ContentsOf(*log);
    bases = SegmentBases(*log);
  }  // crash: the active segment's indexes were never written
  {
    auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/false, /*recovery_point=*/0);
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(ContentsOf(*log), all);
    ASSERT_TRUE(log->Close().ok());
  }
  for (int64_t base : bases) {
    EXPECT_EQ(FileBytes(SegmentFileName(dir.path(), base, ".index")).size() % 8, 0u);
  }
  auto log = OpenLog(dir.path(), SmallSegments(), &clock, /*clean=*/true);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(SegmentBases(*log), bases);
  EXPECT_EQ(ContentsOf(*log), all);
  ExpectEveryOffsetReadable(*log);
}

}  // namespace
}  // namespace gregor::storage
