// redis::SyncClient against a real redis-server: the blocking calls return what the coroutines
// return, exceptions come out of the call, many threads can share it, and a call from the
// runtime's own thread fails instead of deadlocking.
#include "bulwark/redis/sync_client.hpp"

#include "support/redis_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using Strings = std::vector<std::string>;

ClientConfig config_for(const RedisServer& server) {
  ClientConfig config;
  config.name = "redis.sync";
  config.connection.port = server.port();
  config.connection.connect_timeout = 2s;
  return config;
}

struct SyncClientTest : ::testing::Test {
  RedisServer server;
  Runtime runtime{{.threads = 2}};
  SyncClient client{runtime, config_for(server)};
};

TEST_F(SyncClientTest, GenericCommands) {
  EXPECT_EQ(client.command("PING").as_string(), "PONG");
  EXPECT_EQ(client.command("SET", "k", "v").as_string(), "OK");
  EXPECT_EQ(client.command(make_command("GET", "k")).as_string(), "v");
  // execute() hands error replies back as values.
  const Result<Value> reply = client.execute(make_command("INCR", "k"));
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->is_error());
  EXPECT_EQ(reply->error_code(), errc::redis_error);
}

TEST_F(SyncClientTest, TypedHelpers) {
  EXPECT_TRUE(client.set("k", "v", {.ttl = 30s}));
  EXPECT_THAT(client.get("k"), Optional(std::string("v")));
  EXPECT_TRUE(client.ttl("k").expires());
  EXPECT_EQ(client.incr("n", 5), 5);
  EXPECT_EQ(client.decr("n"), 4);
  EXPECT_TRUE(client.hset("h", "f", "1"));
  EXPECT_THAT(client.hgetall("h"), ElementsAre(Pair("f", "1")));
  EXPECT_EQ(client.rpush("l", Strings{"a", "b"}), 2);
  EXPECT_THAT(client.lrange("l", 0, -1), ElementsAre("a", "b"));
  EXPECT_EQ(client.sadd("s", Strings{"x", "y"}), 2);
  EXPECT_THAT(client.smembers("s"), UnorderedElementsAre("x", "y"));
  EXPECT_TRUE(client.zadd("z", 1.5, "m"));
  EXPECT_THAT(client.zrange_with_scores("z", 0, -1), ElementsAre(Pair("m", 1.5)));
  EXPECT_THAT(client.scan_all({.match = "[hl]"}), UnorderedElementsAre("h", "l"));
  const std::vector<std::pair<std::string, std::string>> entries{{"a", "1"}, {"b", "2"}};
  client.mset(entries);
  EXPECT_THAT(client.mget(Strings{"a", "b", "c"}),
              ElementsAre(Optional(std::string("1")), Optional(std::string("2")), std::nullopt));
  client.rename("a", "a2");
  EXPECT_EQ(client.del(Strings{"a2", "b"}), 2);
  EXPECT_EQ(client.type("z"), "zset");
}

TEST_F(SyncClientTest, TransactionAndPipeline) {
  std::vector<Command> commands;
  commands.push_back(make_command("INCR", "t"));
  commands.push_back(make_command("INCR", "t"));
  const std::vector<Value> exec = client.transaction(std::move(commands));
  ASSERT_EQ(exec.size(), 2u);
  EXPECT_EQ(exec[1].as_integer(), 2);

  std::vector<Command> batch;
  batch.push_back(make_command("SET", "p", "1"));
  batch.push_back(make_command("GET", "p"));
  batch.push_back(make_command("INCR", "missing-is-zero"));
  const std::vector<Value> replies = client.pipeline(std::move(batch));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0].as_string(), "OK");
  EXPECT_EQ(replies[1].as_string(), "1");
  EXPECT_EQ(replies[2].as_integer(), 1);
}

TEST_F(SyncClientTest, Watch) {
  client.set("balance", "10");
  const std::optional<std::vector<Value>> replies = client.watch(
      {"balance"}, [](Connection& connection) -> asio::awaitable<std::vector<Command>> {
        Result<Value> balance = co_await connection.execute(make_command("GET", "balance"));
        std::vector<Command> commands;
        commands.push_back(
            make_command("SET", "balance", std::stoi(std::string(balance->as_string())) + 5));
        co_return commands;
      });
  ASSERT_TRUE(replies.has_value());
  EXPECT_THAT(client.get("balance"), Optional(std::string("15")));
}

