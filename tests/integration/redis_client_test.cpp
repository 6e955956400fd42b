// redis::Client against a real redis-server and real faults: LOADING, SIGKILL under load,
// restarts, timeouts, and which commands are retried.
#include "bulwark/redis/client.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using test::run;
using test::run_until;

ClientConfig client_for(const RedisServer& server) {
  ClientConfig config;
  config.name = "redis.test";
  config.connection.port = server.port();
  config.connection.connect_timeout = 1s;
  config.command_timeout = 1s;
  config.retry->backoff = {.type = BackoffType::constant, .initial = 50ms, .jitter = Jitter::none};
  config.circuit_breaker->consecutive_failures = 3;
  config.circuit_breaker->recovery_timeout = 500ms;
  return config;
}

asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

struct ClientTest : ::testing::Test {
  asio::io_context io;
};

TEST_F(ClientTest, CommandsAndErrorReplies) {
  RedisServer server;
  Client client(io.get_executor(), client_for(server));
  EXPECT_EQ(run(io, client.command("SET", "greeting", "hello")).as_string(), "OK");
  EXPECT_EQ(run(io, client.command("GET", "greeting")).as_string(), "hello");
  try {
    run(io, client.command("INCR", "greeting"));
    FAIL() << "INCR on a string succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_EQ(error.client(), "redis.test");
    EXPECT_EQ(error.operation(), "INCR");
    EXPECT_NE(std::string(error.what()).find("not an integer"), std::string::npos) << error.what();
  }
  // execute() returns the error reply as a value, and a healthy server stays healthy.
  Result<Value> reply = run(io, client.execute(make_command("INCR", "greeting")));
  ASSERT_TRUE(reply);
  EXPECT_TRUE(reply->is_error());
  EXPECT_EQ(client.health(), HealthState::healthy);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(ClientTest, PipelinesAndTransactions) {
  RedisServer server;
  Client client(io.get_executor(), client_for(server));
  std::vector<Command> batch;
  batch.push_back(make_command("SET", "a", "1"));
  batch.push_back(make_command("INCR", "a"));
  batch.push_back(make_command("GET", "a"));
  const std::vector<Value> replies = run(io, client.pipeline(std::move(batch)));
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[2].as_string(), "2");

  std::vector<Command> transaction;
  transaction.push_back(make_command("INCR", "a"));
  transaction.push_back(make_command("INCR", "a"));
  const std::vector<Value> results = run(io, client.transaction(std::move(transaction)));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].as_integer(), 4);
}

TEST_F(ClientTest, WatchDetectsAConflictingWrite) {
  RedisServer server;
  Client client(io.get_executor(), client_for(server));
  run(io, client.command("SET", "balance", "10"));
  auto debit = [&](bool interfere) {
    return client.watch(
        {"balance"},
        [&, interfere](Connection& connection) -> asio::awaitable<std::vector<Command>> {
          Result<Value> balance = co_await connection.execute(make_command("GET", "balance"));
          if (interfere) server.cli({"SET", "balance", "100"});  // another client writes meanwhile
          std::vector<Command> commands;
          commands.push_back(
              make_command("SET", "balance", std::stoi(std::string(balance->as_string())) - 1));
          co_return commands;
        });
  };
  EXPECT_FALSE(run(io, debit(true)).has_value());  // conflict: EXEC aborted
  EXPECT_EQ(server.cli({"GET", "balance"}), "100");
  ASSERT_TRUE(run(io, debit(false)).has_value());
  EXPECT_EQ(server.cli({"GET", "balance"}), "99");
  EXPECT_EQ(client.pool().stats().leased, 0u);
}

TEST_F(ClientTest, WaitsOutLoadingThenSucceeds) {
  RedisServer server;
  ASSERT_EQ(server.cli({"DEBUG", "POPULATE", "1000000", "key", "64"}), "OK");
  ASSERT_EQ(server.cli({"SAVE"}), "OK");
  Client client(io.get_executor(), client_for(server));
  server.restart(
      RedisServer::Wait::accepting);  // loading the dataset for the better part of a second
  const Value value = run(io, client.command("GET", "key:4242"));
  EXPECT_EQ(value.as_string().substr(0, 9), "value:424");
  EXPECT_GT(client.stats().loading_waits, 0u);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(ClientTest, WithoutALoadingBudgetLoadingIsAnError) {
  RedisServer server;
  ASSERT_EQ(server.cli({"DEBUG", "POPULATE", "1000000", "key", "64"}), "OK");
  ASSERT_EQ(server.cli({"SAVE"}), "OK");
  auto config = client_for(server);
  config.wait_for_loading = 0s;
  Client client(io.get_executor(), config);
  server.restart(RedisServer::Wait::accepting);
  try {
    run(io, client.command("GET", "key:1"));
    FAIL() << "no LOADING error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::redis_loading);
  }
}

TEST_F(ClientTest, ACommandThatTimesOutDoesNotDesynchroniseTheNextOne) {
  RedisServer server;
  auto config = client_for(server);
  config.command_timeout = 100ms;
  config.retry.reset();
  Client client(io.get_executor(), config);
  run(io, client.command("SET", "k", "v"));
  try {
    run(io, client.command("DEBUG", "SLEEP", "0.5"));
    FAIL() << "no timeout";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::timeout);
  }
  // The server is single-threaded: let it finish sleeping. The sleep's late "+OK" must not be
  // taken for the GET's reply; the poisoned connection is gone and a fresh one answers.
  run(io, pause(500ms));
  EXPECT_EQ(run(io, client.command("GET", "k")).as_string(), "v");
  EXPECT_GE(client.pool().stats().created, 2u);
}

