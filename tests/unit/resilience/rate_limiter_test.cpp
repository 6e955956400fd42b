#include "bulwark/resilience/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

RateLimiterConfig limiter_config(const std::shared_ptr<ManualClock>& clock, double rate,
                                 std::uint32_t burst, Duration max_wait = 0s) {
  RateLimiterConfig config;
  config.name = "openai";
  config.rate = rate;
  config.burst = burst;
  config.max_wait = max_wait;
  config.clock = clock;
  return config;
}

// Takes single permits until the limiter refuses; returns how many it granted.
int drain(RateLimiter& limiter) {
  int granted = 0;
  while (!limiter.try_acquire(1, 0s).error) ++granted;
  return granted;
}

std::vector<ConfigIssue> issues_of(RateLimiterConfig config) {
  try {
    RateLimiter limiter(std::move(config));
  } catch (const ConfigError& error) {
    return error.issues();
  }
  return {};
}

class RateLimiterTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(RateLimiterTest, BurstThenOnePermitPerInterval) {
  RateLimiter limiter(limiter_config(clock_, 10, 5));
  for (int i = 0; i < 5; ++i) {
    const auto admission = limiter.try_acquire();
    ASSERT_FALSE(admission.error) << i;
    EXPECT_EQ(admission.wait, 0s);
  }
  const auto refused = limiter.try_acquire();
  EXPECT_EQ(refused.error, errc::rate_limited);
  EXPECT_EQ(refused.wait, 100ms);
  clock_->advance(99ms);
  EXPECT_EQ(limiter.try_acquire().wait, 1ms);
  clock_->advance(1ms);
  EXPECT_FALSE(limiter.try_acquire().error);
  EXPECT_TRUE(limiter.try_acquire().error);
}

TEST_F(RateLimiterTest, AdmitsExactlyBurstPlusRateTimesElapsed) {
  // rate 10/s, default burst 10, over 10 simulated seconds in 7ms steps: 10 + 100.
  RateLimiter limiter(limiter_config(clock_, 10, 0));
  EXPECT_EQ(limiter.config().burst, 10u);
  const Clock::time_point end = clock_->now() + 10s;
  int granted = drain(limiter);
  EXPECT_EQ(granted, 10);
  while (clock_->now() + 7ms <= end) {
    clock_->advance(7ms);
    granted += drain(limiter);
  }
  clock_->set(end);
  granted += drain(limiter);
  EXPECT_EQ(granted, 110);
}

TEST_F(RateLimiterTest, AFullBucketDoesNotOverflowDuringIdleTime) {
  RateLimiter limiter(limiter_config(clock_, 100, 20));
  clock_->advance(1h);
  EXPECT_EQ(drain(limiter), 20);
}

TEST_F(RateLimiterTest, FractionalRates) {
  RateLimiter limiter(limiter_config(clock_, 0.5, 0));  // one permit every 2s, burst 1
  EXPECT_EQ(limiter.config().burst, 1u);
  EXPECT_EQ(drain(limiter), 1);
  EXPECT_EQ(limiter.try_acquire().wait, 2s);
  clock_->advance(2s);
  EXPECT_EQ(drain(limiter), 1);

  RateLimiter odd(limiter_config(clock_, 2.5, 0));
  EXPECT_EQ(odd.config().burst, 3u);
}

TEST_F(RateLimiterTest, WaitsWithinMaxWaitAreGrantedAndReserveThePermit) {
  RateLimiter limiter(limiter_config(clock_, 10, 1, 250ms));
  EXPECT_EQ(limiter.try_acquire().wait, 0ms);
  const auto second = limiter.try_acquire();
  EXPECT_FALSE(second.error);
  EXPECT_EQ(second.wait, 100ms);
  const auto third = limiter.try_acquire();
  EXPECT_FALSE(third.error);
  EXPECT_EQ(third.wait, 200ms);
  const auto fourth = limiter.try_acquire();
  EXPECT_EQ(fourth.error, errc::rate_limited);
  EXPECT_EQ(fourth.wait, 300ms);

  // When the second caller's wait is over, its permit is gone: nobody else gets it.
  clock_->advance(100ms);
  const auto late = limiter.try_acquire(1, 0s);
  EXPECT_EQ(late.error, errc::rate_limited);
  EXPECT_EQ(late.wait, 200ms);

  const RateLimiterStats stats = limiter.stats();
  EXPECT_EQ(stats.admitted, 3u);
  EXPECT_EQ(stats.delayed, 2u);
  EXPECT_EQ(stats.rejected, 2u);
}

