// A RateLimiter with a coordinator: asynchronous admissions are decided by the coordinator, and
// by the local bucket whenever it cannot answer; the pipeline's async path asks it per attempt.
#include "bulwark/resilience/rate_limit_coordinator.hpp"

#include "bulwark/resilience/pipeline.hpp"

#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <deque>

namespace bulwark {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

using test::run;

// Answers from a script; `std::nullopt` plays an unreachable store.
struct ScriptedCoordinator final : RateLimitCoordinator {
  std::deque<std::optional<RateLimiter::Admission>> answers;
  int asked = 0;
  Duration last_max_wait{};
  asio::awaitable<std::optional<RateLimiter::Admission>> acquire(std::uint32_t,
                                                                 Duration max_wait) override {
    ++asked;
    last_max_wait = max_wait;
    std::optional<RateLimiter::Admission> answer = answers.front();
    answers.pop_front();
    co_return answer;
  }
};

struct CoordinatedLimiterTest : ::testing::Test {
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<ScriptedCoordinator> coordinator = std::make_shared<ScriptedCoordinator>();

  RateLimiterConfig config() {
    RateLimiterConfig c;
    c.name = "svc";
    c.rate = 1;
    c.burst = 1;
    c.max_wait = 2s;
    c.clock = clock;
    c.coordinator = coordinator;
    return c;
  }
};

TEST_F(CoordinatedLimiterTest, TheCoordinatorDecidesAndTheLocalBucketIsUntouched) {
  RateLimiter limiter(config());
  EXPECT_TRUE(limiter.coordinated());
  coordinator->answers = {RateLimiter::Admission{{}, 300ms},
                          RateLimiter::Admission{make_error_code(errc::rate_limited), 5s}};
  const RateLimiter::Admission granted = run(io, limiter.async_try_acquire());
  EXPECT_FALSE(granted.error);
  EXPECT_EQ(granted.wait, 300ms);
  EXPECT_EQ(coordinator->last_max_wait, 2s);
  std::vector<Duration> rejections;
  const Subscription subscription = limiter.on_event(
      [&](const RateLimiterEvent& event) { rejections.push_back(event.retry_after); });
  const RateLimiter::Admission refused = run(io, limiter.async_try_acquire());
  EXPECT_EQ(refused.error, errc::rate_limited);
  EXPECT_EQ(refused.wait, 5s);
  EXPECT_EQ(rejections, std::vector<Duration>{5s});

  const RateLimiterStats stats = limiter.stats();
  EXPECT_EQ(stats.admitted, 1U);
  EXPECT_EQ(stats.delayed, 1U);
  EXPECT_EQ(stats.rejected, 1U);
  EXPECT_EQ(stats.local_fallbacks, 0U);
  EXPECT_DOUBLE_EQ(stats.available_permits, 1.0) << "the local bucket is kept for fallbacks";
}

TEST_F(CoordinatedLimiterTest, NoAnswerFallsBackToTheLocalBucket) {
  RateLimiter limiter(config());
  coordinator->answers = {std::nullopt, std::nullopt, std::nullopt};
  EXPECT_FALSE(run(io, limiter.async_try_acquire()).error) << "the bucket starts full";
  const RateLimiter::Admission second = run(io, limiter.async_try_acquire());
  EXPECT_FALSE(second.error);
  EXPECT_EQ(second.wait, 1s) << "one permit per second, waited for within max_wait";
  clock->advance(1s);
  const RateLimiter::Admission third = run(io, limiter.async_try_acquire());
  EXPECT_FALSE(third.error);
  EXPECT_EQ(third.wait, 1s);
  EXPECT_EQ(coordinator->asked, 3);
  EXPECT_EQ(limiter.stats().local_fallbacks, 3U);
}

TEST_F(CoordinatedLimiterTest, SynchronousAcquisitionsUseTheLocalBucket) {
  RateLimiter limiter(config());
  EXPECT_FALSE(limiter.try_acquire().error);
  EXPECT_EQ(coordinator->asked, 0);
}

TEST_F(CoordinatedLimiterTest, AskingForMoreThanTheBurstNeverReachesTheCoordinator) {
  RateLimiter limiter(config());
  EXPECT_EQ(run(io, limiter.async_try_acquire(2)).error, errc::invalid_argument);
  EXPECT_EQ(coordinator->asked, 0);
}

TEST_F(CoordinatedLimiterTest, PipelineAsksTheCoordinatorBeforeEveryAttempt) {
  PipelineConfig pipeline_config;
  pipeline_config.name = "svc";
  pipeline_config.clock = clock;
  pipeline_config.rate_limiter = config();
  Pipeline pipeline(pipeline_config);
  coordinator->answers = {RateLimiter::Admission{{}, Duration::zero()},
                          RateLimiter::Admission{make_error_code(errc::rate_limited), 1s}};
  int calls = 0;
  const auto call = [&]() -> asio::awaitable<int> {
    ++calls;
    co_return 7;
  };
  EXPECT_EQ(run(io, pipeline.try_execute_async(call)).value(), 7);
  const Result<int> refused = run(io, pipeline.try_execute_async(call));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::rate_limited);
  EXPECT_EQ(calls, 1) << "a refused attempt never runs";
  EXPECT_EQ(coordinator->asked, 2);
  EXPECT_EQ(pipeline.stats().rejected, 1U);
}

TEST(SharedStateConfig, BadSettingsAreReportedUnderShared) {
  RateLimiterConfig config;
  config.rate = 2e6;
  config.shared = SharedStateConfig{};
  config.shared->key_prefix = "";
  config.shared->timeout = Duration::zero();
  std::vector<ConfigIssue> issues;
  RateLimiter::validate(config, issues);
  ASSERT_EQ(issues.size(), 3U);
  EXPECT_EQ(issues[0].path, "rate_limiter.shared.key_prefix");
  EXPECT_EQ(issues[1].path, "rate_limiter.shared.timeout");
  EXPECT_EQ(issues[2].path, "rate_limiter.rate");
  EXPECT_NE(issues[2].message.find("when shared"), std::string::npos);
}

}  // namespace
}  // namespace bulwark
