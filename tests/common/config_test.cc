#include "common/config.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gregor {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Designated initializers would read better, but GCC 12 flags every omitted field of
// ConfigKeyDef under -Wextra (-Wmissing-field-initializers).
ConfigKeyDef Key(std::string name, ConfigType type,
                 std::optional<std::string> default_value = std::nullopt,
                 std::optional<double> min = std::nullopt,
                 std::optional<double> max = std::nullopt) {
  ConfigKeyDef def;
  def.name = std::move(name);
  def.type = type;
  def.default_value = std::move(default_value);
  def.min = min;
  def.max = max;
  return def;
}

ConfigSchema TestSchema() {
  ConfigSchema schema;
  schema.Define(Key("broker.id", ConfigType::kInt, std::nullopt, /*min=*/0))
      .Define(Key("num.partitions", ConfigType::kInt, "1", /*min=*/1, /*max=*/10000))
      .Define(Key("log.segment.bytes", ConfigType::kLong, "1073741824", /*min=*/1024))
      .Define(Key("log.dirs", ConfigType::kList, "/tmp/gregor"))
      .Define(Key("listeners", ConfigType::kString, "PLAINTEXT://:9092"))
      .Define(Key("auto.create.topics.enable", ConfigType::kBool, "true"))
      .Define(Key("log.cleaner.min.cleanable.ratio", ConfigType::kDouble, "0.5", /*min=*/0,
                  /*max=*/1))
      .Define(Key("cluster.id", ConfigType::kString));
  return schema;
}

class ConfigTest : public ::testing::Test {
 protected:
  absl::StatusOr<Config> Parse(std::string_view text) {
    return Config::Parse(schema_, text, "server.properties");
  }
  // The message of the error that parsing `text` must produce.
  std::string ParseError(std::string_view text) {
    absl::StatusOr<Config> config = Parse(text);
    EXPECT_FALSE(config.ok()) << "parsed: " << text;
    if (config.ok()) return "";
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(config.status().message());
  }

  const ConfigSchema schema_ = TestSchema();
};

