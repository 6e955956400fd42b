// What parse_config builds from valid files: defaults, overrides, environment variables,
// services and Redis databases.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using testing::fake_environment;
using testing::listing;

ManagerConfig parse(std::string_view yaml, const Environment& environment = fake_environment()) {
  try {
    return parse_config(yaml, environment, "test.yaml");
  } catch (const ConfigError& error) {
    ADD_FAILURE() << listing(error.issues());
    return {};
  }
}

const http::ClientConfig& client_of(const ManagerConfig& config, std::string_view name) {
  const HttpServiceConfig* service = config.find_service(name);
  if (service == nullptr) throw std::runtime_error("no service " + std::string(name));
  return service->client;
}

const redis::ClientConfig& redis_of(const ManagerConfig& config, std::string_view name) {
  const RedisDatabaseConfig* database = config.find_redis(name);
  if (database == nullptr) throw std::runtime_error("no database " + std::string(name));
  return database->client;
}

TEST(ManagerConfig, AnEmptyFileIsAnEmptyConfig) {
  const ManagerConfig config = parse("");
  EXPECT_TRUE(config.services.empty());
  EXPECT_TRUE(config.redis.empty());
  EXPECT_TRUE(config.admin.listen.empty());
  EXPECT_EQ(config.health.interval, 10s);
  EXPECT_EQ(parse("# nothing but a comment\n").services.size(), 0U);
}

TEST(ManagerConfig, AServiceStartsFromTheLibraryDefaults) {
  const ManagerConfig config = parse("services:\n  qdrant:\n    url: http://qdrant:6333\n");
  ASSERT_EQ(config.services.size(), 1U);
  const HttpServiceConfig& service = config.services[0];
  const http::ClientConfig defaults;
  EXPECT_EQ(service.name, "qdrant");
  EXPECT_EQ(service.client.name, "qdrant");
  EXPECT_EQ(service.client.base_url, "http://qdrant:6333");
  EXPECT_EQ(service.client.pool.max_connections, defaults.pool.max_connections);
  EXPECT_EQ(service.client.timeouts.connect, defaults.timeouts.connect);
  EXPECT_EQ(service.client.timeouts.total, Duration::zero());
  ASSERT_TRUE(service.client.retry.has_value());
  EXPECT_EQ(service.client.retry->max_attempts, RetryConfig{}.max_attempts);
  ASSERT_TRUE(service.client.circuit_breaker.has_value());
  EXPECT_FALSE(service.client.bulkhead.has_value());
  EXPECT_FALSE(service.client.rate_limiter.has_value());
  EXPECT_EQ(service.health_path, "/");
  EXPECT_EQ(service.expected_status, 200U);
  EXPECT_FALSE(service.optional);
  EXPECT_TRUE(service.available);
}

TEST(ManagerConfig, DefaultsApplyToEveryServiceAndOverridesReplaceOnlyTheirFields) {
  const ManagerConfig config = parse(R"(
defaults:
  timeout: 10s
  retry: {max_attempts: 4, backoff: {initial: 200ms, max: 5s, jitter: equal}}
  circuit_breaker: {failure_rate_threshold: 25%, minimum_calls: 10}
http_pool: {max_connections: 50, connect_timeout: 2s}
services:
  a:
    url: http://a
    timeout: 2s
    retry: {max_attempts: 5}
    circuit_breaker: {window_size: 40}
    pool: {max_connections: 10, max_keepalive_connections: 5, read_timeout: 3s}
  b:
    url: http://b
)");
  const http::ClientConfig& a = client_of(config, "a");
  const http::ClientConfig& b = client_of(config, "b");

  EXPECT_EQ(a.timeouts.total, 2s);
  EXPECT_EQ(b.timeouts.total, 10s);
  ASSERT_TRUE(a.retry && b.retry);
  EXPECT_EQ(a.retry->max_attempts, 5U);
  EXPECT_EQ(a.retry->backoff.initial, 200ms);  // kept from defaults
  EXPECT_EQ(a.retry->backoff.max, 5s);
  EXPECT_EQ(a.retry->backoff.jitter, Jitter::equal);
  EXPECT_EQ(b.retry->max_attempts, 4U);
  ASSERT_TRUE(a.circuit_breaker && b.circuit_breaker);
  EXPECT_EQ(a.circuit_breaker->window_size, 40U);
  EXPECT_DOUBLE_EQ(a.circuit_breaker->failure_rate_threshold, 0.25);
  EXPECT_EQ(a.circuit_breaker->minimum_calls, 10U);
  EXPECT_EQ(b.circuit_breaker->window_size, CircuitBreakerConfig{}.window_size);

  EXPECT_EQ(a.pool.max_connections, 10U);
  EXPECT_EQ(a.pool.max_keepalive_connections, 5U);
  EXPECT_EQ(a.timeouts.connect, 2s);  // http_pool
  EXPECT_EQ(a.timeouts.read, 3s);
  EXPECT_EQ(b.pool.max_connections, 50U);
  EXPECT_EQ(b.timeouts.read, http::Timeouts{}.read);
}

