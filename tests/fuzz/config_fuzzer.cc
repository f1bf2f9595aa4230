// libFuzzer target: a broker's server.properties (common/config.h's parser with the broker's
// schema, then broker_config's cross-checks) from untrusted text: every key, type, range and
// listener check.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "broker/broker_config.h"
#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gregor;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)Config::Parse(broker::BrokerConfigSchema(), text, "fuzz.properties");
  static const std::string path = "/tmp/gregor-fuzz-config-" + std::to_string(getpid());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  (void)broker::LoadBrokerConfig(path, {});
  return 0;
}
