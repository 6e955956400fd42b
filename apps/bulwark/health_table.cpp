#include "health_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <vector>

namespace bulwark::cli {
namespace {

std::string_view colour_of(HealthState state) {
  switch (state) {
    case HealthState::healthy:
      return "\033[32m";
    case HealthState::degraded:
      return "\033[33m";
    case HealthState::failed:
      return "\033[31m";
  }
  return "";
}

}  // namespace

std::string health_table(const HealthReport& report, bool colour) {
  using Row = std::array<std::string, 6>;
  std::vector<Row> rows;
  rows.push_back({"CLIENT", "KIND", "STATE", "LATENCY", "BREAKER", "ERROR"});
  for (const ClientHealth& client : report.clients) {
    const std::string state =
        client.available ? std::string(to_string(client.state)) : std::string("unavailable");
    const std::string latency =
        client.last_check == 0
            ? std::string("-")
            : fmt::format("{:.1f}ms",
                          std::chrono::duration<double, std::milli>(client.latency).count());
    rows.push_back({client.name, client.kind, state, latency, client.circuit_breaker_state,
                    client.available ? client.last_error : "optional; its secret is not set"});
  }
  std::array<std::size_t, 5> width{};
  for (const Row& row : rows) {
    for (std::size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    for (std::size_t i = 0; i < width.size(); ++i) {
      const bool paint = colour && r > 0 && i == 2 && report.clients[r - 1].available;
      if (paint) out += colour_of(report.clients[r - 1].state);
      out += fmt::format("{:<{}}", row[i], width[i]);
      if (paint) out += "\033[0m";
      out += "  ";
    }
    out += row[5];
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

}  // namespace bulwark::cli
