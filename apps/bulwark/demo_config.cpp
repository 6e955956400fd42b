#include "demo_config.hpp"

#include <fmt/format.h>

#include <optional>
#include <string_view>

namespace bulwark::cli {

std::string demo_config_yaml(std::uint16_t http_port, std::uint16_t redis_port) {
  // Each value is chosen for what it makes visible in a few seconds:
  //  - read_timeout 400ms: the slow phase's 700 ms answers time out, and retries recover them;
  //  - the breaker opens at 50% failed attempts over the last 20 (at least 10), or after 5
  //    failures in a row, and probes again after 1s: it opens in the failing and down phases
  //    and closes soon after the service is back;
  //  - health every 500ms, FAILED after 2 failed checks: the manager notices an outage within a
  //    second and rebuilds the client when the service answers again.
  return fmt::format(R"(defaults:
  retry:
    max_attempts: 3
    backoff: {{type: exponential, initial: 50ms, multiplier: 2, max: 200ms, jitter: full}}
  circuit_breaker:
    window_size: 20
    minimum_calls: 10
    failure_rate_threshold: 50%
    consecutive_failures: 5
    recovery_timeout: 1s
    half_open_permitted_calls: 2
    half_open_success_threshold: 2

health: {{interval: 500ms, timeout: 400ms, max_consecutive_failures: 2}}

http_pool:
  max_connections: 16
  connect_timeout: 300ms
  read_timeout: 400ms
  write_timeout: 400ms
  pool_timeout: 500ms

services:
  {0}:
    url: http://127.0.0.1:{1}
    health: {{path: /healthz}}
    timeout: 2s

redis:
  url: redis://127.0.0.1:{2}
  client_name: bulwark-demo
  connect_timeout: 300ms
  command_timeout: 300ms
  wait_for_loading: 1s
  pool: {{acquire_timeout: 500ms}}
  databases: {{{3}: 0}}
)",
                     demo_http_client, http_port, redis_port, demo_redis_client);
}

ManagerConfig demo_config(std::uint16_t http_port, std::uint16_t redis_port) {
  const Environment no_environment = [](std::string_view) { return std::optional<std::string>(); };
  return parse_config(demo_config_yaml(http_port, redis_port), no_environment, "demo config");
}

}  // namespace bulwark::cli