TEST_F(ConfigTest, ParsesTypedValues) {
  absl::StatusOr<Config> config = Parse(
      "broker.id=3\n"
      "num.partitions=12\n"
      "log.segment.bytes=8589934592\n"
      "log.dirs=/data/a,/data/b\n"
      "listeners=PLAINTEXT://host:9092\n"
      "auto.create.topics.enable=false\n"
      "log.cleaner.min.cleanable.ratio=0.25\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 3);
  EXPECT_EQ(config->GetInt("num.partitions"), 12);
  EXPECT_EQ(config->GetLong("log.segment.bytes"), 8589934592);
  EXPECT_THAT(config->GetList("log.dirs"), ElementsAre("/data/a", "/data/b"));
  EXPECT_EQ(config->GetString("listeners"), "PLAINTEXT://host:9092");
  EXPECT_FALSE(config->GetBool("auto.create.topics.enable"));
  EXPECT_DOUBLE_EQ(config->GetDouble("log.cleaner.min.cleanable.ratio"), 0.25);
}

TEST_F(ConfigTest, SkipsCommentsAndBlankLines) {
  absl::StatusOr<Config> config = Parse(
      "# a comment\n"
      "! also a comment, as in java.util.Properties\n"
      "   # indented comment with key=value inside\n"
      "\n"
      "   \t \n"
      "broker.id=1\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 1);
  EXPECT_FALSE(config->IsSet("num.partitions"));
}

TEST_F(ConfigTest, EmptyTextGivesDefaults) {
  absl::StatusOr<Config> config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("num.partitions"), 1);
  EXPECT_EQ(config->GetLong("log.segment.bytes"), 1073741824);
  EXPECT_THAT(config->GetList("log.dirs"), ElementsAre("/tmp/gregor"));
  EXPECT_EQ(config->GetString("listeners"), "PLAINTEXT://:9092");
  EXPECT_TRUE(config->GetBool("auto.create.topics.enable"));
  EXPECT_DOUBLE_EQ(config->GetDouble("log.cleaner.min.cleanable.ratio"), 0.5);
  EXPECT_FALSE(config->IsSet("num.partitions"));
}

TEST_F(ConfigTest, TrimsWhitespaceAroundKeyAndValue) {
  absl::StatusOr<Config> config = Parse(
      "  broker.id \t=  7  \r\n"
      "listeners =  PLAINTEXT://a b  \r\n"
      "cluster.id=\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 7);
  EXPECT_EQ(config->GetString("listeners"), "PLAINTEXT://a b");
  EXPECT_EQ(config->GetString("cluster.id"), "");
  EXPECT_TRUE(config->IsSet("cluster.id"));
}

TEST_F(ConfigTest, FirstEqualsSplitsKeyFromValue) {
  absl::StatusOr<Config> config = Parse("cluster.id=a=b=c\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetString("cluster.id"), "a=b=c");
}

TEST_F(ConfigTest, LastDuplicateWins) {
  absl::StatusOr<Config> config = Parse("broker.id=1\nbroker.id=2\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 2);
}

TEST_F(ConfigTest, LastLineWithoutNewline) {
  absl::StatusOr<Config> config = Parse("broker.id=1\nnum.partitions=4");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("num.partitions"), 4);
}

TEST_F(ConfigTest, OverrideWinsOverFileAndDefault) {
  absl::StatusOr<Config> config = Parse("num.partitions=3\n");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_TRUE(config->ApplyOverride("num.partitions=5").ok());
  ASSERT_TRUE(config->ApplyOverride(" listeners = PLAINTEXT://:19092 ").ok());
  EXPECT_EQ(config->GetInt("num.partitions"), 5);
  EXPECT_EQ(config->GetString("listeners"), "PLAINTEXT://:19092");
  EXPECT_TRUE(config->IsSet("listeners"));
}

TEST_F(ConfigTest, UnknownKeyNamesKeyAndLine) {
  EXPECT_EQ(ParseError("broker.id=1\n\n# x\nfoo.bar=1\n"),
            "server.properties:4: unknown config key 'foo.bar'");
}

TEST_F(ConfigTest, LineWithoutEqualsIsAnError) {
  const std::string message = ParseError("broker.id=1\nbroker.id 2\n");
  EXPECT_THAT(message, HasSubstr("server.properties:2:"));
  EXPECT_THAT(message, HasSubstr("broker.id 2"));
}

TEST_F(ConfigTest, MissingKeyIsAnError) {
  EXPECT_THAT(ParseError("=5\n"), HasSubstr("server.properties:1: missing key"));
}

TEST_F(ConfigTest, MalformedIntegers) {
  EXPECT_EQ(ParseError("broker.id=1\n\nnum.partitions=abc\n"),
            "server.properties:3: invalid value 'abc' for 'num.partitions': expected an integer");
  for (const char* bad : {"", "1.5", "0x10", "1e3", "12abc", "1 000", "--1", "+", "-"}) {
    const std::string message = ParseError(absl::StrCat("num.partitions=", bad));
    EXPECT_THAT(message, HasSubstr("server.properties:1:")) << bad;
    EXPECT_THAT(message, HasSubstr("'num.partitions'")) << bad;
    EXPECT_THAT(message, HasSubstr("expected an integer")) << bad;
  }
}

TEST_F(ConfigTest, SignedIntegers) {
  absl::StatusOr<Config> config = Parse("broker.id=+42\nlog.segment.bytes=+2048\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 42);
  EXPECT_EQ(config->GetLong("log.segment.bytes"), 2048);
  EXPECT_THAT(ParseError("broker.id=-1"), HasSubstr("must be at least 0"));
}

TEST_F(ConfigTest, IntegerWidths) {
  ConfigSchema schema;
  schema.Define(Key("i", ConfigType::kInt)).Define(Key("l", ConfigType::kLong));
  absl::StatusOr<Config> config =
      Config::Parse(schema, "i=-2147483648\nl=9223372036854775807\n", "x");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("i"), INT32_MIN);
  EXPECT_EQ(config->GetLong("l"), INT64_MAX);

  absl::StatusOr<Config> too_wide = Config::Parse(schema, "i=2147483648\n", "x");
  ASSERT_FALSE(too_wide.ok());
  EXPECT_THAT(too_wide.status().message(), HasSubstr("x:1: invalid value '2147483648' for 'i'"));
  EXPECT_THAT(too_wide.status().message(), HasSubstr("32-bit"));

  absl::StatusOr<Config> too_long = Config::Parse(schema, "l=9223372036854775808\n", "x");
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.status().message(), HasSubstr("64-bit"));
}

TEST_F(ConfigTest, Bounds) {
  EXPECT_EQ(ParseError("num.partitions=0"),
            "server.properties:1: invalid value '0' for 'num.partitions': must be at least 1");
  EXPECT_EQ(ParseError("num.partitions=10001"),
            "server.properties:1: invalid value '10001' for 'num.partitions': must be at most "
            "10000");
  EXPECT_THAT(ParseError("log.cleaner.min.cleanable.ratio=1.5"), HasSubstr("must be at most 1"));
  EXPECT_THAT(ParseError("log.segment.bytes=1023"), HasSubstr("must be at least 1024"));
  // Inclusive at both ends.
  absl::StatusOr<Config> config =
      Parse("num.partitions=10000\nlog.cleaner.min.cleanable.ratio=0\nlog.segment.bytes=1024\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("num.partitions"), 10000);
}

TEST_F(ConfigTest, Bools) {
  for (const char* text : {"true", "TRUE", "True", "tRuE"}) {
    absl::StatusOr<Config> config = Parse(absl::StrCat("auto.create.topics.enable=", text));
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_TRUE(config->GetBool("auto.create.topics.enable")) << text;
  }
  for (const char* text : {"false", "FALSE", "False"}) {
    absl::StatusOr<Config> config = Parse(absl::StrCat("auto.create.topics.enable=", text));
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_FALSE(config->GetBool("auto.create.topics.enable")) << text;
  }
  for (const char* bad : {"yes", "1", "0", "on", ""}) {
    EXPECT_THAT(ParseError(absl::StrCat("auto.create.topics.enable=", bad)),
                HasSubstr("for 'auto.create.topics.enable': expected true or false"))
        << bad;
  }
}

TEST_F(ConfigTest, Doubles) {
  absl::StatusOr<Config> config = Parse("log.cleaner.min.cleanable.ratio=2.5e-1");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->GetDouble("log.cleaner.min.cleanable.ratio"), 0.25);
  for (const char* bad : {"abc", "0.5x", "nan", "inf", "+-0.5", ""}) {
    EXPECT_THAT(ParseError(absl::StrCat("log.cleaner.min.cleanable.ratio=", bad)),
                HasSubstr("expected a finite number"))
        << bad;
  }
}

TEST_F(ConfigTest, ListsTrimAndDropEmptyItems) {
  absl::StatusOr<Config> config = Parse("log.dirs= /a , /b,,  ,/c ,");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->GetList("log.dirs"), ElementsAre("/a", "/b", "/c"));

  absl::StatusOr<Config> empty = Parse("log.dirs=");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(empty->GetList("log.dirs"), IsEmpty());
}

TEST_F(ConfigTest, OverrideErrorsSayOverride) {
  absl::StatusOr<Config> config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status();

  absl::Status unknown = config->ApplyOverride("foo.bar=1");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "--override: unknown config key 'foo.bar'");

  absl::Status invalid = config->ApplyOverride("num.partitions=many");
  EXPECT_EQ(invalid.message(),
            "--override: invalid value 'many' for 'num.partitions': expected an integer");

  absl::Status no_equals = config->ApplyOverride("num.partitions");
  EXPECT_THAT(no_equals.message(), HasSubstr("--override:"));
  EXPECT_THAT(no_equals.message(), HasSubstr("num.partitions"));

  EXPECT_THAT(config->ApplyOverride("=1").message(), HasSubstr("--override: missing key"));
  // A failed override leaves the previous value in place.
  EXPECT_EQ(config->GetInt("num.partitions"), 1);
}

