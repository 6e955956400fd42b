#pragma once
/// @file
/// The three health states every bulwark component reports, in the words the health JSON uses.

#include <string_view>

namespace bulwark {

enum class HealthState : unsigned char {
  healthy,   ///< Working normally.
  degraded,  ///< Working, but probing or partially failing (e.g. a half-open breaker).
  failed,    ///< Not usable right now (e.g. an open breaker, consecutive failed checks).
};

/// "healthy", "degraded" or "failed".
[[nodiscard]] constexpr std::string_view to_string(HealthState state) noexcept {
  switch (state) {
    case HealthState::healthy:
      return "healthy";
    case HealthState::degraded:
      return "degraded";
    case HealthState::failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace bulwark
