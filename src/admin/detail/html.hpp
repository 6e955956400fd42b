#pragma once
// Building blocks of the /status page: escaping for HTML text and attributes, and inline SVG
// sparklines (the page may load nothing from outside, so charts are drawn in the markup).

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::detail {

/// `text` with `& < > " '` replaced by entities: safe in element content and in quoted
/// attribute values. Everything shown on the page that came from outside (client names, error
/// messages) goes through it.
[[nodiscard]] std::string html_escape(std::string_view text);

struct SparklineStyle {
  int width = 100;
  int height = 28;
  std::string_view stroke = "#57606a";  ///< A CSS colour.
  std::string_view label{};             ///< Accessible name and tooltip ("latency (ms)").
  std::string_view unit{};              ///< Appended to the maximum in the tooltip.
};

/// An inline `<svg>` drawing `values` (oldest first) as a polyline scaled to their maximum, with
/// the last value marked by a dot. Fewer than two values draw an empty frame. Negative and
/// non-finite values count as 0.
[[nodiscard]] std::string sparkline_svg(const std::vector<double>& values,
                                        const SparklineStyle& style);

}  // namespace bulwark::detail
