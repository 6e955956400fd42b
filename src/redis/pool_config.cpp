// validate(PoolConfig) lives apart from the pool so that configuration tools (the config loader
// and its fuzz target) can use it without linking connections and Asio.

#include <fmt/format.h>

#include "bulwark/redis/pool.hpp"

namespace bulwark::redis {

void validate(const PoolConfig& config, std::vector<ConfigIssue>& issues, std::string_view path) {
  auto issue = [&](std::string_view field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  if (config.max_connections == 0) issue("max_connections", "must be >= 1, got 0");
  if (config.busy_threshold == 0) issue("busy_threshold", "must be >= 1, got 0");
  if (config.acquire_timeout <= Duration::zero()) {
    issue("acquire_timeout",
          fmt::format("must be > 0, got {}", format_duration(config.acquire_timeout)));
  }
  if (config.health_check_interval < Duration::zero()) {
    issue("health_check_interval",
          fmt::format("must be >= 0, got {}", format_duration(config.health_check_interval)));
  }
  if (config.max_idle_time < Duration::zero()) {
    issue("max_idle_time",
          fmt::format("must be >= 0, got {}", format_duration(config.max_idle_time)));
  }
}

}  // namespace bulwark::redis
