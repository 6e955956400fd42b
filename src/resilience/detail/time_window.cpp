#include "resilience/detail/time_window.hpp"

#include <algorithm>
#include <limits>

namespace bulwark::detail {

TimeWindow::TimeWindow(Clock::duration length, std::uint32_t buckets)
    : bucket_ns_(static_cast<std::uint64_t>(length.count()) / buckets),
      bucket_count_(buckets),
      buckets_(std::make_unique<Bucket[]>(buckets)) {}

std::uint64_t TimeWindow::epoch_of(Clock::time_point now) const noexcept {
  const std::int64_t ns = std::max<std::int64_t>(now.time_since_epoch().count(), 0);
  return static_cast<std::uint64_t>(ns) / bucket_ns_ + 1;
}

void TimeWindow::record_at(std::uint8_t outcome, Clock::time_point now) noexcept {
  const std::uint64_t epoch = epoch_of(now);
  Bucket& bucket = buckets_[epoch % bucket_count_];
  std::uint64_t seen = bucket.epoch.load(std::memory_order_acquire);
  // A bucket still holding an older epoch is claimed by exactly one thread, which zeroes it.
  // Threads that lose the race (or find a claim in progress) add their outcome anyway: waiting
  // would make recording blocking, and the outcome is off by at most one bucket.
  if ((seen & claiming) == 0 && seen < epoch &&
      bucket.epoch.compare_exchange_strong(seen, epoch | claiming, std::memory_order_acq_rel)) {
    bucket.calls.store(0, std::memory_order_relaxed);
    bucket.failed.store(0, std::memory_order_relaxed);
    bucket.slow.store(0, std::memory_order_relaxed);
    bucket.epoch.store(epoch, std::memory_order_release);
  }
  bucket.calls.fetch_add(1, std::memory_order_relaxed);
  if ((outcome & outcome_failed) != 0) bucket.failed.fetch_add(1, std::memory_order_relaxed);
  if ((outcome & outcome_slow) != 0) bucket.slow.fetch_add(1, std::memory_order_relaxed);
  recorded_.fetch_add(1, std::memory_order_acq_rel);
}

WindowCounts TimeWindow::snapshot(Clock::time_point now) const noexcept {
  const std::uint64_t current = epoch_of(now);
  std::uint64_t calls = 0;
  std::uint64_t failed = 0;
  std::uint64_t slow = 0;
  for (std::uint32_t i = 0; i < bucket_count_; ++i) {
    const Bucket& bucket = buckets_[i];
    const std::uint64_t epoch = bucket.epoch.load(std::memory_order_acquire);
    // Empty, being zeroed, or older than the window. A bucket ahead of `current` was written by
    // a thread that read the clock later than our caller did; it is recent, so it counts.
    if (epoch == 0 || (epoch & claiming) != 0 || epoch + bucket_count_ <= current) continue;
    calls += bucket.calls.load(std::memory_order_relaxed);
    failed += bucket.failed.load(std::memory_order_relaxed);
    slow += bucket.slow.load(std::memory_order_relaxed);
  }
  constexpr std::uint64_t cap = std::numeric_limits<std::uint32_t>::max();
  calls = std::min(calls, cap);
  return WindowCounts{static_cast<std::uint32_t>(calls),
                      static_cast<std::uint32_t>(std::min(failed, calls)),
                      static_cast<std::uint32_t>(std::min(slow, calls))};
}

void TimeWindow::clear() noexcept {
  for (std::uint32_t i = 0; i < bucket_count_; ++i) {
    Bucket& bucket = buckets_[i];
    bucket.epoch.store(0, std::memory_order_release);
    bucket.calls.store(0, std::memory_order_relaxed);
    bucket.failed.store(0, std::memory_order_relaxed);
    bucket.slow.store(0, std::memory_order_relaxed);
  }
}

}  // namespace bulwark::detail
