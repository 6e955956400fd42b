// ClientManager against real servers: a test HTTP server that goes down and comes back, a real
// redis-server killed and restarted, slow health checks, and stop() with calls in flight.
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/observe/registry.hpp"
#include "support/http_server.hpp"
#include "support/promtool.hpp"
#include "support/redis_server.hpp"
#include "support/require_tool.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <set>
#include <thread>

namespace bulwark {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::RedisServer;

HttpServiceConfig service(std::string name, const HttpServer& server, std::string health_path) {
  HttpServiceConfig config;
  config.name = name;
  config.client.name = std::move(name);
  config.client.base_url = server.base_url();
  config.client.timeouts.connect = 1s;
  config.client.timeouts.read = 5s;
  config.client.retry->backoff = {
      .type = BackoffType::constant, .initial = 10ms, .jitter = Jitter::none};
  config.client.circuit_breaker->consecutive_failures = 3;
  config.client.circuit_breaker->recovery_timeout = 1h;  // stays open unless rebuilt
  config.client.circuit_breaker->max_recovery_timeout = 1h;
  config.health_path = std::move(health_path);
  return config;
}

RedisDatabaseConfig database(std::string name, const RedisServer& server, int db) {
  RedisDatabaseConfig config;
  config.client.name = "redis." + name;
  config.name = std::move(name);
  config.client.connection.port = server.port();
  config.client.connection.database = db;
  config.client.connection.connect_timeout = 1s;
  config.client.command_timeout = 1s;
  config.client.wait_for_loading = 0s;
  return config;
}

HealthConfig fast_health() {
  return {.interval = 200ms, .timeout = 200ms, .max_consecutive_failures = 2};
}

TEST(ClientManager, ServiceDownIsDegradedThenFailedThenHealthyAndItsClientRebuilt) {
  HttpServer server;
  ManagerConfig config;
  config.health = fast_health();
  config.services.push_back(service("svc", server, "/health"));
  ClientManager manager(config);
  auto before = manager.http("svc");
  EXPECT_EQ(manager.check_now_blocking().find("svc")->state, HealthState::healthy);

  server.down();
  // Calls fail and open the client's breaker.
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(asio::co_spawn(manager.executor(), before->execute(http::Request::get("/x")),
                                asio::use_future)
                     .get());
  }
  EXPECT_EQ(manager.check_now_blocking().find("svc")->state, HealthState::failed)
      << "the open breaker makes it failed at once";
  HealthReport report = manager.check_now_blocking();
  EXPECT_EQ(report.find("svc")->state, HealthState::failed);
  EXPECT_EQ(report.find("svc")->consecutive_failures, 2U);
  EXPECT_NE(report.find("svc")->last_error.find("could not connect"), std::string::npos)
      << report.find("svc")->last_error;

  server.up();
  report = manager.check_now_blocking();
  EXPECT_EQ(report.find("svc")->recreations, 1U);
  EXPECT_EQ(report.find("svc")->state, HealthState::healthy);
  auto after = manager.http("svc");
  EXPECT_NE(after.get(), before.get()) << "rebuilt";
  EXPECT_EQ(after->resilience().circuit_breaker()->state(), BreakerState::closed);
  auto reply =
      asio::co_spawn(manager.executor(), after->send(http::Request::get("/x")), asio::use_future)
          .get();
  EXPECT_EQ(reply.status, 200U);
  // The old client still answers its holders (its breaker is still open, so it says so).
  EXPECT_EQ(asio::co_spawn(manager.executor(), before->execute(http::Request::get("/x")),
                           asio::use_future)
                .get()
                .error(),
            errc::circuit_open);
}

TEST(ClientManager, BackgroundMonitoringNoticesAnOutageWithinItsIntervals) {
  HttpServer server;
  ManagerConfig config;
  config.health = fast_health();
  config.services.push_back(service("svc", server, "/health"));
  ClientManager manager(config);
  manager.start();
  ASSERT_TRUE(HttpServer::wait_for([&] { return manager.health().find("svc")->last_check > 0; }));
  server.down();
  ASSERT_TRUE(HttpServer::wait_for(
      [&] { return manager.health().find("svc")->state == HealthState::failed; }, 5s));
  server.up();
  ASSERT_TRUE(HttpServer::wait_for(
      [&] { return manager.health().find("svc")->state == HealthState::healthy; }, 5s));
  manager.stop();
}

