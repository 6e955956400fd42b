// redis::Client under faults: the fault proxy sits between the client and a real redis-server,
// and each scenario asserts what the client must do, prints its figures on one line
// ("[figures] scenario=redis.<name> ..."), and ends with the process back at its baseline: no
// connection open or leased, no file descriptor left open, memory within a small bound.
// docs/reliability.md quotes the figures.
#include "bulwark/redis/client.hpp"
#include "support/chaos.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Figures;
using test::ms;
using test::run;
using test::run_until;

asio::awaitable<void> pause(Duration delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

std::string outcome(const Result<Value>& reply) {
  return reply ? std::string("ok") : error_name(reply.error());
}

struct ChaosRedis : ::testing::Test {
  asio::io_context io;
  test::RedisServer server;
  test::FaultProxy proxy{"127.0.0.1", server.port()};
  // The io_context opens its reactor's descriptors with its first timer or socket: before the
  // baseline, so that they are not taken for the client's.
  asio::steady_timer reactor{io};
  test::Baseline baseline;

  ClientConfig config() {
    ClientConfig config;
    config.name = "redis.chaos";
    config.connection.port = proxy.port();
    config.connection.connect_timeout = 1s;
    config.command_timeout = 1s;
    config.retry->backoff = {
        .type = BackoffType::constant, .initial = 20ms, .jitter = Jitter::none};
    config.circuit_breaker->consecutive_failures = 3;
    config.circuit_breaker->recovery_timeout = 500ms;
    return config;
  }
  Result<Value> execute(Client& client, Command command) {
    return run(io, client.execute(std::move(command)));
  }

  // The end of every scenario: the pool empty after close(), the proxy sees no connection, no
  // descriptor left, memory within bounds. Returns the memory growth for the figures.
  std::size_t expect_baseline(Client& client) {
    proxy.clear();
    proxy.drop_connections();
    const PoolStats pool = client.stats().pool;
    EXPECT_EQ(pool.leased, 0u) << "a lease was not returned";
    client.close();
    EXPECT_EQ(client.stats().pool.open, 0u) << "close() left connections open";
    EXPECT_TRUE(test::FaultProxy::wait_for([&] { return proxy.stats().open == 0; }));
    // Let the closed connections' handlers run out.
    run_until(
        io, [&] { return test::open_fd_count() <= baseline.fds; }, 5s);
    return baseline.expect_back();
  }
};

// 1. Service down at start: connect_failed, fast; the breaker opens at its threshold; then
// commands are rejected without touching the network.
TEST_F(ChaosRedis, ServiceDownAtStartFailsFastThenTheBreakerRejects) {
  proxy.refuse(true);
  ClientConfig config = this->config();
  config.retry.reset();
  config.circuit_breaker->recovery_timeout = 30s;
  Client client(io.get_executor(), config);
  std::vector<double> failed_ms;
  for (int i = 0; i < 3; ++i) {
    const auto start = Clock::now();
    const Result<Value> reply = execute(client, make_command("GET", "k"));
    failed_ms.push_back(ms(Clock::now() - start));
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error(), errc::connect_failed) << outcome(reply);
    EXPECT_LT(failed_ms.back(), 500.0) << "a refused connection is not a timeout";
  }
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);
  const std::uint64_t connect_failures = client.stats().pool.connect_failures;

  constexpr int rejected_calls = 10000;
  int rejected = 0;
  auto reject_loop = [&]() -> asio::awaitable<double> {
    const auto start = Clock::now();
    for (int i = 0; i < rejected_calls; ++i) {
      Command call = make_command("GET", "k");
      Result<Value> reply = co_await client.execute(std::move(call));
      if (!reply && reply.error() == errc::circuit_open) ++rejected;
    }
    co_return std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
        rejected_calls;
  };
  const double rejected_us = run(io, reject_loop());
  EXPECT_EQ(rejected, rejected_calls);
  EXPECT_EQ(client.stats().pool.connect_failures, connect_failures)
      << "a rejection touched the network";
  EXPECT_EQ(proxy.stats().accepted, 0u);
  // Its speed is reported, not asserted (it depends on the build and the machine).
  const std::size_t growth = expect_baseline(client);
  Figures("redis.down_at_start")
      .add("connect_failed_max_ms", test::quantile(failed_ms, 1.0))
      .add("breaker_opened_after", 3)
      .add("rejected_calls", rejected_calls)
      .add("rejected_avg_us", rejected_us)
      .add("rss_growth_kib", growth)
      .print();
}

