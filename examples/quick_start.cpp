// Quick start: one ClientManager, built from YAML, owning an HTTP client and a Redis client —
// each behind retries, a circuit breaker and timeouts — and one call through each.
//
//   API_URL=http://localhost:8080 REDIS_URL=redis://localhost:6379 ./quick_start
//
// Without the variables it uses http://127.0.0.1:8080 and redis://127.0.0.1:6379. The URLs are
// read by the configuration itself (`${API_URL:-...}`), as an application's would be.

#include <bulwark/manager/client_manager.hpp>

#include <fmt/format.h>

#include <exception>

namespace {

constexpr const char* config_yaml = R"(
defaults:
  timeout: 5s
  retry: {max_attempts: 3, backoff: {initial: 100ms, max: 1s}}
  circuit_breaker: {consecutive_failures: 5, recovery_timeout: 10s}
services:
  api:
    url: "${API_URL:-http://127.0.0.1:8080}"
    health: {path: /}
redis:
  url: "${REDIS_URL:-redis://127.0.0.1:6379}"
  databases: {cache: 0}
)";

}  // namespace

int main() {
  try {
    bulwark::ClientManager manager(
        bulwark::parse_config(config_yaml, bulwark::process_environment(), "quick_start"));

    // Say clearly what is missing rather than failing on the first call.
    const bulwark::HealthReport report = manager.check_now_blocking();
    bool reachable = true;
    for (const bulwark::ClientHealth& client : report.clients) {
      if (client.state != bulwark::HealthState::healthy) {
        fmt::print(stderr, "quick_start: {} is not reachable: {}\n", client.name,
                   client.last_error);
        reachable = false;
      }
    }
    if (!reachable) {
      fmt::print(stderr,
                 "quick_start: start the services, or point API_URL and REDIS_URL at yours\n");
      return 1;
    }

    // Blocking calls; inside a coroutine, co_await manager.http("api")->get("/") instead.
    auto api = manager.http_sync("api");
    const bulwark::http::Response response = api->get("/");
    fmt::print("GET {}/ -> {} ({} bytes)\n", manager.config().services[0].client.base_url,
               response.status, response.body.size());

    auto cache = manager.redis_sync("cache");
    cache->set("bulwark:quick_start", "hello from bulwark", {.ttl = std::chrono::minutes(1)});
    fmt::print("redis GET bulwark:quick_start -> {}\n",
               cache->get("bulwark:quick_start").value_or("(missing)"));

    manager.stop();
    return 0;
  } catch (const bulwark::ConfigError& error) {
    fmt::print(stderr, "quick_start: invalid configuration: {}\n", error.what());
  } catch (const std::exception& error) {
    // ServiceUnavailable (breaker open, retries exhausted) and the other bulwark::Error kinds.
    fmt::print(stderr, "quick_start: {}\n", error.what());
  }
  return 1;
}
