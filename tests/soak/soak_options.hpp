#pragma once
// What a soak run does and the bounds it holds itself to; read from the command line.

#include "bulwark/core/duration.hpp"

#include <cstddef>
#include <cstdint>

namespace bulwark::soak {

struct Options {
  /// Traffic and faults; warming up before and settling after come on top (a few seconds).
  Duration duration = std::chrono::minutes(5);
  /// Seeds the fault schedule, the proxies' jitter and the workers' choice of calls.
  std::uint64_t seed = 1;
  std::size_t http_workers = 4;
  std::size_t redis_workers = 4;
  /// Calls each worker starts per second, at most: the load is bounded, not "as fast as possible".
  double calls_per_second = 50;
  /// Bounds: growth of resident memory between the end of warming up and the end of settling
  /// (a process of about 15 MiB grows 2 MiB once, as faults first take their paths; a leak of a
  /// few hundred bytes per call goes past 25% within a minute), and descriptors still open once
  /// the manager is gone.
  double max_rss_growth_percent = 25;
  std::size_t max_fd_growth = 0;
};

/// Parses `argv`; prints usage and exits on `--help` or on a bad option (exit 2, naming it).
[[nodiscard]] Options parse_options(int argc, char** argv);

}  // namespace bulwark::soak