TEST_F(RateLimiterTest, AWaitExactlyAtMaxWaitIsGranted) {
  RateLimiter limiter(limiter_config(clock_, 10, 1));
  ASSERT_FALSE(limiter.try_acquire().error);
  EXPECT_TRUE(limiter.try_acquire(1, 100ms - 1ns).error);
  const auto exact = limiter.try_acquire(1, 100ms);
  EXPECT_FALSE(exact.error);
  EXPECT_EQ(exact.wait, 100ms);
  EXPECT_TRUE(limiter.try_acquire(1, -1s).error);  // a negative wait counts as none
}

TEST_F(RateLimiterTest, RejectionCarriesTheExactRetryAfter) {
  RateLimiter limiter(limiter_config(clock_, 4, 2));  // one permit per 250ms
  ASSERT_EQ(drain(limiter), 2);
  clock_->advance(100ms);
  const auto refused = limiter.try_acquire();
  EXPECT_EQ(refused.error, errc::rate_limited);
  EXPECT_EQ(refused.wait, 150ms);
  clock_->advance(refused.wait - 1ns);
  EXPECT_EQ(limiter.try_acquire().wait, 1ns);
  clock_->advance(1ns);
  EXPECT_FALSE(limiter.try_acquire().error);
}

TEST_F(RateLimiterTest, MultiplePermits) {
  RateLimiter limiter(limiter_config(clock_, 10, 10));
  EXPECT_FALSE(limiter.try_acquire(7).error);
  const auto refused = limiter.try_acquire(5);
  EXPECT_EQ(refused.error, errc::rate_limited);
  EXPECT_EQ(refused.wait, 200ms);              // two more permits needed
  EXPECT_FALSE(limiter.try_acquire(3).error);  // what is left is still available
  clock_->advance(500ms);
  EXPECT_FALSE(limiter.try_acquire(5).error);
  EXPECT_TRUE(limiter.try_acquire(1).error);
}

TEST_F(RateLimiterTest, MorePermitsThanTheBurstCanNeverBeGranted) {
  RateLimiter limiter(limiter_config(clock_, 10, 10, 1h));
  std::vector<RateLimiterEvent> events;
  Subscription subscription =
      limiter.on_event([&](const RateLimiterEvent& e) { events.push_back(e); });
  const auto refused = limiter.try_acquire(11);
  EXPECT_EQ(refused.error, errc::invalid_argument);
  EXPECT_EQ(refused.wait, Duration::max());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].retry_after, Duration::max());
  EXPECT_EQ(limiter.stats().rejected, 1u);
  EXPECT_EQ(drain(limiter), 10);  // the bucket was not touched
}

TEST_F(RateLimiterTest, ZeroPermitsIsGrantedAndChangesNothing) {
  RateLimiter limiter(limiter_config(clock_, 10, 2));
  ASSERT_EQ(drain(limiter), 2);
  const auto none = limiter.try_acquire(0);
  EXPECT_FALSE(none.error);
  EXPECT_EQ(none.wait, 0s);
  EXPECT_EQ(limiter.stats().admitted, 2u);
}

TEST_F(RateLimiterTest, AcquireSleepsOnTheClock) {
  RateLimiter limiter(limiter_config(clock_, 10, 1, 1s));
  const Clock::time_point start = clock_->now();
  EXPECT_TRUE(limiter.acquire().has_value());
  EXPECT_TRUE(limiter.acquire().has_value());
  EXPECT_TRUE(limiter.acquire().has_value());
  EXPECT_EQ(clock_->sleep_count(), 2u);
  EXPECT_EQ(clock_->total_slept(), 200ms);
  EXPECT_EQ(clock_->now() - start, 200ms);

  RateLimiter strict(limiter_config(clock_, 10, 1));
  EXPECT_TRUE(strict.acquire().has_value());
  const Result<void> refused = strict.acquire();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error(), errc::rate_limited);
  EXPECT_EQ(clock_->total_slept(), 200ms);  // a rejection does not sleep
}

TEST_F(RateLimiterTest, PublishesEveryRejectionAndNothingElse) {
  RateLimiter limiter(limiter_config(clock_, 10, 1, 100ms));
  std::vector<RateLimiterEvent> events;
  Subscription subscription =
      limiter.on_event([&](const RateLimiterEvent& e) { events.push_back(e); });
  ASSERT_FALSE(limiter.try_acquire().error);
  ASSERT_FALSE(limiter.try_acquire().error);  // delayed, not rejected
  EXPECT_TRUE(events.empty());
  clock_->advance(50ms);
  ASSERT_TRUE(limiter.try_acquire().error);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].limiter, "openai");
  EXPECT_EQ(events[0].retry_after, 150ms);  // TAT 300ms ahead of t0, now t0+50ms, capacity 100ms
  EXPECT_EQ(events[0].at, clock_->now());
}

