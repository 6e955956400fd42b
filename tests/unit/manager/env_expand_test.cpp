#include "manager/detail/env_expand.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark::detail {
namespace {

const Environment environment = testing::fake_environment(
    {{"HOST", "db.local"}, {"PORT", "5432"}, {"EMPTY", ""}, {"DOLLAR", "$HOME"}});

TEST(EnvExpand, TextWithoutReferencesIsUnchanged) {
  const Expansion out = expand_environment("plain text, $ alone, a$b", environment);
  EXPECT_EQ(out.value, "plain text, $ alone, a$b");
  EXPECT_FALSE(out.substituted);
  EXPECT_FALSE(out.error);
  EXPECT_EQ(expand_environment("ends with $", environment).value, "ends with $");
}

TEST(EnvExpand, ReferencesAndDefaults) {
  const Expansion out = expand_environment("http://${HOST}:${PORT:-80}/${MISSING:-x}", environment);
  EXPECT_EQ(out.value, "http://db.local:5432/x");
  EXPECT_TRUE(out.substituted);
  EXPECT_TRUE(out.missing.empty());
  ASSERT_EQ(out.used.size(), 2U);
  EXPECT_EQ(out.used[0].first, "HOST");
}

TEST(EnvExpand, EmptyValuesTakeTheDefaultOnlyWithTheColonForm) {
  EXPECT_EQ(expand_environment("[${EMPTY:-d}]", environment).value, "[d]");
  EXPECT_EQ(expand_environment("[${EMPTY}]", environment).value, "[]");
}

TEST(EnvExpand, DefaultsMayNestAndHoldBracesAndColons) {
  EXPECT_EQ(expand_environment("${A:-${B:-${HOST}}}", environment).value, "db.local");
  EXPECT_EQ(expand_environment("${A:-http://h:1/{x}}", environment).value, "http://h:1/{x}");
  EXPECT_EQ(expand_environment("${A:-}", environment).value, "");
}

TEST(EnvExpand, DoubleDollarIsALiteralDollar) {
  EXPECT_EQ(expand_environment("$${HOST} costs $$5", environment).value, "${HOST} costs $5");
  // Values are not expanded again.
  EXPECT_EQ(expand_environment("${DOLLAR}", environment).value, "$HOME");
}

TEST(EnvExpand, MissingVariablesAreListed) {
  const Expansion out = expand_environment("${A}-${HOST}-${B}", environment);
  EXPECT_EQ(out.missing, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(out.value, "-db.local-");
}

TEST(EnvExpand, MalformedReferencesAreErrors) {
  EXPECT_TRUE(expand_environment("${HOST", environment).error);
  EXPECT_TRUE(expand_environment("${}", environment).error);
  EXPECT_TRUE(expand_environment("${9X}", environment).error);
  EXPECT_TRUE(expand_environment("${A B}", environment).error);
  EXPECT_TRUE(expand_environment("${A-x}", environment).error);
  std::string deep = "x";
  for (int i = 0; i < 20; ++i) deep = "${V:-" + deep + "}";
  const Expansion out = expand_environment(deep, environment);
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->find("nested more than"), std::string::npos);
}

TEST(EnvExpand, ErrorsQuoteTheFileNotTheValues) {
  const Expansion out = expand_environment("${HOST}${bad name}", environment);
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->find("db.local"), std::string::npos);
}

TEST(EnvExpand, ANullEnvironmentHasNoVariables) {
  const Expansion out = expand_environment("${A:-d}${B}", Environment{});
  EXPECT_EQ(out.value, "d");
  EXPECT_EQ(out.missing, (std::vector<std::string>{"B"}));
}

TEST(EnvExpand, ServiceNamesBecomeVariableStems) {
  EXPECT_EQ(environment_stem("qdrant"), "QDRANT");
  EXPECT_EQ(environment_stem("open-ai.v1"), "OPEN_AI_V1");
  EXPECT_TRUE(is_variable_name("_A1"));
  EXPECT_FALSE(is_variable_name("1A"));
  EXPECT_FALSE(is_variable_name(""));
}

}  // namespace
}  // namespace bulwark::detail
