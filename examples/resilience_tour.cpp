// A tour of bulwark's resilience pipeline: a simulated service goes through a healthy phase, a
// flaky phase, an outage and a recovery, while one pipeline (retry → circuit breaker → bulkhead →
// timeout, with a fallback) protects the calls. Every breaker transition and retry is printed as
// it happens, and a summary shows what the pipeline did.
//
// Run it with `make demo`. It takes under two seconds and needs no network.

#include <bulwark/resilience/pipeline.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

enum class Mode { healthy, flaky, down };

// The "service": answers, fails one call in three with a transient error, or refuses everything.
class SimulatedService {
 public:
  void set(Mode mode) { mode_.store(mode); }

  bulwark::Result<std::string> search(const std::string& query) {
    const std::uint64_t n = calls_.fetch_add(1) + 1;
    switch (mode_.load()) {
      case Mode::healthy:
        return fmt::format("results for {}", query);
      case Mode::flaky:
        if (n % 3 == 0) return bulwark::make_error_code(bulwark::errc::connection_lost);
        return fmt::format("results for {}", query);
      case Mode::down:
        return bulwark::make_error_code(bulwark::errc::connect_failed);
    }
    return bulwark::make_error_code(bulwark::errc::invalid_argument);
  }
  [[nodiscard]] std::uint64_t calls() const { return calls_.load(); }

 private:
  std::atomic<Mode> mode_{Mode::healthy};
  std::atomic<std::uint64_t> calls_{0};
};

bulwark::PipelineConfig pipeline_config() {
  bulwark::PipelineConfig config;
  config.name = "search";
  config.retry = bulwark::RetryConfig{};
  config.retry->max_attempts = 3;
  config.retry->backoff = {.type = bulwark::BackoffType::exponential,
                           .initial = 5ms,
                           .multiplier = 2.0,
                           .max = 50ms,
                           .jitter = bulwark::Jitter::full};
  config.circuit_breaker = bulwark::CircuitBreakerConfig{};
  config.circuit_breaker->consecutive_failures = 5;
  config.circuit_breaker->recovery_timeout = 300ms;
  config.circuit_breaker->half_open_permitted_calls = 1;
  config.bulkhead = bulwark::BulkheadConfig{};
  config.bulkhead->max_concurrent = 8;
  config.timeout.attempt = 1s;
  return config;
}

struct PhaseTally {
  int answered = 0;
  int fallback = 0;
};

PhaseTally drive(bulwark::Pipeline& pipeline, SimulatedService& service, int calls,
                 std::chrono::milliseconds spacing) {
  PhaseTally tally;
  bulwark::CallOptions<std::string> options;
  options.operation = "search";
  options.fallback = bulwark::fallback_value<std::string>("(cached results)");
  for (int i = 0; i < calls; ++i) {
    const std::string answer =
        pipeline.execute([&] { return service.search(fmt::format("q{}", i)); }, options);
    answer == "(cached results)" ? ++tally.fallback : ++tally.answered;
    std::this_thread::sleep_for(spacing);
  }
  return tally;
}

}  // namespace

int main() {
  SimulatedService service;
  bulwark::Pipeline pipeline(pipeline_config());
  const auto start = std::chrono::steady_clock::now();
  auto stamp = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
  };

  auto on_breaker = pipeline.circuit_breaker()->on_event([&](const bulwark::BreakerEvent& event) {
    if (event.type != bulwark::BreakerEvent::Type::state_changed) return;
    std::printf("  %5lldms  breaker %s -> %s (%s)\n", static_cast<long long>(stamp()),
                std::string(bulwark::to_string(event.from)).c_str(),
                std::string(bulwark::to_string(event.to)).c_str(), event.reason.c_str());
  });
  int retries = 0;
  auto on_retry = pipeline.retry()->on_event([&](const bulwark::RetryEvent& event) {
    if (event.type == bulwark::RetryEvent::Type::retry) ++retries;
  });

  struct Phase {
    const char* title;
    Mode mode;
    int calls;
  };
  const Phase phases[] = {{"healthy", Mode::healthy, 40},
                          {"flaky: one call in three drops its connection", Mode::flaky, 60},
                          {"down: every connection is refused", Mode::down, 80},
                          {"back up", Mode::healthy, 80}};

  std::printf("bulwark resilience tour: one pipeline, four phases of a simulated service\n\n");
  for (const Phase& phase : phases) {
    service.set(phase.mode);
    const int retries_before = retries;
    const std::uint64_t calls_before = service.calls();
    std::printf("phase: %s\n", phase.title);
    const PhaseTally tally = drive(pipeline, service, phase.calls, 5ms);
    std::printf(
        "  %d calls: %d answered, %d from the fallback; %d retries; the service saw %llu\n\n",
        phase.calls, tally.answered, tally.fallback, retries - retries_before,
        static_cast<unsigned long long>(service.calls() - calls_before));
  }

  const auto breaker = pipeline.circuit_breaker()->stats();
  const auto retry = pipeline.retry()->stats();
  const auto totals = pipeline.stats();
  std::printf("summary\n");
  std::printf("  calls answered by the service   %llu\n",
              static_cast<unsigned long long>(totals.succeeded));
  std::printf("  calls answered by the fallback  %llu\n",
              static_cast<unsigned long long>(totals.fallbacks));
  std::printf("  retries made                    %llu (succeeded after retry: %llu)\n",
              static_cast<unsigned long long>(retry.retries),
              static_cast<unsigned long long>(retry.succeeded_after_retry));
  std::printf("  calls the open breaker rejected %llu (the service never saw them)\n",
              static_cast<unsigned long long>(breaker.rejected_total));
  std::printf("  times the breaker opened        %llu\n",
              static_cast<unsigned long long>(breaker.times_opened));
  std::printf("  breaker state now               %s\n",
              std::string(bulwark::to_string(breaker.state)).c_str());
  return breaker.state == bulwark::BreakerState::closed ? 0 : 1;
}