// 2. The server dies under load and comes back: the breaker opens, probes, closes; the first
// success comes within recovery_timeout + one caller interval of the server's return.
TEST_F(ChaosRedis, ServerDiesUnderLoadAndComesBack) {
  constexpr auto recovery = 200ms;
  constexpr auto interval = 50ms;
  ClientConfig config = this->config();
  config.retry.reset();
  config.circuit_breaker->recovery_timeout = recovery;
  Client client(io.get_executor(), config);
  std::vector<BreakerState> transitions;
  auto subscription = client.resilience().circuit_breaker()->on_event([&](const BreakerEvent& e) {
    if (e.type == BreakerEvent::Type::state_changed) transitions.push_back(e.to);
  });
  bool stop = false;
  int workers_done = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  Clock::time_point back{};
  Clock::time_point first_success_after_back{};
  for (int w = 0; w < 8; ++w) {
    asio::co_spawn(
        io,
        [&, w]() -> asio::awaitable<void> {
          const std::string key = fmt::format("worker:{}", w);
          while (!stop) {
            Command call = make_command("INCR", key);
            Result<Value> reply = co_await client.execute(std::move(call));
            if (reply && reply->type() == Type::integer) {
              ++ok;
              if (back != Clock::time_point{} && first_success_after_back == Clock::time_point{}) {
                first_success_after_back = Clock::now();
              }
              co_await pause(5ms);
            } else {
              ++failed;
              co_await pause(interval);
            }
          }
          ++workers_done;
        },
        asio::detached);
  }
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await pause(200ms);
        proxy.refuse(true);
        proxy.drop_connections();
        co_await pause(500ms);
        proxy.refuse(false);
        back = Clock::now();
        while (first_success_after_back == Clock::time_point{}) co_await pause(10ms);
        co_await pause(100ms);
        stop = true;
      },
      asio::detached);
  run_until(io, [&] { return workers_done == 8; });
  const double recovered_ms = ms(first_success_after_back - back);
  EXPECT_GT(failed, 0u);
  ASSERT_GE(transitions.size(), 3u);
  EXPECT_EQ(transitions.front(), BreakerState::open);
  EXPECT_NE(std::find(transitions.begin(), transitions.end(), BreakerState::half_open),
            transitions.end());
  EXPECT_EQ(transitions.back(), BreakerState::closed);
  EXPECT_LE(recovered_ms, ms(recovery + interval) + 150.0);
  const std::size_t growth = expect_baseline(client);
  Figures("redis.dies_and_returns")
      .add("ok", ok)
      .add("failed", failed)
      .add("transitions", transitions.size())
      .add("recovery_timeout_ms", ms(recovery))
      .add("caller_interval_ms", ms(interval))
      .add("back_to_first_success_ms", recovered_ms)
      .add("rss_growth_kib", growth)
      .print();
}

