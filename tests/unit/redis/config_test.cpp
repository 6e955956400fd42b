#include "bulwark/redis/config.hpp"

#include <gtest/gtest.h>

namespace bulwark::redis {
namespace {

TEST(RedisUrl, ReadsHostPortDatabaseAndCredentials) {
  const ConnectionConfig config = from_url("redis://app:s3cret@cache.internal:6380/4");
  EXPECT_EQ(config.host, "cache.internal");
  EXPECT_EQ(config.port, 6380);
  EXPECT_EQ(config.database, 4);
  EXPECT_EQ(config.username, "app");
  EXPECT_EQ(config.password.reveal(), "s3cret");
  EXPECT_FALSE(config.tls.enabled);
}

TEST(RedisUrl, DefaultsAndPasswordOnly) {
  const ConnectionConfig config = from_url("redis://:pw@localhost");
  EXPECT_EQ(config.host, "localhost");
  EXPECT_EQ(config.port, 6379);
  EXPECT_EQ(config.database, 0);
  EXPECT_EQ(config.username, "");
  EXPECT_EQ(config.password.reveal(), "pw");
}

TEST(RedisUrl, TlsUnixAndParameters) {
  EXPECT_TRUE(from_url("rediss://cache:6380").tls.enabled);
  const ConnectionConfig unix_config = from_url("unix:///run/redis.sock?db=2&client_name=worker");
  EXPECT_EQ(unix_config.unix_path, "/run/redis.sock");
  EXPECT_EQ(unix_config.database, 2);
  EXPECT_EQ(unix_config.client_name, "worker");
  EXPECT_EQ(from_url("redis://h?protocol=2").protocol, Protocol::resp2);
}

std::string error_of(std::string_view url) {
  try {
    (void)from_url(url);
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.issues().at(0).path, "url");
    return error.issues().at(0).message;
  }
  ADD_FAILURE() << "accepted " << url;
  return {};
}

TEST(RedisUrl, ErrorsSayWhatIsWrongAndNeverShowThePassword) {
  EXPECT_EQ(error_of("http://h"),
            "unknown scheme \"http\" (use redis, rediss or unix) in \"http://h\"");
  EXPECT_EQ(error_of("redis://:hunter2@h:99999"),
            "port 99999 is out of range in \"redis://:***@h:99999\"");
  EXPECT_EQ(error_of("redis://:hunter2@h/abc"),
            "database \"abc\" is not a number in \"redis://:***@h/abc\"");
  EXPECT_EQ(error_of("redis://h?timeout=1"),
            "unknown parameter \"timeout\" (known: db, client_name, protocol) in "
            "\"redis://h?timeout=1\"");
  EXPECT_EQ(error_of("unix://"), "missing socket path in \"unix://\"");
  EXPECT_EQ(error_of("redis://h?protocol=4"),
            "protocol must be 2 or 3 in \"redis://h?protocol=4\"");
}

TEST(RedisConfig, ValidationNamesEveryBadField) {
  ConnectionConfig config;
  config.port = 0;
  config.database = -1;
  config.connect_timeout = Duration::zero();
  config.keepalive.count = 0;
  config.tls.cert_file = "client.pem";
  std::vector<ConfigIssue> issues;
  validate(config, issues, "redis.databases.cache");
  std::vector<std::string> paths;
  for (const auto& issue : issues) paths.push_back(issue.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{
                "redis.databases.cache.port", "redis.databases.cache.database",
                "redis.databases.cache.connect_timeout", "redis.databases.cache.keepalive.count",
                "redis.databases.cache.tls.key_file"}));
}

TEST(RedisConfig, DescribesEndpointsWithoutCredentials) {
  ConnectionConfig config = from_url("rediss://u:pw@cache:6380");
  EXPECT_EQ(describe_endpoint(config), "tls:cache:6380");
  config.unix_path = "/tmp/r.sock";
  EXPECT_EQ(describe_endpoint(config), "unix:/tmp/r.sock");
}

}  // namespace
}  // namespace bulwark::redis
