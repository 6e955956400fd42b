// `circuit_breaker.shared` and its keys, for services and Redis databases.
#include "bulwark/manager/config.hpp"

#include "config_test_support.hpp"

#include <gtest/gtest.h>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using testing::fake_environment;
using testing::has_issue;
using testing::issues_of;
using testing::listing;

TEST(SharedBreakerConfig, ReadForServicesAndDatabases) {
  const ManagerConfig config = parse_config(R"(
services:
  payments:
    url: http://payments
    circuit_breaker:
      consecutive_failures: 4
      shared:
        database: coordination
        key_prefix: "shop:"
        channel: shop-breakers
        probing_instances: 2
        probe_lease: 20s
        instance_id: web-7
  search:
    url: http://search
    circuit_breaker: {consecutive_failures: 2}
redis:
  url: redis://localhost:6379
  databases:
    cache: 0
    coordination: 3
    sessions: {db: 4, circuit_breaker: {shared: true}}
)",
                                            fake_environment());
  const HttpServiceConfig* payments = config.find_service("payments");
  ASSERT_NE(payments, nullptr);
  ASSERT_TRUE(payments->shared_breaker);
  EXPECT_EQ(payments->client.circuit_breaker->consecutive_failures, 4U);
  EXPECT_EQ(payments->shared_breaker->database, "coordination");
  EXPECT_EQ(payments->shared_breaker->breaker.key_prefix, "shop:");
  EXPECT_EQ(payments->shared_breaker->breaker.channel, "shop-breakers");
  EXPECT_EQ(payments->shared_breaker->breaker.probing_instances, 2U);
  EXPECT_EQ(payments->shared_breaker->breaker.probe_lease, 20s);
  EXPECT_EQ(payments->shared_breaker->breaker.instance_id, "web-7");

  EXPECT_FALSE(config.find_service("search")->shared_breaker) << "local unless it says shared";
  EXPECT_FALSE(config.find_redis("cache")->shared_breaker);
  const RedisDatabaseConfig* sessions = config.find_redis("sessions");
  ASSERT_TRUE(sessions->shared_breaker);
  EXPECT_EQ(sessions->shared_breaker->database, "") << "the first database";
  EXPECT_EQ(sessions->shared_breaker->breaker.key_prefix, "bulwark:");
}

TEST(SharedBreakerConfig, SharedFalseKeepsTheBreakerLocal) {
  const ManagerConfig config = parse_config(R"(
services:
  payments: {url: http://p, circuit_breaker: {shared: {enabled: false, key_prefix: "x:"}}}
redis: {url: redis://localhost:6379}
)",
                                            fake_environment());
  EXPECT_FALSE(config.find_service("payments")->shared_breaker);
}

TEST(SharedBreakerConfig, ProblemsAreReportedAtTheirKeys) {
  const auto issues = issues_of(R"(
services:
  payments:
    url: http://payments
    circuit_breaker:
      shared: {database: coordinaton, probing_instances: 0, probe_lease: -1s,
               instance_id: "a|b", channel: "two words"}
redis:
  url: redis://localhost:6379
  databases: {cache: 0, coordination: 3}
)");
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.database",
                        "no Redis database named \"coordinaton\" (configured: cache, "
                        "coordination)"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.probing_instances",
                        "must be >= 1"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.probe_lease",
                        "negative duration"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.instance_id", "'|'"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.channel", "spaces"))
      << listing(issues);
}

TEST(SharedBreakerConfig, NeedsRedisAndABreaker) {
  auto issues = issues_of(R"(
services:
  payments: {url: http://p, circuit_breaker: {shared: true}}
)");
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared",
                        "needs a Redis database to coordinate through"))
      << listing(issues);

  issues = issues_of(R"(
services:
  payments: {url: http://p, circuit_breaker: {shared: true, enabled: false}}
redis: {url: redis://localhost:6379}
)");
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared", "nothing to share"))
      << listing(issues);
}

TEST(SharedBreakerConfig, AnUnknownKeyNamesTheClosestOne) {
  const auto issues = issues_of(R"(
services:
  payments: {url: http://p, circuit_breaker: {shared: {key_prefx: "x:"}}}
redis: {url: redis://localhost:6379}
)");
  EXPECT_TRUE(has_issue(issues, "services.payments.circuit_breaker.shared.key_prefx",
                        "did you mean 'key_prefix'?"))
      << listing(issues);
}

}  // namespace
}  // namespace bulwark

namespace bulwark {
namespace {

TEST(SharedBreakerConfig, TwoSharedBreakersCannotShareAChannel) {
  const auto issues = testing::issues_of(R"(
services:
  payments: {url: http://p, circuit_breaker: {shared: {channel: ops}}}
  search: {url: http://s, circuit_breaker: {shared: {channel: ops}}}
  orders: {url: http://o, circuit_breaker: {shared: true}}
redis: {url: redis://localhost:6379}
)");
  EXPECT_TRUE(testing::has_issue(issues, "services.search.circuit_breaker.shared.channel",
                                 "\"ops\" is already the channel of services.payments"))
      << testing::listing(issues);
  EXPECT_EQ(issues.size(), 1U) << testing::listing(issues);
}

}  // namespace
}  // namespace bulwark
