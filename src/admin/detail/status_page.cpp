#include "admin/detail/status_page.hpp"

#include "admin/detail/html.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace bulwark::detail {
namespace {

// State colours (in the style sheet) are GitHub's: they keep 4.5:1 contrast with white text,
// and differ in lightness too, for readers who cannot tell red from green.
constexpr std::string_view style_sheet = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}
p.meta{color:#57606a;margin:0 0 16px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d0d7de;vertical-align:middle}
th{font-weight:600;background:#f6f8fa;white-space:nowrap;vertical-align:bottom}
th small{font-weight:400;color:#57606a}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px}
.state-healthy{background:#1a7f37}.state-degraded{background:#9a6700}
.state-failed{background:#cf222e}.state-unavailable{background:#6e7781}
td.client{white-space:nowrap}
.kind{color:#57606a;font-size:12px}
tr.has-error td{border-bottom:none}
tr.detail td{padding-top:0;font-family:ui-monospace,monospace;font-size:12px;color:#cf222e;overflow-wrap:anywhere}
svg.spark{display:block}
footer{margin-top:16px;color:#57606a;font-size:12px}
)";

std::string_view state_name(const ClientHealth& client) {
  return client.available ? to_string(client.state) : std::string_view("unavailable");
}

std::string rate_text(double per_second) {
  return per_second >= 100 ? fmt::format("{:.0f}", per_second) : fmt::format("{:.2f}", per_second);
}

std::string last_check_text(std::int64_t last_check, std::int64_t now) {
  if (last_check == 0) return "never";
  return fmt::format("{} s ago", std::max<std::int64_t>(0, now - last_check));
}

void append_row(std::string& html, const ClientHealth& client, const StatusPageInput& input) {
  const std::string name = html_escape(client.name);
  const std::string_view state = state_name(client);
  const auto rates = input.history.last_rates(client.name);
  const std::string calls = rates ? rate_text(rates->calls) : std::string("&ndash;");
  const std::string errors = rates ? rate_text(rates->errors) : std::string("&ndash;");
  const std::string latency =
      client.last_check == 0
          ? std::string("&ndash;")
          : fmt::format("{:.1f} ms",
                        std::chrono::duration<double, std::milli>(client.latency).count());
  fmt::format_to(std::back_inserter(html),
                 R"(<tr id="client-{0}" data-client="{0}" data-state="{1}"{11}>)"
                 R"(<td class="client"><strong>{0}</strong> <span class="kind">{2}{3}</span></td>)"
                 R"(<td><span class="badge state-{1}">{1}</span></td>)"
                 R"(<td>{4}</td><td class="num">{5} / {6} / {7}</td>)"
                 R"(<td class="num">{8}</td><td class="num">{9}</td><td class="num">{10}</td>)",
                 name, state, html_escape(client.kind), client.optional ? ", optional" : "",
                 html_escape(client.circuit_breaker_state), client.pool.active, client.pool.idle,
                 client.pool.max, calls, errors, latency,
                 client.last_error.empty() ? "" : R"( class="has-error")");
  const std::vector<double> latencies = input.history.latency_ms(client.name);
  const std::vector<double> error_rates = input.history.errors_per_second(client.name);
  html += "<td>";
  html += sparkline_svg(latencies, {.stroke = "#0969da", .label = "check latency", .unit = " ms"});
  html += "</td><td>";
  html +=
      sparkline_svg(error_rates, {.stroke = "#cf222e", .label = "errors per second", .unit = "/s"});
  fmt::format_to(std::back_inserter(html), R"(</td><td class="num">{}</td></tr>)",
                 last_check_text(client.last_check, input.now_unix));
  // The error gets a line of its own under the row: it is long, and squeezed into a column it
  // would be unreadable.
  if (!client.last_error.empty()) {
    fmt::format_to(std::back_inserter(html),
                   R"(<tr class="detail" data-error-for="{}"><td colspan="10">{}</td></tr>)", name,
                   html_escape(client.last_error));
  }
  html += '\n';
}

}  // namespace

std::string render_status_page(const StatusPageInput& input) {
  const HealthReport& report = input.report;
  const std::string_view overall = to_string(report.state);
  std::string html;
  html.reserve(4096 + report.clients.size() * 1500);
  const auto refresh = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(input.refresh).count());
  fmt::format_to(std::back_inserter(html),
                 R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="{0}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bulwark status: {1}</title>
<style>{2}</style></head>
<body><header><h1>bulwark clients <span id="overall" class="badge state-{1}" data-state="{1}">{1}</span></h1>
)",
                 refresh, overall, style_sheet);
  std::size_t counts[3] = {0, 0, 0};
  for (const ClientHealth& client : report.clients) {
    if (client.available) ++counts[static_cast<std::size_t>(client.state)];
  }
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(input.now_unix));
  fmt::format_to(
      std::back_inserter(html),
      R"(<p class="meta">{} healthy, {} degraded, {} failed &middot; {:%Y-%m-%d %H:%M:%S} UTC &middot; reloads every {}s &middot; rates over the last {}, charts over up to {}</p></header>
)",
      counts[0], counts[1], counts[2], fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
      refresh, format_duration(input.sample_interval),
      format_duration(input.sample_interval *
                      static_cast<std::int64_t>(input.history.capacity() - 1)));
  html += R"(<table id="clients"><thead><tr><th>Client</th><th>State</th><th>Breaker</th>)"
          R"(<th>Pool<br><small>active / idle / max</small></th><th>Calls/s</th>)"
          R"(<th>Errors/s</th><th>Check<br><small>latency</small></th>)"
          R"(<th>Latency<br><small>trend</small></th><th>Errors/s<br><small>trend</small></th>)"
          R"(<th>Checked</th>)"
          R"(</tr></thead><tbody>
)";
  for (const ClientHealth& client : report.clients) append_row(html, client, input);
  if (report.clients.empty()) {
    html += R"(<tr><td colspan="10">No clients are configured.</td></tr>)";
  }
  html += R"(</tbody></table>
<footer>Machine-readable: <a href="/health">/health</a> &middot; <a href="/health/ready">/health/ready</a> &middot; <a href="/metrics">/metrics</a></footer>
</body></html>
)";
  return html;
}

}  // namespace bulwark::detail
