// Fleet-wide rate limiter and retry budget against one real redis-server: several instances
// (each with Redis connections of its own, or a ClientManager of its own) share one rate and one
// retry ratio; killing the server leaves every instance limiting on local state, and says so;
// the server coming back makes them coordinated again.
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/observe/registry.hpp"
#include "bulwark/shared/fleet_rate_limiter.hpp"
#include "bulwark/shared/fleet_retry_budget.hpp"
#include "support/fault_proxy.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <cstdio>
#include <future>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

namespace bulwark {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::RedisServer;

std::shared_ptr<redis::Client> coordination_client(asio::io_context& io,
                                                   const RedisServer& server) {
  redis::ClientConfig config;
  config.name = "coordination";
  config.connection.port = server.port();
  config.connection.connect_timeout = 1s;
  config.retry.reset();
  config.circuit_breaker.reset();
  config.command_timeout = 1s;
  config.wait_for_loading = 0s;
  return std::make_shared<redis::Client>(io.get_executor(), config);
}

struct Tally {
  std::uint64_t admitted = 0;
  std::uint64_t refused = 0;
  std::uint64_t unanswered = 0;
  std::int64_t first_us = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_us = 0;
};

// Asks for one permit after another until `until`, noting the server's time of every decision.
asio::awaitable<Tally> hammer(shared::FleetRateLimiter& limiter,
                              std::chrono::steady_clock::time_point until) {
  Tally tally;
  while (std::chrono::steady_clock::now() < until) {
    const std::optional<shared::FleetAdmission> answer = co_await limiter.ask(1, 0s);
    if (!answer) {
      ++tally.unanswered;
      continue;
    }
    ++(answer->allowed ? tally.admitted : tally.refused);
    tally.first_us = std::min(tally.first_us, answer->server_time_us);
    tally.last_us = std::max(tally.last_us, answer->server_time_us);
  }
  co_return tally;
}

TEST(SharedRateLimiter, InstancesTogetherAdmitExactlyTheConfiguredRate) {
  RedisServer server;
  asio::io_context io;
  constexpr int instances = 4;
  constexpr double rate = 200;
  // A bucket that holds half a second: permits are lost only if no instance asks for that long
  // (a stalled test process), which would make the count fall short without any fault.
  constexpr std::uint32_t burst = 100;
  std::vector<std::shared_ptr<shared::FleetRateLimiter>> limiters;
  for (int i = 0; i < instances; ++i) {
    shared::FleetRateLimiterConfig config;
    config.key = "test:rate_limit:exact";
    config.rate = rate;
    config.burst = burst;
    config.timeout = 1s;
    limiters.push_back(
        std::make_shared<shared::FleetRateLimiter>(coordination_client(io, server), config));
  }
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  std::vector<std::future<Tally>> runs;
  for (auto& limiter : limiters) {
    runs.push_back(asio::co_spawn(io, hammer(*limiter, until), asio::use_future));
  }
  test::run_until(io, [&] {
    return std::all_of(runs.begin(), runs.end(), [](std::future<Tally>& run) {
      return run.wait_for(0s) == std::future_status::ready;
    });
  });
  Tally total;
  for (auto& run : runs) {
    const Tally tally = run.get();
    EXPECT_GT(tally.admitted, 0U) << "every instance gets a share";
    EXPECT_EQ(tally.unanswered, 0U);
    total.admitted += tally.admitted;
    total.refused += tally.refused;
    total.first_us = std::min(total.first_us, tally.first_us);
    total.last_us = std::max(total.last_us, tally.last_us);
  }
  // Starting full, the bucket admits `burst` at once and then one permit per interval, by the
  // server's clock, whichever instance asks.
  const std::int64_t interval_us = 1'000'000 / static_cast<std::int64_t>(rate);
  const std::int64_t expected = burst + (total.last_us - total.first_us) / interval_us;
  std::printf(
      "[ shared  ] %d instances, rate %.0f/s, burst %u: %llu admitted, %llu refused over "
      "%.3f s of server time; one bucket admits %lld\n",
      instances, rate, burst, static_cast<unsigned long long>(total.admitted),
      static_cast<unsigned long long>(total.refused),
      static_cast<double>(total.last_us - total.first_us) / 1e6, static_cast<long long>(expected));
  EXPECT_GT(total.refused, 0U) << "the instances asked for more than the rate";
  EXPECT_LE(std::abs(static_cast<std::int64_t>(total.admitted) - expected), 1);
  for (auto& limiter : limiters) EXPECT_TRUE(limiter->coordinated());
}

TEST(SharedRateLimiter, ASilentServerCostsOneTimeoutThenTheLocalBucketDecidesUntilItAnswers) {
  RedisServer server;
  test::FaultProxy proxy("127.0.0.1", server.port());
  asio::io_context io;
  redis::ClientConfig client_config;
  client_config.connection.port = proxy.port();
  client_config.connection.connect_timeout = 1s;
  client_config.retry.reset();
  client_config.circuit_breaker.reset();
  client_config.command_timeout = 5s;
  client_config.pool.acquire_timeout = 1s;
  auto client = std::make_shared<redis::Client>(io.get_executor(), client_config);
  shared::FleetRateLimiterConfig fleet;
  fleet.key = "test:rate_limit:silent";
  fleet.rate = 10;
  fleet.burst = 2;
  fleet.timeout = 100ms;
  fleet.probe_interval = 300ms;
  auto coordinator = std::make_shared<shared::FleetRateLimiter>(client, fleet);
  RateLimiter limiter({.name = "silent", .rate = 10, .burst = 2, .coordinator = coordinator});

  EXPECT_FALSE(test::run(io, limiter.async_try_acquire()).error);
  EXPECT_EQ(coordinator->stats().shared_decisions, 1U);

  proxy.blackhole(test::Blackhole::traffic);
  const auto silent = std::chrono::steady_clock::now();
  EXPECT_FALSE(test::run(io, limiter.async_try_acquire()).error) << "the local bucket admits";
  const auto waited = std::chrono::steady_clock::now() - silent;
  EXPECT_FALSE(coordinator->coordinated());
  EXPECT_EQ(coordinator->stats().failures, 1U);
  // Within the probe interval, no round trip is tried: decided locally at once.
  const auto local = std::chrono::steady_clock::now();
  EXPECT_FALSE(test::run(io, limiter.async_try_acquire()).error);
  EXPECT_EQ(test::run(io, limiter.async_try_acquire()).error, errc::rate_limited)
      << "the local bucket (burst 2) limits too";
  const auto skipped = std::chrono::steady_clock::now() - local;
  EXPECT_EQ(coordinator->stats().failures, 1U);
  EXPECT_EQ(limiter.stats().local_fallbacks, 3U);
  std::printf(
      "[ shared  ] silent Redis: first call decided after %.1f ms (timeout 100 ms), the "
      "next two in %.3f ms\n",
      std::chrono::duration<double, std::milli>(waited).count(),
      std::chrono::duration<double, std::milli>(skipped).count());

  proxy.clear();
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (!coordinator->coordinated() && std::chrono::steady_clock::now() < give_up) {
    (void)test::run(io, limiter.async_try_acquire());
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(coordinator->coordinated()) << "answers again once the server is reachable";
}

std::shared_ptr<RetryBudget> ratio_budget() {
  RetryBudgetConfig config;
  config.ratio = 0.1;
  config.min_retries_per_second = 0;
  config.window = 10s;
  return std::make_shared<RetryBudget>(config, nullptr);
}

TEST(SharedRetryBudget, RatioHoldsAcrossInstancesAndFallsBackToLocalCounts) {
  RedisServer server;
  asio::io_context io;
  std::vector<std::shared_ptr<shared::FleetRetryBudget>> fleet;
  for (int i = 0; i < 3; ++i) {
    shared::FleetRetryBudgetConfig config;
    config.key = "test:retry_budget:ratio";
    config.timeout = 1s;
    fleet.push_back(std::make_shared<shared::FleetRetryBudget>(coordination_client(io, server),
                                                               ratio_budget(), config));
  }
  // Instance 0 takes all the traffic; 1 and 2 only retry. Alone, they could not retry at all;
  // sharing, the three together get 10% of the fleet's calls.
  for (int i = 0; i < 200; ++i) fleet[0]->budget()->record_call();
  for (auto& member : fleet) EXPECT_TRUE(test::run(io, member->sync()));
  // Each decides on fresh totals (a publication just before), so the ratio holds exactly; with
  // the periodic loop an instance's view is up to one interval old instead.
  std::uint64_t granted = 0;
  for (int i = 0; i < 40; ++i) {
    auto& member = *fleet[1 + i % 2];
    EXPECT_TRUE(test::run(io, member.sync()));
    if (member.budget()->try_acquire_retry()) ++granted;
    EXPECT_TRUE(test::run(io, member.sync()));
  }
  std::printf(
      "[ shared  ] 200 calls on one instance, ratio 0.1: %llu retries granted to the "
      "other two\n",
      static_cast<unsigned long long>(granted));
  EXPECT_EQ(granted, 20U);
  EXPECT_TRUE(test::run(io, fleet[0]->sync()));
  EXPECT_FALSE(fleet[0]->budget()->try_acquire_retry()) << "the fleet's budget is spent";
  EXPECT_TRUE(fleet[0]->budget()->stats().fleet);

  server.kill9();
  for (auto& member : fleet) {
    EXPECT_FALSE(test::run(io, member->sync()));
    EXPECT_FALSE(member->coordinated());
    EXPECT_FALSE(member->budget()->uses_fleet_totals());
  }
  // On local counts: instance 0 has its own 200 calls (and no retries), the others none.
  EXPECT_TRUE(fleet[0]->budget()->try_acquire_retry());
  EXPECT_FALSE(fleet[1]->budget()->try_acquire_retry());

  server.start();
  for (auto& member : fleet) {
    EXPECT_TRUE(test::run(io, member->sync()));
    EXPECT_TRUE(member->coordinated());
  }
}

// ---- through ClientManagers -----------------------------------------------------------------

std::string manager_yaml(const HttpServer& http, const RedisServer& redis,
                         std::string_view prefix) {
  return fmt::format(R"(
health: {{ interval: 1s, timeout: 500ms }}
services:
  api:
    url: {}
    circuit_breaker: off
    rate_limit:
      rate: 50
      burst: 5
      shared: {{ database: coordination, key_prefix: "{}", timeout: 200ms, fallback_rate: 20 }}
    retry:
      max_attempts: 2
      budget:
        ratio: 0.2
        window: 10s
        shared: {{ database: coordination, key_prefix: "{}", sync_interval: 50ms }}
redis:
  url: redis://127.0.0.1:{}
  connect_timeout: 500ms
  databases:
    coordination: 0
)",
                     http.base_url(), prefix, prefix, redis.port());
}

double sample(const ClientManager& manager, std::string_view series) {
  const std::string text = const_cast<ClientManager&>(manager).metrics().expose();
  const std::size_t at = text.find(series);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 1));
}

