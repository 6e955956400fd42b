#include "manager/detail/yaml_limits.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bulwark::detail {
namespace {

bool accepted(const std::string& text) {
  std::vector<ConfigIssue> issues;
  return check_yaml_limits(text, "f.yaml", issues);
}

std::string nested_blocks(int depth) {
  std::string out;
  for (int i = 0; i < depth; ++i) out += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  return out;
}

TEST(YamlLimits, OrdinaryFilesPass) {
  EXPECT_TRUE(accepted(""));
  EXPECT_TRUE(accepted("services:\n  a:\n    retry: {backoff: {type: constant}}\n"));
  EXPECT_TRUE(accepted(nested_blocks(60)));
  EXPECT_TRUE(accepted("a: " + std::string(60, '[') + std::string(60, ']')));
}

TEST(YamlLimits, DeepBlocksAndFlowsAreRefused) {
  EXPECT_FALSE(accepted(nested_blocks(70)));
  EXPECT_FALSE(accepted("a: " + std::string(70, '{')));
  std::string dashes;
  for (int i = 0; i < 70; ++i) dashes += "- ";
  EXPECT_FALSE(accepted(dashes));
  // Flow levels add to block levels.
  EXPECT_FALSE(accepted(nested_blocks(40) + std::string(40, ' ') + "k: " + std::string(30, '[')));
}

TEST(YamlLimits, BracketsInQuotesCommentsAndBlockScalarsDoNotCount) {
  const std::string many(100, '[');
  EXPECT_TRUE(accepted("a: \"" + many + "\"\n"));
  EXPECT_TRUE(accepted("a: '" + many + "'\n"));
  EXPECT_TRUE(accepted("a: 1 # " + many + "\n"));
  EXPECT_TRUE(accepted("a: |\n  " + many + "\n  more\nb: 1\n"));
  EXPECT_TRUE(accepted("a: >-\n  " + many + "\n"));
  // An apostrophe inside a word does not open a quote that would hide what follows.
  EXPECT_FALSE(accepted("a: don't " + many + "\n"));
}

TEST(YamlLimits, SizeLimit) {
  EXPECT_TRUE(accepted(std::string(max_config_bytes, '#')));
  std::vector<ConfigIssue> issues;
  EXPECT_FALSE(check_yaml_limits(std::string(max_config_bytes + 1, '#'), "f.yaml", issues));
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].path, "f.yaml");
}

}  // namespace
}  // namespace bulwark::detail
