#pragma once
/// @file
/// A circuit breaker: stops calling a service that keeps failing, and lets a few probe calls
/// through after a while to find out whether it has recovered.
///
/// States:
/// - CLOSED: every call is permitted; outcomes go into a sliding window (the last N calls, or
///   the calls of the last T). After a failure or a slow call the breaker opens when
///   `consecutive_failures` failures came in a row, or, once the window holds `minimum_calls`
///   calls, when the failure rate or the slow-call rate reaches its threshold. A fast success
///   never opens it.
/// - OPEN: every call is rejected with `errc::circuit_open` until the recovery timeout has
///   elapsed; the next `try_acquire()` (or `state()`) then moves it to HALF_OPEN.
/// - HALF_OPEN: at most `half_open_permitted_calls` probe calls are admitted. A failed (or, with
///   slow-call detection, slow) probe re-opens the breaker with a longer wait (`recovery_backoff`,
///   capped at `max_recovery_timeout`); `half_open_success_threshold` successful probes close it
///   with a fresh window and the initial wait. A breaker in HALF_OPEN for longer than
///   `max_half_open_duration` re-opens, so a probe that never reports back cannot wedge it.
/// - DISABLED: every call is permitted and nothing is recorded in the window.
/// - FORCED_OPEN: every call is rejected until `close()` or `reset()`.
///
/// Use: `try_acquire()` before the call; if it returns a permit, make the call and report its
/// outcome with exactly one of `on_result`/`on_success`/`on_failure`/`on_ignored`, passing the
/// permit back. When `measures_duration()` is true, time the call and pass the elapsed time.
///
/// Generations: every state change starts a new generation, and a permit remembers the one it
/// was issued in. An outcome reported with a permit of an older generation counts in the totals
/// of `stats()` only: a slow call admitted while CLOSED that finishes after the breaker opened
/// is neither a probe nor part of the next window.
///
/// Thread-safety: every member function may be called from any number of threads at once.
/// Permitting, recording and rejecting take no lock and do not allocate: the state and its
/// generation are one atomic word, the count-based window is a lock-free ring, the time-based
/// window lock-free buckets (see `WindowType`). State changes are serialised by a mutex that the
/// hot paths never take, and their events are published while it is held, so listeners see the
/// transitions in the order they happened. Listeners run on the thread that caused the
/// transition and may call back into the breaker (the mutex is recursive); they must be quick.
///
/// Cost (CLOSED, count-based window, no listener): `try_acquire()` is one acquire load; reporting
/// a success is one `fetch_add` on the ring cursor and a few loads, and reads no clock. A
/// rejection in OPEN is one load, one clock read and one relaxed `fetch_add`.
///
/// Time: the breaker reads `Clock::coarse_now()` (a few nanoseconds; the resolution of the kernel
/// tick, 1-4 ms), which is plenty for recovery waits and window buckets measured in seconds, and
/// keeps the rejection path cheap. Event timestamps come from the same reading.

#include <chrono>
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
#include "bulwark/core/health.hpp"
#include "bulwark/core/random.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/resilience/events.hpp"
#include "bulwark/resilience/verdict.hpp"

