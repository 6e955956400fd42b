// Client::eval against a real redis-server: EVALSHA, the transparent reload after the server
// forgot the script, and script errors.
#include "bulwark/redis/client.hpp"
#include "bulwark/redis/script.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using ::testing::HasSubstr;

using test::run;
using test::run_until;

std::uint64_t command_count(const RedisServer& server, std::string_view command) {
  // "cmdstat_evalsha:calls=3,usec=..." in INFO COMMANDSTATS; absent when never called.
  const std::string stats = server.cli({"INFO", "COMMANDSTATS"});
  const std::string tag = "cmdstat_" + std::string(command) + ":calls=";
  const std::size_t at = stats.find(tag);
  if (at == std::string::npos) return 0;
  return std::stoull(stats.substr(at + tag.size()));
}

struct ScriptTest : ::testing::Test {
  ScriptTest() {
    ClientConfig config;
    config.connection.port = server.port();
    client = std::make_unique<Client>(io.get_executor(), config);
  }
  template <class T>
  T run(asio::awaitable<T> work) {
    return redis::run(io, std::move(work));
  }

  RedisServer server;
  asio::io_context io;
  std::unique_ptr<Client> client;
};

const Script compare_and_delete(R"(
  if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
  end
  return 0)");

TEST_F(ScriptTest, RunsWithKeysAndArgs) {
  run(client->set("lock", "token-1"));
  const std::vector<std::string> keys{"lock"};
  EXPECT_EQ(
      run(client->eval(compare_and_delete, keys, std::vector<std::string>{"other"})).as_integer(),
      0);
  EXPECT_TRUE(run(client->exists("lock")));
  EXPECT_EQ(
      run(client->eval(compare_and_delete, keys, std::vector<std::string>{"token-1"})).as_integer(),
      1);
  EXPECT_FALSE(run(client->exists("lock")));
  // Scripts without keys or arguments, and aggregate replies.
  const Script pair("return {1, 'two'}");
  const Value reply = run(client->eval(pair));
  ASSERT_EQ(reply.size(), 2u);
  EXPECT_EQ(reply.at(0).as_integer(), 1);
  EXPECT_EQ(reply.at(1).as_string(), "two");
}

TEST_F(ScriptTest, SendsTheSourceOnlyWhenTheServerDoesNotKnowIt) {
  const Script script("return 42");
  EXPECT_EQ(run(client->eval(script)).as_integer(), 42);  // NOSCRIPT, then EVAL
  EXPECT_EQ(run(client->eval(script)).as_integer(), 42);  // cached: EVALSHA alone
  EXPECT_EQ(command_count(server, "eval"), 1u);
  EXPECT_EQ(command_count(server, "evalsha"), 2u);
}

TEST_F(ScriptTest, SurvivesAScriptFlush) {
  const Script script("return ARGV[1] .. '!'");
  const std::vector<std::string> args{"hi"};
  EXPECT_EQ(run(client->eval(script, {}, args)).as_string(), "hi!");
  ASSERT_EQ(server.cli({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(run(client->eval(script, {}, args)).as_string(), "hi!");
  EXPECT_EQ(command_count(server, "eval"), 2u);
}

TEST_F(ScriptTest, LoadCachesAheadOfTheFirstEval) {
  const Script script("return 7");
  run(client->load(script));
  EXPECT_EQ(server.cli({"SCRIPT", "EXISTS", script.sha1()}), "1");
  EXPECT_EQ(run(client->eval(script)).as_integer(), 7);
  EXPECT_EQ(command_count(server, "eval"), 0u);
}

TEST_F(ScriptTest, AScriptErrorSurfacesWithTheServersMessage) {
  const Script raising("return redis.error_reply('MYERR custom failure')");
  try {
    run(client->eval(raising));
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_THAT(error.what(), HasSubstr("MYERR custom failure"));
  }
  const Script broken("return redis.call('INCR', KEYS[1])");
  run(client->set("text", "abc"));
  try {
    run(client->eval(broken, std::vector<std::string>{"text"}));
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_THAT(error.what(), HasSubstr("not an integer"));
  }
  // A script that does not compile fails when it is first sent (EVAL after NOSCRIPT).
  const Script syntax("this is not lua");
  try {
    run(client->eval(syntax));
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_EQ(error.operation(), "EVAL");
    EXPECT_THAT(error.what(), HasSubstr("Error compiling script"));
  }
}

}  // namespace
}  // namespace bulwark::redis
