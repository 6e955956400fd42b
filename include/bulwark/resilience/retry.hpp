#pragma once
/// @file
/// Retry as a state machine that does no waiting and no I/O: the pipeline tells it when a call
/// begins, when each attempt starts, and how each attempt ended; it answers whether to try again
/// and after what delay. The pipeline does the waiting (synchronously with
/// `clock->sleep_for(delay)`, asynchronously with a timer), so the same `Retry` serves both and
/// unit tests drive it with a `ManualClock`.
///
/// Typical use by a pipeline:
/// @code
///   Retry::Call call = retry.begin();
///   for (;;) {
///     retry.on_attempt(call);
///     context.begin_attempt(call.attempts(), call.deadline());
///     std::error_code ec = attempt(context);
///     if (!ec) { retry.on_success(call); break; }
///     Retry::Decision decision = retry.on_failure(call, ec, context);
///     if (!decision.retry) { /* report ec (or retries_exhausted) */ break; }
///     clock->sleep_for(decision.delay);
///   }
/// @endcode
///
/// Thread-safety: one `Retry` serves any number of concurrent calls from any threads; its
/// members are safe to call concurrently. A `Retry::Call` belongs to one call and must not be
/// used by two threads at once.
///
/// Cost: `begin`, `on_attempt`, `on_failure` and `on_success` never allocate or throw. Their
/// shared state is relaxed atomic counters; with a `budget` they also take the budget's short
/// mutex (once in `begin`, and once per failure that passes every other check). Events are built
/// only when someone listens.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/random.hpp"
#include "bulwark/resilience/backoff.hpp"
#include "bulwark/resilience/call_context.hpp"
#include "bulwark/resilience/events.hpp"
#include "bulwark/resilience/retry_budget.hpp"
#include "bulwark/resilience/verdict.hpp"

namespace bulwark {

/// Why a call stopped retrying (see `Retry::on_failure` for the order of the checks).
enum class RetryStop : std::uint8_t {
  not_retryable,         ///< The retry predicate rejected the error.
  attempts_exhausted,    ///< `max_attempts` attempts have been made.
  deadline,              ///< The next attempt would start after the overall deadline.
  budget_exhausted,      ///< The shared retry budget refused the retry.
  not_idempotent,        ///< A non-idempotent request may have reached the service.
  retry_after_too_long,  ///< The service asked for a longer wait than `max_retry_after`.
};

/// Stable name ("attempts_exhausted"), for logs and metric labels.
[[nodiscard]] std::string_view to_string(RetryStop stop) noexcept;

struct RetryConfig {
  /// Names the policy in events and errors (usually the client's name).
  std::string name{};
  /// Attempts in all, including the first; must be >= 1. 1 disables retrying.
  std::uint32_t max_attempts = 3;
  /// Overall deadline, measured from `begin()`; 0 = none; must be >= 0. A retry whose delay
  /// would end past the deadline is not made. It stops retrying; it does not cut an attempt
  /// short (that is `TimeoutConfig`'s job), though the pipeline passes it to the callee as part
  /// of `CallContext::deadline()`.
  Duration max_duration = Duration::zero();
  /// Delays between attempts (paths `retry.backoff.<field>`).
  BackoffConfig backoff{};
  /// Which errors are worth another attempt; null means `default_retry_predicate` (transient
  /// errors). After construction `config().retry_on` is never null.
  RetryPredicate retry_on{};
  /// When true and the failed attempt reported `CallContext::set_retry_after`, that hint is the
  /// next delay instead of the backoff's. When false, hints are ignored.
  bool honor_retry_after = true;
  /// A hint longer than this stops retrying (`retry_after_too_long`): waiting that long rarely
  /// beats failing fast. Must be >= 0; only read when `honor_retry_after`.
  Duration max_retry_after = std::chrono::seconds(60);
  /// Shared cap on retries for one service; null = no budget.
  std::shared_ptr<RetryBudget> budget{};
  /// Settings of a budget for this policy alone, built at construction when `budget` is null
  /// (the manager's `retry.budget`, paths `retry.budget.<field>`); after construction
  /// `config().budget` points to it.
  std::optional<RetryBudgetConfig> budget_config{};
  /// Time source; null means `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Jitter source; null means a new, randomly seeded one.
  std::shared_ptr<Random> random{};
};

/// Published once for every retry granted and once for every call that gives up after a
/// failure. The string_view points into the `Retry`'s config; copy it to keep it longer than
/// the `Retry`.
struct RetryEvent {
  enum class Type : std::uint8_t {
    retry,    ///< Another attempt follows after `delay`.
    gave_up,  ///< No further attempt; `stop` says why.
  };
  Type type;
  std::string_view retry_name;
  int attempt;            ///< The attempt that failed (1-based).
  Duration delay;         ///< retry: the delay before the next attempt; gave_up: 0.
  std::error_code error;  ///< The failure.
  RetryStop stop;         ///< gave_up: why. retry: unspecified.
};

/// Counters since construction. Each field is read atomically but not together with the others,
/// so a snapshot taken while calls run may be off by the calls in flight.
struct RetryStats {
  std::uint64_t calls;                  ///< `begin()` calls.
  std::uint64_t succeeded_first_try;    ///< Succeeded on attempt 1.
  std::uint64_t succeeded_after_retry;  ///< Succeeded on attempt 2 or later.
  std::uint64_t failed_without_retry;   ///< Gave up after attempt 1.
  std::uint64_t failed_after_retry;     ///< Gave up after attempt 2 or later.
  std::uint64_t retries;                ///< Retries granted.
  std::uint64_t budget_rejections;      ///< Retries refused by the budget.
};

class Retry {
 public:
  /// Validates `config` (throws `ConfigError` with one issue per bad field, paths
  /// `retry.<field>` and `retry.backoff.<field>`) and fills in the defaults of null members.
  explicit Retry(RetryConfig config);

