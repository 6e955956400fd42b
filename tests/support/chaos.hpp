#pragma once
// Shared pieces of the fault scenarios (chaos_*_test.cpp): the process's resources before and
// after a scenario, timing figures, and the one-line report every scenario prints so that
// docs/reliability.md can quote it:
//
//   [figures] scenario=http.latency_spike calls=16 timeouts=9 max_ms=262.1 ...

#include "support/process_stats.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace bulwark::test {

/// The process's file descriptors and memory when a scenario starts, to compare with its end.
/// Take it once the servers and the proxy run and before the client exists, so that what the
/// client opens must be gone at the end.
struct Baseline {
  std::size_t fds = open_fd_count();
  std::size_t rss_kib = resident_kib();

  /// Bound on memory growth over one scenario: allocators keep some of what was freed; a leak per
  /// call in the thousands of calls a scenario makes goes past it. AddressSanitizer holds freed
  /// memory in quarantine (256 MiB by default) before reuse, so there the bound only catches a
  /// runaway and LeakSanitizer finds the leaks.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  static constexpr std::size_t max_growth_kib = 512 * 1024;
#else
  static constexpr std::size_t max_growth_kib = 64 * 1024;
#endif

  /// No descriptor left open (polled: sockets closed on other threads take a moment), and
  /// memory within the bound. Returns the growth in KiB for the figures.
  std::size_t expect_back(std::chrono::milliseconds limit = std::chrono::seconds(5)) const {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (open_fd_count() > fds && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_LE(open_fd_count(), fds) << "file descriptors leaked";
    const std::size_t now = resident_kib();
    const std::size_t growth = now > rss_kib ? now - rss_kib : 0;
    EXPECT_LE(growth, max_growth_kib) << "resident memory grew by " << growth << " KiB";
    return growth;
  }
};

inline double ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

/// Sorted copy's value at quantile `q` (0..1); 0 for none.
inline double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

/// Collects `key=value` pairs and prints them on one line: `[figures] scenario=<name> ...`.
class Figures {
 public:
  explicit Figures(std::string scenario) : line_("[figures] scenario=" + std::move(scenario)) {}
  template <class T>
  Figures& add(std::string_view key, const T& value) {
    if constexpr (std::is_floating_point_v<T>) {
      line_ += fmt::format(" {}={:.3f}", key, value);
    } else {
      line_ += fmt::format(" {}={}", key, value);
    }
    return *this;
  }
  void print() const { std::printf("%s\n", line_.c_str()); }

 private:
  std::string line_;
};

}  // namespace bulwark::test
