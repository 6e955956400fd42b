// SentinelConfig: reading sentinel addresses and validating the configuration.
#include "bulwark/redis/sentinel.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace bulwark::redis {
namespace {

bool has_path(const std::vector<ConfigIssue>& issues, std::string_view path,
              std::string_view words) {
  return std::any_of(issues.begin(), issues.end(), [&](const ConfigIssue& issue) {
    return issue.path == path && issue.message.find(words) != std::string::npos;
  });
}

TEST(SentinelNode, ReadsHostAndPort) {
  EXPECT_EQ(parse_sentinel_node("10.0.0.5:26380"), (Endpoint{"10.0.0.5", 26380}));
  EXPECT_EQ(parse_sentinel_node("sentinel-a"), (Endpoint{"sentinel-a", 26379}));
  EXPECT_EQ(parse_sentinel_node("[::1]:5000"), (Endpoint{"::1", 5000}));
  EXPECT_EQ(parse_sentinel_node("[fe80::1]"), (Endpoint{"fe80::1", 26379}));
}

TEST(SentinelNode, RejectsWhatIsNotAnAddress) {
  const auto message_of = [](std::string_view text) -> std::string {
    try {
      (void)parse_sentinel_node(text, "redis.sentinel.nodes[1]");
    } catch (const ConfigError& error) {
      EXPECT_EQ(error.issues().at(0).path, "redis.sentinel.nodes[1]");
      return error.issues().at(0).message;
    }
    return "accepted";
  };
  EXPECT_NE(message_of("host:").find("missing port"), std::string::npos);
  EXPECT_NE(message_of(":26379").find("missing host"), std::string::npos);
  EXPECT_NE(message_of("host:http").find("not a number"), std::string::npos);
  EXPECT_NE(message_of("host:70000").find("out of range"), std::string::npos);
  EXPECT_NE(message_of("host:0").find("out of range"), std::string::npos);
  EXPECT_NE(message_of("::1:26379").find("brackets"), std::string::npos);
  EXPECT_NE(message_of("[::1").find("unclosed"), std::string::npos);
  EXPECT_NE(message_of("[::1]x").find("after ']'"), std::string::npos);
}

TEST(SentinelNode, PrintsAddresses) {
  EXPECT_EQ(to_string(Endpoint{"127.0.0.1", 26379}), "127.0.0.1:26379");
  EXPECT_EQ(to_string(Endpoint{"::1", 26379}), "[::1]:26379");
}

TEST(SentinelConfigValidation, AcceptsACompleteConfiguration) {
  SentinelConfig config;
  config.master_name = "mymaster";
  config.nodes = {{"a", 26379}, {"b", 26379}};
  std::vector<ConfigIssue> issues;
  validate(config, issues);
  EXPECT_TRUE(issues.empty());
}

TEST(SentinelConfigValidation, ReportsEveryProblemAtItsPath) {
  SentinelConfig config;
  config.nodes = {{"a", 26379}, {"", 0}};
  config.timeout = Duration::zero();
  config.tls.cert_file = "client.crt";
  config.password = Secret("hunter2");
  std::vector<ConfigIssue> issues;
  validate(config, issues, "redis.databases.cache.sentinel");
  EXPECT_TRUE(has_path(issues, "redis.databases.cache.sentinel.master_name", "is required"));
  EXPECT_TRUE(has_path(issues, "redis.databases.cache.sentinel.nodes[1]", "missing host"));
  EXPECT_TRUE(has_path(issues, "redis.databases.cache.sentinel.nodes[1]", "port"));
  EXPECT_TRUE(has_path(issues, "redis.databases.cache.sentinel.timeout", "must be > 0"));
  EXPECT_TRUE(has_path(issues, "redis.databases.cache.sentinel.tls.key_file", "both"));
  for (const ConfigIssue& issue : issues) {
    EXPECT_EQ(issue.message.find("hunter2"), std::string::npos) << issue.message;
  }
}

TEST(SentinelConfigValidation, NeedsAtLeastOneSentinel) {
  SentinelConfig config;
  config.master_name = "mymaster";
  std::vector<ConfigIssue> issues;
  validate(config, issues);
  EXPECT_TRUE(has_path(issues, "redis.sentinel.nodes", "at least one"));
  config.master_name = "my master";
  config.nodes = {{"a", 1}};
  issues.clear();
  validate(config, issues);
  EXPECT_TRUE(has_path(issues, "redis.sentinel.master_name", "spaces"));
}

}  // namespace
}  // namespace bulwark::redis
