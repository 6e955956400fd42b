// What parse_config reports for bad files: every problem at once, each at its path.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using testing::fake_environment;
using testing::has_issue;
using testing::issues_of;
using testing::listing;

TEST(ManagerConfigErrors, UnknownKeysNameTheClosestKnownKey) {
  const auto issues = issues_of(R"(
servics: {}
services:
  qdrant:
    url: http://q
    timout: 5s
    pool: {max_conections: 3}
    retry: {backof: {typ: constant}}
)");
  ASSERT_EQ(issues.size(), 4U) << listing(issues);
  EXPECT_TRUE(has_issue(issues, "servics", "unknown key; did you mean 'services'?"));
  const auto timout = std::find_if(issues.begin(), issues.end(), [](const ConfigIssue& issue) {
    return issue.path == "services.qdrant.timout";
  });
  ASSERT_NE(timout, issues.end()) << listing(issues);
  EXPECT_EQ(timout->message, "unknown key; did you mean 'timeout'?");
  EXPECT_TRUE(
      has_issue(issues, "services.qdrant.pool.max_conections", "did you mean 'max_connections'?"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.retry.backof", "did you mean 'backoff'?"));
}

TEST(ManagerConfigErrors, AnUnknownKeyWithNothingCloseListsTheKnownOnes) {
  const auto issues = issues_of("health: {colour: blue}");
  ASSERT_EQ(issues.size(), 1U) << listing(issues);
  EXPECT_EQ(issues[0].path, "health.colour");
  EXPECT_EQ(issues[0].message,
            "unknown key (known keys here: interval, timeout, max_consecutive_failures)");
}

TEST(ManagerConfigErrors, EveryProblemIsReportedAtOnce) {
  const auto issues = issues_of(R"(
health: {interval: 0s}
services:
  qdrant:
    url: ftp://qdrant
    pool: {max_connections: 0}
    retry: {max_attempts: 0}
    timeout: -1s
  other:
    kind: grpc
redis:
  databases: {cache: 16}
admin: {listen: nowhere, token: ""}
)");
  EXPECT_TRUE(has_issue(issues, "health.interval", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.url", "scheme must be http or https"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.pool.max_connections", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.retry.max_attempts", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.timeout", "negative duration"));
  EXPECT_TRUE(has_issue(issues, "services.other.kind", "unknown kind \"grpc\""));
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache", "must be 0-15"));
  EXPECT_TRUE(has_issue(issues, "admin.listen", "host:port"));
  EXPECT_TRUE(has_issue(issues, "admin.token", "must not be empty"));
  EXPECT_EQ(issues.size(), 9U) << listing(issues);
}

TEST(ManagerConfigErrors, TheMessageOfTheErrorListsEveryIssue) {
  try {
    (void)parse_config("services: {qdrant: {url: http://q, pool: {max_connections: 0}}}",
                       fake_environment());
    FAIL() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.code(), errc::config_invalid);
    EXPECT_NE(
        std::string(error.what()).find("services.qdrant.pool.max_connections: must be >= 1, got 0"),
        std::string::npos)
        << error.what();
  }
}

TEST(ManagerConfigErrors, ValidatorProblemsAreReportedUnderTheYamlKeys) {
  const auto issues = issues_of(R"(
services:
  q:
    url: http://q
    pool: {connect_timeout: 0s, max_connections: 2, max_keepalive_connections: 5}
    auth: {scheme: header, token: t0ken}
    redirects: {max: 99}
    tls: {cert_file: /c.pem}
    rate_limit: {rate: 0}
    circuit_breaker: {window_size: 10, minimum_calls: 20}
    bulkhead: {max_concurrent: 0}
)");
  EXPECT_TRUE(has_issue(issues, "services.q.pool.connect_timeout", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "services.q.pool.max_keepalive_connections", "<= max_connections"));
  EXPECT_TRUE(has_issue(issues, "services.q.auth.header", "is required for the header scheme"));
  EXPECT_TRUE(has_issue(issues, "services.q.redirects.max", "must be 0-50"));
  EXPECT_TRUE(has_issue(issues, "services.q.tls", "set both or neither"));
  EXPECT_TRUE(has_issue(issues, "services.q.rate_limit.rate", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "services.q.circuit_breaker.minimum_calls", "<= window_size"));
  EXPECT_TRUE(has_issue(issues, "services.q.bulkhead.max_concurrent", "must be >= 1"));
  EXPECT_EQ(issues.size(), 8U) << listing(issues);
}

TEST(ManagerConfigErrors, ABadDefaultIsReportedOnceWhereItIsWritten) {
  const auto issues = issues_of(R"(
defaults: {retry: {max_attempts: 0}}
http_pool: {max_connections: 0}
services: {a: {url: http://a}, b: {url: http://b}}
redis: {databases: {x: 1, y: 2}}
)");
  ASSERT_EQ(issues.size(), 2U) << listing(issues);
  EXPECT_TRUE(has_issue(issues, "defaults.retry.max_attempts", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "http_pool.max_connections", "must be >= 1, got 0"));
}

TEST(ManagerConfigErrors, ABadDefaultIsReportedEvenWithoutServices) {
  const auto issues = issues_of("defaults: {circuit_breaker: {failure_rate_threshold: 150%}}");
  ASSERT_EQ(issues.size(), 1U) << listing(issues);
  EXPECT_TRUE(has_issue(issues, "defaults.circuit_breaker.failure_rate_threshold", "[0, 1]"));
}

TEST(ManagerConfigErrors, RedisProblemsAreReportedWhereTheValueIsWritten) {
  const auto issues = issues_of(R"(
redis:
  url: "redis://localhost:6379"
  pool: {max_connections: 0}
  keepalive: {idle: 10ms}
  databases:
    cache: 0
    knowledge: -1
    vectors: {url: "redis://vec:6379", db: 99, pool: {acquire_timeout: 0s}}
    broken: {url: "http://nope"}
    list: [1, 2]
)");
  EXPECT_TRUE(has_issue(issues, "redis.pool.max_connections", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "redis.keepalive.idle", "must be >= 1s"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.knowledge", "must be >= 0, got -1"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.vectors.db", "must be 0-15"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.vectors.pool.acquire_timeout", "must be > 0"));
  EXPECT_TRUE(has_issue(issues, "redis.databases.broken.url", "unknown scheme \"http\""));
  EXPECT_TRUE(has_issue(issues, "redis.databases.list", "expected a database number"));
  // Inherited by every database, reported once.
  EXPECT_EQ(issues.size(), 7U) << listing(issues);
}

TEST(ManagerConfigErrors, AMissingVariableNamesItselfAndItsKey) {
  const auto issues = issues_of(R"(
services:
  qdrant:
    url: "http://${QDRANT_HOST}:${QDRANT_PORT:-6333}"
    auth: {scheme: header, header: api-key, token: "${QDRANT_TOKEN}"}
)");
  EXPECT_TRUE(
      has_issue(issues, "services.qdrant.url", "environment variable QDRANT_HOST is not set"));
  EXPECT_TRUE(has_issue(issues, "services.qdrant.auth.token",
                        "environment variable QDRANT_TOKEN is not set"));
  // Not also "is required by the auth scheme but empty": one cause, one issue.
  EXPECT_EQ(issues.size(), 2U) << listing(issues);
}

TEST(ManagerConfigErrors, ARequiredServiceWithoutItsSecretIsAnError) {
  const auto issues =
      issues_of("services: {openai: {url: https://api.openai.com, auth: {scheme: bearer}}}");
  ASSERT_EQ(issues.size(), 1U) << listing(issues);
  EXPECT_TRUE(has_issue(issues, "services.openai.auth.token", "is required by the auth scheme"));
}

TEST(ManagerConfigErrors, MalformedReferences) {
  const auto issues = issues_of(R"(
services:
  a: {url: "http://${HOST"}
  b: {url: "http://${1HOST}"}
  c: {url: "${A:-${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-x}}}}}}}}}}"}
)");
  EXPECT_TRUE(has_issue(issues, "services.a.url", "unterminated"));
  EXPECT_TRUE(has_issue(issues, "services.b.url", "invalid reference \"${1HOST}\""));
  EXPECT_TRUE(has_issue(issues, "services.c.url", "nested more than"));
}

TEST(ManagerConfigErrors, ValuesOfTheWrongType) {
  const auto issues = issues_of(R"(
defaults:
  timeout: [1, 2]
  retry: {max_attempts: many, backoff: {type: exponentail, multiplier: lots}, honor_retry_after: maybe}
  circuit_breaker: {window_type: sliding, failure_rate_threshold: half, window_size: 99999999999}
  bulkhead: {max_concurrent: -3}
  rate_limit: sometimes
services:
  a: {url: {host: a}, limits: {max_body_bytes: 12XB}, health: {expected_status: 2.5}}
)");
  EXPECT_TRUE(has_issue(issues, "defaults.timeout",
                        "expected a duration (e.g. 250ms, 10s, 1m30s), got a list"));
  EXPECT_TRUE(
      has_issue(issues, "defaults.retry.max_attempts", "expected a whole number, got \"many\""));
  EXPECT_TRUE(has_issue(issues, "defaults.retry.backoff.type", "did you mean 'exponential'?"));
  EXPECT_TRUE(has_issue(issues, "defaults.retry.backoff.multiplier", "expected a number"));
  EXPECT_TRUE(has_issue(issues, "defaults.retry.honor_retry_after", "expected true or false"));
  EXPECT_TRUE(has_issue(issues, "defaults.circuit_breaker.window_type",
                        "must be one of count_based, time_based; got \"sliding\""));
  EXPECT_TRUE(has_issue(issues, "defaults.circuit_breaker.failure_rate_threshold", "fraction"));
  EXPECT_TRUE(has_issue(issues, "defaults.circuit_breaker.window_size", "must be <= 4294967295"));
  EXPECT_TRUE(has_issue(issues, "defaults.bulkhead.max_concurrent", "must be >= 0, got \"-3\""));
  EXPECT_TRUE(has_issue(issues, "defaults.rate_limit", "expected a map of settings, or on/off"));
  EXPECT_TRUE(has_issue(issues, "services.a.url", "expected a string, got a map"));
  EXPECT_TRUE(has_issue(issues, "services.a.limits.max_body_bytes", "size in bytes"));
  EXPECT_TRUE(has_issue(issues, "services.a.health.expected_status", "whole number"));
  EXPECT_EQ(issues.size(), 13U) << listing(issues);
}

TEST(ManagerConfigErrors, DuplicateNames) {
  auto issues = issues_of("services:\n  qdrant: {url: http://a}\n  qdrant: {url: http://b}\n");
  EXPECT_TRUE(has_issue(issues, "services.qdrant", "duplicate key (first at line 2)"))
      << listing(issues);

  issues = issues_of("services:\n  open-ai: {url: http://a}\n  open_ai: {url: http://b}\n");
  EXPECT_TRUE(has_issue(issues, "services.open_ai", "OPEN_AI_URL")) << listing(issues);

  issues =
      issues_of("services: {\"redis.cache\": {url: http://a}}\nredis: {databases: {cache: 0}}");
  EXPECT_TRUE(has_issue(issues, "redis.databases.cache",
                        "client name \"redis.cache\" is also used by services.redis.cache"))
      << listing(issues);

  issues = issues_of("services: {\"bad name\": {url: http://a}}");
  EXPECT_TRUE(has_issue(issues, "services.bad name", "not a valid service name"))
      << listing(issues);
}

TEST(ManagerConfigErrors, AServiceNeedsAUrl) {
  const auto issues = issues_of("services: {qdrant: {}, other: }");
  EXPECT_TRUE(
      has_issue(issues, "services.qdrant.url", "is required (in the file or as QDRANT_URL)"));
  EXPECT_TRUE(has_issue(issues, "services.other.url", "is required"));
  EXPECT_EQ(issues.size(), 2U) << listing(issues);
}

TEST(ManagerConfigErrors, HealthSettings) {
  const auto issues = issues_of(R"(
health: {interval: 1s, timeout: 5s, max_consecutive_failures: 0}
services: {q: {url: http://q, health: {path: healthz, expected_status: 700}}}
)");
  EXPECT_TRUE(has_issue(issues, "health.timeout", "must be <= health.interval (1s), got 5s"));
  EXPECT_TRUE(has_issue(issues, "health.max_consecutive_failures", "must be >= 1, got 0"));
  EXPECT_TRUE(has_issue(issues, "services.q.health.path", "must start with '/'"));
  EXPECT_TRUE(has_issue(issues, "services.q.health.expected_status", "must be 100-599, got 700"));
  EXPECT_EQ(issues.size(), 4U) << listing(issues);
}

TEST(ManagerConfigErrors, SyntaxErrorsHaveALineAndAColumn) {
  const auto issues = issues_of("services:\n  qdrant: {url: http://q\n  other: 1\n");
  ASSERT_EQ(issues.size(), 1U) << listing(issues);
  EXPECT_EQ(issues[0].path, "test.yaml");
  EXPECT_NE(issues[0].message.find("YAML syntax error at line "), std::string::npos)
      << issues[0].message;
  EXPECT_NE(issues[0].message.find(", column "), std::string::npos) << issues[0].message;
}

TEST(ManagerConfigErrors, TheDocumentMustBeOneMap) {
  EXPECT_TRUE(has_issue(issues_of("- a\n- b\n"), "test.yaml", "expected a map of sections"));
  EXPECT_TRUE(
      has_issue(issues_of("a: 1\n---\nb: 2\n"), "test.yaml", "more than one YAML document"));
  // yaml-cpp 0.7 reads a stray ',' after a document as endless empty documents: it must end.
  EXPECT_TRUE(has_issue(issues_of("- a\n,"), "test.yaml", "more than one YAML document"));
  EXPECT_TRUE(has_issue(issues_of(",s_honor_retry_after:"), "test.yaml", "more than one"));
  EXPECT_TRUE(has_issue(issues_of("services: [a, b]"), "services", "expected a map, got a list"));
  EXPECT_TRUE(has_issue(issues_of("? [a]\n: 1\n"), "", "keys must be plain names"));
}

TEST(ManagerConfigErrors, MergeKeysMustNameMaps) {
  auto issues = issues_of("services: {a: {<<: 3, url: http://a}}");
  EXPECT_TRUE(has_issue(issues, "services.a.<<", "expected a map or a list of maps"))
      << listing(issues);
  issues = issues_of("x-a: &a {<<: *a, timeout: 1s}\nservices: {a: {<<: *a, url: http://a}}");
  EXPECT_TRUE(issues.empty() || has_issue(issues, "services.a.<<", "merged maps"))
      << listing(issues);
  // Keys merged in are checked like the map's own.
  issues = issues_of("x-a: &a {timout: 1s}\nservices: {a: {<<: *a, url: http://a}}");
  EXPECT_TRUE(has_issue(issues, "services.a.timout", "did you mean 'timeout'?")) << listing(issues);
}

TEST(ManagerConfigErrors, TooLargeOrTooDeepInputIsRefusedBeforeParsing) {
  EXPECT_TRUE(has_issue(issues_of(std::string(2 << 20, '#')), "test.yaml", "is larger than"));
  std::string deep = "a: " + std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(has_issue(issues_of(deep), "test.yaml", "nested more than 64 levels"));
  std::string dashes;
  for (int i = 0; i < 100; ++i) dashes += "- ";
  EXPECT_TRUE(has_issue(issues_of(dashes + "x"), "test.yaml", "nested more than 64 levels"));
}

TEST(ManagerConfigErrors, TheListOfIssuesIsCapped) {
  // Every service is the same map of many unknown keys (an alias).
  std::string yaml = "x: &s {";
  for (int i = 0; i < 200; ++i) yaml += "k" + std::to_string(i) + ": 1, ";
  yaml += "url: http://a}\nservices: {";
  for (int i = 0; i < 100; ++i) yaml += "s" + std::to_string(i) + ": *s, ";
  yaml += "}\n";
  const auto issues = issues_of(yaml);
  EXPECT_EQ(issues.size(), 201U);
  EXPECT_TRUE(has_issue(issues, "", "too many problems; the rest are not listed"));
}

TEST(ManagerConfigErrors, AliasesCannotMakeTheWorkExplode) {
  // A file of 200 KB that names a 100 KB header a hundred times would have the loader read
  // 10 MB; it stops at twice the largest file instead.
  std::string yaml = "x: &h {X-Big: " + std::string(100 * 1024, 'b') + "}\nservices: {";
  for (int i = 0; i < 100; ++i)
    yaml += "s" + std::to_string(i) + ": {url: http://a, headers: *h}, ";
  yaml += "}\n";
  const auto issues = issues_of(yaml);
  EXPECT_TRUE(has_issue(issues, "", "too large once its aliases are expanded")) << listing(issues);
}

}  // namespace
}  // namespace bulwark
