// RetryBudget's fleet view: counts handed out for publication, fleet totals deciding retries
// together with the counts not yet published, and the local window taking over again.
#include "bulwark/resilience/retry_budget.hpp"

#include "bulwark/resilience/retry.hpp"

#include <gtest/gtest.h>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

struct FleetBudgetTest : ::testing::Test {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  RetryBudget budget{RetryBudgetConfig{.ratio = 0.5, .min_retries_per_second = 0, .window = 10s},
                     clock};
};

TEST_F(FleetBudgetTest, UnsharedCountsAreHandedOutOnce) {
  for (int i = 0; i < 4; ++i) budget.record_call();
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_EQ(budget.take_unshared(), (RetryBudgetCounts{4, 1}));
  EXPECT_EQ(budget.take_unshared(), (RetryBudgetCounts{0, 0}));
  budget.record_call();
  EXPECT_EQ(budget.take_unshared(), (RetryBudgetCounts{1, 0}));
}

TEST_F(FleetBudgetTest, FleetTotalsDecideInsteadOfTheLocalWindow) {
  // Locally: 10 calls would allow 5 retries.
  for (int i = 0; i < 10; ++i) budget.record_call();
  (void)budget.take_unshared();
  // The fleet has already spent its budget: 40 calls, 20 retries.
  budget.set_fleet_totals({40, 20});
  EXPECT_TRUE(budget.uses_fleet_totals());
  EXPECT_FALSE(budget.try_acquire_retry());
  // Two calls recorded since the publication earn one retry.
  budget.record_call();
  budget.record_call();
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
  const RetryBudgetStats stats = budget.stats();
  EXPECT_TRUE(stats.fleet);
  EXPECT_EQ(stats.fleet_calls, 42U);
  EXPECT_EQ(stats.fleet_retries, 21U);
  EXPECT_EQ(stats.calls_in_window, 12U) << "the local window keeps counting";
  EXPECT_EQ(stats.retries_in_window, 1U);
}

TEST_F(FleetBudgetTest, CountsInFlightCountUntilTheFleetConfirmsThem) {
  budget.set_fleet_totals({0, 0});
  for (int i = 0; i < 4; ++i) budget.record_call();
  EXPECT_TRUE(budget.try_acquire_retry());
  // Published but not yet confirmed: still counted, so nothing is granted twice.
  EXPECT_EQ(budget.take_unshared(), (RetryBudgetCounts{4, 1}));
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
  // The fleet's answer includes them: in-flight counts are dropped, not counted twice.
  budget.set_fleet_totals({4, 1});
  EXPECT_EQ(budget.stats().fleet_retries, 2U) << "1 confirmed + 1 granted since";
  EXPECT_FALSE(budget.try_acquire_retry());
}

TEST_F(FleetBudgetTest, ClearingGoesBackToTheLocalWindow) {
  for (int i = 0; i < 10; ++i) budget.record_call();
  // 100 calls + the 10 recorded here allow 55 retries, all spent.
  budget.set_fleet_totals({100, 55});
  EXPECT_FALSE(budget.try_acquire_retry());
  budget.clear_fleet_totals();
  EXPECT_FALSE(budget.uses_fleet_totals());
  EXPECT_TRUE(budget.try_acquire_retry()) << "10 local calls allow 5 retries";
  EXPECT_FALSE(budget.stats().fleet);
}

TEST_F(FleetBudgetTest, TheFloorCountsOnceForTheFleet) {
  RetryBudget floored(RetryBudgetConfig{.ratio = 0, .min_retries_per_second = 1, .window = 2s},
                      clock);
  floored.set_fleet_totals({0, 1});  // another instance used one of the fleet's two
  EXPECT_TRUE(floored.try_acquire_retry());
  EXPECT_FALSE(floored.try_acquire_retry());
}

TEST(RetryOwnBudget, IsBuiltFromTheConfigWhenNoneIsShared) {
  RetryConfig config;
  config.budget_config = RetryBudgetConfig{.ratio = 0, .min_retries_per_second = 0};
  Retry retry(config);
  ASSERT_NE(retry.config().budget, nullptr);
  EXPECT_EQ(retry.config().budget->config().ratio, 0.0);
}

TEST(RetryOwnBudget, BadBudgetSettingsAreReported) {
  RetryConfig config;
  config.budget_config = RetryBudgetConfig{.ratio = -1, .window = Duration::zero()};
  config.budget_config->shared = SharedStateConfig{};
  config.budget_config->shared->sync_interval = Duration::zero();
  std::vector<ConfigIssue> issues;
  Retry::validate(config, issues);
  ASSERT_EQ(issues.size(), 3U);
  EXPECT_EQ(issues[0].path, "retry.budget.ratio");
  EXPECT_EQ(issues[1].path, "retry.budget.window");
  EXPECT_EQ(issues[2].path, "retry.budget.shared.sync_interval");
}

}  // namespace
}  // namespace bulwark
