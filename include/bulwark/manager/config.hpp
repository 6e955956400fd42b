#pragma once
/// @file
/// The configuration of a `ClientManager`: every HTTP service and Redis database the
/// application uses, each with its complete client configuration (defaults already applied),
/// the health monitor's settings and the admin endpoint's address.
///
/// Usually loaded from YAML with `load_config` / `parse_config` (see docs/configuration.md):
///
///     defaults:       { timeout: 10s, retry: {...}, circuit_breaker: {...}, bulkhead: {...},
///                       rate_limit: {...} }
///     health:         { interval: 10s, timeout: 2s, max_consecutive_failures: 3 }
///     http_pool:      { max_connections: 100, max_keepalive_connections: 20, ... }
///     services:
///       qdrant:       { kind: http, url: "${QDRANT_URL:-http://localhost:6333}",
///                       auth: { scheme: header, header: api-key, token: "${QDRANT_API_KEY}" },
///                       health: { path: /healthz, expected_status: 200 } }
///       openai:       { kind: http, url: https://api.openai.com/v1, optional: true,
///                       auth: { scheme: bearer, token: "${OPENAI_API_KEY}" } }
///     redis:
///       url: "${REDIS_URL:-redis://localhost:6379}"
///       databases:    { cache: 0, knowledge: 2, vectors: { url: redis://vec:6379, db: 0 } }
///     admin:          { listen: 127.0.0.1:9090 }
///
/// `${VAR}` and `${VAR:-default}` are expanded from the environment, and well-known variables
/// override the file: `REDIS_URL`, and for each service `<NAME>_URL` and `<NAME>_API_KEY`
/// (upper case, `-` and `.` become `_`: `QDRANT_URL`, `OPENAI_API_KEY`).
///
/// Errors: `ConfigError` listing every problem at once, each with its path and reason
/// (`services.qdrant.pool.max_connections: must be >= 1, got 0`); unknown keys name the closest
/// valid key. Secrets are `Secret` values and never appear in an error.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/http/config.hpp"
#include "bulwark/redis/client.hpp"
#include "bulwark/shared/shared_breaker_config.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct HealthConfig {
  /// Time between two rounds of checks.
  Duration interval = std::chrono::seconds(10);
  /// Bound on each check (an HTTP request to the health path, a Redis PING).
  Duration timeout = std::chrono::seconds(2);
  /// Consecutive failed checks after which a client is FAILED (one failure makes it DEGRADED).
  std::uint32_t max_consecutive_failures = 3;
};

/// `circuit_breaker: { shared: true, ... }`: the client's breaker is shared through Redis with
/// every instance that configures the same client (docs/scale-out.md).
struct SharedBreakerSettings {
  /// The entry of `redis.databases` whose server carries the coordination; empty = the first
  /// one in the file.
  std::string database{};
  /// Key prefix, channel, probing instances, probe lease, instance id. `name` is filled in with
  /// the client's name by the manager.
  shared::SharedBreakerConfig breaker{};
};

struct HttpServiceConfig {
  /// The service's name in `services` ("qdrant"); also the client's name.
  std::string name;
  /// The complete client configuration, defaults and overrides applied.
  http::ClientConfig client;
  /// Health check: `GET <base_url><health_path>` must answer `expected_status`.
  std::string health_path = "/";
  unsigned expected_status = 200;
  /// An optional service may lack its secret; it is then unavailable (`try_http` returns null)
  /// instead of an error.
  bool optional = false;
  /// False for an optional service whose secret is absent.
  bool available = true;
  /// Set when the service's breaker is shared across instances.
  std::optional<SharedBreakerSettings> shared_breaker{};
};

struct RedisDatabaseConfig {
  /// The database's name in `redis.databases` ("knowledge"); the client is named
  /// "redis.<name>".
  std::string name;
  /// The complete client configuration (server, db number, pool, timeouts, resilience).
  redis::ClientConfig client;
  /// Set when the database's breaker is shared across instances.
  std::optional<SharedBreakerSettings> shared_breaker{};
};

struct AdminConfig {
  /// Address of the admin endpoint (/health, /metrics, /status), "host:port"; empty = off.
  std::string listen{};
  /// When set, every route but /health/live asks for `Authorization: Bearer <token>` (see
  /// `AdminOptions::bearer_token`). Usually `${BULWARK_ADMIN_TOKEN}`; never empty.
  std::optional<Secret> token{};
};

struct ManagerConfig {
  HealthConfig health{};
  /// In the order of the file.
  std::vector<HttpServiceConfig> services{};
  std::vector<RedisDatabaseConfig> redis{};
  AdminConfig admin{};

  [[nodiscard]] const HttpServiceConfig* find_service(std::string_view name) const noexcept;
  [[nodiscard]] const RedisDatabaseConfig* find_redis(std::string_view name) const noexcept;
};

/// Reads one environment variable; the process environment by default, a map in tests.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (`getenv`).
[[nodiscard]] Environment process_environment();

/// Parses YAML text. `source` names it in errors ("bulwark.yaml"). Throws `ConfigError`.
[[nodiscard]] ManagerConfig parse_config(std::string_view yaml, const Environment& environment,
                                         std::string_view source = "config");

/// Reads and parses a file (`ConfigError` when it cannot be read, naming the path).
[[nodiscard]] ManagerConfig load_config(const std::filesystem::path& path,
                                        const Environment& environment = process_environment());

/// Checks a config built in code (the loader already does): names unique, every client config
/// valid, health settings sane. Appends one issue per problem.
void validate(const ManagerConfig& config, std::vector<ConfigIssue>& issues);

}  // namespace bulwark
