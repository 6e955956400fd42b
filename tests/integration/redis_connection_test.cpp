// redis::Connection against a real redis-server: handshake variants, automatic pipelining, and
// what happens to in-flight commands when the server dies or a caller gives up.
#include "bulwark/redis/connection.hpp"
#include "bulwark/resilience/timeout.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <future>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;

using test::run;
using test::run_until;

ConnectionConfig config_for(const RedisServer& server) {
  ConnectionConfig config;
  config.port = server.port();
  config.connect_timeout = 2s;
  return config;
}

asio::awaitable<Value> command(Connection& connection, Command cmd) {
  Result<Value> reply = co_await connection.execute(std::move(cmd));
  if (!reply) throw Error(reply.error());
  co_return std::move(*reply);
}

struct ConnectionTest : ::testing::Test {
  asio::io_context io;
};

TEST_F(ConnectionTest, SpeaksResp3AndRunsCommands) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  EXPECT_EQ(connection->protocol(), Protocol::resp3);
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
  EXPECT_EQ(run(io, command(*connection, make_command("SET", "k", "v"))).as_string(), "OK");
  EXPECT_EQ(run(io, command(*connection, make_command("GET", "k"))).as_string(), "v");
  EXPECT_TRUE(run(io, command(*connection, make_command("GET", "missing"))).is_null());
  // Error replies are values, not transport failures.
  const Value error = run(io, command(*connection, make_command("INCR", "k")));
  EXPECT_TRUE(error.is_error());
  EXPECT_EQ(error.error_code(), errc::redis_error);
}

TEST_F(ConnectionTest, Resp2WhenAsked) {
  RedisServer server;
  auto config = config_for(server);
  config.protocol = Protocol::resp2;
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(connection->protocol(), Protocol::resp2);
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
}

TEST_F(ConnectionTest, FallsBackToResp2WhenTheServerDoesNotKnowHello) {
  // A server without HELLO answers "unknown command", as Redis before 6 does.
  RedisServer server({.password = "pw", .extra_args = {"--rename-command", "HELLO", ""}});
  auto config = config_for(server);
  config.password = Secret("pw");
  config.client_name = "old-server-client";
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(connection->protocol(), Protocol::resp2);
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
  EXPECT_NE(server.cli({"CLIENT", "LIST"}).find("name=old-server-client"), std::string::npos);
}

TEST_F(ConnectionTest, UnixSocket) {
  RedisServer server;
  ConnectionConfig config;
  config.unix_path = server.unix_path();
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
}

TEST_F(ConnectionTest, AuthenticatesAndRefusesAWrongPasswordWithoutRevealingIt) {
  RedisServer server({.password = "correct-horse"});
  auto config = config_for(server);
  config.password = Secret("correct-horse");
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");

  config.password = Secret("battery-staple");
  try {
    run(io, Connection::connect(io.get_executor(), config));
    FAIL() << "connected with a wrong password";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.code(), errc::redis_error);
    EXPECT_NE(message.find("WRONGPASS"), std::string::npos) << message;
    EXPECT_EQ(message.find("battery-staple"), std::string::npos) << message;
    EXPECT_EQ(message.find("correct-horse"), std::string::npos) << message;
  }
}

TEST_F(ConnectionTest, AclUserAndPassword) {
  RedisServer server;
  ASSERT_EQ(server.cli({"ACL", "SETUSER", "app", "on", ">app-pass", "~*", "+@all"}), "OK");
  auto config = config_for(server);
  config.username = "app";
  config.password = Secret("app-pass");
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(run(io, command(*connection, make_command("ACL", "WHOAMI"))).as_string(), "app");
}

TEST_F(ConnectionTest, SelectsTheDatabaseAndNamesTheClient) {
  RedisServer server;
  auto config = config_for(server);
  config.database = 3;
  config.client_name = "bulwark-test";
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  run(io, command(*connection, make_command("SET", "where", "db3")));
  EXPECT_EQ(server.cli({"-n", "3", "GET", "where"}), "db3");
  EXPECT_EQ(server.cli({"GET", "where"}), "");
  EXPECT_NE(server.cli({"CLIENT", "LIST"}).find("name=bulwark-test"), std::string::npos);
}

TEST_F(ConnectionTest, ADatabaseOutOfRangeIsAClearError) {
  RedisServer server;
  auto config = config_for(server);
  config.database = 99;
  try {
    run(io, Connection::connect(io.get_executor(), config));
    FAIL() << "SELECT 99 succeeded";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("SELECT 99 refused"), std::string::npos)
        << error.what();
  }
}

