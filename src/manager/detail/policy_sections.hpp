#pragma once
// The resilience sections shared by `defaults`, services and Redis databases: retry,
// circuit_breaker, bulkhead and rate_limit. Each is a map of the config struct's fields, or a
// switch: `off`/`false` (or `enabled: false` in the map) disables the policy, `on`/`true`
// enables it with the settings inherited so far. A map enables the policy unless it says
// `enabled: false`, and overrides the inherited settings field by field.

#include "bulwark/manager/config.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/resilience/rate_limiter.hpp"
#include "bulwark/resilience/retry.hpp"
#include "manager/detail/yaml_reader.hpp"

#include <optional>

namespace bulwark::detail {

/// The `defaults` section: what every service and database starts from.
struct Policies {
  /// `defaults.timeout`: an HTTP request's total timeout, a Redis command's timeout.
  std::optional<Duration> timeout{};
  std::optional<RetryConfig> retry = RetryConfig{};
  std::optional<CircuitBreakerConfig> circuit_breaker = CircuitBreakerConfig{};
  std::optional<BulkheadConfig> bulkhead{};
  std::optional<RateLimiterConfig> rate_limiter{};
  /// Fields as "timeout", "retry.max_attempts", ...
  Origins origins{};
};

/// Reads `retry`, `circuit_breaker`, `bulkhead` and `rate_limit` of `section` into the targets
/// (fields "retry.*", "circuit_breaker.*", "bulkhead.*", "rate_limiter.*"). With `shared`, the
/// circuit breaker's section may also say `shared: true` and how (docs/scale-out.md).
void read_policies(YamlMap& section, std::optional<RetryConfig>& retry,
                   std::optional<CircuitBreakerConfig>& circuit_breaker,
                   std::optional<BulkheadConfig>& bulkhead,
                   std::optional<RateLimiterConfig>& rate_limiter,
                   std::optional<SharedBreakerSettings>* shared = nullptr);

/// Reads the `defaults` section.
[[nodiscard]] Policies read_defaults(LoadContext& context, const YAML::Node& node);

/// Names every policy after its client.
template <class ClientConfig>
void name_policies(ClientConfig& client) {
  if (client.retry) client.retry->name = client.name;
  if (client.circuit_breaker) client.circuit_breaker->name = client.name;
  if (client.bulkhead) client.bulkhead->name = client.name;
  if (client.rate_limiter) client.rate_limiter->name = client.name;
}

}  // namespace bulwark::detail
