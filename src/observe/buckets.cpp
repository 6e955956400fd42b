#include "bulwark/observe/buckets.hpp"

#include <cmath>

#include <fmt/format.h>

#include "bulwark/core/error.hpp"

namespace bulwark::observe {

std::vector<double> default_latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
  if (count == 0 || !std::isfinite(start) || !std::isfinite(width) || !(width > 0)) {
    throw Error(make_error_code(errc::invalid_argument), {},
                fmt::format("linear buckets need count >= 1 and a finite width > 0, got start {}, "
                            "width {}, count {}",
                            start, width, count));
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  // Multiplying instead of adding repeatedly keeps rounding errors from accumulating.
  for (std::size_t i = 0; i < count; ++i) bounds.push_back(start + static_cast<double>(i) * width);
  return bounds;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  if (count == 0 || !std::isfinite(start) || !std::isfinite(factor) || !(start > 0) ||
      !(factor > 1)) {
    throw Error(
        make_error_code(errc::invalid_argument), {},
        fmt::format("exponential buckets need count >= 1, a finite start > 0 and a finite factor "
                    "> 1, got start {}, factor {}, count {}",
                    start, factor, count));
  }
  std::vector<double> bounds;
  bounds.reserve(count);
  double bound = start;
  for (std::size_t i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

}  // namespace bulwark::observe
