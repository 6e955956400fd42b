#include "bulwark/resilience/retry_budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <thread>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

RetryBudgetConfig budget_config(double ratio, std::uint32_t floor, Duration window = 10s) {
  RetryBudgetConfig config;
  config.ratio = ratio;
  config.min_retries_per_second = floor;
  config.window = window;
  return config;
}

int acquire_all(RetryBudget& budget) {
  int granted = 0;
  while (budget.try_acquire_retry()) ++granted;
  return granted;
}

std::vector<ConfigIssue> issues_of(const RetryBudgetConfig& config) {
  try {
    RetryBudget budget(config, std::make_shared<ManualClock>());
  } catch (const ConfigError& error) {
    return error.issues();
  }
  return {};
}

TEST(RetryBudget, FloorAllowsRetriesWithoutCalls) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.2, 10, 10s), clock);
  EXPECT_EQ(acquire_all(budget), 100);  // 10 per second over 10 seconds
  const RetryBudgetStats stats = budget.stats();
  EXPECT_EQ(stats.calls_in_window, 0u);
  EXPECT_EQ(stats.retries_in_window, 100u);
  EXPECT_EQ(stats.rejected_total, 1u);
}

TEST(RetryBudget, RatioOfCallsInTheWindow) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.2, 0), clock);
  EXPECT_FALSE(budget.try_acquire_retry());  // no calls, no floor
  for (int i = 0; i < 100; ++i) budget.record_call();
  EXPECT_EQ(acquire_all(budget), 20);
  for (int i = 0; i < 5; ++i) budget.record_call();
  EXPECT_EQ(acquire_all(budget), 1);
  const RetryBudgetStats stats = budget.stats();
  EXPECT_EQ(stats.calls_in_window, 105u);
  EXPECT_EQ(stats.retries_in_window, 21u);
  EXPECT_EQ(stats.rejected_total, 3u);
}

TEST(RetryBudget, RatioProductsDoNotRoundIntoAnExtraRetry) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.1, 0), clock);
  for (int i = 0; i < 30; ++i) budget.record_call();  // 0.1 * 30 is 3.0000000000000004
  EXPECT_EQ(acquire_all(budget), 3);
}

TEST(RetryBudget, RatioAndFloorAddUp) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.5, 1, 2s), clock);
  for (int i = 0; i < 10; ++i) budget.record_call();
  EXPECT_EQ(acquire_all(budget), 7);  // 0.5 * 10 + 1/s * 2s
}

TEST(RetryBudget, RetriesExpireWhenTheirBucketLeavesTheWindow) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.0, 1, 10s), clock);  // 10 retries per window, 1s buckets
  EXPECT_EQ(acquire_all(budget), 10);
  clock->advance(9s);
  EXPECT_FALSE(budget.try_acquire_retry());  // the first bucket is still counted
  EXPECT_EQ(budget.stats().retries_in_window, 10u);
  clock->advance(1s);
  EXPECT_EQ(budget.stats().retries_in_window, 0u);
  EXPECT_EQ(acquire_all(budget), 10);
}

TEST(RetryBudget, BucketsExpireOneAtATime) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(1.0, 0, 10s), clock);
  budget.record_call();  // second 0
  clock->advance(3s);
  budget.record_call();  // second 3
  budget.record_call();
  EXPECT_EQ(budget.stats().calls_in_window, 3u);
  clock->advance(7s);  // second 10: second 0 has left the window
  EXPECT_EQ(budget.stats().calls_in_window, 2u);
  clock->advance(2999ms);
  EXPECT_EQ(budget.stats().calls_in_window, 2u);
  clock->advance(1ms);  // second 13: second 3 has left too
  EXPECT_EQ(budget.stats().calls_in_window, 0u);
  EXPECT_FALSE(budget.try_acquire_retry());
}

TEST(RetryBudget, CallsEarnRetriesOnlyWhileInTheWindow) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.5, 0, 1s), clock);
  for (int i = 0; i < 4; ++i) budget.record_call();
  EXPECT_TRUE(budget.try_acquire_retry());
  clock->advance(1s);
  EXPECT_FALSE(budget.try_acquire_retry());
  budget.record_call();
  budget.record_call();
  EXPECT_EQ(acquire_all(budget), 1);
}

TEST(RetryBudget, ALongIdleGapForgetsEverything) {
  auto clock = std::make_shared<ManualClock>();
  RetryBudget budget(budget_config(0.0, 1, 10s), clock);
  EXPECT_EQ(acquire_all(budget), 10);
  clock->advance(1000h);
  const RetryBudgetStats stats = budget.stats();
  EXPECT_EQ(stats.retries_in_window, 0u);
  EXPECT_EQ(stats.rejected_total, 1u);  // totals are not windowed
  EXPECT_EQ(acquire_all(budget), 10);
}

TEST(RetryBudget, ConcurrentCallersNeverOverspend) {
  auto clock = std::make_shared<ManualClock>();
  auto budget = std::make_shared<RetryBudget>(budget_config(0.5, 0), clock);
  constexpr int threads = 4;
  constexpr int per_thread = 1000;
  std::atomic<int> granted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        budget->record_call();
        if (budget->try_acquire_retry()) granted.fetch_add(1, std::memory_order_relaxed);
        if (i % 100 == 0) (void)budget->stats();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const int total_calls = threads * per_thread;
  EXPECT_LE(granted.load(), total_calls / 2);
  // Whatever the interleaving, nothing was lost: topping up reaches the allowance exactly.
  EXPECT_EQ(granted.load() + acquire_all(*budget), total_calls / 2);
  const RetryBudgetStats stats = budget->stats();
  EXPECT_EQ(stats.calls_in_window, static_cast<std::uint64_t>(total_calls));
  EXPECT_EQ(stats.retries_in_window, static_cast<std::uint64_t>(total_calls / 2));
}

TEST(RetryBudget, ConfigErrorNamesEveryBadField) {
  auto issues = issues_of(budget_config(-0.5, 10, 0s));
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].path, "retry.budget.ratio");
  EXPECT_EQ(issues[0].message, "must be >= 0, got -0.5");
  EXPECT_EQ(issues[1].path, "retry.budget.window");
  EXPECT_EQ(issues[1].message, "must be > 0, got 0s");

  issues = issues_of(budget_config(std::nan(""), 10, 10s));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "retry.budget.ratio");
  EXPECT_TRUE(issues_of(budget_config(0.0, 0, 1ns)).empty());
}

TEST(RetryBudget, NullClockMeansTheSteadyClock) {
  RetryBudget budget(RetryBudgetConfig{}, nullptr);
  budget.record_call();
  EXPECT_EQ(budget.stats().calls_in_window, 1u);
}

}  // namespace
}  // namespace bulwark
