// The fleet-wide keys of the configuration: `rate_limit.shared`, `retry.budget` and
// `retry.budget.shared`, inherited from `defaults`, and the checks of the database they name.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using testing::has_issue;
using testing::issues_of;
using testing::listing;

ManagerConfig parse(std::string_view yaml) {
  try {
    return parse_config(yaml, testing::fake_environment(), "test.yaml");
  } catch (const ConfigError& error) {
    ADD_FAILURE() << listing(error.issues());
    return {};
  }
}

TEST(SharedLimitsConfig, ReadsSharedRateLimitAndRetryBudget) {
  const ManagerConfig config = parse(R"(
services:
  search:
    url: http://search:8080
    rate_limit:
      rate: 100
      shared: { database: coordination, key_prefix: "shop:", timeout: 20ms, fallback_rate: 25 }
    retry:
      budget:
        ratio: 0.1
        min_retries_per_second: 2
        window: 5s
        shared: { database: coordination, sync_interval: 100ms }
redis:
  url: redis://cache:6379
  databases: { cache: 0, coordination: 1 }
)");
  const http::ClientConfig& client = config.find_service("search")->client;
  ASSERT_TRUE(client.rate_limiter && client.rate_limiter->shared);
  EXPECT_EQ(client.rate_limiter->shared->database, "coordination");
  EXPECT_EQ(client.rate_limiter->shared->key_prefix, "shop:");
  EXPECT_EQ(client.rate_limiter->shared->timeout, 20ms);
  EXPECT_EQ(client.rate_limiter->shared->fallback_rate, 25.0);
  ASSERT_TRUE(client.retry && client.retry->budget_config);
  const RetryBudgetConfig& budget = *client.retry->budget_config;
  EXPECT_EQ(budget.ratio, 0.1);
  EXPECT_EQ(budget.min_retries_per_second, 2U);
  EXPECT_EQ(budget.window, 5s);
  ASSERT_TRUE(budget.shared);
  EXPECT_EQ(budget.shared->database, "coordination");
  EXPECT_EQ(budget.shared->key_prefix, "bulwark:");
  EXPECT_EQ(budget.shared->sync_interval, 100ms);
}

TEST(SharedLimitsConfig, SharedTrueUsesTheOnlyDatabaseAndDefaultsAreInherited) {
  const ManagerConfig config = parse(R"(
defaults:
  rate_limit: { rate: 10, shared: true }
  retry: { budget: { shared: on } }
services:
  a: { url: "http://a" }
  b: { url: "http://b", rate_limit: { shared: off }, retry: { budget: off } }
redis: { url: "redis://r:6379" }
)");
  const http::ClientConfig& a = config.find_service("a")->client;
  ASSERT_TRUE(a.rate_limiter && a.rate_limiter->shared);
  EXPECT_TRUE(a.rate_limiter->shared->database.empty());
  ASSERT_TRUE(a.retry->budget_config && a.retry->budget_config->shared);
  const http::ClientConfig& b = config.find_service("b")->client;
  ASSERT_TRUE(b.rate_limiter);
  EXPECT_FALSE(b.rate_limiter->shared);
  EXPECT_FALSE(b.retry->budget_config);
  // Redis databases inherit the defaults too.
  const redis::ClientConfig& database = config.find_redis("default")->client;
  ASSERT_TRUE(database.rate_limiter && database.rate_limiter->shared);
}

TEST(SharedLimitsConfig, DatabaseMustNameAConfiguredDatabase) {
  const auto issues = issues_of(R"(
services:
  search:
    url: http://search
    rate_limit: { shared: { database: nowhere } }
redis:
  url: redis://r
  databases: { cache: 0 }
)");
  EXPECT_TRUE(has_issue(issues, "services.search.rate_limit.shared.database",
                        "no Redis database named \"nowhere\""))
      << listing(issues);
}

TEST(SharedLimitsConfig, WithSeveralDatabasesDatabaseIsRequired) {
  const auto issues = issues_of(R"(
services:
  search:
    url: http://search
    retry: { budget: { shared: true } }
redis:
  url: redis://r
  databases: { cache: 0, sessions: 1 }
)");
  EXPECT_TRUE(has_issue(issues, "services.search.retry.budget.shared.database", "cache, sessions"))
      << listing(issues);
}

TEST(SharedLimitsConfig, WithoutRedisNothingCanBeShared) {
  const auto issues = issues_of(R"(
services:
  search: { url: "http://search", rate_limit: { shared: true } }
)");
  EXPECT_TRUE(
      has_issue(issues, "services.search.rate_limit.shared.database", "add a redis section"))
      << listing(issues);
}

TEST(SharedLimitsConfig, BadValuesNameTheirKeys) {
  const auto issues = issues_of(R"(
services:
  search:
    url: http://search
    rate_limit: { rate: 5000000, shared: { key_prefix: "", timeout: 0s, colour: red, fallback_rate: -1 } }
    retry: { budget: { ratio: -1, window: 0s, shared: { sync_interval: 0s } } }
redis: { url: "redis://r" }
)");
  EXPECT_TRUE(
      has_issue(issues, "services.search.rate_limit.shared.key_prefix", "must not be empty"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.search.rate_limit.shared.timeout", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "services.search.rate_limit.shared.colour", ""));
  EXPECT_TRUE(has_issue(issues, "services.search.rate_limit.rate", "when shared"));
  EXPECT_TRUE(has_issue(issues, "services.search.rate_limit.shared.fallback_rate", "must be >= 0"));
  EXPECT_TRUE(has_issue(issues, "services.search.retry.budget.ratio", "must be >= 0"));
  EXPECT_TRUE(has_issue(issues, "services.search.retry.budget.window", "must be > 0"));
  EXPECT_TRUE(
      has_issue(issues, "services.search.retry.budget.shared.sync_interval", "must be > 0"));
}

}  // namespace
}  // namespace bulwark

namespace bulwark {
namespace {

TEST(SharedStateConfig, AClusterOrSentinelDatabaseCannotCarrySharedState) {
  const auto cluster = testing::issues_of(R"(
services:
  search:
    url: http://search
    rate_limit: { shared: true }
    circuit_breaker: { shared: true }
redis:
  cluster: { nodes: ["127.0.0.1:7000"] }
  databases: { cache: 0 }
)");
  EXPECT_TRUE(testing::has_issue(cluster, "services.search.rate_limit.shared.database",
                                 "\"cache\" is a cluster"))
      << testing::listing(cluster);
  EXPECT_TRUE(testing::has_issue(cluster, "services.search.circuit_breaker.shared.database",
                                 "\"cache\" is a cluster"))
      << testing::listing(cluster);

  const auto sentinel = testing::issues_of(R"(
services:
  search:
    url: http://search
    retry: { budget: { shared: { database: cache } } }
redis:
  sentinel: { master: mymaster, nodes: ["127.0.0.1:26379"] }
  databases: { cache: 0 }
)");
  EXPECT_TRUE(testing::has_issue(sentinel, "services.search.retry.budget.shared.database",
                                 "reached through Sentinel"))
      << testing::listing(sentinel);
}

}  // namespace
}  // namespace bulwark
