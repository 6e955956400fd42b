// Overhead of the resilience strategies on a call that does (almost) nothing, measured beside the
// bare call in the same run, plus the allocations they make. Ends with summary lines:
//   breaker_closed_overhead_ns, pipeline_overhead_ns, open_reject_ns, allocations_per_call.

#include "bulwark/resilience/pipeline.hpp"
#include "client_rejection_bench.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>

// ---- allocation counting ----------------------------------------------------------------------
// The replacements below pair malloc with free correctly; GCC sees `free` inlined where a `new`
// expression allocated and warns regardless.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<std::uint64_t> allocations{0};
}

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace std::chrono_literals;

// The protected call: opaque to the optimiser, so every variant pays for the same work.
[[gnu::noinline]] int bare_call(int x) {
  benchmark::ClobberMemory();
  return x + 1;
}

bulwark::CircuitBreakerConfig breaker_config() {
  bulwark::CircuitBreakerConfig config;
  config.name = "bench";
  return config;
}

bulwark::PipelineConfig full_pipeline_config() {
  bulwark::PipelineConfig config;
  config.name = "bench";
  config.retry = bulwark::RetryConfig{};
  config.circuit_breaker = breaker_config();
  config.rate_limiter = bulwark::RateLimiterConfig{};
  config.rate_limiter->rate = 1e9;  // admits everything: measures the bookkeeping, not waiting
  config.bulkhead = bulwark::BulkheadConfig{};
  config.bulkhead->max_concurrent = 1024;
  config.timeout.attempt = 1s;
  return config;
}

// Shared between the threads of a multi-threaded run, as in a real service.
bulwark::CircuitBreaker& closed_breaker() {
  static bulwark::CircuitBreaker breaker(breaker_config());
  return breaker;
}
bulwark::CircuitBreaker& open_breaker() {
  static bulwark::CircuitBreaker breaker([] {
    auto config = breaker_config();
    config.recovery_timeout = 24h;
    config.max_recovery_timeout = 24h;
    return config;
  }());
  // Opened by real failures, not forced: an OPEN breaker checks its recovery time on every call.
  static const bool opened = [] {
    for (int i = 0; i < 5; ++i) breaker.on_failure(*breaker.try_acquire());
    return breaker.state() == bulwark::BreakerState::open;
  }();
  if (!opened) std::abort();
  return breaker;
}
bulwark::Pipeline& full_pipeline() {
  static bulwark::Pipeline pipeline(full_pipeline_config());
  return pipeline;
}

void BM_bare_call(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) benchmark::DoNotOptimize(x = bare_call(x));
}

void BM_breaker_closed(benchmark::State& state) {
  auto& breaker = closed_breaker();
  int x = 0;
  for (auto _ : state) {
    auto permit = breaker.try_acquire();
    benchmark::DoNotOptimize(x = bare_call(x));
    breaker.on_success(*permit);
  }
}

void BM_pipeline_no_retry(benchmark::State& state) {
  auto& pipeline = full_pipeline();
  int x = 0;
  for (auto _ : state) {
    auto result = pipeline.try_execute([&] { return bare_call(x); });
    benchmark::DoNotOptimize(x = *result);
  }
}

void BM_breaker_open_reject(benchmark::State& state) {
  auto& breaker = open_breaker();
  for (auto _ : state) {
    auto permit = breaker.try_acquire();
    benchmark::DoNotOptimize(permit);
  }
}

void BM_pipeline_open_reject(benchmark::State& state) {
  static bulwark::Pipeline pipeline([] {
    auto config = full_pipeline_config();
    config.circuit_breaker->recovery_timeout = 24h;
    config.circuit_breaker->max_recovery_timeout = 24h;
    return config;
  }());
  static const bool opened = [] {
    for (int i = 0; i < 5; ++i) {
      (void)pipeline.try_execute(
          []() -> bulwark::Result<int> { return make_error_code(bulwark::errc::protocol_error); });
    }
    return pipeline.circuit_breaker()->state() == bulwark::BreakerState::open;
  }();
  if (!opened) std::abort();
  int x = 0;
  for (auto _ : state) {
    auto result = pipeline.try_execute([&] { return bare_call(x); });
    benchmark::DoNotOptimize(result);
  }
}

BENCHMARK(BM_bare_call)->Threads(1)->Threads(2);
BENCHMARK(BM_breaker_closed)->Threads(1)->Threads(2);
BENCHMARK(BM_pipeline_no_retry)->Threads(1)->Threads(2);
BENCHMARK(BM_breaker_open_reject)->Threads(1)->Threads(2);
BENCHMARK(BM_pipeline_open_reject)->Threads(1)->Threads(2);

// Collects the per-iteration time of every single-threaded run for the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.threads != 1) continue;
      ns_per_call[run.run_name.function_name] = run.GetAdjustedRealTime();
    }
  }
  std::map<std::string, double> ns_per_call;
};

double allocations_per_call() {
  constexpr int calls = 100'000;
  auto& breaker = closed_breaker();
  auto& pipeline = full_pipeline();
  int x = 0;
  const std::uint64_t before = allocations.load();
  for (int i = 0; i < calls; ++i) {
    auto permit = breaker.try_acquire();
    x = bare_call(x);
    breaker.on_success(*permit);
    x = *pipeline.try_execute([&] { return bare_call(x); });
  }
  benchmark::DoNotOptimize(x);
  return static_cast<double>(allocations.load() - before) / calls;
}

}  // namespace

int main(int argc, char** argv) {
  bulwark::bench::register_client_rejection_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();

  auto& ns = reporter.ns_per_call;
  if (ns.count("BM_bare_call") == 0 || ns.count("BM_breaker_closed") == 0 ||
      ns.count("BM_pipeline_no_retry") == 0 || ns.count("BM_breaker_open_reject") == 0) {
    return 0;  // a filtered run: no summary
  }
  const double bare = ns["BM_bare_call"];
  std::printf("\nbare_call_ns: %.1f\n", bare);
  std::printf("breaker_closed_overhead_ns: %.1f\n", ns["BM_breaker_closed"] - bare);
  std::printf("pipeline_overhead_ns: %.1f\n", ns["BM_pipeline_no_retry"] - bare);
  std::printf("open_reject_ns: %.1f\n", ns["BM_breaker_open_reject"]);
  if (ns.count("BM_pipeline_open_reject") != 0) {
    std::printf("pipeline_open_reject_ns: %.1f\n", ns["BM_pipeline_open_reject"]);
  }
  for (const char* client : {"http", "redis"}) {
    const std::string name = std::string("BM_") + client + "_client_open_reject";
    if (ns.count(name) != 0) std::printf("%s_client_open_reject_ns: %.1f\n", client, ns[name]);
  }
  std::printf("allocations_per_call: %.3f\n", allocations_per_call());
  return 0;
}
