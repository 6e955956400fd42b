// `cluster:` in a Redis database: seed nodes from a list or one variable, the cluster's own
// settings, and every problem reported at its YAML path.

#include "bulwark/manager/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using ::testing::ElementsAre;
using testing::fake_environment;
using testing::has_issue;
using testing::issues_of;
using testing::listing;

const redis::ClientConfig& redis_of(const ManagerConfig& config, std::string_view name) {
  const RedisDatabaseConfig* database = config.find_redis(name);
  EXPECT_NE(database, nullptr) << name;
  return database->client;
}

TEST(ManagerConfigCluster, ReadsSeedNodesAndSettings) {
  const ManagerConfig config = parse_config(R"(
redis:
  password: "${REDIS_PASSWORD}"
  databases:
    single: 0
    sessions:
      cluster:
        nodes: [10.0.0.1:7000, "10.0.0.2:7001"]
        max_redirects: 3
        refresh_interval: 250ms
        retry_window: 2s
)",
                                            fake_environment({{"REDIS_PASSWORD", "pw"}}));
  EXPECT_FALSE(redis_of(config, "single").cluster);
  const redis::ClientConfig& sessions = redis_of(config, "sessions");
  ASSERT_TRUE(sessions.cluster);
  EXPECT_THAT(sessions.cluster->nodes, ElementsAre("10.0.0.1:7000", "10.0.0.2:7001"));
  EXPECT_EQ(sessions.cluster->max_redirects, 3U);
  EXPECT_EQ(sessions.cluster->refresh_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(sessions.cluster->retry_window, std::chrono::seconds(2));
  // The connection settings shared by every node come from the section.
  EXPECT_EQ(sessions.connection.password.reveal(), "pw");
}

TEST(ManagerConfigCluster, OneVariableMayHoldEveryNode) {
  const ManagerConfig config =
      parse_config("redis: {cluster: {nodes: \"${REDIS_CLUSTER_NODES}\"}}\n",
                   fake_environment({{"REDIS_CLUSTER_NODES", "a:7000, b:7001,c:7002"}}));
  const redis::ClientConfig& client = redis_of(config, "default");
  ASSERT_TRUE(client.cluster);
  EXPECT_THAT(client.cluster->nodes, ElementsAre("a:7000", "b:7001", "c:7002"));
}

TEST(ManagerConfigCluster, ProblemsAreReportedAtTheirPaths) {
  const auto issues = issues_of(R"(
redis:
  databases:
    sessions:
      db: 2
      cluster:
        nodes: [10.0.0.1:7000, "nope", {host: x}]
        max_redirects: 0
        refresh_intervl: 1s
    empty:
      cluster: {}
)");
  EXPECT_TRUE(has_issue(issues, "redis.databases.sessions.cluster.nodes[1]", "expected host:port"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.sessions.cluster.nodes[2]", "expected host:port"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.sessions.cluster.max_redirects", "must be >= 1"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.sessions.cluster.refresh_intervl",
                        "did you mean 'refresh_interval'?"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.sessions.db", "must be 0 with a cluster"))
      << listing(issues);
  EXPECT_TRUE(has_issue(issues, "redis.databases.empty.cluster.nodes", "at least one"))
      << listing(issues);
}

}  // namespace
}  // namespace bulwark
