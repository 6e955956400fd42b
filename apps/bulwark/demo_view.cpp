#include "demo_view.hpp"

#include "bulwark/observe/catalogue.hpp"
#include "bulwark/observe/registry.hpp"
#include "demo_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace bulwark::cli {
namespace {

namespace catalogue = observe::catalogue;

std::string_view colour_of(std::string_view health) {
  if (health == "healthy") return "\033[32m";
  if (health == "degraded") return "\033[33m";
  if (health == "failed") return "\033[31m";
  return "";
}

std::string_view kind_name(ClientKind kind) { return kind == ClientKind::http ? "http" : "redis"; }

}  // namespace

std::string format_ms(std::optional<double> ms) {
  if (!ms) return "-";
  if (*ms < 10) return fmt::format("{:.1f}ms", *ms);
  if (*ms < 1000) return fmt::format("{:.0f}ms", *ms);
  return fmt::format("{:.2f}s", *ms / 1000);
}

std::optional<double> quantile_between(const observe::HistogramSnapshot& before,
                                       const observe::HistogramSnapshot& after, double q) {
  if (after.buckets.size() != before.buckets.size() || after.buckets.empty()) return std::nullopt;
  const auto in = [&](std::size_t i) { return after.buckets[i] - before.buckets[i]; };
  const std::uint64_t total = in(after.buckets.size() - 1);
  if (total == 0) return std::nullopt;
  const double rank = q * static_cast<double>(total);
  for (std::size_t i = 0; i < after.buckets.size(); ++i) {
    const auto cumulative = static_cast<double>(in(i));
    if (cumulative < rank) continue;
    const double lower = i == 0 ? 0.0 : after.bounds[i - 1];
    // The +Inf bucket has no upper bound: its lower one is the best estimate there is.
    if (i == after.bounds.size()) return lower;
    const double below = i == 0 ? 0.0 : static_cast<double>(in(i - 1));
    const double share = cumulative > below ? (rank - below) / (cumulative - below) : 1.0;
    return lower + (after.bounds[i] - lower) * share;
  }
  return std::nullopt;
}

FigureReader::FigureReader(ClientManager& manager, const Workload& workload)
    : manager_(manager), workload_(workload) {}

std::vector<ClientFigures> FigureReader::read(Duration window) {
  const auto now = std::chrono::steady_clock::now();
  observe::Registry& registry = manager_.metrics();
  // The families the manager registered; asking again with the same definition returns them.
  auto& retries = registry.counter(catalogue::retries());
  auto& rejections = registry.counter(catalogue::rejections());
  auto& transitions = registry.counter(catalogue::circuit_breaker_transitions());
  auto& durations = registry.histogram(catalogue::client_call_duration());
  const HealthReport report = manager_.health();
  const std::vector<ClientCallStats> calls = manager_.call_stats();

  std::vector<ClientFigures> out;
  const std::array<std::pair<std::string_view, ClientKind>, 2> clients = {
      {{demo_http_client, ClientKind::http}, {demo_redis_client, ClientKind::redis}}};
  for (const auto& [name, kind] : clients) {
    ClientFigures figures;
    figures.name = std::string(name);
    figures.kind = kind;
    if (const ClientHealth* health = report.find(name)) {
      figures.health = std::string(to_string(health->state));
      figures.rebuilt = health->recreations;
    }
    figures.breaker = workload_.breaker_state(kind);
    const auto counted = std::find_if(calls.begin(), calls.end(),
                                      [&](const ClientCallStats& s) { return s.name == name; });
    if (counted != calls.end()) {
      figures.failed = counted->errors;
      figures.ok = counted->calls - counted->errors;
    }
    const auto value = [](observe::Counter& counter) {
      return static_cast<std::uint64_t>(counter.value());
    };
    figures.retries = value(retries.labels({name}));
    for (const std::string_view reason : {"circuit_open", "bulkhead_full", "rate_limited"}) {
      figures.rejected += value(rejections.labels({name, reason}));
    }
    for (const std::string_view from : {"closed", "half_open"}) {
      figures.breaker_opened += value(transitions.labels({name, from, "open"}));
    }

    // Percentiles over the calls since the snapshot nearest `window` ago.
    auto& history = history_[figures.name];
    history.push_back({now, durations.labels({name}).snapshot()});
    while (history.size() > 2 && now - history[1].at >= window) history.pop_front();
    if (history.size() >= 2) {
      figures.p50_ms = quantile_between(history.front().histogram, history.back().histogram, 0.5);
      figures.p99_ms = quantile_between(history.front().histogram, history.back().histogram, 0.99);
      if (figures.p50_ms) *figures.p50_ms *= 1000;
      if (figures.p99_ms) *figures.p99_ms *= 1000;
    }
    out.push_back(std::move(figures));
  }
  return out;
}

std::vector<std::string> figures_table(const std::vector<ClientFigures>& figures, bool colour) {
  using Row = std::array<std::string, 10>;
  std::vector<Row> rows;
  rows.push_back(
      {"CLIENT", "KIND", "HEALTH", "BREAKER", "OK", "FAILED", "RETRIES", "REJECTED", "P50", "P99"});
  for (const ClientFigures& f : figures) {
    rows.push_back({f.name, std::string(kind_name(f.kind)), f.health, f.breaker,
                    std::to_string(f.ok), std::to_string(f.failed), std::to_string(f.retries),
                    std::to_string(f.rejected), format_ms(f.p50_ms), format_ms(f.p99_ms)});
  }
  std::array<std::size_t, 10> width{};
  for (const Row& row : rows) {
    for (std::size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::vector<std::string> lines;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::string line = " ";
    for (std::size_t i = 0; i < width.size(); ++i) {
      const bool paint = colour && r > 0 && i == 2;
      const bool numeric = i >= 4;
      const std::string cell = numeric ? fmt::format("{:>{}}", rows[r][i], width[i])
                                       : fmt::format("{:<{}}", rows[r][i], width[i]);
      line += ' ';
      if (paint) line += colour_of(rows[r][i]);
      line += cell;
      if (paint) line += "\033[0m";
      line += ' ';
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string figures_line(const ClientFigures& f) {
  return fmt::format(
      "{:<8} {:<5} {:<8} breaker {:<9} ok {:>5}  failed {:>5}  retries {:>4}  rejected {:>5}  "
      "p50 {:>6}  p99 {:>6}",
      f.name, kind_name(f.kind), f.health, f.breaker, f.ok, f.failed, f.retries, f.rejected,
      format_ms(f.p50_ms), format_ms(f.p99_ms));
}

}  // namespace bulwark::cli