// 3. Latency above the command timeout: every command ends within the timeout (+10%, and room
// for scheduling); the late connection is closed, and no reply reaches another caller.
TEST_F(ChaosRedis, LatencySpikeAboveTheTimeout) {
  constexpr auto timeout = 200ms;
  constexpr int calls = 32;
  for (int i = 0; i < calls; ++i) {
    server.cli({"SET", fmt::format("key:{}", i), fmt::format("value:{}", i)});
  }
  ClientConfig config = this->config();
  config.command_timeout = timeout;
  config.retry.reset();
  config.circuit_breaker.reset();
  Client client(io.get_executor(), config);
  ASSERT_TRUE(execute(client, make_command("PING")));  // the connection exists before the spike
  proxy.latency(350ms, 100ms);  // pipelined replies travel in one chunk: all of them late

  auto burst = [&](std::vector<double>& elapsed, std::map<std::string, int>& outcomes) {
    int misdelivered = 0;
    int done = 0;
    for (int i = 0; i < calls; ++i) {
      asio::co_spawn(
          io,
          [&, i]() -> asio::awaitable<void> {
            const auto start = Clock::now();
            Command call = make_command("GET", fmt::format("key:{}", i));
            Result<Value> reply = co_await client.execute(std::move(call));
            elapsed.push_back(ms(Clock::now() - start));
            ++outcomes[outcome(reply)];
            if (reply && reply->as_string() != fmt::format("value:{}", i)) ++misdelivered;
            ++done;
          },
          asio::detached);
    }
    run_until(io, [&] { return done == calls; });
    return misdelivered;
  };
  std::vector<double> elapsed;
  std::map<std::string, int> outcomes;
  const int misdelivered = burst(elapsed, outcomes);
  const double max_ms = test::quantile(elapsed, 1.0);
  EXPECT_EQ(misdelivered, 0);
  EXPECT_GT(outcomes["timeout"], 0);
  EXPECT_EQ(outcomes["ok"] + outcomes["timeout"] + outcomes["connection_lost"], calls);
  EXPECT_LE(max_ms, ms(timeout) * 1.1 + 150.0);

  proxy.clear();
  std::vector<double> after_ms;
  std::map<std::string, int> after;
  const int mixed_up = burst(after_ms, after);
  EXPECT_EQ(mixed_up, 0);
  EXPECT_EQ(after["ok"], calls);
  EXPECT_GE(client.stats().pool.created, 2u) << "the late connection was used again";
  const std::size_t growth = expect_baseline(client);
  Figures("redis.latency_spike")
      .add("calls", calls)
      .add("timeouts", outcomes["timeout"])
      .add("connection_lost", outcomes["connection_lost"])
      .add("answered", outcomes["ok"])
      .add("timeout_ms", ms(timeout))
      .add("p50_ms", test::quantile(elapsed, 0.5))
      .add("max_ms", max_ms)
      .add("misdelivered", misdelivered + mixed_up)
      .add("rss_growth_kib", growth)
      .print();
}

// 4. Blackhole: connects that hang end at the connect timeout, commands never answered at the
// command timeout, and the pool does not fill with hung connections.
TEST_F(ChaosRedis, BlackholeTimesOutAndThePoolDoesNotFill) {
  ClientConfig config = this->config();
  config.connection.connect_timeout = 200ms;
  config.command_timeout = 200ms;
  config.retry.reset();
  config.circuit_breaker.reset();
  // Each caller of a burst opens its own connection: a caller that waits for another's connect
  // to fail before opening one of its own would take two connect timeouts.
  config.pool.max_connections = 4;
  Client client(io.get_executor(), config);
  ASSERT_TRUE(execute(client, make_command("PING")));

  auto burst = [&](int calls, std::vector<double>& elapsed, std::map<std::string, int>& outcomes) {
    int done = 0;
    for (int i = 0; i < calls; ++i) {
      asio::co_spawn(
          io,
          [&]() -> asio::awaitable<void> {
            const auto start = Clock::now();
            Command call = make_command("GET", "k");
            Result<Value> reply = co_await client.execute(std::move(call));
            elapsed.push_back(ms(Clock::now() - start));
            ++outcomes[outcome(reply)];
            ++done;
          },
          asio::detached);
    }
    run_until(io, [&] { return done == calls; });
  };

  // The open connection carries commands that are never answered.
  proxy.blackhole(test::Blackhole::traffic);
  std::vector<double> command_ms;
  std::map<std::string, int> command_outcomes;
  burst(8, command_ms, command_outcomes);
  EXPECT_EQ(command_outcomes["timeout"] + command_outcomes["connection_lost"], 8);
  EXPECT_GT(command_outcomes["timeout"], 0);

  // New connections: their handshake is never answered, then their connect hangs.
  std::vector<double> handshake_ms;
  std::map<std::string, int> handshake_outcomes;
  for (int round = 0; round < 3; ++round) burst(4, handshake_ms, handshake_outcomes);
  proxy.blackhole(test::Blackhole::connects);
  std::vector<double> connect_ms;
  std::map<std::string, int> connect_outcomes;
  burst(4, connect_ms, connect_outcomes);
  EXPECT_EQ(handshake_outcomes["ok"], 0);
  EXPECT_EQ(connect_outcomes["ok"], 0);
  const double command_max = test::quantile(command_ms, 1.0);
  const double handshake_max = test::quantile(handshake_ms, 1.0);
  const double connect_max = test::quantile(connect_ms, 1.0);
  EXPECT_LE(command_max, 200 * 1.1 + 150.0);
  EXPECT_LE(handshake_max, 200 * 1.1 + 150.0);
  EXPECT_LE(connect_max, 200 * 1.1 + 150.0);
  const PoolStats pool = client.stats().pool;
  EXPECT_EQ(pool.open, 0u) << "hung connections stayed in the pool";
  EXPECT_EQ(pool.leased, 0u);

  proxy.clear();
  const Result<Value> after = execute(client, make_command("PING"));
  ASSERT_TRUE(after) << outcome(after);
  const std::size_t growth = expect_baseline(client);
  Figures("redis.blackhole")
      .add("timeout_ms", 200)
      .add("command_timeouts", command_outcomes["timeout"])
      .add("command_connection_lost", command_outcomes["connection_lost"])
      .add("command_max_ms", command_max)
      .add("handshake_failures", 12 - handshake_outcomes["ok"])
      .add("handshake_max_ms", handshake_max)
      .add("connect_failures", 4 - connect_outcomes["ok"])
      .add("connect_max_ms", connect_max)
      .add("rss_growth_kib", growth)
      .print();
}