constexpr std::string_view limiter_gauge =
    R"(bulwark_shared_state_coordinated{client="api",kind="rate_limiter"})";
constexpr std::string_view budget_gauge =
    R"(bulwark_shared_state_coordinated{client="api",kind="retry_budget"})";
constexpr std::string_view limiter_fallbacks =
    R"(bulwark_shared_state_fallbacks_total{client="api",kind="rate_limiter"})";

// Polls `done` until it holds; fails the test after `limit`.
template <class Done>
void eventually(Done done, std::chrono::seconds limit = 15s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << "gave up waiting after " << limit.count() << "s";
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
}

struct Calls {
  std::uint64_t ok = 0;
  std::uint64_t limited = 0;
  std::uint64_t other = 0;
};

Calls call_until(ClientManager& manager, std::chrono::steady_clock::time_point until) {
  Calls calls;
  auto client = manager.http("api");
  while (std::chrono::steady_clock::now() < until) {
    const Result<http::Response> reply =
        asio::co_spawn(manager.executor(), client->execute(http::Request::get("/x")),
                       asio::use_future)
            .get();
    if (reply) {
      ++calls.ok;
    } else if (reply.error() == errc::rate_limited) {
      ++calls.limited;
    } else {
      ++calls.other;
    }
  }
  return calls;
}