TEST_F(ConnectionTest, ConcurrentCallersArePipelinedOnOneConnection) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  constexpr int callers = 200;
  int ok = 0;
  int finished = 0;
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Result<Value> reply = co_await connection->execute(make_command("INCR", "counter"));
          if (reply && reply->type() == Type::integer) ++ok;
          ++finished;
        },
        asio::detached);
  }
  run_until(io, [&] { return finished == callers; });
  EXPECT_EQ(ok, callers);
  EXPECT_EQ(server.cli({"GET", "counter"}), std::to_string(callers));
  const ConnectionStats stats = connection->stats();
  EXPECT_EQ(stats.commands, static_cast<std::uint64_t>(callers) + 0);
  // Commands issued together went out together: far fewer writes than commands.
  EXPECT_LT(stats.writes, stats.commands / 4) << stats.writes << " writes";
  EXPECT_EQ(connection->pending(), 0u);
}

TEST_F(ConnectionTest, RepliesGoToTheirOwnCallers) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  constexpr int callers = 300;
  int matched = 0;
  int finished = 0;
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          Result<Value> reply =
              co_await connection->execute(make_command("ECHO", "caller-" + std::to_string(i)));
          if (reply && reply->as_string() == "caller-" + std::to_string(i)) ++matched;
          ++finished;
        },
        asio::detached);
  }
  run_until(io, [&] { return finished == callers; });
  EXPECT_EQ(matched, callers);
}

TEST_F(ConnectionTest, BatchesAreWrittenBackToBack) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::vector<Command> batch;
  batch.push_back(make_command("MULTI"));
  batch.push_back(make_command("INCR", "a"));
  batch.push_back(make_command("INCR", "a"));
  batch.push_back(make_command("EXEC"));
  Result<std::vector<Value>> replies = run(io, connection->execute_batch(std::move(batch)));
  ASSERT_TRUE(replies);
  ASSERT_EQ(replies->size(), 4u);
  EXPECT_EQ((*replies)[0].as_string(), "OK");
  EXPECT_EQ((*replies)[1].as_string(), "QUEUED");
  ASSERT_EQ((*replies)[3].size(), 2u);
  EXPECT_EQ((*replies)[3].at(1).as_integer(), 2);
}

TEST_F(ConnectionTest, AKilledServerFailsEveryInFlightCommandWithConnectionLost) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::vector<std::error_code> outcomes;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // BLPOP on an empty list waits until the server dies.
          Result<Value> reply = co_await connection->execute(make_command("BLPOP", "nothing", 0));
          outcomes.push_back(reply ? std::error_code{} : reply.error());
        },
        asio::detached);
  }
  // Once all five are on the wire, kill the server.
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io);
        while (connection->stats().writes == 0 || connection->pending() < 5) {
          timer.expires_after(1ms);
          co_await timer.async_wait(asio::use_awaitable);
        }
        timer.expires_after(20ms);
        co_await timer.async_wait(asio::use_awaitable);
        server.kill9();
      },
      asio::detached);
  run_until(io, [&] { return outcomes.size() == 5; });
  ASSERT_EQ(outcomes.size(), 5u);
  for (const std::error_code& outcome : outcomes) EXPECT_EQ(outcome, errc::connection_lost);
  EXPECT_FALSE(connection->is_open());
  EXPECT_EQ(connection->close_reason(), errc::connection_lost);
  // A closed connection refuses new work at once.
  EXPECT_EQ(run(io, connection->execute(make_command("PING"))).error(), errc::connection_lost);
}

TEST_F(ConnectionTest, GivingUpOnAWrittenCommandPoisonsTheConnection) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::error_code slow_outcome;
  std::error_code other_outcome;
  bool other_done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await with_timeout(connection->execute(make_command("DEBUG", "SLEEP", "0.3")), 50ms);
        } catch (const Error& error) {
          slow_outcome = error.code();
        }
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<Value> reply = co_await connection->execute(make_command("GET", "x"));
        other_outcome = reply ? std::error_code{} : reply.error();
        other_done = true;
      },
      asio::detached);
  run_until(io, [&] { return slow_outcome && other_done; });
  EXPECT_EQ(slow_outcome, errc::timeout);
  // The GET queued behind the abandoned command would have received its late reply: it fails.
  EXPECT_EQ(other_outcome, errc::connection_lost);
  EXPECT_FALSE(connection->is_open());
  // A fresh connection is in step.
  auto fresh = run(io, Connection::connect(io.get_executor(), config_for(server)));
  run(io, command(*fresh, make_command("SET", "x", "1")));
  EXPECT_EQ(run(io, command(*fresh, make_command("GET", "x"))).as_string(), "1");
}

TEST_F(ConnectionTest, TheWatchdogTimesOutALateReplyAndPoisonsTheConnection) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::error_code slow;
  std::error_code behind;
  bool slow_done = false;
  bool behind_done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<Value> reply =
            co_await connection->execute(make_command("DEBUG", "SLEEP", "0.3"), 50ms);
        slow = reply ? std::error_code{} : reply.error();
        slow_done = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<Value> reply = co_await connection->execute(make_command("GET", "x"), 10s);
        behind = reply ? std::error_code{} : reply.error();
        behind_done = true;
      },
      asio::detached);
  const auto start = std::chrono::steady_clock::now();
  run_until(io, [&] { return slow_done && behind_done; });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 250ms);  // did not wait for the sleep
  EXPECT_EQ(slow, errc::timeout);
  EXPECT_EQ(behind, errc::connection_lost);
  EXPECT_FALSE(connection->is_open());
}

