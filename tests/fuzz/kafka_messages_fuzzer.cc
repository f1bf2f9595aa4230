// libFuzzer target: every Kafka message the codec knows (common/kafka/schema), requests and
// responses, every version. The first two bytes pick the message and its version, the rest is
// the body; the request header parser also gets the whole input as a frame. A body that decodes
// must encode again and decode again (decode . encode . decode is stable). Crashes, leaks and
// undefined behaviour are findings (built with ASan + UBSan).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/kafka/api.h"
#include "common/kafka/messages_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor::kafka;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)ParseRequestHeader(input);
  if (size < 2) return 0;
  const auto& codecs = json::MessageCodecs();
  const json::MessageCodec& codec = codecs[data[0] % codecs.size()];
  const int span = codec.max_version - codec.min_version + 1;
  const auto version = static_cast<int16_t>(codec.min_version + data[1] % span);
  std::string_view body = input.substr(2);
  auto decoded = codec.decode(body, version);
  if (!decoded.ok()) return 0;
  Writer w;
  absl::Status encoded = codec.encode(*decoded, version, w);
  if (!encoded.ok()) {
    std::fprintf(stderr, "%s v%d decoded but does not encode: %s\n", codec.name, version,
                 std::string(encoded.message()).c_str());
    std::abort();
  }
  auto flat = w.Flatten();
  if (!flat.ok() || !codec.decode(*flat, version).ok()) {
    std::fprintf(stderr, "%s v%d: its own encoding does not decode\n", codec.name, version);
    std::abort();
  }
  return 0;
}
