#include "soak_options.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <optional>
#include <string>

namespace bulwark::soak {

namespace {

// A CLI11 validator for durations in bulwark's own syntax ("60s", "5m", "1500ms").
CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<Duration> parsed = try_parse_duration(text);
        if (!parsed || *parsed <= Duration::zero()) {
          return "not a positive duration: '" + text + "' (examples: 60s, 5m, 1500ms)";
        }
        return {};
      },
      "DURATION");
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  CLI::App app(
      "Mixed HTTP and Redis traffic through a ClientManager while faults switch on and off at "
      "random; prints latency, outcomes, breaker transitions, retries, lost acknowledged writes, "
      "memory and descriptors, and exits 1 when a bound is broken.",
      "bulwark_soak");
  std::string duration = "5m";
  app.add_option("--duration", duration, "traffic and faults last this long")
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the fault schedule and the call mix")
      ->capture_default_str();
  app.add_option("--http-workers", options.http_workers)
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--redis-workers", options.redis_workers)
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--rate", options.calls_per_second, "calls per second of each worker, at most")
      ->check(CLI::Range(1.0, 10000.0))
      ->capture_default_str();
  app.add_option("--max-rss-growth", options.max_rss_growth_percent,
                 "bound on resident memory growth, percent")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  app.add_option("--max-fd-growth", options.max_fd_growth,
                 "bound on descriptors left open once the manager is gone")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);  // prints the help, or the error naming the option
    std::exit(code == 0 ? 0 : 2);
  }
  options.duration = parse_duration(duration);
  return options;
}

}  // namespace bulwark::soak
