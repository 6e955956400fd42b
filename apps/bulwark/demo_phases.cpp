#include "demo_phases.hpp"

#include <array>

namespace bulwark::cli {
namespace {

constexpr std::array<Phase, 7> phases = {{
    {"healthy", "both services answer; calls succeed on their first attempt", ServiceMode::healthy},
    {"http-slow",
     "catalog answers in 120ms, one request in four in 700ms: those attempts hit the 400ms read "
     "timeout and are retried",
     ServiceMode::slow},
    {"http-failing",
     "catalog answers 2 requests in 3 with 503: retries rescue some calls, then the breaker "
     "opens and rejects calls without sending them",
     ServiceMode::failing},
    {"http-down",
     "catalog refuses connections: the breaker stays open, calls fail at once without touching "
     "the network, health turns FAILED",
     ServiceMode::down},
    {"http-back",
     "catalog answers again: the breaker probes and closes, the manager rebuilds the failed "
     "client",
     ServiceMode::healthy, 0, 1.2},
    {"redis-restart",
     "redis-server is stopped, then started again on the same port: commands fail, the breaker "
     "opens, the pool reconnects once it is back",
     ServiceMode::healthy, 0.4, 1.6},
    {"recovered", "both services answer again; every client is healthy", ServiceMode::healthy},
}};

}  // namespace

std::vector<ScheduledPhase> schedule_phases(Duration total) {
  double weights = 0;
  for (const Phase& phase : phases) weights += phase.weight;
  std::vector<ScheduledPhase> out;
  Duration start{};
  for (std::size_t i = 0; i < phases.size(); ++i) {
    // The last phase takes what rounding left, so that the phases cover `total` exactly.
    const Duration length =
        i + 1 == phases.size()
            ? total - start
            : std::chrono::duration_cast<Duration>(total * (phases[i].weight / weights));
    out.push_back({phases[i], start, length});
    start += length;
  }
  return out;
}

}  // namespace bulwark::cli
