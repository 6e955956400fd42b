// The `sentinel` section of a Redis database: reading, inheritance, and errors at their paths.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using testing::fake_environment;
using testing::has_issue;
using testing::issues_of;
using testing::listing;

TEST(ManagerConfigSentinel, ReadsTheSection) {
  const ManagerConfig config = parse_config(R"(
redis:
  password: data-pass
  sentinel:
    master: mymaster
    nodes: [10.0.0.1:26379, "10.0.0.2:26380", sentinel-c]
    password: ${SENTINEL_PASSWORD}
    timeout: 300ms
    use_replicas_for_reads: true
    tls: {enabled: true, verify: false}
  databases:
    cache: 3
    jobs: {db: 4, sentinel: {master: jobs-master}}
)",
                                            fake_environment({{"SENTINEL_PASSWORD", "s3cret"}}));
  ASSERT_EQ(config.redis.size(), 2U);
  const redis::ClientConfig& cache = config.find_redis("cache")->client;
  ASSERT_TRUE(cache.sentinel);
  EXPECT_EQ(cache.sentinel->master_name, "mymaster");
  ASSERT_EQ(cache.sentinel->nodes.size(), 3U);
  EXPECT_EQ(cache.sentinel->nodes[0], (redis::Endpoint{"10.0.0.1", 26379}));
  EXPECT_EQ(cache.sentinel->nodes[1], (redis::Endpoint{"10.0.0.2", 26380}));
  EXPECT_EQ(cache.sentinel->nodes[2], (redis::Endpoint{"sentinel-c", 26379}));
  EXPECT_EQ(cache.sentinel->password.reveal(), "s3cret");
  EXPECT_EQ(cache.sentinel->timeout, std::chrono::milliseconds(300));
  EXPECT_TRUE(cache.sentinel->use_replicas_for_reads);
  EXPECT_TRUE(cache.sentinel->tls.enabled);
  EXPECT_FALSE(cache.sentinel->tls.verify_peer);
  EXPECT_EQ(cache.connection.password.reveal(), "data-pass");
  EXPECT_EQ(cache.connection.database, 3);
  // A database overrides what it names and inherits the rest.
  const redis::ClientConfig& jobs = config.find_redis("jobs")->client;
  ASSERT_TRUE(jobs.sentinel);
  EXPECT_EQ(jobs.sentinel->master_name, "jobs-master");
  EXPECT_EQ(jobs.sentinel->nodes.size(), 3U);
  EXPECT_EQ(jobs.sentinel->password.reveal(), "s3cret");
}

TEST(ManagerConfigSentinel, NodesMayComeFromOneVariable) {
  const ManagerConfig config = parse_config(R"(
redis:
  sentinel: {master: mymaster, nodes: "${REDIS_SENTINELS}"}
)",
                                            fake_environment({{"REDIS_SENTINELS", "a:1, b:2,c"}}));
  const redis::ClientConfig& client = config.redis.at(0).client;
  ASSERT_TRUE(client.sentinel);
  ASSERT_EQ(client.sentinel->nodes.size(), 3U);
  EXPECT_EQ(client.sentinel->nodes[1], (redis::Endpoint{"b", 2}));
  EXPECT_EQ(client.sentinel->nodes[2], (redis::Endpoint{"c", 26379}));
}

TEST(ManagerConfigSentinel, WithoutTheSectionThereIsNoSentinel) {
  const ManagerConfig config =
      parse_config("redis: {url: redis://localhost:6379}\n", fake_environment());
  EXPECT_FALSE(config.redis.at(0).client.sentinel);
}

TEST(ManagerConfigSentinel, ProblemsAreReportedAtTheirKeys) {
  const auto issues = issues_of(R"(
redis:
  databases:
    cache:
      sentinel:
        nodes: [good:26379, "bad:port", {host: x}]
        timeout: 0s
        pasword: x
    jobs:
      sentinel: {master: m, nodes: []}
)");
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.sentinel.master", "is required"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.sentinel.nodes[1]", "not a number"))
      << listing(issues);
  EXPECT_TRUE(
      has_issue(issues, "redis.databases.cache.sentinel.nodes[2]", "expected \"host:port\""))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache.sentinel.timeout", "must be > 0"))
      << listing(issues);
  EXPECT_TRUE(
      has_issue(issues, "redis.databases.cache.sentinel.pasword", "did you mean 'password'"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.jobs.sentinel.nodes", "at least one"))
      << listing(issues);
}

TEST(ManagerConfigSentinel, AMissingVariableNamesItselfAndTheNode) {
  const auto issues = issues_of(R"(
redis:
  sentinel: {master: m, nodes: ["${SENTINEL_A}"]}
)");
  EXPECT_TRUE(has_issue(issues, "redis.sentinel.nodes[0]", "SENTINEL_A")) << listing(issues);
}

TEST(ManagerConfigSentinel, TheSentinelPasswordNeverAppearsInAnError) {
  const auto issues = issues_of(R"(
redis:
  sentinel: {master: m, nodes: ["${SENTINEL_PASSWORD}"], password: "${SENTINEL_PASSWORD}"}
)",
                                fake_environment({{"SENTINEL_PASSWORD", "hunter2:x"}}));
  ASSERT_FALSE(issues.empty());
  for (const ConfigIssue& issue : issues) {
    EXPECT_EQ(issue.message.find("hunter2"), std::string::npos) << listing(issues);
  }
}

TEST(ManagerConfigSentinel, AUnixSocketCannotBeFollowed) {
  const auto issues = issues_of(R"(
redis:
  url: unix:///run/redis.sock
  sentinel: {master: m, nodes: [a:1]}
)");
  EXPECT_TRUE(has_issue(issues, "redis.sentinel", "unix socket")) << listing(issues);
}

}  // namespace
}  // namespace bulwark