TEST_F(SyncClientTest, Eval) {
  const Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(client.eval(script, Strings{"c"}, Strings{"3"}).as_integer(), 3);
  ASSERT_EQ(server.cli({"SCRIPT", "FLUSH"}), "OK");
  EXPECT_EQ(client.eval(script, Strings{"c"}, Strings{"4"}).as_integer(), 7);
}

TEST_F(SyncClientTest, ErrorsComeOutOfTheBlockingCall) {
  client.set("text", "abc");
  try {
    client.incr("text");
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_THAT(error.what(), HasSubstr("ERR value is not an integer"));
  }
  EXPECT_THROW(client.command("NOSUCHCOMMAND"), Error);
  std::vector<Command> commands;
  commands.push_back(make_command("SET", "x", "1"));
  commands.push_back(make_command("NOSUCHCOMMAND"));  // refused while queueing: EXECABORT
  EXPECT_THROW(client.transaction(std::move(commands)), Error);
  EXPECT_THROW(client.eval(Script("return redis.error_reply('NOPE')")), Error);
  // Still usable afterwards.
  EXPECT_EQ(client.command("PING").as_string(), "PONG");
}

TEST_F(SyncClientTest, TransportErrorsComeOutToo) {
  server.kill9();
  ClientConfig config = config_for(server);
  config.retry.reset();
  SyncClient unreachable(runtime, config);
  try {
    unreachable.get("k");
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::connect_failed) << error.what();
  }
  EXPECT_NE(unreachable.health(), HealthState::healthy);
}

TEST_F(SyncClientTest, ConcurrentThreadsShareIt) {
  constexpr int threads = 4;
  constexpr int increments = 500;
  std::vector<std::thread> workers;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < increments; ++i) {
        try {
          client.incr("shared");
        } catch (const std::exception&) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(client.get("shared"), Optional(std::to_string(threads * increments)));
  EXPECT_EQ(server.cli({"GET", "shared"}), std::to_string(threads * increments));
  EXPECT_GE(client.stats().commands, static_cast<std::uint64_t>(threads * increments));
  EXPECT_EQ(client.stats().errors, 0u);
}

TEST_F(SyncClientTest, BlpopBlocksTheCallingThreadOnly) {
  std::thread producer([&] {
    std::this_thread::sleep_for(100ms);
    client.rpush("jobs", "job-1");  // the runtime is free while the consumer waits
  });
  EXPECT_THAT(client.blpop("jobs", 5s), Optional(Pair("jobs", "job-1")));
  producer.join();
  EXPECT_EQ(client.blpop("jobs", 50ms), std::nullopt);
}

TEST_F(SyncClientTest, ACallFromARuntimeThreadThrowsInsteadOfDeadlocking) {
  std::promise<std::error_code> outcome;
  asio::post(runtime.executor(), [&] {
    try {
      client.get("k");
      outcome.set_value({});
    } catch (const Error& error) {
      outcome.set_value(error.code());
    }
  });
  std::future<std::error_code> future = outcome.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready) << "deadlocked";
  EXPECT_EQ(future.get(), errc::invalid_argument);
  // Coroutines on the runtime use the asynchronous client instead.
  auto value = asio::co_spawn(
      runtime.executor(),
      [&]() -> asio::awaitable<std::optional<std::string>> {
        co_await client.async().set("k", "from-the-runtime");
        co_return co_await client.async().get("k");
      },
      asio::use_future);
  EXPECT_THAT(value.get(), Optional(std::string("from-the-runtime")));
}

TEST_F(SyncClientTest, StateDoesNotBlock) {
  EXPECT_EQ(client.name(), "redis.sync");
  EXPECT_EQ(client.health(), HealthState::healthy);
  client.command("PING");
  EXPECT_EQ(client.stats().commands, 1u);
  client.close();
  try {
    client.get("k");
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::shutting_down);
  }
}

}  // namespace
}  // namespace bulwark::redis
