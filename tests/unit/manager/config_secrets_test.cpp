// Secrets never appear in what a bad configuration reports, wherever they were put.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include "unit/manager/config_test_support.hpp"

namespace bulwark {
namespace {

using testing::fake_environment;
using testing::listing;

constexpr std::string_view api_key = "sk-ENVSECRET-4242";
constexpr std::string_view file_token = "tok-FILESECRET-777";
constexpr std::string_view redis_password = "pw-REDISSECRET-31";
constexpr std::string_view db_password = "pw-DBSECRET-5";

// The error's text and every issue, for one file.
std::string everything_reported(std::string_view yaml) {
  const Environment environment = fake_environment(
      {{"OPENAI_API_KEY", std::string(api_key)}, {"DB_PASSWORD", std::string(db_password)}});
  try {
    (void)parse_config(yaml, environment, "secrets.yaml");
  } catch (const ConfigError& error) {
    return std::string(error.what()) + "\n" + listing(error.issues());
  }
  ADD_FAILURE() << "the file was accepted";
  return {};
}

void expect_no_secret(const std::string& text) {
  EXPECT_EQ(text.find(api_key), std::string::npos) << text;
  EXPECT_EQ(text.find(file_token), std::string::npos) << text;
  EXPECT_EQ(text.find(redis_password), std::string::npos) << text;
  EXPECT_EQ(text.find(db_password), std::string::npos) << text;
  EXPECT_EQ(text.find("ENVSECRET"), std::string::npos) << text;
  EXPECT_EQ(text.find("FILESECRET"), std::string::npos) << text;
  EXPECT_EQ(text.find("REDISSECRET"), std::string::npos) << text;
  EXPECT_EQ(text.find("DBSECRET"), std::string::npos) << text;
}

TEST(ManagerConfigSecrets, NeverInAnyMessage) {
  const std::string text = everything_reported(R"(
defaults:
  timeout: "${OPENAI_API_KEY}"
  retry: {max_attempts: "${OPENAI_API_KEY}", backoff: {type: "${OPENAI_API_KEY}"}}
  circuit_breaker: {failure_rate_threshold: "${DB_PASSWORD}"}
  rate_limit: "${OPENAI_API_KEY}"
services:
  first:
    url: "${OPENAI_API_KEY}"
    auth: {scheme: header, token: "tok-FILESECRET-777\r\nX-Injected: 1"}
    health: {expected_status: "${OPENAI_API_KEY}"}
    tls: {verify: "${OPENAI_API_KEY}"}
    headers: {"Bad Header": "tok-FILESECRET-777", X-Key: "tok-FILESECRET-777\n"}
  second:
    url: "http://h/${OPENAI_API_KEY}?x=${DB_PASSWORD}#frag"
    auth: {scheme: bearr, tokn: tok-FILESECRET-777}
  third:
    url: "http://user:${DB_PASSWORD}@host"
    auth: {scheme: bearer, token: "${OPENAI_API_KEY}", header: "${OPENAI_API_KEY}"}
    pool: {max_connections: 0}
redis:
  url: "redis://:pw-REDISSECRET-31@redis:notaport"
  password: "${DB_PASSWORD}"
  keepalive: {count: "${DB_PASSWORD}"}
  databases:
    cache: "${DB_PASSWORD}"
    other: {url: "redis://:${DB_PASSWORD}@other:99999", db: 40}
    third: {url: "http://:pw-REDISSECRET-31@x"}
admin: {listen: "${OPENAI_API_KEY}", token: {nested: "${OPENAI_API_KEY}"}}
)");
  expect_no_secret(text);
  // The file was full of problems, and they were reported.
  EXPECT_NE(text.find("defaults.timeout"), std::string::npos) << text;
  EXPECT_NE(text.find("services.first.auth.token"), std::string::npos) << text;
  EXPECT_NE(text.find("redis.url"), std::string::npos) << text;
  EXPECT_NE(text.find("admin.listen"), std::string::npos) << text;
  EXPECT_NE(text.find("admin.token"), std::string::npos) << text;
}

TEST(ManagerConfigSecrets, NeverInSyntaxErrors) {
  expect_no_secret(everything_reported("services:\n  a: {token: tok-FILESECRET-777\n  b: 1\n"));
  expect_no_secret(everything_reported("services: {a: \"tok-FILESECRET-777\\q\"}"));
}

TEST(ManagerConfigSecrets, NeverInOverridesFromTheEnvironment) {
  const Environment environment =
      fake_environment({{"QDRANT_URL", "qdrant-ENVSECRET-url"},
                        {"QDRANT_API_KEY", "key-ENVSECRET-1\r\n"},
                        {"REDIS_URL", "redis://:pw-ENVSECRET-2@host:bad"}});
  try {
    (void)parse_config("services: {qdrant: {}}\nredis: {}\n", environment);
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    const std::string text = std::string(error.what()) + listing(error.issues());
    EXPECT_EQ(text.find("key-ENVSECRET"), std::string::npos) << text;
    EXPECT_EQ(text.find("pw-ENVSECRET"), std::string::npos) << text;
    EXPECT_NE(text.find("services.qdrant.auth.token"), std::string::npos) << text;
    EXPECT_NE(text.find("set by REDIS_URL"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace bulwark
