#include "soak_report.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace bulwark::soak {

namespace {

std::string join(const std::map<std::string, std::uint64_t>& counts) {
  std::string out;
  for (const auto& [name, count] : counts) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", name, count);
  }
  return out.empty() ? "none" : out;
}

void print_client(const ClientReport& client) {
  const ClientTally& tally = client.tally;
  std::printf("%s\n", client.name.c_str());
  std::printf(
      "  calls: %llu (p50 %.2f ms, p99 %.2f ms; successful ones: p50 %.2f ms, p99 %.2f ms)\n",
      static_cast<unsigned long long>(tally.all.total()), tally.all.quantile_us(0.50) / 1000,
      tally.all.quantile_us(0.99) / 1000, tally.succeeded.quantile_us(0.50) / 1000,
      tally.succeeded.quantile_us(0.99) / 1000);
  std::printf("  outcomes: %s\n", join(tally.outcomes).c_str());
  std::printf("  breaker transitions: %s\n", join(client.transitions).c_str());
  std::printf("  retries: %llu\n", static_cast<unsigned long long>(client.retries));
  std::printf("  faults (%.1f s in all): %s\n",
              std::chrono::duration<double>(client.faulty_time).count(),
              join(client.faults).c_str());
}

}  // namespace

std::uint64_t lost_writes(const Report& report) {
  const auto increments = static_cast<std::int64_t>(report.redis_increments_acknowledged);
  // A counter below the increments acknowledged lost some; above is fine (an INCR whose reply was
  // lost may still have been applied).
  const std::uint64_t lost_increments =
      report.redis_counter < increments
          ? static_cast<std::uint64_t>(increments - report.redis_counter)
          : 0;
  return report.http_writes_lost + report.redis_writes_lost + lost_increments;
}

double rss_growth_percent(const Report& report) {
  if (report.rss_start_kib == 0) return 0;
  return (static_cast<double>(report.rss_end_kib) - static_cast<double>(report.rss_start_kib)) *
         100.0 / static_cast<double>(report.rss_start_kib);
}

std::vector<std::string> print_report(const Report& report, const Options& options) {
  std::printf("\nsoak: %.1f s of traffic and faults, seed %llu\n",
              std::chrono::duration<double>(report.elapsed).count(),
              static_cast<unsigned long long>(options.seed));
  print_client(report.http);
  print_client(report.redis);
  std::printf(
      "writes: http %llu acknowledged, %llu missing at the server; redis SET %llu "
      "acknowledged, %llu missing; redis INCR %llu acknowledged, counter %lld\n",
      static_cast<unsigned long long>(report.http_writes_acknowledged),
      static_cast<unsigned long long>(report.http_writes_lost),
      static_cast<unsigned long long>(report.redis_writes_acknowledged),
      static_cast<unsigned long long>(report.redis_writes_lost),
      static_cast<unsigned long long>(report.redis_increments_acknowledged),
      static_cast<long long>(report.redis_counter));
  std::printf("misdelivered_replies: %llu\n", static_cast<unsigned long long>(report.misdelivered));
  std::printf("after the faults: %llu calls in the last seconds, %llu failed\n",
              static_cast<unsigned long long>(report.final_calls),
              static_cast<unsigned long long>(report.final_failures));
  std::printf("rss: %zu KiB at start, %zu KiB at end\n", report.rss_start_kib, report.rss_end_kib);
  std::printf("fds: %zu before the manager, %zu at start, %zu at end, %zu once it was gone\n",
              report.fds_before, report.fds_start, report.fds_end, report.fds_after);

  const std::uint64_t lost = lost_writes(report);
  const double growth = rss_growth_percent(report);
  const std::int64_t fd_growth =
      static_cast<std::int64_t>(report.fds_after) - static_cast<std::int64_t>(report.fds_before);
  std::printf("lost_acknowledged_writes: %llu\n", static_cast<unsigned long long>(lost));
  std::printf("rss_growth_percent: %.1f\n", growth);
  std::printf("fd_growth: %lld\n", static_cast<long long>(fd_growth));
  std::fflush(stdout);

  std::vector<std::string> broken;
  if (lost != 0) broken.push_back(fmt::format("{} acknowledged writes were lost (bound: 0)", lost));
  if (report.misdelivered != 0) {
    broken.push_back(
        fmt::format("{} replies did not answer their own call (bound: 0)", report.misdelivered));
  }
  if (growth > options.max_rss_growth_percent) {
    broken.push_back(fmt::format("resident memory grew {:.1f}% (bound: {}%)", growth,
                                 options.max_rss_growth_percent));
  }
  if (fd_growth > static_cast<std::int64_t>(options.max_fd_growth)) {
    broken.push_back(fmt::format("{} file descriptors were left open (bound: {})", fd_growth,
                                 options.max_fd_growth));
  }
  if (report.final_calls == 0 || report.final_failures != 0) {
    broken.push_back(fmt::format(
        "the clients did not recover once the faults ended: {} of {} calls failed in the last "
        "seconds (bound: none failed)",
        report.final_failures, report.final_calls));
  }
  return broken;
}

}  // namespace bulwark::soak