// 5. A reset in the middle of a reply: a read is retried and succeeds; a write fails with
// connection_lost and is not sent again.
TEST_F(ChaosRedis, ResetMidReplyRetriesReadsNotWrites) {
  const std::string big(5000, 'x');
  server.cli({"SET", "big", big});
  Client client(io.get_executor(), config());
  ASSERT_TRUE(execute(client, make_command("PING")));

  proxy.reset_after(100, 1);  // 100 bytes into the next reply, once
  const Result<Value> read = execute(client, make_command("GET", "big"));
  ASSERT_TRUE(read) << outcome(read);
  EXPECT_EQ(read->as_string(), big);
  const std::uint64_t retries = client.resilience().retry()->stats().retries;
  EXPECT_GE(retries, 1u);

  proxy.reset_after(2, 1);  // ":1" of ":1\r\n"
  const Result<Value> write = execute(client, make_command("INCR", "counter"));
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error(), errc::connection_lost) << outcome(write);
  EXPECT_EQ(server.cli({"GET", "counter"}), "1") << "the write ran again, or never";
  EXPECT_EQ(client.resilience().retry()->stats().retries, retries);
  const std::uint64_t resets = proxy.stats().resets;
  EXPECT_EQ(resets, 2u);
  const std::size_t growth = expect_baseline(client);
  Figures("redis.reset_mid_reply")
      .add("read_retries", retries)
      .add("write_error", error_name(write.error()))
      .add("write_ran", server.cli({"GET", "counter"}))
      .add("resets", resets)
      .add("rss_growth_kib", growth)
      .print();
}

// 6. Garbage in the reply stream: protocol_error, the connection is closed, the next command
// succeeds on a fresh connection.
TEST_F(ChaosRedis, GarbageInTheReplyIsAProtocolErrorAndTheNextCommandIsClean) {
  ClientConfig config = this->config();
  config.retry.reset();
  Client client(io.get_executor(), config);
  ASSERT_TRUE(execute(client, make_command("PING")));
  const std::uint64_t created = client.stats().pool.created;
  proxy.inject_garbage("XYZ garbage\r\n");
  const Result<Value> spoiled = execute(client, make_command("SET", "k", "v"));
  ASSERT_FALSE(spoiled);
  EXPECT_EQ(spoiled.error(), errc::protocol_error) << outcome(spoiled);
  run_until(
      io, [&] { return proxy.stats().open == 0; }, 5s);
  EXPECT_EQ(proxy.stats().open, 0u) << "the spoiled connection was kept open";

  const Result<Value> next = execute(client, make_command("GET", "k"));
  ASSERT_TRUE(next) << outcome(next);
  EXPECT_EQ(next->as_string(), "v");
  EXPECT_EQ(client.stats().pool.created, created + 1) << "not a fresh connection";
  const std::size_t growth = expect_baseline(client);
  Figures("redis.garbage")
      .add("error", error_name(spoiled.error()))
      .add("next_command", next->as_string())
      .add("rss_growth_kib", growth)
      .print();
}

