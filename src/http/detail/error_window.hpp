#pragma once
// The recent window of a ServiceClient's statistics: the breaker's lock-free time window behind
// an interface of its own. It lives in its own translation unit because the window's outcome
// names and the pipeline's (which every HTTP header pulls in) share `bulwark::detail`.

#include "bulwark/core/clock.hpp"

#include <cstdint>
#include <memory>

namespace bulwark::detail {

class TimeWindow;

class ErrorWindow {
 public:
  static constexpr std::uint32_t max_buckets = 1000;

  struct Counts {
    std::uint64_t calls = 0;
    std::uint64_t failed = 0;
  };

  /// `length / buckets` must be >= 1ns and `buckets` <= max_buckets (the config checks both).
  ErrorWindow(Clock::duration length, std::uint32_t buckets);
  ~ErrorWindow();
  ErrorWindow(const ErrorWindow&) = delete;
  ErrorWindow& operator=(const ErrorWindow&) = delete;

  void record(bool failed, Clock::time_point now) noexcept;
  [[nodiscard]] Counts snapshot(Clock::time_point now) const noexcept;

 private:
  std::unique_ptr<TimeWindow> window_;
};

}  // namespace bulwark::detail
