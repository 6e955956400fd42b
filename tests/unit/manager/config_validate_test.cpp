// validate() on configurations built in code.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using testing::has_issue;
using testing::listing;

std::vector<ConfigIssue> issues_of(const ManagerConfig& config) {
  std::vector<ConfigIssue> issues;
  validate(config, issues);
  return issues;
}

HttpServiceConfig service(std::string name) {
  HttpServiceConfig config;
  config.name = name;
  config.client.name = std::move(name);
  config.client.base_url = "http://localhost:8080";
  return config;
}

RedisDatabaseConfig database(std::string name, int number) {
  RedisDatabaseConfig config;
  config.name = name;
  config.client.name = "redis." + name;
  config.client.connection.database = number;
  return config;
}

TEST(ManagerConfigValidate, TheDefaultsAndASimpleConfigAreValid) {
  EXPECT_TRUE(issues_of({}).empty());
  ManagerConfig config;
  config.services.push_back(service("qdrant"));
  config.redis.push_back(database("cache", 0));
  config.admin.listen = "0.0.0.0:9090";
  EXPECT_TRUE(issues_of(config).empty()) << listing(issues_of(config));
}

TEST(ManagerConfigValidate, PathsAreSpelledAsInTheFile) {
  ManagerConfig config;
  config.services.push_back(service("qdrant"));
  config.services[0].client.pool.max_connections = 0;
  config.services[0].client.timeouts.read = 0s;
  config.services[0].client.base_url = "qdrant:6333";
  config.services[0].client.circuit_breaker->failure_rate_threshold = 2;
  config.redis.push_back(database("cache", 16));
  config.redis[0].client.pool.busy_threshold = 0;
  config.redis[0].client.rate_limiter = RateLimiterConfig{.rate = -1};
  const auto issues = issues_of(config);
  EXPECT_TRUE(has_issue(issues, "services.qdrant.pool.max_connections", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.pool.read_timeout", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.url", "URL"));
  EXPECT_TRUE(
      has_issue(issues, "services.qdrant.circuit_breaker.failure_rate_threshold", "[0, 1]"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.db", "must be 0-15, got 16"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.pool.busy_threshold", "must be >= 1"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.rate_limit.rate", "must be > 0"));
  EXPECT_EQ(issues.size(), 7U) << listing(issues);
}

TEST(ManagerConfigValidate, NamesAreUnique) {
  ManagerConfig config;
  config.services.push_back(service("qdrant"));
  config.services.push_back(service("qdrant"));
  config.redis.push_back(database("cache", 0));
  config.redis.push_back(database("cache", 1));
  config.redis.push_back(database("other", 2));
  config.redis.back().client.name = "qdrant";
  const auto issues = issues_of(config);
  EXPECT_TRUE(has_issue(issues, "services.qdrant", "duplicate service name"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache", "duplicate database name"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.other",
                        "client name \"qdrant\" is also used by services.qdrant"));
  EXPECT_EQ(issues.size(), 3U) << listing(issues);
}

TEST(ManagerConfigValidate, OnlyAnOptionalServiceMayBeUnavailable) {
  ManagerConfig config;
  config.services.push_back(service("openai"));
  config.services[0].client.auth.scheme = http::AuthScheme::bearer;
  config.services[0].optional = true;
  config.services[0].available = false;
  EXPECT_TRUE(issues_of(config).empty()) << listing(issues_of(config));
  config.services[0].optional = false;
  const auto issues = issues_of(config);
  EXPECT_TRUE(has_issue(issues, "services.openai.optional", "only an optional service"));
}

TEST(ManagerConfigValidate, AdminAddresses) {
  ManagerConfig config;
  for (const char* good : {"127.0.0.1:9090", "localhost:0", "[::1]:9090", "0.0.0.0:65535"}) {
    config.admin.listen = good;
    EXPECT_TRUE(issues_of(config).empty()) << good;
  }
  for (const char* bad : {"9090", ":9090", "host:", "host:65536", "::1:9090", "host:x", "[]:1"}) {
    config.admin.listen = bad;
    EXPECT_TRUE(has_issue(issues_of(config), "admin.listen", "host:port")) << bad;
  }
}

}  // namespace
}  // namespace bulwark
