// Shared breakers configured in YAML: two ClientManagers (two instances of an application) with
// the same configuration, against one redis-server; an outage one of them sees opens the
// other's breaker, and health and metrics say whether the state is shared or local.
#include "bulwark/manager/client_manager.hpp"

#include "bulwark/observe/registry.hpp"
#include "support/promtool.hpp"
#include "support/redis_server.hpp"
#include "support/require_tool.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <optional>
#include <thread>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

template <class Done>
bool eventually(Done done, std::chrono::milliseconds limit = 5s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

// A service nobody listens on (a port of the loopback with nothing behind it), so every call
// fails fast with connect_failed.
std::string config_for(const RedisServer& server, std::uint16_t dead_port) {
  return fmt::format(R"(
health: {{interval: 1s, timeout: 500ms}}
services:
  payments:
    url: http://127.0.0.1:{}
    retry: off
    circuit_breaker: {{consecutive_failures: 2, recovery_timeout: 30s,
                       shared: {{key_prefix: "test:"}}}}
redis:
  url: redis://127.0.0.1:{}
  retry: off
  databases: {{cache: 0}}
)",
                     dead_port, server.port());
}

std::uint16_t unused_port() {
  // The redis fixture's way of finding a free port is not public; a port of a server that was
  // started and stopped is free.
  RedisServer probe;
  const std::uint16_t port = probe.port();
  probe.stop();
  return port;
}

CircuitBreaker& breaker_of(ClientManager& manager) {
  return *manager.http("payments")->resilience().circuit_breaker();
}

TEST(SharedBreakerManager, AnOutageSeenByOneInstanceOpensTheOthers) {
  RedisServer server;
  const std::string yaml = config_for(server, unused_port());
  ClientManager first(parse_config(yaml, process_environment()));
  ClientManager second(parse_config(yaml, process_environment()));
  CircuitBreaker& seen_by_first = breaker_of(first);
  CircuitBreaker& seen_by_second = breaker_of(second);
  ASSERT_TRUE(eventually([&] {
    const HealthReport a = first.health();
    const HealthReport b = second.health();
    return a.find("payments")->coordination == "shared" &&
           b.find("payments")->coordination == "shared";
  }));
  std::this_thread::sleep_for(50ms);  // both have read the (empty) recorded state

  auto client = first.http_sync("payments");
  for (int i = 0; i < 2; ++i) EXPECT_ANY_THROW((void)client->get("/pay"));
  ASSERT_EQ(seen_by_first.state(), BreakerState::open);
  ASSERT_TRUE(eventually([&] { return seen_by_second.state() == BreakerState::open; }));
  EXPECT_EQ(seen_by_second.stats().failed_total, 0U) << "opened without calling the service";
  EXPECT_EQ(server.cli({"EXISTS", "test:breaker:payments"}), "1");

  const std::string json = boost::json::serialize(second.health().to_json());
  EXPECT_NE(json.find(R"("coordination":"shared")"), std::string::npos) << json;
  const std::string metrics = second.metrics().expose();
  EXPECT_NE(metrics.find(
                R"(bulwark_shared_state_coordinated{client="payments",kind="circuit_breaker"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find(
          R"(bulwark_shared_breaker_messages_total{client="payments",direction="received"} 1)"),
      std::string::npos)
      << metrics;

  // Redis goes away: both fall back to local state, say so, and keep serving.
  server.kill9();
  ASSERT_TRUE(eventually([&] {
    return first.health().find("payments")->coordination == "local" &&
           second.health().find("payments")->coordination == "local";
  }));
  const std::string local_metrics = second.metrics().expose();
  EXPECT_NE(local_metrics.find(
                R"(bulwark_shared_state_coordinated{client="payments",kind="circuit_breaker"} 0)"),
            std::string::npos)
      << local_metrics;
  seen_by_second.close();
  EXPECT_TRUE(seen_by_second.try_acquire().has_value()) << "local state decides";

  const auto promtool = test::find_promtool();
  BULWARK_REQUIRE_TOOL(!promtool.empty(), "promtool not installed (Debian package prometheus)");
  const test::PromtoolResult result = test::check_metrics(promtool, local_metrics);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << local_metrics;
}

}  // namespace
}  // namespace bulwark
