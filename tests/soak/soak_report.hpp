#pragma once
// The soak run's closing report, and the bounds it checks. The last three lines are fixed so that
// scripts can read them:
//
//   lost_acknowledged_writes: 0
//   rss_growth_percent: 3.1
//   fd_growth: 0

#include "soak_options.hpp"
#include "soak_traffic.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bulwark::soak {

struct ClientReport {
  std::string name;
  ClientTally tally;
  std::map<std::string, std::uint64_t> transitions;  ///< "closed->open" → count.
  std::uint64_t retries = 0;
  std::map<std::string, std::uint64_t> faults;  ///< Fault name → times switched on.
  Duration faulty_time{};
};

struct Report {
  Duration elapsed{};
  ClientReport http;
  ClientReport redis;
  // Writes: acknowledged by a client / found at the server afterwards.
  std::uint64_t http_writes_acknowledged = 0;
  std::uint64_t http_writes_lost = 0;
  std::uint64_t redis_writes_acknowledged = 0;
  std::uint64_t redis_writes_lost = 0;
  std::uint64_t redis_increments_acknowledged = 0;
  std::int64_t redis_counter = 0;
  std::uint64_t misdelivered = 0;
  // Calls in the last seconds of settling, after every fault ended.
  std::uint64_t final_calls = 0;
  std::uint64_t final_failures = 0;
  // Resources: memory at the end of warming up and of settling; descriptors before the manager
  // existed, at those two moments, and once it was gone.
  std::size_t rss_start_kib = 0;
  std::size_t rss_end_kib = 0;
  std::size_t fds_before = 0;
  std::size_t fds_start = 0;
  std::size_t fds_end = 0;
  std::size_t fds_after = 0;
};

/// Acknowledged writes missing at the server, increments included.
[[nodiscard]] std::uint64_t lost_writes(const Report& report);
[[nodiscard]] double rss_growth_percent(const Report& report);

/// Prints the report on stdout and returns the bounds it broke, each as a sentence (none = pass).
std::vector<std::string> print_report(const Report& report, const Options& options);

}  // namespace bulwark::soak
