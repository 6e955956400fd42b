// The redis-server fixture itself: other integration tests rely on it starting, stopping,
// restarting and keeping persisted data across a SIGKILL.
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

namespace bulwark::test {
namespace {

TEST(RedisServerFixture, StartsOnAFreePortAndAUnixSocket) {
  RedisServer server;
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_TRUE(std::filesystem::exists(server.unix_path()));
}

TEST(RedisServerFixture, PersistedWritesSurviveAKillAndRestart) {
  RedisServer server({.persistence = true});
  EXPECT_EQ(server.cli({"INCRBY", "counter", "41"}), "41");
  server.restart();
  EXPECT_EQ(server.cli({"INCR", "counter"}), "42");
}

TEST(RedisServerFixture, PasswordProtectedServer) {
  RedisServer server({.password = "s3cret"});
  EXPECT_EQ(server.cli({"PING"}), "PONG");  // cli() authenticates
}

TEST(RedisServerFixture, KilledServerRefusesConnections) {
  RedisServer server;
  server.kill9();
  EXPECT_FALSE(server.running());
  EXPECT_NE(server.cli({"PING"}), "PONG");
}

}  // namespace
}  // namespace bulwark::test
