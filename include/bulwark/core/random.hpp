#pragma once
/// @file
/// The random source behind jitter. Seed it in tests for repeatable delays; leave it unseeded in
/// production so that instances do not jitter in lockstep.
///
/// Thread-safety: `Random` is lock-free and safe to share between threads. With a fixed seed the
/// sequence of values is repeatable for a fixed order of calls.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace bulwark {

/// SplitMix64: a counter advanced atomically and a bijective mixer, so concurrent callers each
/// get a distinct, well-distributed value without a lock.
class Random {
 public:
  /// Seeded from `std::random_device`.
  Random();
  explicit Random(std::uint64_t seed) noexcept : state_(seed) {}

  Random(const Random&) = delete;
  Random& operator=(const Random&) = delete;

  /// A uniformly distributed 64-bit value.
  [[nodiscard]] std::uint64_t next() noexcept;
  /// Uniform in [0, 1).
  [[nodiscard]] double uniform() noexcept;
  /// Uniform in [lo, hi] (returns `lo` when `hi <= lo`).
  [[nodiscard]] std::chrono::nanoseconds between(std::chrono::nanoseconds lo,
                                                 std::chrono::nanoseconds hi) noexcept;

 private:
  std::atomic<std::uint64_t> state_;
};

}  // namespace bulwark
