#pragma once
/// @file
/// Histogram bucket layouts. A layout is the list of finite upper bounds, ascending; the +Inf
/// bucket is always added by the histogram and need not be listed.

#include <cstddef>
#include <vector>

namespace bulwark::observe {

/// Bounds suited to request latency in seconds, from 0.5 ms to 10 s:
/// 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10.
/// Used when a histogram is created without buckets.
[[nodiscard]] std::vector<double> default_latency_buckets();

/// `count` bounds: `start`, `start + width`, `start + 2 * width`, ...
/// Throws `Error(invalid_argument)` unless `count >= 1` and `width > 0` (both finite).
[[nodiscard]] std::vector<double> linear_buckets(double start, double width, std::size_t count);

/// `count` bounds: `start`, `start * factor`, `start * factor^2`, ...
/// Throws `Error(invalid_argument)` unless `count >= 1`, `start > 0` and `factor > 1` (finite).
[[nodiscard]] std::vector<double> exponential_buckets(double start, double factor,
                                                      std::size_t count);

}  // namespace bulwark::observe
