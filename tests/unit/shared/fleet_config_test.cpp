// Settings of the fleet-wide policies are checked when they are built, before anything is sent.
#include "bulwark/shared/fleet_rate_limiter.hpp"
#include "bulwark/shared/fleet_retry_budget.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace bulwark::shared {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> paths_of(const ConfigError& error) {
  std::vector<std::string> paths;
  for (const ConfigIssue& issue : error.issues()) paths.push_back(issue.path);
  return paths;
}

struct FleetConfigTest : ::testing::Test {
  boost::asio::io_context io;
  // Connects lazily: building it sends nothing.
  std::shared_ptr<redis::Client> client =
      std::make_shared<redis::Client>(io.get_executor(), redis::ClientConfig{});
};

TEST_F(FleetConfigTest, RateLimiterDefaultsItsBurstAsTheLocalLimiterDoes) {
  FleetRateLimiter limiter(client, {.key = "k", .rate = 2.5});
  EXPECT_EQ(limiter.config().burst, 3U);
  EXPECT_TRUE(limiter.coordinated()) << "until a round trip fails";
  EXPECT_EQ(limiter.stats().shared_decisions, 0U);
}

TEST_F(FleetConfigTest, RateLimiterReportsEveryBadSetting) {
  try {
    FleetRateLimiter limiter(nullptr, {.key = "", .rate = 2e6, .timeout = 0ms});
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(paths_of(error), (std::vector<std::string>{
                                   "rate_limiter.rate", "rate_limiter.shared.key_prefix",
                                   "rate_limiter.shared.timeout", "rate_limiter.shared.database"}));
  }
}

TEST_F(FleetConfigTest, RetryBudgetReportsEveryBadSetting) {
  try {
    FleetRetryBudget budget(client, nullptr, {.key = "", .timeout = 0ms, .sync_interval = 0ms});
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(paths_of(error), (std::vector<std::string>{
                                   "retry.budget.shared.key_prefix", "retry.budget.shared.timeout",
                                   "retry.budget.shared.sync_interval", "retry.budget"}));
  }
}

TEST_F(FleetConfigTest, ScriptsAreFixedAndDistinct) {
  EXPECT_EQ(FleetRateLimiter::script().sha1().size(), 40U);
  EXPECT_NE(FleetRateLimiter::script().sha1(), FleetRetryBudget::script().sha1());
  EXPECT_NE(FleetRateLimiter::script().source().find("TIME"), std::string::npos)
      << "the server's clock decides, not the instances'";
}

}  // namespace
}  // namespace bulwark::shared