TEST(SharedLimits, ManagersShareOneRateAndKeepLimitingLocallyWhileRedisIsDown) {
  HttpServer http;
  RedisServer redis;
  constexpr int instances = 3;
  std::vector<std::unique_ptr<ClientManager>> managers;
  for (int i = 0; i < instances; ++i) {
    managers.push_back(std::make_unique<ClientManager>(
        parse_config(manager_yaml(http, redis, "fleet-test:"),
                     [](std::string_view) { return std::optional<std::string>(); })));
  }

  // The fleet's rate is the coordinator's; the local bucket keeps the fallback rate.
  RateLimiter* local = managers[0]->http("api")->resilience().rate_limiter();
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(local->coordinated());
  EXPECT_EQ(local->config().rate, 20.0);

  // Coordinated: the three instances share 50 calls per second.
  const auto started = std::chrono::steady_clock::now();
  const auto until = started + 1s;
  std::vector<std::future<Calls>> runs;
  for (auto& manager : managers) {
    runs.push_back(std::async(std::launch::async, [&] { return call_until(*manager, until); }));
  }
  Calls total;
  for (auto& run : runs) {
    const Calls calls = run.get();
    total.ok += calls.ok;
    total.limited += calls.limited;
    total.other += calls.other;
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double bound = 5 + 50 * elapsed;
  std::printf(
      "[ shared  ] %d managers, rate 50/s burst 5, %.3f s: %llu calls admitted (one "
      "bucket: at most %.1f; unshared buckets would admit about %.0f), %llu limited\n",
      instances, elapsed, static_cast<unsigned long long>(total.ok), bound, instances * bound,
      static_cast<unsigned long long>(total.limited));
  EXPECT_EQ(total.other, 0U);
  EXPECT_LE(static_cast<double>(total.ok), bound + 1);
  EXPECT_GT(total.limited, 0U);
  for (auto& manager : managers) {
    EXPECT_EQ(sample(*manager, limiter_gauge), 1.0);
    EXPECT_EQ(sample(*manager, budget_gauge), 1.0);
  }

  // Redis dies: every instance keeps working on its own bucket (5 at once, 20/s), says so, and
  // no call fails because coordination did.
  redis.kill9();
  for (auto& manager : managers) {
    const Calls calls = call_until(*manager, std::chrono::steady_clock::now() + 300ms);
    EXPECT_EQ(calls.other, 0U);
    EXPECT_GE(calls.ok, 5U) << "the local bucket admits";
    EXPECT_GT(calls.limited, 0U) << "and still limits";
    EXPECT_EQ(sample(*manager, limiter_gauge), 0.0);
    EXPECT_GT(sample(*manager, limiter_fallbacks), 0.0);
  }
  for (auto& manager : managers) {
    eventually([&] { return sample(*manager, budget_gauge) == 0.0; });
  }

  // Redis is back: coordinated again once each instance probes (within the probe interval).
  redis.start();
  for (auto& manager : managers) {
    eventually([&] {
      (void)call_until(*manager, std::chrono::steady_clock::now() + 50ms);
      return sample(*manager, limiter_gauge) == 1.0 && sample(*manager, budget_gauge) == 1.0;
    });
  }
}

}  // namespace
}  // namespace bulwark
