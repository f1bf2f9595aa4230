// server.properties as the broker loads it (broker/broker_config.h): bad files are clear errors,
// never a crash. Cases found by the config fuzzer (tests/fuzz/config_fuzzer.cc) end up here.
#include "broker/broker_config.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace gregor::broker {
namespace {

std::string WriteProperties(const std::string& text) {
  static int n = 0;
  std::string path = "/tmp/gregor-broker-config-test-" + std::to_string(getpid()) + "-" +
                     std::to_string(n++) + ".properties";
  std::ofstream(path) << text;
  return path;
}

constexpr char kBase[] =
    "node.id=1\n"
    "controller.quorum.voters=1@127.0.0.1:9990\n"
    "listeners=PLAINTEXT://127.0.0.1:9092\n"
    "replication.listener=127.0.0.1:9190\n";

TEST(BrokerConfigTest, WithoutLogDirsItIsAnErrorNotACrash) {
  // Found by fuzz_config: neither log.dirs nor its alias log.dir set aborted on a check.
  auto config = LoadBrokerConfig(WriteProperties(kBase), {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(), "missing required config 'log.dirs'");
}

TEST(BrokerConfigTest, LogDirIsAnAliasOfLogDirs) {
  auto config = LoadBrokerConfig(WriteProperties(std::string(kBase) + "log.dir=/tmp/a,/tmp/b\n"), {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_dirs, (std::vector<std::string>{"/tmp/a", "/tmp/b"}));
  config = LoadBrokerConfig(WriteProperties(std::string(kBase) + "log.dir=/tmp/a\nlog.dirs=/tmp/c\n"), {});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_dirs, (std::vector<std::string>{"/tmp/c"}));
}

}  // namespace
}  // namespace gregor::broker
