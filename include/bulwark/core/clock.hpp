#pragma once
/// @file
/// Time as bulwark sees it. Every component that needs "now" or needs to wait takes a `Clock`,
/// so tests substitute a `ManualClock` and run without sleeping.
///
/// Thread-safety: all clocks here may be used from any number of threads at once.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace bulwark {

/// A steady (monotonic) clock that can also wait.
class Clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock() = default;

  /// Current time; never goes backwards.
  [[nodiscard]] virtual time_point now() const noexcept = 0;

  /// A cheaper reading with the resolution of the kernel tick (1-4 ms on Linux), for hot paths
  /// that only need milliseconds: overrun checks of synchronous calls, second-sized buckets.
  /// Compare coarse readings only with coarse readings.
  [[nodiscard]] virtual time_point coarse_now() const noexcept { return now(); }

  /// Blocks the calling thread for `d` (no-op when `d <= 0`). A `ManualClock` advances itself
  /// instead of blocking, so code that waits (retry backoff, rate limiting) runs instantly and
  /// deterministically in tests.
  virtual void sleep_for(duration d) = 0;

  /// True for clocks whose time only moves when told to (`ManualClock`). Asynchronous waits use
  /// this to advance the clock instead of arming a real timer.
  [[nodiscard]] virtual bool is_manual() const noexcept { return false; }
};

/// `std::chrono::steady_clock`, and `std::this_thread::sleep_for` to wait.
class SteadyClock final : public Clock {
 public:
  [[nodiscard]] time_point now() const noexcept override {
    return std::chrono::time_point_cast<duration>(std::chrono::steady_clock::now());
  }
  /// CLOCK_MONOTONIC_COARSE: about 5 ns instead of about 25-45 ns.
  [[nodiscard]] time_point coarse_now() const noexcept override;
  void sleep_for(duration d) override;
};

/// The process-wide `SteadyClock`, which components use when given no clock.
[[nodiscard]] std::shared_ptr<Clock> steady_clock();

/// A clock that moves only when `advance()`/`set()` is called, or when something sleeps on it
/// (the sleep advances it by the requested amount and is counted).
class ManualClock final : public Clock {
 public:
  /// Starts one hour past the epoch, so that `time_point{}` stays usable as "never".
  explicit ManualClock(time_point start = time_point{std::chrono::hours(1)}) noexcept
      : now_ns_(start.time_since_epoch().count()) {}

  [[nodiscard]] time_point now() const noexcept override {
    return time_point{duration{now_ns_.load(std::memory_order_acquire)}};
  }
  void sleep_for(duration d) override;
  [[nodiscard]] bool is_manual() const noexcept override { return true; }

  /// Moves time forward by `d` (must be >= 0).
  void advance(duration d) noexcept;
  /// Jumps to `t`; `t` before `now()` is ignored, so time never goes backwards.
  void set(time_point t) noexcept;

  /// Number of `sleep_for` calls with a positive duration, and their total.
  [[nodiscard]] std::uint64_t sleep_count() const noexcept {
    return sleeps_.load(std::memory_order_acquire);
  }
  [[nodiscard]] duration total_slept() const noexcept {
    return duration{slept_ns_.load(std::memory_order_acquire)};
  }

 private:
  std::atomic<std::int64_t> now_ns_;
  std::atomic<std::uint64_t> sleeps_{0};
  std::atomic<std::int64_t> slept_ns_{0};
};

}  // namespace bulwark
