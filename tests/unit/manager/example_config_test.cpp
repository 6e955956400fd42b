// examples/bulwark.yaml is valid, and means what its comments say.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using testing::fake_environment;
using testing::has_issue;
using testing::listing;

const std::filesystem::path example =
    std::filesystem::path(BULWARK_SOURCE_DIR) / "examples/bulwark.yaml";

ManagerConfig load(const Environment& environment) {
  try {
    return load_config(example, environment);
  } catch (const ConfigError& error) {
    ADD_FAILURE() << listing(error.issues());
    throw;
  }
}

TEST(ExampleConfig, LoadsWithItsSecrets) {
  const ManagerConfig config = load(
      fake_environment({{"QDRANT_API_KEY", "qdrant-key"}, {"VECTORS_REDIS_PASSWORD", "vec-pw"}}));

  ASSERT_EQ(config.services.size(), 2U);
  const HttpServiceConfig& qdrant = config.services[0];
  EXPECT_EQ(qdrant.name, "qdrant");
  EXPECT_EQ(qdrant.client.base_url, "http://localhost:6333");
  EXPECT_EQ(qdrant.client.auth.scheme, http::AuthScheme::header);
  EXPECT_EQ(qdrant.client.auth.header_name, "api-key");
  EXPECT_EQ(qdrant.client.auth.token.reveal(), "qdrant-key");
  EXPECT_EQ(qdrant.client.timeouts.total, 5s);
  EXPECT_EQ(qdrant.client.retry->max_attempts, 5U);
  EXPECT_EQ(qdrant.client.retry->backoff.max, 5s);  // from defaults
  EXPECT_EQ(qdrant.client.pool.max_connections, 50U);
  EXPECT_EQ(qdrant.client.pool.max_keepalive_connections, 20U);  // from http_pool
  EXPECT_EQ(qdrant.client.timeouts.read, 10s);
  EXPECT_EQ(qdrant.client.limits.max_body_bytes, 32U * 1024 * 1024);
  EXPECT_EQ(qdrant.health_path, "/healthz");
  EXPECT_TRUE(qdrant.client.bulkhead.has_value());
  EXPECT_FALSE(qdrant.client.rate_limiter.has_value());

  const HttpServiceConfig& openai = config.services[1];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_TRUE(openai.optional);
  EXPECT_FALSE(openai.available);
  ASSERT_TRUE(openai.client.rate_limiter.has_value());
  EXPECT_DOUBLE_EQ(openai.client.rate_limiter->rate, 50.0);

  ASSERT_EQ(config.redis.size(), 3U);
  EXPECT_EQ(config.redis[0].name, "cache");
  EXPECT_EQ(config.redis[1].name, "knowledge");
  EXPECT_EQ(config.redis[1].client.connection.database, 2);
  EXPECT_EQ(config.redis[1].client.connection.host, "localhost");
  EXPECT_EQ(config.redis[1].client.command_timeout, 2s);
  EXPECT_EQ(config.redis[1].client.circuit_breaker->consecutive_failures, 10U);
  const RedisDatabaseConfig& vectors = config.redis[2];
  EXPECT_EQ(vectors.name, "vectors");
  EXPECT_EQ(vectors.client.name, "redis.vectors");
  EXPECT_EQ(vectors.client.connection.host, "vectors.internal");
  EXPECT_EQ(vectors.client.connection.password.reveal(), "vec-pw");
  EXPECT_EQ(vectors.client.pool.max_connections, 32U);
  EXPECT_EQ(vectors.client.pool.busy_threshold, 128U);
  EXPECT_EQ(vectors.client.command_timeout, 5s);

  EXPECT_EQ(config.health.interval, 10s);
  EXPECT_EQ(config.admin.listen, "127.0.0.1:9090");
}

TEST(ExampleConfig, TheOptionalServiceIsAvailableWithItsKey) {
  const ManagerConfig config = load(fake_environment({{"QDRANT_API_KEY", "k"},
                                                      {"VECTORS_REDIS_PASSWORD", "p"},
                                                      {"OPENAI_API_KEY", "sk-1"},
                                                      {"REDIS_URL", "redis://cache.prod:6380"}}));
  EXPECT_TRUE(config.find_service("openai")->available);
  EXPECT_EQ(config.find_redis("cache")->client.connection.host, "cache.prod");
  EXPECT_EQ(config.find_redis("vectors")->client.connection.host, "vectors.internal");
}

TEST(ExampleConfig, WithoutItsRequiredSecretsEachIsNamed) {
  try {
    (void)load_config(example, fake_environment());
    FAIL() << "loaded without its secrets";
  } catch (const ConfigError& error) {
    EXPECT_TRUE(has_issue(error.issues(), "services.qdrant.auth.token",
                          "environment variable QDRANT_API_KEY is not set"));
    EXPECT_TRUE(has_issue(error.issues(), "redis.databases.vectors.password",
                          "environment variable VECTORS_REDIS_PASSWORD is not set"));
    EXPECT_EQ(error.issues().size(), 2U) << listing(error.issues());
  }
}

TEST(ExampleConfig, AFileThatCannotBeReadIsNamed) {
  try {
    (void)load_config("/nonexistent/bulwark.yaml", fake_environment());
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_EQ(error.issues()[0].path, "/nonexistent/bulwark.yaml");
    EXPECT_NE(error.issues()[0].message.find("cannot be opened"), std::string::npos);
  }
}

TEST(ExampleConfig, ADirectoryIsNotAConfiguration) {
  try {
    (void)load_config(example.parent_path(), fake_environment());
    FAIL() << "loaded a directory";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_NE(error.issues()[0].message.find("is a directory"), std::string::npos);
  }
}

TEST(ExampleConfig, ProcessEnvironmentReadsTheProcess) {
  const Environment environment = process_environment();
  EXPECT_TRUE(environment("PATH").has_value());
  EXPECT_FALSE(environment("BULWARK_SURELY_UNSET_VARIABLE_1234").has_value());
}

}  // namespace
}  // namespace bulwark
