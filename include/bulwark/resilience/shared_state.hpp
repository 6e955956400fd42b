#pragma once
/// @file
/// `SharedStateConfig`: how a rate limiter or a retry budget shares its state with the other
/// instances of an application, so that a limit meant for the whole fleet holds across every
/// process (docs/scale-out.md).
///
/// The resilience layer only carries this description; it never talks to a store itself. The
/// `ClientManager` reads it and connects the policy to the Redis database it names
/// (`bulwark/shared/fleet_rate_limiter.hpp`, `fleet_retry_budget.hpp`). Code that builds
/// pipelines by hand connects them the same way.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct SharedStateConfig {
  /// Name of the Redis database (an entry of the manager's `redis.databases`) whose server holds
  /// the shared state. Empty = the only configured database (an error when there are several).
  std::string database{};
  /// Start of every key the policy writes; the policy's name (its client's) follows it. Instances
  /// that must share a limit use the same prefix; distinct applications on one server use
  /// distinct ones. Must not be empty.
  std::string key_prefix = "bulwark:";
  /// Bound on one round trip to the shared state, connection set-up included. Past it (and
  /// whenever the server cannot be reached) the policy decides from its local state for that
  /// call. Must be > 0.
  Duration timeout = std::chrono::milliseconds(50);
  /// Retry budgets only: how often the counts of this instance are published and the fleet's
  /// totals read back. Must be > 0.
  Duration sync_interval = std::chrono::milliseconds(250);
  /// Rate limiters only: the rate (permits per second) of this instance's own bucket, which
  /// decides while the shared state cannot be reached; 0 = the limiter's `rate`, so that during
  /// an outage each instance may admit the whole fleet's rate. `rate / instances` keeps the fleet
  /// near its rate under partition. Must be >= 0.
  double fallback_rate = 0.0;
};

/// Appends one issue per bad field (paths `<path>.<field>`).
void validate(const SharedStateConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path);

}  // namespace bulwark