TEST(ClientManager, ASlowHealthCheckTimesOutWithoutDelayingTheOthers) {
  HttpServer server;
  ManagerConfig config;
  config.health = {.interval = 1s, .timeout = 300ms, .max_consecutive_failures = 3};
  config.services.push_back(service("slow", server, "/status/200?delay_ms=3000"));
  config.services.push_back(service("fast", server, "/health"));
  ClientManager manager(config);
  const HealthReport report = manager.check_now_blocking();
  EXPECT_EQ(report.find("fast")->state, HealthState::healthy);
  EXPECT_LT(report.find("fast")->latency, 300ms);
  EXPECT_EQ(report.find("slow")->state, HealthState::degraded);
  EXPECT_NE(report.find("slow")->last_error.find("timed out"), std::string::npos)
      << report.find("slow")->last_error;
}

TEST(ClientManager, RedisDatabasesAreCheckedWithPingAndRebuiltAfterARestart) {
  RedisServer server;
  ManagerConfig config;
  config.health = fast_health();
  config.redis.push_back(database("knowledge", server, 2));
  config.redis.push_back(database("cache", server, 0));
  ClientManager manager(config);
  auto knowledge = manager.redis_sync("knowledge");
  knowledge->set("k", "in db 2");
  EXPECT_EQ(manager.redis_sync("cache")->get("k"), std::nullopt) << "another database";
  EXPECT_EQ(server.cli({"-n", "2", "GET", "k"}), "in db 2");
  EXPECT_EQ(manager.check_now_blocking().state, HealthState::healthy);

  server.stop();
  manager.check_now_blocking();
  EXPECT_EQ(manager.check_now_blocking().find("knowledge")->state, HealthState::failed);
  server.start();
  const HealthReport report = manager.check_now_blocking();
  EXPECT_EQ(report.find("knowledge")->state, HealthState::healthy);
  EXPECT_EQ(report.find("knowledge")->recreations, 1U);
  EXPECT_EQ(manager.redis_sync("knowledge")->get("k"), std::nullopt)
      << "the restarted server has no data (no persistence)";
}

TEST(ClientManager, ClientsAreCreatedOnceEvenWhenManyThreadsAskAtOnce) {
  HttpServer server;
  ManagerConfig config;
  config.services.push_back(service("svc", server, "/health"));
  ClientManager manager(config);
  std::vector<std::thread> threads;
  std::vector<http::Client*> seen(16);
  std::atomic<bool> go{false};
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      seen[i] = manager.http("svc").get();
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::set<http::Client*>(seen.begin(), seen.end()).size(), 1U);
}

