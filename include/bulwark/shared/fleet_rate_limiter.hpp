#pragma once
/// @file
/// `shared::FleetRateLimiter`: one rate for every instance of an application, kept in Redis.
///
/// The bucket is GCRA (the algorithm of the local `RateLimiter`), run by one Lua script
/// (`EVALSHA`): the theoretical arrival time (TAT) lives in one key with a `PX` expiry, and the
/// script reads the server's own `TIME`, so the instances' clocks play no part. Every admission is
/// one round trip, and the fleet together is admitted exactly what one bucket would admit: at
/// most `burst + t * rate` permits over any interval `t` (times in whole microseconds).
///
/// When the server cannot answer within `timeout` (down, partitioned, slow), `acquire` answers
/// `std::nullopt` and the `RateLimiter` decides from its local bucket; for `probe_interval`
/// afterwards no round trip is tried at all, so an outage costs one timeout per interval, not
/// one per call. The first answer from the server makes the limiter coordinated again.
/// Transitions are logged (a warning when coordination is lost) and counted in `stats()`.
///
///     auto coordinator = std::make_shared<shared::FleetRateLimiter>(redis_client, {
///         .key = "myapp:search", .rate = 100, .burst = 100});
///     RateLimiterConfig limiter{.rate = 100, .coordinator = coordinator};
///
/// Thread-safety: every member may be called concurrently. Lifetime: holds the Redis client; the
/// client must not be closed while calls are in flight (closing it makes them fall back).

#include "bulwark/core/clock.hpp"
#include "bulwark/redis/client.hpp"
#include "bulwark/redis/script.hpp"
#include "bulwark/resilience/rate_limit_coordinator.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::shared {

struct FleetRateLimiterConfig {
  /// The Redis key holding the bucket (prefix and limiter name).
  std::string key{};
  /// Permits per second for the whole fleet; > 0 and <= 1e6.
  double rate = 100.0;
  /// Bucket size; 0 = `max(1, ceil(rate))`, as for `RateLimiter`.
  std::uint32_t burst = 0;
  /// Bound on one round trip; > 0.
  Duration timeout = std::chrono::milliseconds(50);
  /// After a failed round trip, how long decisions stay local before the server is tried again.
  Duration probe_interval = std::chrono::milliseconds(500);
  /// Times the probe interval; null = `steady_clock()`.
  std::shared_ptr<Clock> clock{};
};

/// Counters since construction.
struct FleetStats {
  bool coordinated = false;            ///< The last decision came from the shared state.
  std::uint64_t shared_decisions = 0;  ///< Decisions made by the shared state.
  std::uint64_t local_decisions = 0;   ///< Decisions left to local state (no answer in time).
  std::uint64_t failures = 0;          ///< Round trips that failed or timed out.
};

/// What the script answered (for diagnostics and tests).
struct FleetAdmission {
  bool allowed = false;
  /// Allowed: the wait before going ahead. Refused: when the same request would be allowed.
  Duration wait{};
  /// The server's clock when it decided, in microseconds since the epoch.
  std::int64_t server_time_us = 0;
};

class FleetRateLimiter final : public RateLimitCoordinator {
 public:
  /// Throws `ConfigError` for a bad rate, burst, timeout or empty key. `client` must not be null;
  /// it should have no retry of its own (a late answer is no better than a local one).
  FleetRateLimiter(std::shared_ptr<redis::Client> client, FleetRateLimiterConfig config);

  /// See `RateLimitCoordinator::acquire`.
  boost::asio::awaitable<std::optional<RateLimiter::Admission>> acquire(std::uint32_t permits,
                                                                        Duration max_wait) override;

  /// One round trip, without the probe interval's short cut; nothing when it failed.
  boost::asio::awaitable<std::optional<FleetAdmission>> ask(std::uint32_t permits,
                                                            Duration max_wait);

  [[nodiscard]] bool coordinated() const noexcept;
  [[nodiscard]] FleetStats stats() const noexcept;
  [[nodiscard]] const FleetRateLimiterConfig& config() const noexcept { return config_; }

  /// The GCRA script: KEYS[1] the bucket; ARGV interval, capacity, cost and max wait, all in
  /// microseconds. Replies `{allowed (0/1), wait_us, server_time_us}`.
  [[nodiscard]] static const redis::Script& script();

 private:
  void succeeded() noexcept;
  void failed(std::string_view why) noexcept;

  std::shared_ptr<redis::Client> client_;
  FleetRateLimiterConfig config_;
  std::int64_t interval_us_;
  std::int64_t capacity_us_;
  std::atomic<bool> coordinated_{true};
  std::atomic<std::int64_t> skip_until_ns_{0};
  std::atomic<std::uint64_t> shared_decisions_{0};
  std::atomic<std::uint64_t> local_decisions_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace bulwark::shared
