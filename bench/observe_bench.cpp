// Cost of updating metrics on the hot path, and of a scrape. Ends with summary lines:
//   counter_inc_ns, gauge_inc_ns, histogram_observe_ns, labels_lookup_ns, allocations_per_update,
//   expose_us (a registry of the catalogue's families for 10 clients).

#include "bulwark/observe/catalogue.hpp"
#include "bulwark/observe/registry.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <atomic>
#include <chrono>
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
void* operator new(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto alignment = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment)) {
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

namespace observe = bulwark::observe;
using namespace std::chrono_literals;

// Shared between the threads of a multi-threaded run, as in a real service.
observe::Registry& registry() {
  static observe::Registry instance;
  return instance;
}
observe::Counter& calls() {
  static observe::Counter& counter =
      registry().counter(observe::catalogue::client_calls()).labels({"qdrant", "success"});
  return counter;
}
observe::Gauge& in_flight() {
  static observe::Gauge& gauge = registry()
                                     .gauge({.name = "bulwark_bench_calls_in_flight",
                                             .help = "Calls in progress.",
                                             .labels = {"client"}})
                                     .labels({"qdrant"});
  return gauge;
}
observe::Histogram& duration() {
  static observe::Histogram& histogram =
      registry().histogram(observe::catalogue::client_call_duration()).labels({"qdrant"});
  return histogram;
}

// Latencies spread over the default buckets, so the bucket search is not always the same path.
constexpr std::array<double, 8> latencies = {0.0003, 0.0012, 0.004, 0.02, 0.07, 0.3, 1.7, 12};

void BM_counter_inc(benchmark::State& state) {
  observe::Counter& counter = calls();
  for (auto _ : state) counter.inc();
}
void BM_gauge_inc(benchmark::State& state) {
  observe::Gauge& gauge = in_flight();
  for (auto _ : state) gauge.inc();
}
void BM_histogram_observe(benchmark::State& state) {
  observe::Histogram& histogram = duration();
  std::size_t i = 0;
  for (auto _ : state) histogram.observe(latencies[i++ % latencies.size()]);
}
void BM_histogram_observe_duration(benchmark::State& state) {
  observe::Histogram& histogram = duration();
  const auto elapsed = std::chrono::nanoseconds(3'700'000);
  for (auto _ : state) histogram.observe(elapsed);
}
// What callers save by keeping the reference instead of looking the series up per call.
void BM_labels_lookup(benchmark::State& state) {
  observe::CounterFamily& family = registry().counter(observe::catalogue::client_calls());
  for (auto _ : state) benchmark::DoNotOptimize(&family.labels({"qdrant", "success"}));
}
BENCHMARK(BM_counter_inc)->Threads(1)->Threads(2);
BENCHMARK(BM_gauge_inc)->Threads(1)->Threads(2);
BENCHMARK(BM_histogram_observe)->Threads(1)->Threads(2);
BENCHMARK(BM_histogram_observe_duration)->Threads(1);
BENCHMARK(BM_labels_lookup)->Threads(1);

// A scrape of what a service with 10 clients would expose.
void BM_expose(benchmark::State& state) {
  observe::Registry scraped;
  auto& call_counts = scraped.counter(observe::catalogue::client_calls());
  auto& call_duration = scraped.histogram(observe::catalogue::client_call_duration());
  auto& breaker = scraped.gauge(observe::catalogue::circuit_breaker_state());
  auto& rejections = scraped.counter(observe::catalogue::rejections());
  auto& connections = scraped.collected_gauge(observe::catalogue::pool_connections());
  for (int c = 0; c < 10; ++c) {
    const std::string client = "client" + std::to_string(c);
    for (const char* outcome : {"success", "timeout", "connect_failed"}) {
      call_counts.labels({client, outcome}).inc(1000);
    }
    for (const double seconds : latencies) call_duration.labels({client}).observe(seconds);
    for (const char* s : {"closed", "open", "half_open"}) breaker.labels({client, s}).set(0);
    for (const char* reason : {"circuit_open", "bulkhead_full", "rate_limited"}) {
      rejections.labels({client, reason}).inc();
    }
  }
  const observe::CollectorHandle pools = scraped.add_collector([&](observe::CollectorSink& sink) {
    for (int c = 0; c < 10; ++c) {
      const std::string client = "client" + std::to_string(c);
      sink.add(connections, {client, "active"}, 3);
      sink.add(connections, {client, "idle"}, 5);
    }
  });
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = scraped.expose();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_expose)->Unit(benchmark::kMicrosecond);

// Collects the CPU time per operation of every single-threaded run for the summary. CPU time,
// not wall time: on a shared machine other processes inflate the latter, not the former.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.threads != 1) continue;
      ns_per_op[run.run_name.function_name] =
          run.GetAdjustedCPUTime() * (run.time_unit == benchmark::kMicrosecond ? 1000.0 : 1.0);
    }
  }
  std::map<std::string, double> ns_per_op;
};

double allocations_per_update() {
  constexpr int updates = 100'000;
  observe::Counter& counter = calls();
  observe::Gauge& gauge = in_flight();
  observe::Histogram& histogram = duration();
  const std::uint64_t before = allocations.load();
  for (int i = 0; i < updates; ++i) {
    counter.inc();
    gauge.inc();
    histogram.observe(latencies[static_cast<std::size_t>(i) % latencies.size()]);
    gauge.dec();
  }
  return static_cast<double>(allocations.load() - before) / updates;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  auto& ns = reporter.ns_per_op;
  for (const char* name : {"BM_counter_inc", "BM_gauge_inc", "BM_histogram_observe",
                           "BM_labels_lookup", "BM_expose"}) {
    if (ns.count(name) == 0) return 0;  // a filtered run: no summary
  }
  std::printf("\ncounter_inc_ns: %.1f\n", ns["BM_counter_inc"]);
  std::printf("gauge_inc_ns: %.1f\n", ns["BM_gauge_inc"]);
  std::printf("histogram_observe_ns: %.1f\n", ns["BM_histogram_observe"]);
  std::printf("labels_lookup_ns: %.1f\n", ns["BM_labels_lookup"]);
  std::printf("allocations_per_update: %.3f\n", allocations_per_update());
  std::printf("expose_us: %.1f\n", ns["BM_expose"] / 1000.0);
  return 0;
}