TEST(ClientManager, UnknownAndOptionalNames) {
  HttpServer server;
  ManagerConfig config;
  config.services.push_back(service("qdrant", server, "/health"));
  HttpServiceConfig openai = service("openai", server, "/health");
  openai.optional = true;
  openai.available = false;
  config.services.push_back(openai);
  ClientManager manager(config);
  EXPECT_EQ(manager.try_http("openai"), nullptr);
  EXPECT_THROW((void)manager.http("openai"), ServiceUnavailable);
  try {
    (void)manager.http("qdrnt");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::not_found);
    EXPECT_NE(std::string(error.what()).find("configured: openai, qdrant"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW((void)manager.redis("cache"), Error);
  EXPECT_NE(manager.try_http("qdrant"), nullptr);
  EXPECT_FALSE(manager.check_now_blocking().find("openai")->available);
}

TEST(ClientManager, StopWaitsForCallsInFlightAndLeaksNothing) {
  HttpServer server;
  ManagerConfig config;
  config.services.push_back(service("svc", server, "/health"));
  ClientManager manager(config);
  auto client = manager.http("svc");
  std::vector<std::future<http::Response>> calls;
  for (int i = 0; i < 8; ++i) {
    calls.push_back(asio::co_spawn(manager.executor(),
                                   client->send(http::Request::get("/status/200?delay_ms=300")),
                                   asio::use_future));
  }
  ASSERT_TRUE(HttpServer::wait_for([&] { return server.request_count() == 8; }));
  manager.stop(5s);
  for (auto& call : calls) {
    ASSERT_EQ(call.wait_for(0s), std::future_status::ready) << "stop() returned before a call";
    EXPECT_EQ(call.get().status, 200U);
  }
  EXPECT_EQ(client->stats().pool.active, 0U);
  EXPECT_EQ(client->stats().pool.idle, 0U);
  EXPECT_TRUE(HttpServer::wait_for([&] { return server.connections_open() == 0; }));
  EXPECT_THROW((void)manager.http("svc"), Error) << "stopped";
}

TEST(ClientManager, StopGivesUpWaitingAtItsDeadline) {
  HttpServer server;
  ManagerConfig config;
  config.services.push_back(service("svc", server, "/health"));
  ClientManager manager(config);
  auto client = manager.http("svc");
  auto slow = asio::co_spawn(manager.executor(),
                             client->execute(http::Request::get("/status/200?delay_ms=1500")),
                             asio::use_future);
  ASSERT_TRUE(HttpServer::wait_for([&] { return server.request_count() == 1; }));
  manager.stop(100ms);
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "stop() did not wait for it";
  slow.wait();  // The call finishes on its own; its connection is closed, not kept.
  EXPECT_TRUE(HttpServer::wait_for([&] { return client->stats().pool.active == 0; }));
  EXPECT_EQ(client->stats().pool.idle, 0U);
}

TEST(ClientManager, MetricsCountCallsBreakerPoolsAndHealthAndPassPromtool) {
  HttpServer server;
  RedisServer redis_server;
  ManagerConfig config;
  config.health = fast_health();
  config.services.push_back(service("svc", server, "/health"));
  config.redis.push_back(database("cache", redis_server, 0));
  ClientManager manager(config);
  auto client = manager.http_sync("svc");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client->get("/ok").status, 200U);
  server.fail_next("/flaky", 1, 503);
  EXPECT_EQ(client->get("/flaky").status, 200U) << "retried once";
  EXPECT_EQ(client->get("/missing-is-fine/status/404").status, 200U);
  manager.redis_sync("cache")->set("k", "v");
  server.down();
  EXPECT_FALSE(client->execute(http::Request::get("/down")));
  (void)manager.check_now_blocking();

  const std::string text = manager.metrics().expose();
  const auto has = [&](std::string_view line) { return text.find(line) != std::string::npos; };
  EXPECT_TRUE(has("bulwark_client_calls_total{client=\"svc\",outcome=\"success\"} 5")) << text;
  EXPECT_TRUE(has("bulwark_client_calls_total{client=\"svc\",outcome=\"connect_failed\"} 1"))
      << text;
  EXPECT_TRUE(has("bulwark_client_calls_total{client=\"cache\",outcome=\"success\"} 1")) << text;
  EXPECT_TRUE(has("bulwark_retries_total{client=\"svc\"} 3")) << text;  // 1 after the 503, 2 down
  EXPECT_TRUE(has("bulwark_client_call_duration_seconds_count{client=\"svc\"} 6")) << text;
  // The three failed attempts of the last call opened the breaker (3 consecutive failures).
  EXPECT_TRUE(has("bulwark_circuit_breaker_state{client=\"svc\",state=\"open\"} 1")) << text;
  EXPECT_TRUE(
      has("bulwark_circuit_breaker_transitions_total{client=\"svc\",from=\"closed\","
          "to=\"open\"} 1"))
      << text;
  EXPECT_TRUE(has("bulwark_pool_connections{client=\"svc\",state=\"active\"} 0")) << text;
  EXPECT_TRUE(has("bulwark_health_state{client=\"svc\",state=\"failed\"} 1")) << text;
  EXPECT_TRUE(has("bulwark_health_state{client=\"cache\",state=\"healthy\"} 1")) << text;

  const auto promtool = test::find_promtool();
  BULWARK_REQUIRE_TOOL(!promtool.empty(), "promtool not installed (Debian package prometheus)");
  const test::PromtoolResult result = test::check_metrics(promtool, text);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << text;
}

TEST(ClientManager, CallStatsCountCallsAndErrorsAcrossRebuildsAndStartedFollowsTheLifecycle) {
  HttpServer server;
  RedisServer redis_server;
  ManagerConfig config;
  config.health = fast_health();
  config.services.push_back(service("svc", server, "/health"));
  config.redis.push_back(database("cache", redis_server, 0));
  ClientManager manager(config);
  EXPECT_FALSE(manager.started());
  const auto stats_of = [&](std::string_view name) {
    for (const ClientCallStats& stats : manager.call_stats()) {
      if (stats.name == name) return stats;
    }
    ADD_FAILURE() << "no stats for " << name;
    return ClientCallStats{};
  };
  EXPECT_EQ(stats_of("svc").calls, 0U);
  auto client = manager.http_sync("svc");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client->get("/ok").status, 200U);
  manager.redis_sync("cache")->set("k", "v");
  server.down();
  EXPECT_FALSE(client->execute(http::Request::get("/down")));
  EXPECT_EQ(stats_of("svc").calls, 4U);
  EXPECT_EQ(stats_of("svc").errors, 1U);
  EXPECT_EQ(stats_of("cache").calls, 1U);
  EXPECT_EQ(stats_of("cache").errors, 0U);
  (void)manager.check_now_blocking();
  (void)manager.check_now_blocking();
  server.up();
  EXPECT_EQ(manager.check_now_blocking().find("svc")->recreations, 1U);
  EXPECT_EQ(manager.http_sync("svc")->get("/ok").status, 200U);
  EXPECT_EQ(stats_of("svc").calls, 5U) << "counts survive the rebuild";
  const std::vector<ClientCallStats> all = manager.call_stats();
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0].name, "svc") << "services first";
  EXPECT_EQ(all[1].name, "cache");

  manager.start();
  EXPECT_TRUE(manager.started());
  manager.stop();
  EXPECT_FALSE(manager.started());
}

