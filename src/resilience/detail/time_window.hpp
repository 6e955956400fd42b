#pragma once
/// @file
/// The time-based sliding window: outcomes of the last `length` of time, in `buckets` buckets,
/// lock-free.
///
/// Time is cut into epochs of `length / buckets`; epoch `e` lives in bucket `e % buckets`, which
/// remembers which epoch its counters belong to. The first outcome of a new epoch finds the
/// bucket holding an expired epoch, claims it with a CAS on the epoch word, zeroes its counters
/// and publishes the new epoch. A snapshot sums the buckets whose epoch is one of the last
/// `buckets` epochs, so an outcome expires between `length - length / buckets` and `length`
/// after it was recorded (the current bucket is partly filled).
///
/// Exactness: single-threaded, exact. Concurrently, at a bucket boundary an outcome recorded
/// while another thread is claiming that bucket may be zeroed with the old epoch's counts, or
/// land in the bucket's previous epoch and expire early; a snapshot taken during a claim may miss
/// the bucket being claimed. Both affect only outcomes recorded at the same instant as the claim.
/// Nobody waits for anybody.
///
/// Thread-safety: every member may be called concurrently.

#include <atomic>
#include <cstdint>
#include <memory>

#include "bulwark/core/clock.hpp"
#include "resilience/detail/window_counts.hpp"

namespace bulwark::detail {

class TimeWindow {
 public:
  static constexpr std::uint32_t max_buckets = 1000;

  /// `length / buckets` must be at least 1ns; the breaker's config validation ensures it.
  TimeWindow(Clock::duration length, std::uint32_t buckets);

  TimeWindow(const TimeWindow&) = delete;
  TimeWindow& operator=(const TimeWindow&) = delete;

  /// Records an outcome observed at `now`.
  void record_at(std::uint8_t outcome, Clock::time_point now) noexcept;

  /// Records `outcome` at `now` and returns the aggregates including it.
  WindowCounts record(std::uint8_t outcome, Clock::time_point now) noexcept {
    record_at(outcome, now);
    return snapshot(now);
  }

  /// The aggregates of the window that ends at `now`.
  [[nodiscard]] WindowCounts snapshot(Clock::time_point now) const noexcept;

  /// Outcomes recorded since construction (not reset by `clear()`).
  [[nodiscard]] std::uint64_t recorded_total() const noexcept {
    return recorded_.load(std::memory_order_acquire);
  }

  /// Forgets every outcome.
  void clear() noexcept;

  [[nodiscard]] Clock::duration bucket_length() const noexcept {
    return Clock::duration{bucket_ns_};
  }

 private:
  // Epoch numbers are stored plus one, so that 0 can mean "empty"; the top bit marks a bucket
  // whose counters are being zeroed for the epoch in the other bits.
  static constexpr std::uint64_t claiming = std::uint64_t{1} << 63;

  struct Bucket {
    std::atomic<std::uint64_t> epoch{0};
    std::atomic<std::uint64_t> calls{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> slow{0};
  };

  [[nodiscard]] std::uint64_t epoch_of(Clock::time_point now) const noexcept;

  const std::uint64_t bucket_ns_;
  const std::uint32_t bucket_count_;
  std::unique_ptr<Bucket[]> buckets_;
  alignas(64) std::atomic<std::uint64_t> recorded_{0};
};

}  // namespace bulwark::detail
