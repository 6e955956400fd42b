#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bulwark/core/error.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;

constexpr int permitted_probes = 3;

// Several threads make calls with a mix of outcomes and durations while another moves time
// forward and forces transitions. Afterwards every reported outcome and rejection must be
// accounted for exactly, and at no time may more probes of one HALF_OPEN episode be in flight
// than permitted. Run under TSan, this is also the data-race check of the whole breaker.
class CircuitBreakerStress : public ::testing::TestWithParam<WindowType> {};

TEST_P(CircuitBreakerStress, ConcurrentCallsAndTransitionsKeepInvariants) {
  auto clock = std::make_shared<ManualClock>();
  CircuitBreakerConfig config;
  config.name = "stress";
  config.window_type = GetParam();
  config.window_size = 50;
  config.window_duration = 20ms;
  config.window_buckets = 4;
  config.minimum_calls = 10;
  config.failure_rate_threshold = 0.5;
  config.consecutive_failures = 5;
  config.slow_call_duration = 10ms;
  config.slow_call_rate_threshold = 0.8;
  config.recovery_timeout = 1ms;
  config.recovery_backoff = 1.5;
  config.max_recovery_timeout = 8ms;
  config.recovery_jitter = 0.2;
  config.half_open_permitted_calls = permitted_probes;
  config.half_open_success_threshold = 2;
  config.max_half_open_duration = 5ms;
  config.clock = clock;
  config.random = std::make_shared<Random>(1234);
  CircuitBreaker breaker(config);

  std::atomic<std::uint64_t> state_changes{0};
  std::atomic<std::uint64_t> rejection_events{0};
  std::atomic<bool> bad_event{false};
  const Subscription subscription = breaker.on_event([&](const BreakerEvent& e) {
    if (e.type == BreakerEvent::Type::rejected) {
      rejection_events.fetch_add(1, std::memory_order_relaxed);
      if (e.from != e.to || !e.reason.empty()) bad_event = true;
    } else {
      state_changes.fetch_add(1, std::memory_order_relaxed);
      if (e.reason.empty() || e.breaker != "stress") bad_event = true;
    }
  });

  std::atomic<std::uint64_t> successes{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<std::uint64_t> ignored{0};
  std::atomic<std::uint64_t> slow{0};
  std::atomic<std::uint64_t> rejections{0};
  std::atomic<std::uint64_t> probes{0};
  std::atomic<bool> wrong_error{false};

  std::mutex probe_mutex;
  std::map<std::uint64_t, int> probes_in_flight;  // by episode
  bool too_many_probes = false;

  constexpr int workers = 4;
  constexpr int calls_per_worker = 20000;
  std::atomic<int> running{workers};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      Random rng(static_cast<std::uint64_t>(w) + 1);
      for (int i = 0; i < calls_per_worker; ++i) {
        // Time moves with the calls, so every run cycles through the states however the
        // threads happen to be scheduled.
        clock->advance(20us);
        const auto result = breaker.try_acquire();
        if (!result) {
          if (result.error() != errc::circuit_open) wrong_error = true;
          rejections.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        const CircuitBreaker::Permit permit = *result;
        if (permit.probe) {
          probes.fetch_add(1, std::memory_order_relaxed);
          const std::lock_guard lock(probe_mutex);
          if (++probes_in_flight[permit.generation] > permitted_probes) too_many_probes = true;
        }
        const std::uint64_t roll = rng.next() % 10;
        const Duration elapsed = rng.between(0ms, 12ms);
        const bool is_slow = elapsed > 10ms;
        // The probe leaves the in-flight count before its outcome can open a slot for another.
        if (permit.probe) {
          const std::lock_guard lock(probe_mutex);
          --probes_in_flight[permit.generation];
        }
        if (roll < 6) {
          successes.fetch_add(1, std::memory_order_relaxed);
          if (is_slow) slow.fetch_add(1, std::memory_order_relaxed);
          breaker.on_success(permit, elapsed);
        } else if (roll < 9) {
          failures.fetch_add(1, std::memory_order_relaxed);
          if (is_slow) slow.fetch_add(1, std::memory_order_relaxed);
          breaker.on_failure(permit, elapsed);
        } else {
          ignored.fetch_add(1, std::memory_order_relaxed);
          breaker.on_result(permit, Verdict::ignored, elapsed);
        }
      }
      running.fetch_sub(1, std::memory_order_release);
    });
  }

  // The controller: an operator intervenes now and then, dashboards read stats. It keeps going
  // for a minimum number of rounds so that every intervention happens in every run.
  bool totals_went_back = false;
  bool window_out_of_bounds = false;
  CircuitBreakerStats previous = breaker.stats();
  for (int round = 0; running.load(std::memory_order_acquire) > 0 || round < 400; ++round) {
    switch (round % 400) {
      case 100:
        breaker.force_open();
        break;
      case 150:
        breaker.close();
        break;
      case 250:
        breaker.disable();
        break;
      case 300:
        breaker.reset();
        break;
      default:
        break;
    }
    (void)breaker.state();
    (void)breaker.remaining_open_time();
    const CircuitBreakerStats now = breaker.stats();
    if (now.successful_total < previous.successful_total ||
        now.failed_total < previous.failed_total || now.slow_total < previous.slow_total ||
        now.ignored_total < previous.ignored_total ||
        now.rejected_total < previous.rejected_total || now.times_opened < previous.times_opened) {
      totals_went_back = true;
    }
    if (now.failed_in_window > now.calls_in_window || now.slow_in_window > now.calls_in_window ||
        now.failure_rate > 1.0 || now.slow_call_rate > 1.0 ||
        (GetParam() == WindowType::count_based && now.calls_in_window > 50)) {
      window_out_of_bounds = true;
    }
    previous = now;
    std::this_thread::yield();
  }
  for (auto& thread : threads) thread.join();

  EXPECT_FALSE(wrong_error);
  EXPECT_FALSE(too_many_probes);
  EXPECT_FALSE(bad_event);
  EXPECT_FALSE(totals_went_back);
  EXPECT_FALSE(window_out_of_bounds);

  const CircuitBreakerStats stats = breaker.stats();
  EXPECT_EQ(stats.successful_total, successes.load());
  EXPECT_EQ(stats.failed_total, failures.load());
  EXPECT_EQ(stats.ignored_total, ignored.load());
  EXPECT_EQ(stats.slow_total, slow.load());
  EXPECT_EQ(stats.rejected_total, rejections.load());
  EXPECT_EQ(rejection_events.load(), rejections.load());
  EXPECT_EQ(successes + failures + ignored + rejections, std::uint64_t{workers} * calls_per_worker);
  // The mix fails often enough that the breaker must have cycled through its states.
  EXPECT_GT(stats.times_opened, 0u);
  EXPECT_GT(probes.load(), 0u);
  EXPECT_GT(rejections.load(), 0u);
  EXPECT_GT(state_changes.load(), stats.times_opened);

  // Quiet again, the breaker behaves exactly as a fresh one.
  breaker.reset();
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  EXPECT_FALSE(breaker.try_acquire()->probe);
}

INSTANTIATE_TEST_SUITE_P(Windows, CircuitBreakerStress,
                         ::testing::Values(WindowType::count_based, WindowType::time_based),
                         [](const ::testing::TestParamInfo<WindowType>& param_info) {
                           return param_info.param == WindowType::count_based ? "CountBased"
                                                                              : "TimeBased";
                         });

}  // namespace
}  // namespace bulwark
