#pragma once
/// @file
/// The three kinds of metric a `Registry` holds: `Counter`, `Gauge` and `Histogram`. Each object
/// is one time series (one set of label values of a family). Callers get a reference from
/// `Family::labels()` once, keep it, and update it on the hot path:
///
/// ```
/// auto& calls = registry.counter({.name = "bulwark_client_calls_total",
///                                 .help = "Calls made through a client, by outcome.",
///                                 .labels = {"client", "outcome"}});
/// bulwark::observe::Counter& ok = calls.labels({"qdrant", "success"});  // once
/// ok.inc();                                                             // per call
/// ```
///
/// Cost: `Counter::inc()` is one relaxed atomic add; `Gauge` updates and `Counter::add(double)`
/// are a compare-and-swap loop on one atomic double; `Histogram::observe()` is a binary search
/// over the bucket bounds, one atomic add and one compare-and-swap loop. None of them locks,
/// allocates or throws. Each object sits on its own cache line so that series updated by
/// different threads do not slow each other down.
///
/// Thread-safety: every member function may be called concurrently from any thread. Relaxed
/// ordering is enough: a scrape reads each value atomically, and no other memory is published
/// through a metric.
///
/// Lifetime: objects handed out by a family live as long as the `Registry` that owns the family;
/// references stay valid for that long.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace bulwark::observe {

/// What a family's samples mean, as written on its `# TYPE` line.
enum class MetricType : std::uint8_t {
  counter,    ///< Only goes up (resets to 0 when the process restarts).
  gauge,      ///< Goes up and down; a current level.
  histogram,  ///< Observations counted into buckets, plus their sum and count.
};

/// The word used on the `# TYPE` line: "counter", "gauge" or "histogram".
[[nodiscard]] const char* type_name(MetricType type) noexcept;

/// A monotonically increasing count. Integer increments (`inc`) go to a 64-bit integer, fractional
/// ones (`add`) to a separate double, so that the integer path stays a single atomic add. `value()`
/// and the exposition add the two as doubles, exact while the total stays below 2^53.
class alignas(64) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  /// Adds 1.
  void inc() noexcept { integral_.fetch_add(1, std::memory_order_relaxed); }
  /// Adds `n`.
  void inc(std::uint64_t n) noexcept { integral_.fetch_add(n, std::memory_order_relaxed); }
  /// Deleted so that `inc(0.5)` does not silently add 0: use `add()` for fractions.
  template <std::floating_point F>
  void inc(F) = delete;
  /// Adds `amount`, which may be fractional (bytes, seconds). A counter never goes down, so a
  /// negative or NaN `amount` is ignored.
  void add(double amount) noexcept {
    if (!(amount >= 0)) return;
    fractional_.fetch_add(amount, std::memory_order_relaxed);
  }
  /// The current total.
  [[nodiscard]] double value() const noexcept {
    return static_cast<double>(integral_.load(std::memory_order_relaxed)) +
           fractional_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> integral_{0};
  std::atomic<double> fractional_{0.0};
};

/// A value that goes up and down: connections open, calls in flight, a state flag (0 or 1).
class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1.0) noexcept { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1.0) noexcept { value_.fetch_sub(amount, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// A consistent-enough copy of a histogram: each field was read atomically, but observations
/// made while the copy was taken may be counted in some fields and not yet in others.
struct HistogramSnapshot {
  /// The finite upper bounds, ascending; the implicit last bucket is +Inf.
  std::vector<double> bounds{};
  /// Cumulative counts: `buckets[i]` counts observations <= `bounds[i]`; the last element
  /// (index `bounds.size()`) counts every observation, the `+Inf` bucket.
  std::vector<std::uint64_t> buckets{};
  /// Sum of all observations.
  double sum = 0.0;
  /// Number of observations; always equal to `buckets.back()`.
  std::uint64_t count = 0;
};

/// Observations (latencies, sizes) counted into fixed buckets chosen when the family was created.
/// An observation `v` lands in the first bucket whose upper bound is >= `v` (Prometheus' `le`,
/// "less than or equal"), or in the +Inf bucket.
class alignas(64) Histogram {
 public:
  /// `bounds` must be finite and strictly ascending, and must outlive the histogram (a family
  /// shares one array among its series). Families validate their buckets; this does not.
  explicit Histogram(std::span<const double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  /// Records one observation. NaN is ignored: it would turn the sum into NaN for good.
  void observe(double value) noexcept {
    if (std::isnan(value)) return;
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    counts_[static_cast<std::size_t>(bucket)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }
  /// Records a duration in seconds, the base unit of time in metric names.
  template <class Rep, class Period>
  void observe(std::chrono::duration<Rep, Period> duration) noexcept {
    observe(std::chrono::duration<double>(duration).count());
  }

  /// The finite upper bounds this histogram counts into.
  [[nodiscard]] std::span<const double> bounds() const noexcept { return bounds_; }
  /// Cumulative bucket counts, sum and count; see `HistogramSnapshot`.
  [[nodiscard]] HistogramSnapshot snapshot() const;

 private:
  std::span<const double> bounds_;
  // bounds_.size() + 1 counters, not cumulative: the last one is the +Inf bucket. The count
  // of observations is their sum, so `_count` always equals the `+Inf` bucket.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

}  // namespace bulwark::observe