TEST_F(ConfigTest, LongValuesAreCutShortInErrors) {
  const std::string huge(10000, 'x');
  const std::string message = ParseError(absl::StrCat("num.partitions=", huge));
  EXPECT_LT(message.size(), 200u);
  EXPECT_THAT(message, HasSubstr("...'"));
}

class ConfigFileTest : public ConfigTest {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/gregor_config_test_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    for (const std::string& path : files_) std::remove(path.c_str());
    rmdir(dir_.c_str());
  }
  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << contents;
    files_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConfigFileTest, LoadFile) {
  const std::string path = WriteFile("server.properties", "broker.id=9\nlog.dirs=/x,/y\n");
  absl::StatusOr<Config> config = Config::LoadFile(schema_, path);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("broker.id"), 9);
  EXPECT_THAT(config->GetList("log.dirs"), ElementsAre("/x", "/y"));
}

TEST_F(ConfigFileTest, LoadFileErrorsNameThePath) {
  const std::string path = WriteFile("server.properties", "broker.id=9\nnum.partitions=x\n");
  absl::StatusOr<Config> config = Config::LoadFile(schema_, path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(config.status().message(), HasSubstr(path + ":2: invalid value 'x'"));
}

TEST_F(ConfigFileTest, MissingFileIsNotFound) {
  const std::string path = dir_ + "/absent.properties";
  absl::StatusOr<Config> config = Config::LoadFile(schema_, path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr(path));
  EXPECT_THAT(config.status().message(), HasSubstr("No such file or directory"));
}

// Programming errors crash with a message saying what is wrong.
using ConfigDeathTest = ConfigTest;

TEST_F(ConfigDeathTest, AccessorMisuse) {
  absl::StatusOr<Config> config = Parse("");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DEATH(config->GetInt("no.such.key"), "'no.such.key' is not in the schema");
  EXPECT_DEATH(config->GetLong("num.partitions"), "'num.partitions' has type int, not long");
  EXPECT_DEATH(config->GetString("cluster.id"), "'cluster.id' has no value and no default");
  EXPECT_DEATH(config->IsSet("no.such.key"), "not in the schema");
}

TEST(ConfigSchemaDeathTest, BadDefinitions) {
  EXPECT_DEATH(ConfigSchema().Define(Key("n", ConfigType::kInt, "ten")),
               "default 'ten' of config key 'n' is invalid: expected an integer");
  EXPECT_DEATH(ConfigSchema().Define(Key("n", ConfigType::kInt, "0", /*min=*/1)),
               "must be at least 1");
  EXPECT_DEATH(
      ConfigSchema().Define(Key("n", ConfigType::kString)).Define(Key("n", ConfigType::kString)),
      "defined twice");
  EXPECT_DEATH(ConfigSchema().Define(Key("s", ConfigType::kString, std::nullopt, /*min=*/1)),
               "cannot have bounds");
}

}  // namespace
}  // namespace gregor
