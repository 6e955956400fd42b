// redis::Pool against a real redis-server: sharing, growth under load, exclusive leases,
// exhaustion, health checks and reaping.
#include "bulwark/redis/pool.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using test::run;
using test::run_until;

ConnectionConfig connection_to(const RedisServer& server) {
  ConnectionConfig config;
  config.port = server.port();
  config.connect_timeout = 2s;
  return config;
}

asio::awaitable<std::string> ping_through(Pool& pool) {
  Result<std::shared_ptr<Connection>> connection = co_await pool.shared();
  if (!connection) throw Error(connection.error());
  Result<Value> pong = co_await (*connection)->execute(make_command("PING"));
  if (!pong) throw Error(pong.error());
  co_return std::string(pong->as_string());
}

struct PoolTest : ::testing::Test {
  asio::io_context io;
  RedisServer server;
};

TEST_F(PoolTest, SequentialCallsShareOneConnection) {
  Pool pool(io.get_executor(), connection_to(server), {});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  const PoolStats stats = pool.stats();
  EXPECT_EQ(stats.created, 1u);
  EXPECT_EQ(stats.open, 1u);
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.max, 8u);
}

TEST_F(PoolTest, OpensMoreConnectionsWhenEveryOneIsBusyUpToTheMaximum) {
  Pool pool(io.get_executor(), connection_to(server), {.max_connections = 3, .busy_threshold = 1});
  int finished = 0;
  for (int i = 0; i < 12; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Result<std::shared_ptr<Connection>> connection = co_await pool.shared();
          if (connection)
            (void)co_await (*connection)->execute(make_command("DEBUG", "SLEEP", "0.01"));
          ++finished;
        },
        asio::detached);
  }
  run_until(io, [&] { return finished == 12; });
  EXPECT_EQ(pool.stats().created, 3u);
  EXPECT_EQ(pool.stats().open, 3u);
}

TEST_F(PoolTest, AnExclusiveLeaseIsNeverSharedAndReturnsToThePool) {
  Pool pool(io.get_executor(), connection_to(server), {.max_connections = 2});
  Result<Lease> lease = run(io, pool.exclusive());
  ASSERT_TRUE(lease);
  Result<std::shared_ptr<Connection>> shared = run(io, pool.shared());
  ASSERT_TRUE(shared);
  EXPECT_NE(&lease->connection(), shared->get());
  EXPECT_EQ(pool.stats().leased, 1u);
  // While someone holds the shared connection it cannot be leased: a second lease must wait.
  Result<Lease> second = run(io, [&]() -> asio::awaitable<Result<Lease>> {
    Pool quick(io.get_executor(), connection_to(server),
               {.max_connections = 1, .acquire_timeout = 50ms});
    Result<std::shared_ptr<Connection>> held = co_await quick.shared();
    co_return co_await quick.exclusive();
  }());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), errc::pool_timeout);
  lease->release();
  EXPECT_EQ(pool.stats().leased, 0u);
}

TEST_F(PoolTest, ExhaustionWaitsAtMostTheAcquireTimeoutAndRecovers) {
  Pool pool(io.get_executor(), connection_to(server),
            {.max_connections = 1, .acquire_timeout = 100ms});
  Result<Lease> lease = run(io, pool.exclusive());
  ASSERT_TRUE(lease);
  const auto start = std::chrono::steady_clock::now();
  Result<std::shared_ptr<Connection>> blocked = run(io, pool.shared());
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error(), errc::pool_timeout);
  EXPECT_GE(waited, 100ms);
  EXPECT_EQ(pool.stats().waits, 1u);
  EXPECT_EQ(pool.stats().wait_timeouts, 1u);
  lease->release();
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  EXPECT_EQ(pool.stats().created, 1u);  // the leased connection came back and was reused
}

TEST_F(PoolTest, AWaitingCallerGetsTheConnectionAsSoonAsALeaseEnds) {
  Pool pool(io.get_executor(), connection_to(server),
            {.max_connections = 1, .acquire_timeout = 5s});
  auto lease = std::make_shared<Result<Lease>>(run(io, pool.exclusive()));
  ASSERT_TRUE(*lease);
  bool got = false;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { got = static_cast<bool>(co_await pool.shared()); },
      asio::detached);
  asio::steady_timer later(io, 20ms);
  later.async_wait([&](boost::system::error_code) { (*lease)->release(); });
  run_until(io, [&] { return got; });
  EXPECT_TRUE(got);
  EXPECT_EQ(pool.stats().wait_timeouts, 0u);
}

TEST_F(PoolTest, AConnectionTheServerDroppedWhileIdleIsReplacedSilently) {
  Pool pool(io.get_executor(), connection_to(server), {});
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  ASSERT_NE(server.cli({"CLIENT", "KILL", "TYPE", "normal"}), "0");
  // Give the connection's reader a moment to see the close.
  asio::steady_timer pause(io, 50ms);
  run(io, [&]() -> asio::awaitable<void> { co_await pause.async_wait(asio::use_awaitable); }());
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  EXPECT_EQ(pool.stats().created, 2u);
  EXPECT_GE(pool.stats().closed, 1u);
}

TEST_F(PoolTest, IdleConnectionsAreCheckedBeforeUseAndReaped) {
  auto clock = std::make_shared<ManualClock>();
  Pool pool(io.get_executor(), connection_to(server),
            {.health_check_interval = 30s, .max_idle_time = 5min}, clock);
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  clock->advance(1min);  // idle past the health-check interval: PINGed, passes, handed out
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  EXPECT_EQ(pool.stats().health_check_failures, 0u);
  EXPECT_EQ(pool.reap(), 0u);
  clock->advance(6min);
  EXPECT_EQ(pool.reap(), 1u);
  EXPECT_EQ(pool.stats().open, 0u);
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");  // opens a fresh one
}

TEST_F(PoolTest, UnreachableServerFailsWithConnectFailed) {
  ConnectionConfig config;
  config.port = test::free_port();
  Pool pool(io.get_executor(), config, {});
  Result<std::shared_ptr<Connection>> connection = run(io, pool.shared());
  ASSERT_FALSE(connection);
  EXPECT_EQ(connection.error(), errc::connect_failed);
  EXPECT_EQ(pool.stats().connect_failures, 1u);
}

TEST_F(PoolTest, ClosedPoolRefusesWork) {
  Pool pool(io.get_executor(), connection_to(server), {});
  EXPECT_EQ(run(io, ping_through(pool)), "PONG");
  pool.close();
  EXPECT_EQ(run(io, pool.shared()).error(), errc::shutting_down);
  EXPECT_EQ(pool.stats().open, 0u);
}

TEST(PoolConfigTest, ValidationNamesEveryBadField) {
  asio::io_context io;
  try {
    Pool pool(io.get_executor(), {},
              {.max_connections = 0, .busy_threshold = 0, .acquire_timeout = 0s});
    FAIL();
  } catch (const ConfigError& error) {
    std::vector<std::string> paths;
    for (const auto& issue : error.issues()) paths.push_back(issue.path);
    EXPECT_EQ(paths,
              (std::vector<std::string>{"redis.pool.max_connections", "redis.pool.busy_threshold",
                                        "redis.pool.acquire_timeout"}));
  }
}

}  // namespace
}  // namespace bulwark::redis
