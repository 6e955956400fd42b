#pragma once
/// @file
/// `shared::SharedBreaker`: one circuit breaker whose state the instances of a fleet share
/// through Redis, so that an outage one instance discovers opens the breaker of all of them.
///
/// Each instance keeps its own `CircuitBreaker`, and calls go through it exactly as they would
/// without sharing: a call never waits for Redis. Sharing happens beside the calls:
///
/// - **Publishing.** When the local breaker opens or closes because of calls (or `close()`),
///   the transition is recorded and published in the background by one Lua script: it takes
///   the next epoch (`INCR <prefix>breaker:<name>:epoch`), writes the message to
///   `<prefix>breaker:<name>` (an OPEN state with the wait as expiry, `PX`; a close deletes it),
///   resets the fleet's probe count and `PUBLISH`es the message on the channel. Transitions in
///   quick succession are coalesced: only the latest state is sent.
/// - **Receiving.** Messages of the other instances arrive through the coordinator's
///   subscription and are applied with `CircuitBreaker::adopt_open` / `adopt_closed`, under the
///   rule of `EpochFilter` (own messages and messages overtaken by a later transition are
///   dropped). Applying a message publishes nothing, so instances never echo each other.
/// - **Resynchronising.** When the subscription is established, and after every reconnection,
///   the instance reads the state key: an OPEN state recorded while it was away is adopted for
///   the time its key has left; if no state is recorded but the local breaker is OPEN, the
///   instance publishes its own state.
/// - **Fleet-wide half-open.** Once OPEN's wait is over, an instance asks Redis for a probe
///   slot (`INCR <prefix>breaker:<name>:probe`, expiring after `probe_lease`) before its breaker
///   moves to HALF_OPEN; at most `probing_instances` instances get one per OPEN period. The
///   others keep rejecting until the prober's verdict arrives (closed, or open again), or until
///   the slot expires and they may ask again. The request is made in the background; calls
///   meanwhile are rejected as they would be in OPEN.
/// - **Fallback.** While the coordinator is not connected, the breaker follows its local rules
///   only (the probe gate admits every probe); `coordinated()` says so, for health reports and
///   metrics. Failed publications are counted, never retried or waited for; the next
///   resynchronisation publishes the local state if Redis holds none.
///
/// DISABLED and FORCED_OPEN are local, manual overrides: they are neither published nor undone
/// by messages.
///
/// Thread-safety: every member may be called from any thread. Lifetime: the breaker passed to
/// `attach` is kept alive (shared ownership) until another is attached or the shared breaker is
/// destroyed; background work holds the coordinator and ends on its own.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/shared/coordinator.hpp"
#include "bulwark/shared/shared_breaker_config.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::shared {

/// Counters of one shared breaker; every one only grows, except `coordinated`.
struct SharedBreakerStats {
  /// Connected to Redis: transitions are shared. False = local state only.
  bool coordinated = false;
  std::uint64_t published = 0;         ///< Transitions recorded and published.
  std::uint64_t publish_failures = 0;  ///< Publications that failed (Redis unreachable).
  std::uint64_t received = 0;          ///< Messages of other instances applied.
  std::uint64_t dropped = 0;           ///< Messages dropped: own, stale or malformed.
  std::uint64_t probes_granted = 0;    ///< Probe slots this instance obtained.
  std::uint64_t probes_denied = 0;     ///< Probe slots refused (another instance probes).
};

class SharedBreaker {
 public:
  /// Validates `config` (`ConfigError`, paths `circuit_breaker.<field>`; see `validate`) and
  /// starts listening
  /// on its channel through `coordinator`.
  SharedBreaker(std::shared_ptr<Coordinator> coordinator, SharedBreakerConfig config);
  ~SharedBreaker();
  SharedBreaker(const SharedBreaker&) = delete;
  SharedBreaker& operator=(const SharedBreaker&) = delete;

  /// The `CircuitBreakerConfig::probe_gate` of the breakers this shares; set it before building
  /// them. Stays valid after the shared breaker is destroyed (it then admits every probe).
  [[nodiscard]] std::function<bool()> probe_gate() const;

  /// Shares `breaker` (built with `probe_gate()`), replacing any breaker attached before (a
  /// rebuilt client), and reads the fleet's state into it.
  void attach(std::shared_ptr<CircuitBreaker> breaker);

  /// True while Redis is reachable and the state is shared.
  [[nodiscard]] bool coordinated() const noexcept;
  [[nodiscard]] SharedBreakerStats stats() const noexcept;
  [[nodiscard]] const SharedBreakerConfig& config() const noexcept;
  /// The channel in use (`config().channel` or its default).
  [[nodiscard]] const std::string& channel() const noexcept;

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace bulwark::shared
