#pragma once
// The demo's script: seven phases, each a change to one of the services, with lengths scaled to
// the requested duration.
//
//   healthy        both services answer
//   http-slow      the HTTP service is slow; some attempts time out and are retried
//   http-failing   it answers 2 requests in 3 with 503; the breaker opens
//   http-down      it refuses connections; calls are rejected without touching the network
//   http-back      it answers again; the breaker closes, the manager rebuilds the client
//   redis-restart  redis-server stops, and starts again on the same port partway through
//   recovered      everything is healthy again

#include "bulwark/core/duration.hpp"
#include "demo_service.hpp"

#include <string_view>
#include <vector>

namespace bulwark::cli {

struct Phase {
  std::string_view name;   ///< One word, as printed ("http-down").
  std::string_view story;  ///< What happens and what to watch for, one sentence.
  ServiceMode http_mode;   ///< The HTTP service's behaviour during the phase.
  /// Stop redis-server when the phase starts and start it again this far into the phase (0 =
  /// leave it alone).
  double redis_down_fraction = 0;
  double weight = 1;  ///< Share of the total duration, relative to the others.
};

struct ScheduledPhase {
  Phase phase;
  Duration start{};   ///< From the start of the demo.
  Duration length{};  ///< Until the next phase.
};

/// Shortest and longest `--duration`: below the minimum a phase is shorter than the breaker's
/// recovery timeout and the health interval that it means to show.
inline constexpr Duration min_demo_duration = std::chrono::seconds(10);
inline constexpr Duration max_demo_duration = std::chrono::hours(1);

/// The phases, in order, covering `total` exactly.
[[nodiscard]] std::vector<ScheduledPhase> schedule_phases(Duration total);

}  // namespace bulwark::cli