  Retry(const Retry&) = delete;
  Retry& operator=(const Retry&) = delete;

  /// The state of one call: a small value the pipeline keeps on its stack or coroutine frame.
  class Call {
   public:
    Call() = default;
    /// Attempts started so far (0 before the first `on_attempt`).
    [[nodiscard]] int attempts() const noexcept { return attempts_; }
    /// The overall deadline, `Clock::time_point::max()` if none.
    [[nodiscard]] Clock::time_point deadline() const noexcept { return deadline_; }

   private:
    friend class Retry;
    int attempts_ = 0;
    Clock::time_point deadline_ = Clock::time_point::max();
    Duration previous_delay_{};  // decorrelated jitter grows from it
  };

  /// Answer to a failed attempt.
  struct Decision {
    bool retry;      ///< Make another attempt after `delay`.
    Duration delay;  ///< How long to wait first (>= 0); 0 when not retrying.
    RetryStop stop;  ///< Why not, meaningful only when `!retry`.
  };

  /// Starts a call: counts it, records it with the budget, and starts the overall deadline.
  [[nodiscard]] Call begin() noexcept;
  /// Like `begin()`, with an outer deadline too (a pipeline's overall timeout): the call's
  /// deadline is the earlier of the two, so no retry is granted, counted or charged to the
  /// budget that the outer deadline would not let happen.
  [[nodiscard]] Call begin(Clock::time_point outer_deadline) noexcept;

  /// The pipeline calls this just before each attempt, the first included.
  void on_attempt(Call& call) noexcept;

  /// Decides after a failed attempt. Checks, in order, and stops at the first that applies:
  ///  1. `retry_on(error)` is false → `not_retryable`;
  ///  2. the context is `non_idempotent` and `sent()` → `not_idempotent` (never re-send a
  ///     request that may have reached the service);
  ///  3. `attempts() >= max_attempts` → `attempts_exhausted`;
  ///  4. the delay is the context's `retry_after()` hint when honoured and set (a hint above
  ///     `max_retry_after` → `retry_after_too_long`), otherwise the backoff's;
  ///  5. `now + delay > deadline()` → `deadline`;
  ///  6. the budget refuses → `budget_exhausted`.
  /// Publishes a `retry` or `gave_up` event and updates the statistics. Does not wait.
  [[nodiscard]] Decision on_failure(Call& call, const std::error_code& error,
                                    const CallContext& context) noexcept;

  /// Records that the call succeeded (statistics only).
  void on_success(const Call& call) noexcept;

  [[nodiscard]] RetryStats stats() const noexcept;

  /// Registers a listener for retry and give-up events until the subscription is dropped.
  [[nodiscard]] Subscription on_event(std::function<void(const RetryEvent&)> listener);

  /// The configuration with defaults filled in (`retry_on`, `clock`, `random` are never null).
  [[nodiscard]] const RetryConfig& config() const noexcept { return config_; }

  /// Appends one issue per bad field of `config`, with paths `<path>.<field>`.
  static void validate(const RetryConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "retry");

 private:
  [[nodiscard]] Decision give_up(const Call& call, const std::error_code& error,
                                 RetryStop stop) noexcept;

  RetryConfig config_;
  Backoff backoff_;
  EventPublisher<RetryEvent> events_;

  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> succeeded_first_try_{0};
  std::atomic<std::uint64_t> succeeded_after_retry_{0};
  std::atomic<std::uint64_t> failed_without_retry_{0};
  std::atomic<std::uint64_t> failed_after_retry_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> budget_rejections_{0};
};

}  // namespace bulwark