TEST(ManagerConfig, KeepAliveConnectionsFollowASmallerPoolUnlessSet) {
  const ManagerConfig config = parse(R"(
http_pool: {max_connections: 8}
services:
  a: {url: http://a}
  b: {url: http://b, pool: {max_connections: 50}}
  c: {url: http://c, pool: {max_connections: 50, max_keepalive_connections: 30}}
)");
  EXPECT_EQ(client_of(config, "a").pool.max_keepalive_connections, 8U);
  EXPECT_EQ(client_of(config, "b").pool.max_keepalive_connections, 20U);
  EXPECT_EQ(client_of(config, "c").pool.max_keepalive_connections, 30U);
}

TEST(ManagerConfig, PoliciesAreSwitchedOnAndOff) {
  const ManagerConfig config = parse(R"(
defaults:
  bulkhead: {max_concurrent: 8}
  rate_limit: off
services:
  plain: {url: http://plain}
  bare:
    url: http://bare
    retry: off
    circuit_breaker: {enabled: false, window_size: 7}
    bulkhead: false
  limited:
    url: http://limited
    rate_limit: {rate: 20, burst: 5, max_wait: 100ms}
    bulkhead: {max_queue: 4, max_wait: 50ms}
  again:
    url: http://again
    rate_limit: on
)");
  const http::ClientConfig& plain = client_of(config, "plain");
  EXPECT_TRUE(plain.retry.has_value());
  ASSERT_TRUE(plain.bulkhead.has_value());
  EXPECT_EQ(plain.bulkhead->max_concurrent, 8U);
  EXPECT_FALSE(plain.rate_limiter.has_value());

  const http::ClientConfig& bare = client_of(config, "bare");
  EXPECT_FALSE(bare.retry.has_value());
  EXPECT_FALSE(bare.circuit_breaker.has_value());
  EXPECT_FALSE(bare.bulkhead.has_value());

  const http::ClientConfig& limited = client_of(config, "limited");
  ASSERT_TRUE(limited.rate_limiter.has_value());
  EXPECT_DOUBLE_EQ(limited.rate_limiter->rate, 20.0);
  EXPECT_EQ(limited.rate_limiter->burst, 5U);
  EXPECT_EQ(limited.rate_limiter->max_wait, 100ms);
  ASSERT_TRUE(limited.bulkhead.has_value());
  EXPECT_EQ(limited.bulkhead->max_concurrent, 8U);  // from defaults, field by field
  EXPECT_EQ(limited.bulkhead->max_queue, 4U);

  const http::ClientConfig& again = client_of(config, "again");
  ASSERT_TRUE(again.rate_limiter.has_value());
  EXPECT_DOUBLE_EQ(again.rate_limiter->rate, RateLimiterConfig{}.rate);
}

TEST(ManagerConfig, EveryPolicyIsNamedAfterItsClient) {
  const ManagerConfig config = parse(R"(
defaults: {bulkhead: on, rate_limit: on}
services: {qdrant: {url: http://q}}
redis: {databases: {cache: 0}}
)");
  const http::ClientConfig& qdrant = client_of(config, "qdrant");
  EXPECT_EQ(qdrant.retry->name, "qdrant");
  EXPECT_EQ(qdrant.circuit_breaker->name, "qdrant");
  EXPECT_EQ(qdrant.bulkhead->name, "qdrant");
  EXPECT_EQ(qdrant.rate_limiter->name, "qdrant");
  const redis::ClientConfig& cache = redis_of(config, "cache");
  EXPECT_EQ(cache.name, "redis.cache");
  EXPECT_EQ(cache.retry->name, "redis.cache");
  EXPECT_EQ(cache.circuit_breaker->name, "redis.cache");
  EXPECT_EQ(cache.bulkhead->name, "redis.cache");
  EXPECT_EQ(cache.rate_limiter->name, "redis.cache");
}

TEST(ManagerConfig, EveryServiceSettingIsRead) {
  const ManagerConfig config = parse(R"(
services:
  api:
    kind: http
    url: https://api.example.com/v1
    auth: {scheme: header, header: X-API-Key, token: abc123}
    headers: {Accept: application/json, X-Team: search}
    user_agent: bulwark-test/1
    correlation_header: X-Request-ID
    health: {path: /healthz, expected_status: 204}
    failed_after: 5
    pool:
      max_connections: 30
      max_keepalive_connections: 10
      keepalive_expiry: 20s
      max_waiting: 100
      connect_timeout: 1s
      read_timeout: 2s
      write_timeout: 3s
      pool_timeout: 4s
    tls: {verify: false, ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem,
          server_name: api.internal, session_resumption: no}
    redirects: {follow: true, max: 3}
    limits: {max_header_bytes: 32KiB, max_body_bytes: 10MB}
)");
  const HttpServiceConfig& api = *config.find_service("api");
  const http::ClientConfig& client = api.client;
  EXPECT_EQ(client.auth.scheme, http::AuthScheme::header);
  EXPECT_EQ(client.auth.header_name, "X-API-Key");
  EXPECT_EQ(client.auth.token.reveal(), "abc123");
  EXPECT_EQ(client.headers.get("Accept"), "application/json");
  EXPECT_EQ(client.headers.get("X-Team"), "search");
  EXPECT_EQ(client.user_agent, "bulwark-test/1");
  EXPECT_EQ(client.correlation_header, "X-Request-ID");
  EXPECT_EQ(api.health_path, "/healthz");
  EXPECT_EQ(api.expected_status, 204U);
  EXPECT_EQ(client.failed_after, 5U);
  EXPECT_EQ(client.pool.max_connections, 30U);
  EXPECT_EQ(client.pool.max_keepalive_connections, 10U);
  EXPECT_EQ(client.pool.keepalive_expiry, 20s);
  EXPECT_EQ(client.pool.max_waiting, 100U);
  EXPECT_EQ(client.timeouts.connect, 1s);
  EXPECT_EQ(client.timeouts.read, 2s);
  EXPECT_EQ(client.timeouts.write, 3s);
  EXPECT_EQ(client.timeouts.pool, 4s);
  EXPECT_FALSE(client.tls.verify_peer);
  EXPECT_EQ(client.tls.ca_file, "/ca.pem");
  EXPECT_EQ(client.tls.cert_file, "/c.pem");
  EXPECT_EQ(client.tls.key_file, "/k.pem");
  EXPECT_EQ(client.tls.server_name, "api.internal");
  EXPECT_FALSE(client.tls.session_resumption);
  EXPECT_TRUE(client.redirects.follow);
  EXPECT_EQ(client.redirects.max_redirects, 3);
  EXPECT_EQ(client.limits.max_header_bytes, 32U * 1024);
  EXPECT_EQ(client.limits.max_body_bytes, 10'000'000U);
}

TEST(ManagerConfig, ServicesKeepTheOrderOfTheFile) {
  const ManagerConfig config = parse("services:\n  z: {url: http://z}\n  a: {url: http://a}\n");
  ASSERT_EQ(config.services.size(), 2U);
  EXPECT_EQ(config.services[0].name, "z");
  EXPECT_EQ(config.services[1].name, "a");
  EXPECT_EQ(config.find_service("nope"), nullptr);
  EXPECT_EQ(config.find_redis("nope"), nullptr);
}

TEST(ManagerConfig, MergeKeysShareSettingsBetweenSections) {
  const ManagerConfig config = parse(R"(
x-common: &common {timeout: 3s, retry: {max_attempts: 7}, pool: {max_connections: 9}}
x-auth: &auth {auth: {scheme: bearer, token: t}}
services:
  a: {<<: *common, url: http://a}
  b:
    <<: [*auth, *common]
    url: http://b
    timeout: 4s
)");
  const http::ClientConfig& a = client_of(config, "a");
  EXPECT_EQ(a.timeouts.total, 3s);
  EXPECT_EQ(a.retry->max_attempts, 7U);
  EXPECT_EQ(a.pool.max_connections, 9U);
  const http::ClientConfig& b = client_of(config, "b");
  EXPECT_EQ(b.timeouts.total, 4s);  // its own key wins
  EXPECT_EQ(b.pool.max_connections, 9U);
  EXPECT_EQ(b.auth.scheme, http::AuthScheme::bearer);
}

TEST(ManagerConfig, HealthAndAdminSections) {
  const ManagerConfig config = parse(R"(
health: {interval: 30s, timeout: 1500ms, max_consecutive_failures: 5}
admin: {listen: "127.0.0.1:9090"}
)");
  EXPECT_EQ(config.health.interval, 30s);
  EXPECT_EQ(config.health.timeout, 1500ms);
  EXPECT_EQ(config.health.max_consecutive_failures, 5U);
  EXPECT_EQ(config.admin.listen, "127.0.0.1:9090");
  EXPECT_EQ(parse("admin: {listen: \"[::1]:0\"}").admin.listen, "[::1]:0");
  EXPECT_FALSE(config.admin.token.has_value());
  const ManagerConfig guarded = parse("admin: {listen: \"127.0.0.1:0\", token: s3cr3t-admin}");
  ASSERT_TRUE(guarded.admin.token.has_value());
  EXPECT_EQ(guarded.admin.token->reveal(), "s3cr3t-admin");
}

// ---------------------------------------------------------------------------------------------
// Environment variables
// ---------------------------------------------------------------------------------------------

TEST(ManagerConfigEnvironment, ReferencesAreExpandedInsideStrings) {
  const auto environment = fake_environment({{"HOST", "qdrant"}, {"TEAM", "search"}});
  const ManagerConfig config = parse(R"(
services:
  qdrant:
    url: "http://${HOST}:${PORT:-6333}/v1"
    headers: {X-Team: "${TEAM}", X-Price: "$$5 and $ alone", X-Nested: "${NOPE:-${TEAM:-x}}"}
    timeout: "${TIMEOUT:-2s}"
)",
                                     environment);
  const http::ClientConfig& client = client_of(config, "qdrant");
  EXPECT_EQ(client.base_url, "http://qdrant:6333/v1");
  EXPECT_EQ(client.headers.get("X-Team"), "search");
  EXPECT_EQ(client.headers.get("X-Price"), "$5 and $ alone");
  EXPECT_EQ(client.headers.get("X-Nested"), "search");
  EXPECT_EQ(client.timeouts.total, 2s);
}

TEST(ManagerConfigEnvironment, AnEmptyVariableTakesTheDefault) {
  const auto environment = fake_environment({{"PORT", ""}});
  const ManagerConfig config = parse("services: {a: {url: \"http://a:${PORT:-81}\"}}", environment);
  EXPECT_EQ(client_of(config, "a").base_url, "http://a:81");
}

TEST(ManagerConfigEnvironment, WellKnownVariablesOverrideTheFile) {
  const auto environment = fake_environment({{"QDRANT_URL", "http://qdrant.prod:6333"},
                                             {"QDRANT_API_KEY", "qdrant-key"},
                                             {"OPENAI_API_KEY", "sk-test"},
                                             {"REDIS_URL", "redis://:pw@redis.prod:6380/3"}});
  const ManagerConfig config = parse(R"(
services:
  qdrant:
    url: http://localhost:6333
    auth: {scheme: header, header: api-key, token: "${UNSET_BUT_OVERRIDDEN}"}
  openai:
    url: https://api.openai.com/v1
redis:
  url: redis://localhost:6379
  databases: {cache: 0, vectors: {url: "redis://vec:6379/1"}}
)",
                                     environment);
  const http::ClientConfig& qdrant = client_of(config, "qdrant");
  EXPECT_EQ(qdrant.base_url, "http://qdrant.prod:6333");
  EXPECT_EQ(qdrant.auth.scheme, http::AuthScheme::header);  // the file's scheme stays
  EXPECT_EQ(qdrant.auth.token.reveal(), "qdrant-key");

  const http::ClientConfig& openai = client_of(config, "openai");
  EXPECT_EQ(openai.auth.scheme, http::AuthScheme::bearer);  // no scheme in the file
  EXPECT_EQ(openai.auth.token.reveal(), "sk-test");

  const redis::ConnectionConfig& cache = redis_of(config, "cache").connection;
  EXPECT_EQ(cache.host, "redis.prod");
  EXPECT_EQ(cache.port, 6380);
  EXPECT_EQ(cache.password.reveal(), "pw");
  EXPECT_EQ(cache.database, 0);  // the entry's number wins over the URL's
  // A database with a URL of its own is on another server: REDIS_URL does not move it.
  const redis::ConnectionConfig& vectors = redis_of(config, "vectors").connection;
  EXPECT_EQ(vectors.host, "vec");
  EXPECT_EQ(vectors.database, 1);
  EXPECT_TRUE(vectors.password.empty());
}

TEST(ManagerConfigEnvironment, ServiceNamesBecomeVariableNames) {
  const auto environment = fake_environment(
      {{"MY_SEARCH_V2_URL", "http://search:8080"}, {"MY_SEARCH_V2_API_KEY", "k-123"}});
  const ManagerConfig config = parse("services: {my-search.v2: {}}", environment);
  const http::ClientConfig& client = client_of(config, "my-search.v2");
  EXPECT_EQ(client.base_url, "http://search:8080");
  EXPECT_EQ(client.auth.token.reveal(), "k-123");
}

TEST(ManagerConfigEnvironment, AnExplicitNoneSchemeIgnoresTheApiKey) {
  const auto environment = fake_environment({{"PUBLIC_API_KEY", "unused"}});
  const ManagerConfig config =
      parse("services: {public: {url: http://p, auth: {scheme: none}}}", environment);
  EXPECT_EQ(client_of(config, "public").auth.scheme, http::AuthScheme::none);
}

TEST(ManagerConfigEnvironment, AnOptionalServiceWithoutItsSecretIsUnavailable) {
  const char* yaml = R"(
services:
  openai:
    url: https://api.openai.com/v1
    optional: true
    auth: {scheme: bearer, token: "${OPENAI_API_KEY}"}
  implicit:
    url: https://implicit
    optional: true
    auth: {scheme: bearer}
)";
  const ManagerConfig without = parse(yaml);
  EXPECT_FALSE(without.find_service("openai")->available);
  EXPECT_TRUE(without.find_service("openai")->optional);
  EXPECT_TRUE(without.find_service("openai")->client.auth.token.empty());
  EXPECT_FALSE(without.find_service("implicit")->available);

  const ManagerConfig with = parse(yaml, fake_environment({{"OPENAI_API_KEY", "sk-1"}}));
  EXPECT_TRUE(with.find_service("openai")->available);
  EXPECT_EQ(with.find_service("openai")->client.auth.token.reveal(), "sk-1");
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

TEST(ManagerConfigRedis, DatabasesAsNumbersAndAsBlocksOnAnotherServer) {
  const ManagerConfig config = parse(R"(
defaults: {timeout: 3s, retry: {max_attempts: 2}}
redis:
  url: "redis://app:secret@redis.local:6379/0"
  pool: {max_connections: 16, busy_threshold: 64, acquire_timeout: 2s,
         health_check_interval: 10s, max_idle_time: 1m}
  keepalive: {enabled: true, idle: 30s, interval: 5s, count: 4}
  wait_for_loading: 10s
  connect_timeout: 1s
  client_name: app
  protocol: resp2
  databases:
    cache: 0
    knowledge: 2
    vectors:
      url: "rediss://vectors.local:6380"
      db: 1
      password: other
      pool: {max_connections: 4}
      command_timeout: 500ms
      tls: {verify: false}
)");
  ASSERT_EQ(config.redis.size(), 3U);
  EXPECT_EQ(config.redis[0].name, "cache");
  EXPECT_EQ(config.redis[1].name, "knowledge");
  EXPECT_EQ(config.redis[2].name, "vectors");

  const redis::ClientConfig& knowledge = redis_of(config, "knowledge");
  EXPECT_EQ(knowledge.name, "redis.knowledge");
  EXPECT_EQ(knowledge.connection.host, "redis.local");
  EXPECT_EQ(knowledge.connection.username, "app");
  EXPECT_EQ(knowledge.connection.password.reveal(), "secret");
  EXPECT_EQ(knowledge.connection.database, 2);
  EXPECT_EQ(knowledge.connection.client_name, "app");
  EXPECT_EQ(knowledge.connection.protocol, redis::Protocol::resp2);
  EXPECT_EQ(knowledge.connection.connect_timeout, 1s);
  EXPECT_EQ(knowledge.connection.keepalive.idle, 30s);
  EXPECT_EQ(knowledge.connection.keepalive.count, 4);
  EXPECT_EQ(knowledge.pool.max_connections, 16U);
  EXPECT_EQ(knowledge.pool.busy_threshold, 64U);
  EXPECT_EQ(knowledge.pool.acquire_timeout, 2s);
  EXPECT_EQ(knowledge.pool.health_check_interval, 10s);
  EXPECT_EQ(knowledge.pool.max_idle_time, 1min);
  EXPECT_EQ(knowledge.command_timeout, 3s);  // defaults.timeout
  EXPECT_EQ(knowledge.wait_for_loading, 10s);
  ASSERT_TRUE(knowledge.retry.has_value());
  EXPECT_EQ(knowledge.retry->max_attempts, 2U);

  const redis::ClientConfig& vectors = redis_of(config, "vectors");
  EXPECT_EQ(vectors.connection.host, "vectors.local");
  EXPECT_EQ(vectors.connection.port, 6380);
  EXPECT_TRUE(vectors.connection.tls.enabled);
  EXPECT_FALSE(vectors.connection.tls.verify_peer);
  EXPECT_TRUE(vectors.connection.username.empty());  // the URL replaced the whole endpoint
  EXPECT_EQ(vectors.connection.password.reveal(), "other");
  EXPECT_EQ(vectors.connection.database, 1);
  EXPECT_EQ(vectors.pool.max_connections, 4U);
  EXPECT_EQ(vectors.pool.busy_threshold, 64U);  // inherited from redis.pool
  EXPECT_EQ(vectors.command_timeout, 500ms);
  EXPECT_EQ(vectors.connection.keepalive.idle, 30s);  // inherited
}

TEST(ManagerConfigRedis, ABlockMayMoveOnlyTheHostOrPort) {
  const ManagerConfig config = parse(R"(
redis:
  url: redis://:pw@main:6379
  databases:
    sessions: {port: 6390, db: 4}
    archive: {host: archive.local}
)");
  const redis::ConnectionConfig& sessions = redis_of(config, "sessions").connection;
  EXPECT_EQ(sessions.host, "main");
  EXPECT_EQ(sessions.port, 6390);
  EXPECT_EQ(sessions.database, 4);
  EXPECT_EQ(sessions.password.reveal(), "pw");
  const redis::ConnectionConfig& archive = redis_of(config, "archive").connection;
  EXPECT_EQ(archive.host, "archive.local");
  EXPECT_EQ(archive.port, 6379);
}

TEST(ManagerConfigRedis, WithoutDatabasesThereIsOneNamedDefault) {
  const ManagerConfig config = parse("redis: {url: \"redis://localhost:6379/5\"}");
  ASSERT_EQ(config.redis.size(), 1U);
  EXPECT_EQ(config.redis[0].name, "default");
  EXPECT_EQ(config.redis[0].client.name, "redis.default");
  EXPECT_EQ(config.redis[0].client.connection.database, 5);
  EXPECT_TRUE(parse("services: {}").redis.empty());
}

TEST(ManagerConfigRedis, DatabaseNumbersMayComeFromTheEnvironment) {
  const ManagerConfig config =
      parse("redis: {databases: {cache: \"${CACHE_DB:-7}\"}}", fake_environment());
  EXPECT_EQ(redis_of(config, "cache").connection.database, 7);
}

}  // namespace
}  // namespace bulwark
