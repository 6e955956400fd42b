#pragma once
// The configuration the demo's ClientManager is built from: YAML, as an application would write
// it, over the demo's own HTTP service ("catalog") and redis-server ("cache"), with timeouts,
// retries, breakers and health checks short enough that a phase of a few seconds shows them
// acting.

#include "bulwark/manager/config.hpp"

#include <cstdint>
#include <string>

namespace bulwark::cli {

/// The names of the demo's clients, as they appear in the view and in the metrics.
inline constexpr const char* demo_http_client = "catalog";
inline constexpr const char* demo_redis_client = "cache";

/// The YAML text, for the given ports.
[[nodiscard]] std::string demo_config_yaml(std::uint16_t http_port, std::uint16_t redis_port);

/// The parsed configuration. The environment is not read: variables such as REDIS_URL must not
/// send the demo's traffic to a real server.
[[nodiscard]] ManagerConfig demo_config(std::uint16_t http_port, std::uint16_t redis_port);

}  // namespace bulwark::cli
