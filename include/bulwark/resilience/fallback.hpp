#pragma once
/// @file
/// Fallback: what a call returns instead of failing. It is the outermost step of a pipeline, so it
/// sees the final failure, after retries and breaker rejections.

#include "bulwark/resilience/detail/outcome.hpp"

#include <functional>
#include <system_error>
#include <utility>

namespace bulwark {

template <class T>
struct Fallback {
  /// Which failures fall back; empty means every failure.
  std::function<bool(const std::error_code&)> when{};
  /// Produces the replacement value from the failure. Exceptions it throws reach the caller.
  std::function<T(const std::error_code&)> produce{};

  [[nodiscard]] bool applies_to(const std::error_code& error) const {
    return produce && (!when || when(error));
  }
};

/// Falls back to a fixed value (a cached answer, an empty list) on the failures `when` selects.
template <class T>
[[nodiscard]] Fallback<T> fallback_value(T value,
                                         std::function<bool(const std::error_code&)> when = {}) {
  return {std::move(when), [v = std::move(value)](const std::error_code&) { return v; }};
}

/// Falls back to what `produce(error)` returns on the failures `when` selects.
template <class T>
[[nodiscard]] Fallback<T> fallback_to(std::function<T(const std::error_code&)> produce,
                                      std::function<bool(const std::error_code&)> when = {}) {
  return {std::move(when), std::move(produce)};
}

}  // namespace bulwark
