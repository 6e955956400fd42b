#pragma once
/// @file
/// What the circuit breaker's sliding windows record and report.

#include <cstdint>

namespace bulwark::detail {

/// One call's outcome as a window stores it: a bit set, so that a slow failure is both.
/// `0` marks an empty slot.
enum Outcome : std::uint8_t {
  outcome_empty = 0,
  outcome_call = 1,  // every recorded outcome has this bit
  outcome_failed = 2,
  outcome_slow = 4,
};

[[nodiscard]] constexpr std::uint8_t make_outcome(bool failed, bool slow) noexcept {
  return static_cast<std::uint8_t>(outcome_call | (failed ? outcome_failed : 0) |
                                   (slow ? outcome_slow : 0));
}

/// The aggregates of a window: how many outcomes it holds, and how many of them failed or were
/// slow. `failed <= calls` and `slow <= calls` always hold in what a window reports.
struct WindowCounts {
  std::uint32_t calls = 0;
  std::uint32_t failed = 0;
  std::uint32_t slow = 0;
};

}  // namespace bulwark::detail