TEST_F(ClientTest, ReadsLostWithTheirConnectionAreRetriedWritesAreNot) {
  RedisServer server;
  Client client(io.get_executor(), client_for(server));
  run(io, client.command("PING"));
  std::error_code write_outcome;
  bool write_done = false;
  bool read_ok = false;
  bool read_done = false;
  // DEBUG SLEEP (not read-only) holds the server; a GET queues behind it on the same connection.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<Value> reply = co_await client.execute(make_command("DEBUG", "SLEEP", "0.3"));
        write_outcome = reply ? std::error_code{} : reply.error();
        write_done = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await pause(20ms);
        Result<Value> reply = co_await client.execute(make_command("GET", "anything"));
        read_ok = static_cast<bool>(reply);
        read_done = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await pause(80ms);
        server.restart();  // both commands are on the wire: the connection drops under them
      },
      asio::detached);
  run_until(io, [&] { return write_done && read_done; });
  EXPECT_EQ(write_outcome, errc::connection_lost);  // may have run: never sent twice
  EXPECT_TRUE(read_ok);                             // safe to resend: it was, and succeeded
  EXPECT_GE(client.resilience().retry()->stats().retries, 1u);
}

TEST_F(ClientTest, KilledServerOpensTheBreakerAndARestartRecoversWithoutHelp) {
  RedisServer server;
  Client client(io.get_executor(), client_for(server));
  run(io, client.command("SET", "k", "v"));
  server.kill9();
  std::error_code last;
  for (int i = 0; i < 6; ++i) {
    Result<Value> reply = run(io, client.execute(make_command("GET", "k")));
    if (!reply) last = reply.error();
  }
  EXPECT_EQ(last, errc::circuit_open);
  EXPECT_EQ(client.health(), HealthState::failed);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);

  server.start();
  // No reconnect call: once the breaker's wait is over, a probe goes through and closes it.
  Result<Value> reply = make_error_code(errc::circuit_open);
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!reply && std::chrono::steady_clock::now() < give_up) {
    run(io, pause(100ms));
    reply = run(io, client.execute(make_command("PING")));
  }
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->as_string(), "PONG");
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
  EXPECT_EQ(client.health(), HealthState::healthy);
}

TEST_F(ClientTest, NoAcknowledgedWriteIsLostAcrossARestart) {
  RedisServer server({.persistence = true});
  auto config = client_for(server);
  config.circuit_breaker.reset();  // keep trying through the outage
  config.pool.max_connections = 4;
  Client client(io.get_executor(), config);
  std::int64_t acknowledged = 0;
  std::int64_t failed = 0;
  int writers_done = 0;
  const auto stop_at = std::chrono::steady_clock::now() + 1500ms;
  for (int w = 0; w < 20; ++w) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (std::chrono::steady_clock::now() < stop_at) {
            Result<Value> reply = co_await client.execute(make_command("INCR", "counter"));
            if (reply && reply->type() == Type::integer) {
              ++acknowledged;
            } else {
              ++failed;
              co_await pause(10ms);
            }
          }
          ++writers_done;
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await pause(500ms);
        server.restart();
      },
      asio::detached);
  run_until(io, [&] { return writers_done == 20; });
  const std::int64_t final_value = std::stoll(server.cli({"GET", "counter"}));
  EXPECT_GT(acknowledged, 100);
  EXPECT_GT(failed, 0);  // the restart was felt
  // Every acknowledged INCR survived; at most the ones that failed in flight ran unseen.
  EXPECT_GE(final_value, acknowledged);
  EXPECT_LE(final_value, acknowledged + failed);
}

TEST_F(ClientTest, InvalidConfigListsEveryProblem) {
  ClientConfig config;
  config.connection.port = 0;
  config.pool.max_connections = 0;
  config.wait_for_loading = -1s;
  try {
    Client client(io.get_executor(), config);
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.issues().size(), 3u) << error.what();
  }
}

TEST(ReadOnlyCommands, Classification) {
  EXPECT_TRUE(is_read_only("GET"));
  EXPECT_TRUE(is_read_only("HGETALL"));
  EXPECT_TRUE(is_read_only("SCAN"));
  EXPECT_TRUE(is_read_only("PING"));
  EXPECT_FALSE(is_read_only("SET"));
  EXPECT_FALSE(is_read_only("INCR"));
  EXPECT_FALSE(is_read_only("EVAL"));
  EXPECT_FALSE(is_read_only("DEBUG"));
}

}  // namespace
}  // namespace bulwark::redis
