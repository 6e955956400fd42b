// What sharing a circuit breaker through Redis costs: the time a call spends in a shared
// breaker beside a local one (the call path is the same; sharing happens beside it), and how
// long a transition takes to reach another instance with connections of its own, against a
// redis-server the program starts on a free loopback port.
//
// Options: --calls N (per timing run, default 5,000,000), --transitions N (open/close pairs,
// default 500). Ends with `shared_call_overhead_ns: X` and `propagation_p99_ms: X`.

#include "bulwark/core/runtime.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/shared/shared_breaker.hpp"
#include "support/redis_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace shared = bulwark::shared;

struct Options {
  std::size_t calls = 5'000'000;
  std::size_t transitions = 500;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const auto value = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
    if (flag == "--calls") options.calls = std::max<std::size_t>(value, 1000);
    if (flag == "--transitions") options.transitions = std::max<std::size_t>(value, 10);
  }
  return options;
}

bulwark::CircuitBreakerConfig breaker_config() {
  bulwark::CircuitBreakerConfig config;
  config.name = "bench";
  config.consecutive_failures = 1;
  config.recovery_timeout = 60s;
  return config;
}

// ns per permitted, successful call.
double time_calls(bulwark::CircuitBreaker& breaker, std::size_t calls) {
  const auto start = Clock::now();
  for (std::size_t i = 0; i < calls; ++i) {
    auto permit = breaker.try_acquire();
    if (permit) breaker.on_success(*permit);
  }
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
         static_cast<double>(calls);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

struct Instance {
  std::shared_ptr<shared::Coordinator> coordinator;
  std::unique_ptr<shared::SharedBreaker> shared;
  std::shared_ptr<bulwark::CircuitBreaker> breaker;
};

Instance make_instance(bulwark::Runtime& runtime, std::uint16_t port, std::string id) {
  bulwark::redis::ClientConfig database;
  database.connection.port = port;
  Instance instance;
  instance.coordinator = std::make_shared<shared::Coordinator>(runtime.executor(), database);
  shared::SharedBreakerConfig config;
  config.name = "bench";
  config.instance_id = std::move(id);
  instance.shared = std::make_unique<shared::SharedBreaker>(instance.coordinator, config);
  bulwark::CircuitBreakerConfig breaker = breaker_config();
  breaker.probe_gate = instance.shared->probe_gate();
  instance.breaker = std::make_shared<bulwark::CircuitBreaker>(breaker);
  instance.shared->attach(instance.breaker);
  return instance;
}

bool wait_until(const auto& done) {
  const auto give_up = Clock::now() + 5s;
  while (!done()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  bulwark::test::RedisServer server;
  bulwark::Runtime runtime(bulwark::RuntimeOptions{.threads = 2});
  Instance first = make_instance(runtime, server.port(), "bench-a");
  Instance second = make_instance(runtime, server.port(), "bench-b");
  if (!wait_until([&] { return first.shared->coordinated() && second.shared->coordinated(); })) {
    std::fprintf(stderr, "never connected to redis-server\n");
    return 1;
  }
  std::this_thread::sleep_for(100ms);
  std::printf("redis-server on 127.0.0.1:%u; %zu calls per run, %zu open/close transitions\n",
              server.port(), options.calls, options.transitions);

  // Call path: interleaved runs, median of each, so that drift of the machine hits both alike.
  bulwark::CircuitBreaker local(breaker_config());
  std::vector<double> local_ns;
  std::vector<double> shared_ns;
  for (int run = 0; run < 7; ++run) {
    local_ns.push_back(time_calls(local, options.calls));
    shared_ns.push_back(time_calls(*first.breaker, options.calls));
  }
  const double local_call = median(local_ns);
  const double shared_call = median(shared_ns);
  std::printf("local breaker call:   %.2f ns\n", local_call);
  std::printf("shared breaker call:  %.2f ns (a closed breaker; no Redis round trip per call)\n",
              shared_call);

  // Propagation: the first instance opens (one failure) and closes (manually); each time, how
  // long until the second instance's breaker is in the same state.
  std::vector<double> open_ms;
  std::vector<double> close_ms;
  for (std::size_t i = 0; i < options.transitions; ++i) {
    auto permit = first.breaker->try_acquire();
    if (!permit) break;
    const auto opened = Clock::now();
    first.breaker->on_failure(*permit);
    if (!wait_until([&] { return second.breaker->state() == bulwark::BreakerState::open; })) {
      std::fprintf(stderr, "an open transition never arrived\n");
      return 1;
    }
    open_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - opened).count());
    const auto closed = Clock::now();
    first.breaker->close();
    if (!wait_until([&] { return second.breaker->state() == bulwark::BreakerState::closed; })) {
      std::fprintf(stderr, "a close transition never arrived\n");
      return 1;
    }
    close_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - closed).count());
  }
  std::vector<double> all = open_ms;
  all.insert(all.end(), close_ms.begin(), close_ms.end());
  std::printf("propagation open:   p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu)\n",
              percentile(open_ms, 0.5), percentile(open_ms, 0.99), percentile(open_ms, 1.0),
              open_ms.size());
  std::printf("propagation close:  p50 %.3f ms  p99 %.3f ms  max %.3f ms  (%zu)\n",
              percentile(close_ms, 0.5), percentile(close_ms, 0.99), percentile(close_ms, 1.0),
              close_ms.size());
  const shared::SharedBreakerStats a = first.shared->stats();
  const shared::SharedBreakerStats b = second.shared->stats();
  std::printf(
      "published %llu, received %llu, dropped %llu\n", static_cast<unsigned long long>(a.published),
      static_cast<unsigned long long>(b.received), static_cast<unsigned long long>(b.dropped));

  first.shared.reset();
  second.shared.reset();
  first.coordinator->close();
  second.coordinator->close();
  std::printf("shared_call_overhead_ns: %.2f\n", shared_call - local_call);
  std::printf("propagation_p99_ms: %.3f\n", percentile(all, 0.99));
  return 0;
}