// 9. A restart with a large dataset: the server answers LOADING for a while; commands wait it
// out and all succeed, none lost.
TEST_F(ChaosRedis, RestartWithALargeDatasetLosesNoCommand) {
  ASSERT_EQ(server.cli({"DEBUG", "POPULATE", "1000000", "key", "64"}), "OK");
  ASSERT_EQ(server.cli({"SAVE"}), "OK");
  Client client(io.get_executor(), config());
  ASSERT_TRUE(execute(client, make_command("PING")));
  // The application's io_context runs on while the server restarts, so the client sees its
  // connection drop when it does, as it would in production.
  std::atomic<bool> restarted{false};
  std::thread restart([&] {
    server.restart(test::RedisServer::Wait::accepting);
    restarted = true;
  });
  run_until(io, [&] { return restarted.load(); });
  restart.join();
  const auto start = Clock::now();
  constexpr int commands = 50;
  int ok = 0;
  int done = 0;
  for (int i = 0; i < commands; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Command call = make_command("INCR", "loaded:counter");
          Result<Value> reply = co_await client.execute(std::move(call));
          if (reply && reply->type() == Type::integer) ++ok;
          ++done;
        },
        asio::detached);
  }
  run_until(io, [&] { return done == commands; });
  const double waited_ms = ms(Clock::now() - start);
  EXPECT_EQ(ok, commands);
  EXPECT_EQ(server.cli({"GET", "loaded:counter"}), std::to_string(commands));
  EXPECT_EQ(server.cli({"GET", "key:4242"}).substr(0, 9), "value:424");
  const std::uint64_t loading_waits = client.stats().loading_waits;
  EXPECT_GT(loading_waits, 0u);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
  const std::size_t growth = expect_baseline(client);
  Figures("redis.loading_restart")
      .add("keys", 1000000)
      .add("commands", commands)
      .add("succeeded", ok)
      .add("loading_waits", loading_waits)
      .add("waited_ms", waited_ms)
      .add("rss_growth_kib", growth)
      .print();
}

// 10. Pool exhaustion: callers beyond the pool wait at most the acquire timeout, get
// pool_timeout, and the pool recovers fully once the connection is back.
TEST_F(ChaosRedis, PoolExhaustionTimesOutWaitersAndRecovers) {
  constexpr auto acquire_timeout = 200ms;
  ClientConfig config = this->config();
  config.pool.max_connections = 1;
  config.pool.acquire_timeout = acquire_timeout;
  Client client(io.get_executor(), config);
  bool popped = false;
  int done = 0;
  int pool_timeouts = 0;
  std::vector<double> waiter_ms;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // Holds the only connection for 600 ms.
        auto element = co_await client.blpop("nothing-to-pop", 600ms);
        popped = !element.has_value();
        ++done;
      },
      asio::detached);
  for (int i = 0; i < 4; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await pause(100ms);
          const auto start = Clock::now();
          Command call = make_command("GET", "k");
          Result<Value> reply = co_await client.execute(std::move(call));
          waiter_ms.push_back(ms(Clock::now() - start));
          if (!reply && reply.error() == errc::pool_timeout) ++pool_timeouts;
          ++done;
        },
        asio::detached);
  }
  run_until(io, [&] { return done == 5; });
  EXPECT_TRUE(popped);
  EXPECT_EQ(pool_timeouts, 4);
  const double waiter_max = test::quantile(waiter_ms, 1.0);
  EXPECT_GE(test::quantile(waiter_ms, 0.0), ms(acquire_timeout) - 5.0);
  EXPECT_LE(waiter_max, ms(acquire_timeout) * 1.1 + 150.0);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);

  int recovered = 0;
  done = 0;
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          Command call = make_command("PING");
          Result<Value> reply = co_await client.execute(std::move(call));
          if (reply && reply->as_string() == "PONG") ++recovered;
          ++done;
        },
        asio::detached);
  }
  run_until(io, [&] { return done == 20; });
  EXPECT_EQ(recovered, 20);
  const PoolStats pool = client.stats().pool;
  EXPECT_EQ(pool.leased, 0u);
  EXPECT_LE(pool.open, 1u);
  const std::size_t growth = expect_baseline(client);
  Figures("redis.pool_exhaustion")
      .add("acquire_timeout_ms", ms(acquire_timeout))
      .add("waiters", 4)
      .add("pool_timeouts", pool_timeouts)
      .add("waiter_max_ms", waiter_max)
      .add("recovered_commands", recovered)
      .add("rss_growth_kib", growth)
      .print();
}

}  // namespace
}  // namespace bulwark::redis
