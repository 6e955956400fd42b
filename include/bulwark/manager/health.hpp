#pragma once
/// @file
/// Health of the clients a `ClientManager` owns: the per-client report, and the monitor that
/// checks every client concurrently each interval.
///
/// State per client, from its consecutive failed checks and its circuit breaker:
///   - FAILED   after `max_consecutive_failures` failed checks in a row, or while the breaker is
///              open;
///   - DEGRADED after one failed check, or while the breaker is half-open;
///   - HEALTHY  otherwise.
/// Each check is bounded by `HealthConfig::timeout`; checks run concurrently, so one slow service
/// never delays the others. A transition is reported once (to the log and `on_transition`),
/// not at every interval.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/health.hpp"
#include "bulwark/manager/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

/// Connections of a client's pool(s), whatever its kind.
struct PoolSummary {
  std::size_t active = 0;  ///< Carrying requests now.
  std::size_t idle = 0;    ///< Open and unused.
  std::size_t max = 0;     ///< The configured maximum (per origin for HTTP).
  std::uint64_t wait_timeouts = 0;
};

struct ClientHealth {
  std::string name;
  std::string kind;  ///< "http" or "redis".
  HealthState state = HealthState::healthy;
  /// Unix time (seconds) of the last completed check; 0 = not checked yet.
  std::int64_t last_check = 0;
  std::uint32_t consecutive_failures = 0;
  /// "closed", "open", "half_open", "disabled", "forced_open", or "none" (no breaker).
  std::string circuit_breaker_state = "none";
  /// For a shared breaker (`circuit_breaker.shared`): "shared" while its state is shared
  /// through Redis, "local" while Redis is unreachable and the breaker follows its local state
  /// only. Empty for a breaker that is not shared.
  std::string coordination{};
  /// Why the last check failed (empty when it passed). Never contains secrets.
  std::string last_error;
  /// Duration of the last check.
  Duration latency = Duration::zero();
  /// False for an optional service whose secret is absent (not checked, not counted).
  bool available = true;
  bool optional = false;
  /// Times the client was rebuilt after failing.
  std::uint32_t recreations = 0;
  PoolSummary pool{};
};

struct HealthReport {
  /// The worst state of the clients that count (available ones).
  HealthState state = HealthState::healthy;
  std::vector<ClientHealth> clients;

  [[nodiscard]] const ClientHealth* find(std::string_view name) const noexcept;
  /// {"state": ..., "clients": {"<name>": {"state", "kind", "last_check",
  ///  "consecutive_failures", "circuit_breaker_state", "last_error", "latency_ms", "available",
  ///  "optional", "recreations", "pool": {...}, and "coordination" for a shared breaker}}}
  [[nodiscard]] boost::json::value to_json() const;
};

/// What one check found.
struct CheckResult {
  bool ok = false;
  std::string error{};  ///< Why not, when !ok.
};

/// Runs the checks of named clients, each interval, and keeps their state.
///
/// Thread-safety: every member may be called from any thread. Lifetime: `stop()` (or the
/// destructor) before the executor stops; checks must not outlive what they refer to.
class HealthMonitor {
 public:
  struct Target {
    std::string name;
    std::string kind;
    /// One check; its own time is bounded by the monitor.
    std::function<boost::asio::awaitable<CheckResult>()> check;
    /// The client's breaker state name ("closed", ...), or "none". Read when the state is
    /// derived, so a breaker that opens between checks is seen at the next one.
    std::function<std::string()> breaker_state{};
    /// "shared" or "local" for a shared breaker; empty = not shared.
    std::function<std::string()> coordination{};
    /// Pool figures for the report.
    std::function<PoolSummary()> pool{};
    bool available = true;
    bool optional = false;
  };

  /// Called after a client's state changes: name, from, to, and why it is not healthy (the
  /// check's error, or the breaker's state when the check passed; empty when it is healthy).
  using TransitionListener =
      std::function<void(const std::string&, HealthState, HealthState, const std::string&)>;
  /// Called after every completed check of a client: name, its state, the check's result.
  using CheckListener = std::function<void(const std::string&, HealthState, const CheckResult&)>;

  HealthMonitor(boost::asio::any_io_executor executor, HealthConfig config,
                std::shared_ptr<Clock> clock = nullptr);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  /// Adds a client to check (before or after `start`).
  void add(Target target);
  void on_transition(TransitionListener listener);
  void on_check(CheckListener listener);
  /// A client was rebuilt: count it (its check history is kept).
  void count_recreation(const std::string& name);

  /// Checks every interval until `stop()`, starting now.
  void start();
  /// Stops checking; a round in progress is abandoned (its late results are ignored).
  void stop() noexcept;
  /// Runs one round now, all checks concurrently, and returns when every check completed or
  /// timed out.
  boost::asio::awaitable<HealthReport> check_now();

  [[nodiscard]] HealthReport report() const;
  [[nodiscard]] const HealthConfig& config() const noexcept;

  struct State;  // Shared with the checks in flight, which may finish after a stop().

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bulwark
