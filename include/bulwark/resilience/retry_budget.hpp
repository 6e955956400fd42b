#pragma once
/// @file
/// A retry budget caps retries at a fraction of recent calls, so that when a service fails
/// every caller's retries cannot multiply its load (a 3-attempt retry policy alone can triple
/// the traffic of an outage). One budget is shared by every `Retry` that talks to one service.
///
/// Thread-safety: every member may be called from any number of threads at once. The counters
/// sit behind one short `std::mutex`: each call holds it for a handful of additions over at most
/// `bucket_count` buckets, and never allocates or calls out while holding it. A lock is used
/// rather than atomics because "check the allowance, then count the retry" must be one step, or
/// concurrent callers could all pass the check and overspend the budget.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/resilience/shared_state.hpp"

#include <optional>

namespace bulwark {

struct RetryBudgetConfig {
  /// Retries allowed per original call within the window (0.2 = 20%). Must be >= 0; 0 leaves
  /// only the `min_retries_per_second` floor.
  double ratio = 0.2;
  /// Retries allowed per second of the window regardless of traffic, so that a service with few
  /// calls can still retry. 0 = no floor.
  std::uint32_t min_retries_per_second = 10;
  /// How far back calls and retries are counted; must be > 0.
  Duration window = std::chrono::seconds(10);
  /// Set: the ratio is meant for every instance of the application together (the manager's
  /// `retry.budget.shared`); the manager then publishes this budget's counts and feeds the
  /// fleet's totals back (`take_unshared`, `set_fleet_totals`). Not read by the budget itself.
  std::optional<SharedStateConfig> shared{};
};

/// Calls and retries, as counted over a window or since the last publication.
struct RetryBudgetCounts {
  std::uint64_t calls = 0;
  std::uint64_t retries = 0;
  friend bool operator==(const RetryBudgetCounts&, const RetryBudgetCounts&) = default;
};

/// Counts over the current window, and rejections since construction.
struct RetryBudgetStats {
  std::uint64_t calls_in_window;    ///< Original calls recorded in the window.
  std::uint64_t retries_in_window;  ///< Retries granted in the window.
  std::uint64_t rejected_total;     ///< `try_acquire_retry()` calls that returned false.
  /// True while decisions use the fleet's totals (`set_fleet_totals`) rather than the local
  /// window; the two fields below are then the counts decisions are made on.
  bool fleet = false;
  std::uint64_t fleet_calls = 0;    ///< Fleet totals last seen plus local counts since.
  std::uint64_t fleet_retries = 0;  ///< Likewise for retries.
};

class RetryBudget {
 public:
  /// The window is divided into this many buckets of `window / bucket_count` each. The window
  /// therefore slides in steps of one bucket: counts from the oldest bucket drop out all at once
  /// when a new bucket begins, so the span actually counted is between 9/10 of the window and
  /// the whole window.
  static constexpr std::size_t bucket_count = 10;

  /// Validates `config` (throws `ConfigError`, paths `retry.budget.<field>`). A null `clock`
  /// means `steady_clock()`.
  RetryBudget(RetryBudgetConfig config, std::shared_ptr<Clock> clock);

  /// Records one original call (not a retry), which earns `ratio` retries for the window.
  void record_call() noexcept;

  /// Grants one retry, and counts it, when
  /// `retries_in_window < ratio * calls_in_window + min_retries_per_second * window_seconds`;
  /// otherwise returns false and counts a rejection.
  [[nodiscard]] bool try_acquire_retry() noexcept;

  [[nodiscard]] RetryBudgetStats stats() const noexcept;

  // Fleet-wide budgets (docs/scale-out.md). A publisher (`shared::FleetRetryBudget`) calls
  // `take_unshared()` periodically, adds the counts to the fleet's store, and hands back the
  // fleet's totals over the window with `set_fleet_totals`. Decisions then compare
  //   fleet totals last seen + counts taken but not yet confirmed + counts recorded since
  // so the ratio holds across instances, up to what the others recorded since their last
  // publication. The local window keeps counting throughout and takes over again after
  // `clear_fleet_totals()`.

  /// Counts recorded since the previous call, which count as "in flight" until the next
  /// `set_fleet_totals` or `clear_fleet_totals`.
  [[nodiscard]] RetryBudgetCounts take_unshared() noexcept;
  /// The fleet's totals over the window, this instance's published counts included.
  void set_fleet_totals(RetryBudgetCounts totals) noexcept;
  /// Decide from the local window again (the fleet's store cannot be reached).
  void clear_fleet_totals() noexcept;
  /// True between `set_fleet_totals` and `clear_fleet_totals`.
  [[nodiscard]] bool uses_fleet_totals() const noexcept;

  [[nodiscard]] const RetryBudgetConfig& config() const noexcept { return config_; }

  /// Appends one issue per bad field of `config`, with paths `<path>.<field>`.
  static void validate(const RetryBudgetConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path = "retry.budget");

 private:
  struct Bucket {
    std::int64_t epoch = -1;  // Index of the bucket-sized time slice these counts belong to.
    std::uint64_t calls = 0;
    std::uint64_t retries = 0;
  };
  struct Totals {
    std::uint64_t calls = 0;
    std::uint64_t retries = 0;
  };

  // Both require `mutex_`. `current_epoch` never goes backwards, even if threads read the clock
  // out of order.
  [[nodiscard]] std::int64_t current_epoch() const noexcept;
  [[nodiscard]] Bucket& bucket_for(std::int64_t epoch) noexcept;
  [[nodiscard]] Totals totals(std::int64_t epoch) const noexcept;

  RetryBudgetConfig config_;
  std::shared_ptr<Clock> clock_{};
  Clock::time_point origin_;
  Duration bucket_width_;
  double floor_;  // min_retries_per_second * window in seconds

  mutable std::mutex mutex_;
  mutable std::int64_t latest_epoch_ = 0;
  std::array<Bucket, bucket_count> buckets_{};
  std::uint64_t rejected_total_ = 0;
  // Fleet view, under `mutex_`.
  std::optional<RetryBudgetCounts> fleet_{};
  RetryBudgetCounts unshared_{};
  RetryBudgetCounts in_flight_{};
};

}  // namespace bulwark
