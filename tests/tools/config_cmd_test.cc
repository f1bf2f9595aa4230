// kafka-configs' --add-config syntax, as `gregor config alter` reads it.
#include "tools/config_cmd.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace gregor::tools {
namespace {

TEST(ParseAddConfigTest, ItemsAndBracketedLists) {
  std::map<std::string, std::string> out;
  std::string error;
  ASSERT_TRUE(ParseAddConfig("retention.ms=1,cleanup.policy=[delete,compact],x=", &out, &error));
  EXPECT_EQ(out, (std::map<std::string, std::string>{
                     {"retention.ms", "1"}, {"cleanup.policy", "delete,compact"}, {"x", ""}}));
  EXPECT_FALSE(ParseAddConfig("a=1,oops", &out, &error));
  EXPECT_NE(error.find("'oops'"), std::string::npos);
  EXPECT_FALSE(ParseAddConfig("=1", &out, &error));
}

}  // namespace
}  // namespace gregor::tools
