#include "demo_summary.hpp"

#include <fmt/format.h>

namespace bulwark::cli {
namespace {

std::string seconds(std::optional<Duration> d) {
  if (!d) return "not within the demo";
  return fmt::format("{:.2f}s", std::chrono::duration<double>(*d).count());
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

void client_section(std::string& out, const ClientFigures& f, const RetryTotals& retries,
                    const Recovery& recovery, std::string_view heading, std::string_view came_back,
                    std::string_view call_word, std::string_view network = {}) {
  out += fmt::format("{} ({})\n", f.name, heading);
  out += fmt::format("  calls            {}: {} succeeded, {} failed (rejections included)\n",
                     f.ok + f.failed, f.ok, f.failed);
  out += fmt::format(
      "  retries          {}; {} succeeded only because {} retried, {} failed on every "
      "attempt\n",
      plural(retries.retries, "retry", "retries"),
      plural(retries.succeeded_after_retry, f.kind == ClientKind::http ? "call" : "command",
             f.kind == ClientKind::http ? "calls" : "commands"),
      retries.succeeded_after_retry == 1 ? "it was" : "they were", retries.failed_after_retry);
  out += fmt::format(
      "  circuit breaker  opened {}; {} rejected while it was open, without touching the "
      "network\n",
      plural(f.breaker_opened, "time", "times"),
      plural(f.rejected, f.kind == ClientKind::http ? "call" : "command",
             f.kind == ClientKind::http ? "calls" : "commands"));
  out += network;
  out += fmt::format("  recovery         after {}: first successful {} in {}, health HEALTHY in {}",
                     came_back, call_word, seconds(recovery.first_success),
                     seconds(recovery.healthy_again));
  out += f.rebuilt > 0 ? fmt::format("; the manager rebuilt the client {}\n",
                                     plural(f.rebuilt, "time", "times"))
                       : std::string("\n");
  out += fmt::format("  now              {}, breaker {}\n", f.health, f.breaker);
}

}  // namespace

std::string render_summary(const SummaryInput& input) {
  std::string out = fmt::format(
      "\nsummary after {:.1f}s{}\n\n", std::chrono::duration<double>(input.elapsed).count(),
      input.interrupted ? " (interrupted: the later phases did not run)" : "");
  if (input.figures.size() < 2) return out;
  const ClientFigures& http = input.figures[0];
  const ClientFigures& redis = input.figures[1];
  const std::string network = fmt::format(
      "  network          the service received {} for {} calls: retries added requests, the "
      "open breaker and the outage kept others away\n",
      plural(input.service_requests, "request", "requests"), http.ok + http.failed);
  client_section(out, http, input.http_retries, input.http_recovery, "HTTP service",
                 "the HTTP service came back", "call", network);
  out += '\n';
  client_section(out, redis, input.redis_retries, input.redis_recovery,
                 "Redis database 0 on the demo's redis-server", "redis-server restarted",
                 "command");
  return out;
}

std::string metrics_excerpt(std::string_view exposition, const std::vector<std::string>& clients) {
  std::string out;
  std::size_t buckets = 0;
  while (!exposition.empty()) {
    const auto end = exposition.find('\n');
    const std::string_view line = exposition.substr(0, end);
    exposition.remove_prefix(end == std::string_view::npos ? exposition.size() : end + 1);
    if (!line.starts_with("bulwark_")) continue;
    bool ours = false;
    for (const std::string& client : clients) {
      if (line.find(fmt::format("client=\"{}\"", client)) != std::string_view::npos) ours = true;
    }
    if (!ours) continue;
    if (line.find("_bucket{") != std::string_view::npos) {
      ++buckets;
      continue;
    }
    out += fmt::format("  {}\n", line);
  }
  out += fmt::format("  ({} histogram bucket lines left out)\n", buckets);
  return out;
}

}  // namespace bulwark::cli