TEST(ClientManager, ARoundOfChecksEndingAfterTheManagerIsGoneTouchesNothingOfIt) {
  // On an executor the test runs by hand: a round of checks hangs on the server, the manager is
  // destroyed, and only then does the round end (the server drops the connection) and read the
  // clients' breakers and pools for its report. They must still be alive (ASan, valgrind).
  HttpServer server;
  asio::io_context io;
  ManagerConfig config;
  config.health = {.interval = 1h, .timeout = 1h, .max_consecutive_failures = 2};
  config.services.push_back(service("svc", server, "/health?delay_ms=60000"));
  auto manager = std::make_unique<ClientManager>(config, io.get_executor());
  asio::co_spawn(io, manager->check_now(), asio::detached);
  test::run_until(io, [&] { return !server.requests_to("/health").empty(); });
  manager.reset();
  server.down();
  // Runs until nothing is left to do: the round has ended and its coroutine is gone.
  test::run_until(io, [&] { return io.stopped(); });
}

TEST(ClientManager, RunsOnAnExternalExecutor) {
  HttpServer server;
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    ManagerConfig config;
    config.services.push_back(service("svc", server, "/health"));
    ClientManager manager(config, io.get_executor());
    auto reply =
        asio::co_spawn(io, manager.http("svc")->send(http::Request::get("/x")), asio::use_future)
            .get();
    EXPECT_EQ(reply.status, 200U);
    EXPECT_EQ(manager.http_sync("svc")->get("/y").status, 200U);
    EXPECT_EQ(manager.check_now_blocking().state, HealthState::healthy);
    manager.stop();
  }
  work.reset();
  runner.join();
}

TEST(ClientManager, ProcessWideInstance) {
  HttpServer server;
  ClientManager::uninstall();
  EXPECT_THROW((void)ClientManager::global(), Error);
  ManagerConfig config;
  config.services.push_back(service("svc", server, "/health"));
  ClientManager& installed = ClientManager::install(config);
  EXPECT_EQ(&ClientManager::global(), &installed);
  EXPECT_NE(ClientManager::global().http_sync("svc")->get("/x").status, 0U);
  ClientManager::uninstall();
  EXPECT_THROW((void)ClientManager::global(), Error);
}

}  // namespace
}  // namespace bulwark