TEST_F(ConnectionTest, RepliesInTimeAreUntouchedByTheWatchdog) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  for (int i = 0; i < 50; ++i) {
    Result<Value> reply = run(io, connection->execute(make_command("PING"), 1s));
    ASSERT_TRUE(reply);
  }
  EXPECT_TRUE(connection->is_open());
}

TEST_F(ConnectionTest, APendingQueueBeyondItsLimitFailsAtOnce) {
  RedisServer server;
  auto config = config_for(server);
  config.max_pending_commands = 1;
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  std::error_code second;
  bool slept = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        (void)co_await connection->execute(make_command("DEBUG", "SLEEP", "0.05"));
        slept = true;
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Result<Value> reply = co_await connection->execute(make_command("PING"));
        second = reply ? std::error_code{} : reply.error();
      },
      asio::detached);
  run_until(io, [&] { return slept && second; });
  EXPECT_EQ(second, errc::limit_exceeded);
  EXPECT_TRUE(connection->is_open());
}

TEST_F(ConnectionTest, SendWritesACommandAnsweredOnlyByPushes) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::vector<Value> pushes;
  connection->on_push([&](Value push) { pushes.push_back(std::move(push)); });
  ASSERT_TRUE(run(io, connection->send(make_command("SUBSCRIBE", "news"))));
  // The confirmation is a push, so the next reply still goes to its own caller.
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
  run_until(io, [&] { return !pushes.empty(); });
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0], Value::push({Value::bulk_string("subscribe"), Value::bulk_string("news"),
                                    Value::integer(1)}));
  EXPECT_EQ(server.cli({"PUBLISH", "news", "hello"}), "1");
  run_until(io, [&] { return pushes.size() == 2; });
  EXPECT_EQ(pushes[1], Value::push({Value::bulk_string("message"), Value::bulk_string("news"),
                                    Value::bulk_string("hello")}));
  EXPECT_EQ(connection->pending(), 0u);
  EXPECT_EQ(connection->stats().commands, 2u);
  EXPECT_TRUE(connection->is_open());
}

TEST_F(ConnectionTest, SendIsRefusedOnResp2WhereNothingArrivesAsAPush) {
  RedisServer server;
  auto config = config_for(server);
  config.protocol = Protocol::resp2;
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_EQ(run(io, connection->send(make_command("SUBSCRIBE", "news"))).error(),
            errc::invalid_argument);
  EXPECT_EQ(run(io, command(*connection, make_command("PING"))).as_string(), "PONG");
}

TEST_F(ConnectionTest, OnCloseReportsWhyTheConnectionClosedOnce) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  std::vector<std::error_code> reasons;
  connection->on_close([&](std::error_code reason) { reasons.push_back(reason); });
  server.kill9();
  run_until(io, [&] { return !reasons.empty(); });
  connection->close();
  // Set on a connection that is already closed, the handler is called at once.
  std::error_code late;
  connection->on_close([&](std::error_code reason) { late = reason; });
  run_until(io, [&] { return static_cast<bool>(late); });
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(reasons[0], errc::connection_lost);
  EXPECT_EQ(late, errc::connection_lost);
}

TEST_F(ConnectionTest, LoadingRepliesAreClassified) {
  RedisServer server;
  auto connection = run(io, Connection::connect(io.get_executor(), config_for(server)));
  const Value reply =
      run(io, command(*connection, make_command("DEBUG", "ERROR",
                                                "LOADING Redis is loading the dataset in memory")));
  EXPECT_EQ(reply.error_code(), errc::redis_loading);
}

TEST_F(ConnectionTest, RefusedConnectionNamesTheEndpoint) {
  ConnectionConfig config;
  config.port = test::free_port();
  try {
    run(io, Connection::connect(io.get_executor(), config));
    FAIL() << "connected to a closed port";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::connect_failed);
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:" + std::to_string(config.port)),
              std::string::npos);
  }
}

TEST_F(ConnectionTest, AServerThatNeverAnswersTimesOutTheHandshake) {
  // Listening, so the TCP connect succeeds, but nothing ever reads or answers.
  asio::ip::tcp::acceptor silent(io, {asio::ip::address_v4::loopback(), 0});
  ConnectionConfig config;
  config.port = silent.local_endpoint().port();
  config.connect_timeout = 100ms;
  try {
    run(io, Connection::connect(io.get_executor(), config));
    FAIL() << "handshake with a silent server succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::timeout);
    EXPECT_NE(std::string(error.what()).find("longer than 100ms"), std::string::npos)
        << error.what();
  }
}

TEST_F(ConnectionTest, InvalidConfigIsRejectedBeforeConnecting) {
  ConnectionConfig config;
  config.port = 0;
  config.max_pending_commands = 0;
  try {
    run(io, Connection::connect(io.get_executor(), config));
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.issues().size(), 2u);
  }
}

}  // namespace
}  // namespace bulwark::redis
