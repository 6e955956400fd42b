#pragma once
// A latency histogram for the benchmarks: fixed size, no allocation when recording, mergeable
// (one per thread, summed at the end).

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bulwark::bench {

// Log-linear: 16 buckets per power of two of nanoseconds (about 6% resolution).
class Histogram {
 public:
  void record(std::uint64_t ns) noexcept {
    ++counts_[index(ns)];
    ++total_;
  }
  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }
  [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
  // The midpoint of the bucket holding quantile `q` (0..1), in microseconds.
  [[nodiscard]] double quantile_us(double q) const noexcept {
    if (total_ == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return midpoint(i) / 1000.0;
    }
    return midpoint(counts_.size() - 1) / 1000.0;
  }

 private:
  static constexpr unsigned sub_bits = 4;
  static constexpr std::size_t sub = 1U << sub_bits;
  static std::size_t index(std::uint64_t ns) noexcept {
    if (ns < sub) return ns;
    const unsigned shift = static_cast<unsigned>(std::bit_width(ns)) - 1 - sub_bits;
    const std::size_t i = (shift + 1) * sub + ((ns >> shift) - sub);
    return std::min(i, bucket_count - 1);
  }
  static double midpoint(std::size_t i) noexcept {
    if (i < sub) return static_cast<double>(i);
    const std::size_t shift = i / sub - 1;
    const double lower = static_cast<double>((i % sub + sub) << shift);
    return lower + static_cast<double>(std::uint64_t{1} << shift) / 2;
  }
  static constexpr std::size_t bucket_count = 48 * sub;
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t total_ = 0;
};

inline std::uint64_t elapsed_ns(std::chrono::steady_clock::time_point from,
                                std::chrono::steady_clock::time_point to) noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

}  // namespace bulwark::bench