TEST_F(RateLimiterTest, StatsReportAvailablePermits) {
  RateLimiter limiter(limiter_config(clock_, 10, 10));
  EXPECT_DOUBLE_EQ(limiter.stats().available_permits, 10.0);
  ASSERT_FALSE(limiter.try_acquire(7).error);
  EXPECT_DOUBLE_EQ(limiter.stats().available_permits, 3.0);
  clock_->advance(50ms);
  EXPECT_DOUBLE_EQ(limiter.stats().available_permits, 3.5);
  ASSERT_FALSE(limiter.try_acquire(3, 1s).error);
  ASSERT_FALSE(limiter.try_acquire(2, 1s).error);  // reserved ahead: none left
  EXPECT_DOUBLE_EQ(limiter.stats().available_permits, 0.0);
  clock_->advance(10s);
  EXPECT_DOUBLE_EQ(limiter.stats().available_permits, 10.0);
}

TEST_F(RateLimiterTest, ConcurrentCallersNeverExceedBurstPlusRateTimesElapsed) {
  constexpr double rate = 1000;  // one permit per millisecond
  constexpr std::uint32_t burst = 50;
  RateLimiter limiter(limiter_config(clock_, rate, burst));
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> granted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      while (!stop.load(std::memory_order_acquire)) {
        const auto admission = limiter.try_acquire();
        if (admission.error) {
          std::this_thread::yield();  // leave the clock thread some CPU
          continue;
        }
        EXPECT_EQ(admission.wait, 0s);
        granted.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  const Clock::time_point start = clock_->now();
  for (int step = 0; step < 300; ++step) {
    // Time moves on only once the workers have emptied the bucket: time spent with a full
    // bucket earns nothing (correctly), which would make the exact total below unpredictable.
    while (limiter.stats().available_permits >= 1.0) std::this_thread::yield();
    clock_->advance(1ms);
    // Each permit taken so far was available at the time it was taken.
    const auto elapsed_ms = (clock_->now() - start) / 1ms;
    EXPECT_LE(granted.load(std::memory_order_relaxed), burst + elapsed_ms);
  }
  stop.store(true, std::memory_order_release);
  for (auto& worker : workers) worker.join();
  EXPECT_LE(granted.load(), burst + 300);
  // No permit was lost either: taking what is left reaches the exact total.
  EXPECT_EQ(granted.load() + drain(limiter), burst + 300);
  EXPECT_EQ(limiter.stats().admitted, static_cast<std::uint64_t>(burst + 300));
}

TEST_F(RateLimiterTest, ConcurrentWaitersReserveDistinctSlots) {
  // Clock stopped: 10 permits now, then one per 10ms up to the 1s wait limit.
  RateLimiter limiter(limiter_config(clock_, 100, 10, 1s));
  std::mutex mutex;
  std::vector<Duration> waits;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 60; ++i) {
        const auto admission = limiter.try_acquire();
        if (admission.error) continue;
        std::lock_guard lock(mutex);
        waits.push_back(admission.wait);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  ASSERT_EQ(waits.size(), 110u);
  std::sort(waits.begin(), waits.end());
  for (std::size_t i = 0; i < waits.size(); ++i) {
    const auto expected = i < 10 ? 0ms : std::chrono::milliseconds(10 * (i - 9));
    EXPECT_EQ(waits[i], expected) << i;
  }
  EXPECT_EQ(limiter.stats().rejected, 240u - 110u);
}

TEST_F(RateLimiterTest, DefaultsAreFilledIn) {
  RateLimiter limiter(RateLimiterConfig{});
  EXPECT_EQ(limiter.config().burst, 100u);
  EXPECT_EQ(limiter.config().clock, steady_clock());
  EXPECT_FALSE(limiter.try_acquire().error);
}

TEST_F(RateLimiterTest, ConfigErrorNamesEveryBadField) {
  auto issues = issues_of(limiter_config(clock_, 0, 0, -1ms));
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].path, "rate_limiter.rate");
  EXPECT_EQ(issues[0].message, "must be > 0 and <= 1e9 permits per second, got 0");
  EXPECT_EQ(issues[1].path, "rate_limiter.max_wait");
  EXPECT_EQ(issues[1].message, "must be >= 0, got -1ms");

  for (double bad : {-1.0, 2e9, std::nan(""), std::numeric_limits<double>::infinity()}) {
    issues = issues_of(limiter_config(clock_, bad, 0));
    ASSERT_EQ(issues.size(), 1u) << bad;
    EXPECT_EQ(issues[0].path, "rate_limiter.rate");
  }
  issues = issues_of(limiter_config(clock_, 1e-3, 4'000'000'000U));  // ~127,000 years to refill
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "rate_limiter.burst");
  EXPECT_TRUE(issues_of(limiter_config(clock_, 1e9, 0)).empty());
}

}  // namespace
}  // namespace bulwark