namespace bulwark {

enum class BreakerState : std::uint8_t {
  closed,       ///< Calls flow; outcomes are recorded.
  open,         ///< Calls are rejected until the recovery timeout elapses.
  half_open,    ///< A few probe calls test whether the service recovered.
  disabled,     ///< Calls flow; nothing is recorded; the breaker never opens by itself.
  forced_open,  ///< Calls are rejected until `close()` or `reset()`.
};

/// "closed", "open", "half_open", "disabled" or "forced_open".
[[nodiscard]] std::string_view to_string(BreakerState state) noexcept;

/// closed and disabled are healthy, half_open is degraded, open and forced_open are failed.
[[nodiscard]] HealthState to_health(BreakerState state) noexcept;

/// How the CLOSED state's sliding window is kept.
enum class WindowType : std::uint8_t {
  /// The outcomes of the last `window_size` calls. Exact when single-threaded; under
  /// concurrency two calls that land on the same slot one lap apart keep one outcome.
  count_based,
  /// The outcomes of the last `window_duration`, in `window_buckets` buckets; an outcome expires
  /// between `window_duration - window_duration / window_buckets` and `window_duration` after it
  /// was recorded. Reporting an outcome reads the clock. Exact when single-threaded; under
  /// concurrency an outcome recorded at the instant its bucket rolls over to a new period may be
  /// dropped or expire one bucket early.
  time_based,
};

/// Settings of a `CircuitBreaker`. Validated by the constructor; a bad field is reported as
/// `circuit_breaker.<field>`.
struct CircuitBreakerConfig {
  /// Name in events, errors and metrics.
  std::string name{};
  /// Which sliding window CLOSED records outcomes in.
  WindowType window_type = WindowType::count_based;
  /// count_based: how many of the most recent calls the window holds. 1 to 1,000,000.
  std::uint32_t window_size = 100;
  /// time_based: how far back the window reaches. > 0, and at least `window_buckets` ns.
  Duration window_duration = std::chrono::seconds(60);
  /// time_based: how many buckets the window is split into (the granularity of expiry).
  /// 1 to 1000.
  std::uint32_t window_buckets = 10;
  /// Calls the window must hold before a failure or slow-call rate is judged; 0 behaves as 1.
  /// count_based: at most `window_size`. Does not apply to `consecutive_failures`.
  std::uint32_t minimum_calls = 20;
  /// Open when failed / calls >= this, in [0, 1]; 0 disables the failure-rate check.
  double failure_rate_threshold = 0.5;
  /// A call that takes longer than this (strictly) is slow; 0 disables slow-call detection.
  Duration slow_call_duration = Duration::zero();
  /// Open when slow / calls >= this, in (0, 1]. Only with slow-call detection.
  double slow_call_rate_threshold = 1.0;
  /// Open after this many failures in a row (a success resets the count); 0 disables.
  std::uint32_t consecutive_failures = 5;
  /// How long OPEN rejects calls before moving to HALF_OPEN; >= 0 (0: the next call probes).
  Duration recovery_timeout = std::chrono::seconds(30);
  /// Each re-open from HALF_OPEN multiplies the wait by this; >= 1 (1: constant wait).
  double recovery_backoff = 1.0;
  /// Cap of the growing wait, before jitter; >= `recovery_timeout`.
  Duration max_recovery_timeout = std::chrono::minutes(5);
  /// Each wait is varied uniformly by +- this fraction of itself, in [0, 1) (0.1 = +-10%), so
  /// that many clients do not probe a recovering service in lockstep.
  double recovery_jitter = 0.0;
  /// Probe calls admitted per HALF_OPEN episode; 1 to 65535. A probe reported as ignored frees
  /// its slot.
  std::uint32_t half_open_permitted_calls = 1;
  /// Successful probes that close the breaker; 1 to `half_open_permitted_calls`.
  std::uint32_t half_open_success_threshold = 1;
  /// HALF_OPEN for longer than this re-opens the breaker (with backoff, as a failed probe
  /// would); >= 0, 0 = no limit. Checked when a call asks for a permit or `state()` is read.
  Duration max_half_open_duration = std::chrono::seconds(60);
  /// Which errors are failures, successes or ignored; null -> `default_failure_classifier`.
  /// Used by `classify()`; the breaker itself is told verdicts, not errors.
  FailureClassifier classify{};
  /// Time source; null -> `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Source of the recovery jitter; null -> a randomly seeded `Random`.
  std::shared_ptr<Random> random{};
  /// Asked once OPEN's wait is over, before the breaker moves to HALF_OPEN: false keeps it OPEN,
  /// rejecting calls, and it is asked again at the next call (or `state()`). This is how a fleet
  /// of instances bounds how many of them probe a service at once (`shared::SharedBreaker`
  /// grants probes through Redis); null = always true. Called on the thread asking for a permit,
  /// with no lock held, only while OPEN's wait is over; it must be quick, must not throw and must
  /// not call into the breaker.
  std::function<bool()> probe_gate{};
};

/// Something that happened to a breaker.
struct BreakerEvent {
  enum class Type : std::uint8_t {
    state_changed,  ///< `from` -> `to`, with a reason.
    rejected,       ///< A call was refused; `from == to` is the state that refused it.
  };
  Type type;
  /// The breaker's name; valid while the breaker lives.
  std::string_view breaker;
  BreakerState from;
  BreakerState to;
  /// When it happened, by the breaker's clock.
  Clock::time_point at;
  /// state_changed: why, e.g. "failure rate 60% >= 50% over 20 calls", "5 consecutive
  /// failures", "slow-call rate 100% >= 100% over 20 calls", "probe failed", "probe was slow",
  /// "half-open for longer than 1m", "recovery timeout elapsed", "2 probes succeeded",
  /// "forced open", "disabled", "closed manually", "reset". Empty for rejected.
  std::string reason{};
};

/// A snapshot of a breaker's statistics. Each field is read atomically; the fields together are
/// consistent enough for metrics and health reports, not a transaction.
struct CircuitBreakerStats {
  /// The state, after any due lazy transition.
  BreakerState state;
  /// The window's contents. The window is emptied when the breaker closes; while OPEN or
  /// HALF_OPEN it still holds what made the breaker open.
  std::uint32_t calls_in_window;
  std::uint32_t failed_in_window;
  std::uint32_t slow_in_window;
  /// failed / calls and slow / calls over the window, in [0, 1]; 0 for an empty window. Reported
  /// even below `minimum_calls`, where they cannot open the breaker: compare `calls_in_window`
  /// with `config().minimum_calls` to tell.
  double failure_rate;
  double slow_call_rate;
  /// Failures in a row in the current CLOSED generation.
  std::uint32_t consecutive_failures;
  /// Outcomes reported since construction, in every state and generation; they never decrease,
  /// so metrics can export them as counters. A slow success counts in `successful_total` and
  /// `slow_total`, a slow failure in `failed_total` and `slow_total`.
  std::uint64_t successful_total;
  std::uint64_t failed_total;
  std::uint64_t slow_total;
  std::uint64_t ignored_total;
  /// Calls refused by `try_acquire()`.
  std::uint64_t rejected_total;
  /// Transitions into OPEN (from CLOSED or HALF_OPEN).
  std::uint64_t times_opened;
  /// The wait of the current (or most recent) OPEN period before jitter: `recovery_timeout`,
  /// grown by `recovery_backoff` for each re-open from HALF_OPEN, reset when the breaker closes.
  Duration current_recovery_timeout;
};

class CircuitBreaker {
 public:
  /// Validates `config` and throws `ConfigError` listing every bad field.
  explicit CircuitBreaker(CircuitBreakerConfig config);
  ~CircuitBreaker();

  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;
  /// Moving is not thread-safe; a moved-from breaker may only be destroyed or assigned to.
  CircuitBreaker(CircuitBreaker&&) noexcept;
  CircuitBreaker& operator=(CircuitBreaker&&) noexcept;

