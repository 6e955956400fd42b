#pragma once
/// @file
/// A token-bucket rate limiter: `burst` permits may be taken at once, and the bucket refills at
/// `rate` permits per second. A caller that finds the bucket empty may be told to wait (when the
/// wait is within `max_wait`; the permit is then reserved for it) or is rejected with the time
/// after which it would succeed.
///
/// Implemented as GCRA (the "generic cell rate algorithm", an exact token bucket): the whole
/// state is one `std::atomic<std::int64_t>`, the theoretical arrival time (TAT) at which the
/// bucket would be full again, updated by a compare-and-swap loop. There is no refill thread
/// and no lock, and the bucket is exact: over any interval of length `t` starting with a full
/// bucket, at most `burst + floor(t * rate)` permits are granted (with `1 / rate` rounded to whole
/// nanoseconds).
///
/// Thread-safety: every member may be called from any number of threads at once.
///
/// Cost: `try_acquire` reads the clock once and runs a CAS loop (one iteration unless another
/// thread wins the race); it never allocates, throws or locks. A rejection with listeners
/// subscribed also publishes an event.
///
/// Time: the limiter reads `Clock::coarse_now()` (a few nanoseconds instead of tens), whose
/// resolution is the kernel tick (1-4 ms). A coarse reading lags the true time, so the limiter
/// can only err on the strict side: it never grants more than the bound above, and a granted
/// wait may be up to one tick longer than strictly necessary.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/resilience/events.hpp"
#include "bulwark/resilience/shared_state.hpp"

#include <boost/asio/awaitable.hpp>

#include <optional>

namespace bulwark {

class RateLimitCoordinator;

struct RateLimiterConfig {
  /// Names the limiter in events and metrics.
  std::string name{};
  /// Sustained rate in permits per second; must be > 0 and <= 1e9. Fractions are allowed
  /// (0.5 = one permit every two seconds).
  double rate = 100.0;
  /// Bucket size: permits that may be taken at once after a quiet period, and the most one
  /// `try_acquire` may ask for. 0 means `max(1, ceil(rate))`, one second's worth; after
  /// construction `config().burst` holds the value in use.
  std::uint32_t burst = 0;
  /// Longest wait `try_acquire` and `acquire` accept for a permit; 0 = never wait (reject at
  /// once when the bucket is empty). Must be >= 0.
  Duration max_wait = Duration::zero();
  /// Time source; null means `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Set: the rate is meant for every instance of the application together (the manager's
  /// `rate_limit.shared`); the manager connects the limiter to a coordinator accordingly.
  /// Read by whoever builds the coordinator, not by the limiter.
  std::optional<SharedStateConfig> shared{};
  /// Decides admissions from state shared with other processes (see rate_limit_coordinator.hpp);
  /// null = this bucket alone. Consulted by `async_try_acquire` only: the synchronous forms
  /// always use the local bucket.
  std::shared_ptr<RateLimitCoordinator> coordinator{};
};

/// Published on every rejection.
struct RateLimiterEvent {
  std::string_view limiter;  ///< `config().name`; valid while the limiter lives.
  Duration retry_after;      ///< When a retry would succeed (`Duration::max()`: never).
  Clock::time_point at;      ///< When the rejection happened.
};

/// Counters since construction, and the bucket's content now. Each field is read atomically but
/// not together with the others.
struct RateLimiterStats {
  std::uint64_t admitted;    ///< Granted requests (each counted once, whatever its permits).
  std::uint64_t delayed;     ///< Of those, the ones granted with a wait > 0.
  std::uint64_t rejected;    ///< Rejected requests.
  double available_permits;  ///< Permits that could be taken now without waiting (fractional).
  /// With a coordinator: requests decided by the local bucket because the coordinator could not
  /// answer (they are also counted in `admitted` or `rejected`).
  std::uint64_t local_fallbacks = 0;
};

class RateLimiter {
 public:
  /// Validates `config` (throws `ConfigError` with one issue per bad field, paths
  /// `rate_limiter.<field>`). The bucket starts full.
  explicit RateLimiter(RateLimiterConfig config);

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// The answer to a request for permits.
  struct Admission {
    /// Empty when granted. `errc::rate_limited` when the permits are not available within the
    /// allowed wait. `errc::invalid_argument` when more permits than `burst` were asked for,
    /// which can never succeed.
    std::error_code error;
    /// Granted: how long the caller must wait before going ahead (0 when the permits were
    /// available now; never more than the allowed wait). The permits are already reserved, so a
    /// caller that decides not to wait has still used them.
    /// Rejected: the time after which the same request would be granted without waiting, if
    /// nobody else takes permits meanwhile (`Duration::max()` for `invalid_argument`).
    Duration wait;
  };

  /// Takes `permits` (0 is granted at once and changes nothing), waiting at most
  /// `config().max_wait`. Never allocates or throws.
  [[nodiscard]] Admission try_acquire(std::uint32_t permits = 1) noexcept;
  /// The same, with `max_wait` in place of `config().max_wait` (negative counts as 0).
  [[nodiscard]] Admission try_acquire(std::uint32_t permits, Duration max_wait) noexcept;

  /// With a coordinator: asks it for `permits` within `config().max_wait`, and decides from the
  /// local bucket (`try_acquire`) only when it cannot answer. Without one: `try_acquire`, with no
  /// suspension. Rejections publish events and every decision is counted either way. Never
  /// throws, except that a cancelled caller's coroutine may be refused its `co_await`.
  [[nodiscard]] boost::asio::awaitable<Admission> async_try_acquire(std::uint32_t permits = 1);

  /// True when a coordinator decides the async admissions.
  [[nodiscard]] bool coordinated() const noexcept { return config_.coordinator != nullptr; }

  /// Blocking convenience: `try_acquire(permits)`, then `clock->sleep_for(wait)`. Returns the
  /// rejection's error without sleeping. May throw only what the clock's `sleep_for` throws.
  [[nodiscard]] Result<void> acquire(std::uint32_t permits = 1);

  [[nodiscard]] RateLimiterStats stats() const noexcept;

  /// Registers a listener for rejections until the subscription is dropped.
  [[nodiscard]] Subscription on_event(std::function<void(const RateLimiterEvent&)> listener);

  /// The configuration with defaults filled in (`burst` > 0, `clock` not null).
  [[nodiscard]] const RateLimiterConfig& config() const noexcept { return config_; }

  /// Appends one issue per bad field of `config`, with paths `<path>.<field>`.
  static void validate(const RateLimiterConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "rate_limiter");

 private:
  [[nodiscard]] Admission reject(std::error_code error, Duration retry_after,
                                 Clock::time_point now) noexcept;

  RateLimiterConfig config_;
  std::int64_t interval_ns_;  // time to earn one permit: 1e9 / rate, rounded, >= 1
  std::int64_t capacity_ns_;  // burst * interval: how far TAT may run ahead of now
  // Theoretical arrival time in clock nanoseconds: the bucket is full at or after it, and holds
  // (capacity - (tat - now)) / interval permits before it.
  std::atomic<std::int64_t> tat_ns_;
  EventPublisher<RateLimiterEvent> events_;
  std::atomic<std::uint64_t> admitted_{0};
  std::atomic<std::uint64_t> delayed_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> local_fallbacks_{0};
};

}  // namespace bulwark
