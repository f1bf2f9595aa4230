// The fuzzers' seed corpora (tests/fuzz/run.sh): for fuzz_kafka_messages every message of the
// schema at every version, encoded from its defaults and from the golden-test style sample
// fields the JSON codec fills; for fuzz_record_batch batches of every codec, keyed and keyless,
// with headers and tombstones; for fuzz_segment_recovery a small segment (with and without an
// index tail) and a producer snapshot; for fuzz_config the shipped broker.properties.
//
//   make_seeds OUT_DIR REPO_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "broker/storage/producer_snapshot.h"
#include "common/kafka/messages_json.h"
#include "common/record_batch.h"

namespace {

using namespace gregor;

void Write(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string Batch(Compression codec, int records, bool keys, int64_t producer_id) {
  record::BatchBuilder builder(codec);
  if (producer_id >= 0) builder.set_producer(producer_id, 0, 0);
  for (int i = 0; i < records; ++i) {
    std::optional<std::string> key;
    if (keys) key = absl::StrCat("key-", i % 3);
    std::optional<std::string> value = i == 2 ? std::nullopt : std::optional<std::string>(absl::StrCat("value-", i));
    builder.Add(key, value, 1700000000000 + i, {{"h", std::string("v")}});
  }
  return *builder.Build();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR REPO_DIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const std::filesystem::path repo = argv[2];
  int n = 0;
  const auto& codecs = kafka::json::MessageCodecs();
  for (size_t i = 0; i < codecs.size(); ++i) {
    const auto& codec = codecs[i];
    for (int v = codec.min_version; v <= codec.max_version; ++v) {
      kafka::Writer w;
      if (!codec.encode(kafka::json::Json::object(), static_cast<int16_t>(v), w).ok()) continue;
      auto body = w.Flatten();
      if (!body.ok()) continue;
      std::string seed;
      seed.push_back(static_cast<char>(i));
      seed.push_back(static_cast<char>(v - codec.min_version));
      Write(out / "kafka_messages" / absl::StrCat(codec.name, "-v", v), seed + *body);
      ++n;
    }
  }
  std::string segment;
  int64_t offset = 0;
  for (Compression codec : {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                            Compression::kLz4, Compression::kZstd}) {
    for (bool keys : {false, true}) {
      std::string batch = Batch(codec, 5, keys, keys ? 7 : -1);
      Write(out / "record_batch" / absl::StrCat("codec", static_cast<int>(codec), keys ? "-keyed" : ""), batch);
      record::SetBaseOffset(batch.data(), offset);
      offset += 5;
      segment += batch;
      n += 1;
    }
  }
  Write(out / "record_batch" / "several", segment);
  Write(out / "segment_recovery" / "segment", std::string(1, '\0') + segment);
  std::string with_index(1, static_cast<char>((1 << 1) | 1));  // one 8-byte index entry
  with_index += segment + std::string("\0\0\0\x04\0\0\0\0", 8);
  Write(out / "segment_recovery" / "segment-with-index", with_index);
  storage::ProducerStateTable producers;
  producers.Record(7, 0, {0, 4, 0, 4, 1700000000004});
  producers.Record(8, 2, {10, 14, 5, 9, 1700000000009});
  Write(out / "segment_recovery" / "producer-snapshot", storage::EncodeProducerSnapshot(producers));
  std::ifstream props(repo / "deploy" / "config" / "broker.properties");
  std::stringstream text;
  text << props.rdbuf();
  Write(out / "config" / "broker.properties", text.str());
  Write(out / "config" / "overrides", "node.id=3\nlisteners=PLAINTEXT://:9092\nlog.dirs=/tmp/a,/tmp/b\n"
                                      "num.partitions=3\nlog.retention.hours=1\nbroker.rack=r1\n");
  std::printf("seeds: %d Kafka messages, record batches, a segment, a snapshot, 2 configs\n", n);
  return 0;
}