  /// Permission to make one call; pass it back with the call's outcome. Opaque to callers.
  struct Permit {
    std::uint64_t generation;
    bool probe;
  };

  /// A permit, or `errc::circuit_open` when the call is refused: OPEN before its wait elapsed,
  /// FORCED_OPEN, or HALF_OPEN with every probe slot taken. Each refusal counts in
  /// `rejected_total` and publishes a `rejected` event. Performs a due lazy transition first
  /// (OPEN -> HALF_OPEN after the wait, HALF_OPEN -> OPEN after `max_half_open_duration`).
  [[nodiscard]] Result<Permit> try_acquire() noexcept;

  /// Reports the outcome of a permitted call. `elapsed` is read only when `measures_duration()`;
  /// a call longer than `slow_call_duration` is slow. `Verdict::ignored` is `on_ignored`.
  void on_result(const Permit& permit, Verdict verdict, Duration elapsed) noexcept;
  void on_success(const Permit& permit, Duration elapsed = {}) noexcept;
  void on_failure(const Permit& permit, Duration elapsed = {}) noexcept;
  /// The call says nothing about the service (cancelled, rejected by a later policy): not
  /// recorded, but a probe frees its slot for another probe.
  void on_ignored(const Permit& permit) noexcept;

  /// How an error counts: the configured classifier, or `default_failure_classifier`.
  /// Throws whatever a configured classifier throws.
  [[nodiscard]] Verdict classify(const std::error_code& ec) const;

  /// True when slow-call detection is on (`slow_call_duration > 0`): the caller must time calls
  /// and pass the elapsed time. When false, callers need not read the clock at all.
  [[nodiscard]] bool measures_duration() const noexcept;

  /// The current state, after performing a due lazy transition, so a health check sees the
  /// truth even when no call has come by.
  [[nodiscard]] BreakerState state() const noexcept;

  /// How long OPEN will still reject calls; zero unless OPEN.
  [[nodiscard]] Duration remaining_open_time() const noexcept;

  /// Manual control. Each publishes a `state_changed` event when the state changes.
  /// `force_open()`: reject every call until `close()`/`reset()`.
  void force_open();
  /// Permit every call and record nothing until `close()`/`reset()`/`force_open()`.
  void disable();
  /// Back to CLOSED with a fresh window, no consecutive failures and the initial wait, from any
  /// state (also from CLOSED, to start a fresh window).
  void close();
  /// As `close()`, and publishes a "reset" event even when the breaker was already CLOSED.
  /// Totals in `stats()` are kept: they are counters.
  void reset();

  /// Adopts a state learnt elsewhere, typically from another instance of the same service
  /// (see `shared::SharedBreaker`). `adopt_open` moves CLOSED or HALF_OPEN to OPEN for exactly
  /// `wait` (no backoff growth, no jitter: the sender already applied them), publishing a
  /// `state_changed` event with `reason`; in OPEN it replaces the remaining wait, without an
  /// event. `adopt_closed` moves OPEN or HALF_OPEN to CLOSED as `close()` does, with `reason`.
  /// Both return false and change nothing in the other states: DISABLED and FORCED_OPEN are
  /// manual overrides that a remote instance does not undo, and CLOSED is already closed.
  bool adopt_open(Duration wait, std::string_view reason);
  bool adopt_closed(std::string_view reason);

  [[nodiscard]] CircuitBreakerStats stats() const noexcept;

  /// Registers a listener for every state change and rejection; see the class comment for where
  /// listeners run. Dropping the `Subscription` unsubscribes.
  [[nodiscard]] Subscription on_event(std::function<void(const BreakerEvent&)> listener);

  /// The validated configuration, with `clock` and `random` filled in.
  [[nodiscard]] const CircuitBreakerConfig& config() const noexcept;
  [[nodiscard]] std::string_view name() const noexcept;

  /// Appends one issue per bad field of `config`, with paths `<path>.<field>`: what the
  /// constructor checks, for configuration loaders that report every problem at once.
  static void validate(const CircuitBreakerConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "circuit_breaker");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark
