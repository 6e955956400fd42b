#include "admin/detail/html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace bulwark::detail {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string sparkline_svg(const std::vector<double>& values, const SparklineStyle& style) {
  const auto clean = [](double v) { return std::isfinite(v) && v > 0 ? v : 0.0; };
  double peak = 0;
  for (const double v : values) peak = std::max(peak, clean(v));
  const std::string label = html_escape(style.label);
  std::string svg =
      fmt::format(R"(<svg class="spark" width="{0}" height="{1}" viewBox="0 0 {0} {1}" role="img" )"
                  R"(aria-label="{2}"><title>{2}: max {3:.3g}{4}, last {5:.3g}{4}</title>)",
                  style.width, style.height, label, peak, html_escape(style.unit),
                  values.empty() ? 0.0 : clean(values.back()));
  if (values.size() >= 2) {
    // Two pixels of padding so that the line and the dot are not clipped at the edges.
    const double pad = 2;
    const double span_x = style.width - 2 * pad;
    const double span_y = style.height - 2 * pad;
    const double step = span_x / static_cast<double>(values.size() - 1);
    std::string points;
    double x = pad;
    double y = pad + span_y;
    for (std::size_t i = 0; i < values.size(); ++i) {
      x = pad + step * static_cast<double>(i);
      y = pad + span_y - (peak > 0 ? clean(values[i]) / peak * span_y : 0.0);
      if (!points.empty()) points += ' ';
      points += fmt::format("{:.1f},{:.1f}", x, y);
    }
    svg += fmt::format(R"(<polyline fill="none" stroke="{0}" stroke-width="1.5" points="{1}"/>)"
                       R"(<circle cx="{2:.1f}" cy="{3:.1f}" r="2" fill="{0}"/>)",
                       style.stroke, points, x, y);
  }
  svg += "</svg>";
  return svg;
}

}  // namespace bulwark::detail
