#include "bulwark/resilience/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <limits>
#include <memory>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

BackoffConfig without_jitter(BackoffType type) {
  BackoffConfig config;
  config.type = type;
  config.jitter = Jitter::none;
  return config;
}

std::vector<ConfigIssue> issues_of(const BackoffConfig& config) {
  try {
    Backoff backoff(config, nullptr);
  } catch (const ConfigError& error) {
    return error.issues();
  }
  return {};
}

TEST(Backoff, ConstantIsTheInitialDelayEveryTime) {
  Backoff backoff(without_jitter(BackoffType::constant), nullptr);
  EXPECT_EQ(backoff.delay(1, 100ms), 100ms);
  EXPECT_EQ(backoff.delay(2, 100ms), 100ms);
  EXPECT_EQ(backoff.delay(50, 100ms), 100ms);
}

TEST(Backoff, LinearGrowsByTheInitialDelay) {
  Backoff backoff(without_jitter(BackoffType::linear), nullptr);
  EXPECT_EQ(backoff.delay(1, 100ms), 100ms);
  EXPECT_EQ(backoff.delay(2, 100ms), 200ms);
  EXPECT_EQ(backoff.delay(3, 100ms), 300ms);
}

TEST(Backoff, ExponentialMultipliesPerRetry) {
  Backoff doubling(without_jitter(BackoffType::exponential), nullptr);
  EXPECT_EQ(doubling.delay(1, 100ms), 100ms);
  EXPECT_EQ(doubling.delay(2, 100ms), 200ms);
  EXPECT_EQ(doubling.delay(3, 100ms), 400ms);
  EXPECT_EQ(doubling.delay(4, 100ms), 800ms);

  BackoffConfig config = without_jitter(BackoffType::exponential);
  config.multiplier = 1.5;
  Backoff slower(config, nullptr);
  EXPECT_EQ(slower.delay(2, 100ms), 150ms);
  EXPECT_EQ(slower.delay(3, 100ms), 225ms);
}

TEST(Backoff, RetryNumbersBelowOneCountAsTheFirst) {
  Backoff backoff(without_jitter(BackoffType::linear), nullptr);
  EXPECT_EQ(backoff.delay(0, 100ms), 100ms);
  EXPECT_EQ(backoff.delay(-5, 100ms), 100ms);
}

TEST(Backoff, EveryTypeIsCappedAtMax) {
  BackoffConfig config = without_jitter(BackoffType::exponential);
  config.max = 1s;
  Backoff exponential(config, nullptr);
  EXPECT_EQ(exponential.delay(4, 100ms), 800ms);
  EXPECT_EQ(exponential.delay(5, 100ms), 1s);  // 1.6s capped
  EXPECT_EQ(exponential.delay(6, 100ms), 1s);

  config.type = BackoffType::linear;
  Backoff linear(config, nullptr);
  EXPECT_EQ(linear.delay(10, 100ms), 1s);
  EXPECT_EQ(linear.delay(11, 100ms), 1s);

  config.type = BackoffType::constant;
  config.initial = 1s;
  Backoff constant(config, nullptr);
  EXPECT_EQ(constant.delay(3, 1s), 1s);
}

TEST(Backoff, HugeRetryNumbersSaturateInsteadOfOverflowing) {
  for (BackoffType type : {BackoffType::linear, BackoffType::exponential}) {
    BackoffConfig config = without_jitter(type);
    config.initial = 1h;
    config.max = Duration::max();
    Backoff backoff(config, nullptr);
    EXPECT_EQ(backoff.delay(1000, 1h), type == BackoffType::linear ? 1000h : Duration::max());
    EXPECT_EQ(backoff.delay(INT_MAX, 1h), Duration::max());
  }
  Backoff capped(without_jitter(BackoffType::exponential), nullptr);
  EXPECT_EQ(capped.delay(1000, 100ms), 10s);
  EXPECT_EQ(capped.delay(INT_MAX, 100ms), 10s);
}

TEST(Backoff, ZeroInitialDelayMeansRetryAtOnce) {
  BackoffConfig config = without_jitter(BackoffType::exponential);
  config.initial = 0s;
  Backoff backoff(config, nullptr);
  EXPECT_EQ(backoff.delay(1, 0s), 0s);
  EXPECT_EQ(backoff.delay(1000, 0s), 0s);
  config.jitter = Jitter::full;
  EXPECT_EQ(Backoff(config, nullptr).delay(3, 0s), 0s);
}

// Draws many delays with a fixed seed; the checks below are deterministic.
std::vector<Duration> draw(const Backoff& backoff, int retry, Duration previous, int count) {
  std::vector<Duration> out;
  for (int i = 0; i < count; ++i) out.push_back(backoff.delay(retry, previous));
  return out;
}

Duration mean(const std::vector<Duration>& values) {
  Duration sum{};
  for (Duration d : values) sum += d;
  return sum / static_cast<Duration::rep>(values.size());
}

TEST(Backoff, FullJitterIsUniformBetweenZeroAndTheBaseDelay) {
  BackoffConfig config;  // exponential, full jitter
  Backoff backoff(config, std::make_shared<Random>(42));
  const auto values = draw(backoff, 3, 0s, 10'000);  // base 400ms
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  EXPECT_GE(*low, 0ms);
  EXPECT_LE(*high, 400ms);
  EXPECT_LT(*low, 4ms);  // the whole range is used ...
  EXPECT_GT(*high, 396ms);
  EXPECT_GT(mean(values), 190ms);  // ... evenly
  EXPECT_LT(mean(values), 210ms);
}

TEST(Backoff, EqualJitterKeepsAtLeastHalfTheBaseDelay) {
  BackoffConfig config;
  config.jitter = Jitter::equal;
  Backoff backoff(config, std::make_shared<Random>(42));
  const auto values = draw(backoff, 3, 0s, 10'000);  // base 400ms
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  EXPECT_GE(*low, 200ms);
  EXPECT_LE(*high, 400ms);
  EXPECT_LT(*low, 202ms);
  EXPECT_GT(*high, 398ms);
  EXPECT_GT(mean(values), 295ms);
  EXPECT_LT(mean(values), 305ms);
}

TEST(Backoff, JitterIsAppliedToTheCappedDelay) {
  BackoffConfig config;
  config.max = 1s;
  Backoff backoff(config, std::make_shared<Random>(7));
  for (Duration d : draw(backoff, 40, 0s, 1000)) EXPECT_LE(d, 1s);
  config.jitter = Jitter::equal;
  Backoff equal(config, std::make_shared<Random>(7));
  for (Duration d : draw(equal, 40, 0s, 1000)) {
    EXPECT_GE(d, 500ms);
    EXPECT_LE(d, 1s);
  }
}

TEST(Backoff, DecorrelatedJitterDrawsBetweenInitialAndThreeTimesThePrevious) {
  BackoffConfig config;
  config.jitter = Jitter::decorrelated;
  Backoff backoff(config, std::make_shared<Random>(42));
  const auto values = draw(backoff, 5, 1s, 10'000);
  const auto [low, high] = std::minmax_element(values.begin(), values.end());
  EXPECT_GE(*low, 100ms);
  EXPECT_LE(*high, 3s);
  EXPECT_LT(*low, 110ms);
  EXPECT_GT(*high, 2990ms);
  // The retry number does not matter, only the previous delay.
  Backoff same_seed(config, std::make_shared<Random>(42));
  EXPECT_EQ(draw(same_seed, 1, 1s, 10'000), values);
}

TEST(Backoff, DecorrelatedJitterStartsAtInitialAndIsCapped) {
  BackoffConfig config;
  config.jitter = Jitter::decorrelated;
  config.max = 2s;
  Backoff backoff(config, std::make_shared<Random>(3));
  EXPECT_EQ(backoff.delay(1, 0s), 100ms);  // upper bound below initial: initial
  for (Duration d : draw(backoff, 2, 10s, 1000)) {
    EXPECT_GE(d, 100ms);
    EXPECT_LE(d, 2s);
  }
  EXPECT_EQ(backoff.delay(2, Duration::max()), 2s);  // no overflow computing previous * 3
}

TEST(Backoff, DecorrelatedJitterGrowsAlongAChainOfRetries) {
  BackoffConfig config;
  config.jitter = Jitter::decorrelated;
  config.max = 1h;
  Backoff backoff(config, std::make_shared<Random>(11));
  constexpr int chains = 2000;
  std::vector<Duration> sum(6);
  for (int c = 0; c < chains; ++c) {
    Duration previous = config.initial;
    for (int retry = 1; retry <= 5; ++retry) {
      const Duration d = backoff.delay(retry, previous);
      ASSERT_GE(d, 100ms);
      ASSERT_LE(d, std::max<Duration>(previous * 3, 100ms));
      sum[static_cast<std::size_t>(retry)] += d;
      previous = d;
    }
  }
  // Each step's expectation is (initial + 3 * previous) / 2, over 1.5 times the previous one.
  for (std::size_t retry = 2; retry <= 5; ++retry) {
    EXPECT_GT(sum[retry], sum[retry - 1] * 5 / 4) << "retry " << retry;
  }
}

TEST(Backoff, TheSameSeedGivesTheSameDelays) {
  BackoffConfig config;
  Backoff first(config, std::make_shared<Random>(99));
  Backoff second(config, std::make_shared<Random>(99));
  Backoff other(config, std::make_shared<Random>(100));
  const auto a = draw(first, 4, 0s, 100);
  EXPECT_EQ(a, draw(second, 4, 0s, 100));
  EXPECT_NE(a, draw(other, 4, 0s, 100));
}

TEST(Backoff, ValidDefaultsAndBaseDelayWithoutJitter) {
  Backoff backoff(BackoffConfig{}, nullptr);
  EXPECT_EQ(backoff.base_delay(3), 400ms);
  EXPECT_EQ(backoff.config().max, 10s);
}

TEST(Backoff, ConfigErrorNamesEveryBadField) {
  BackoffConfig config;
  config.initial = -1ms;
  config.multiplier = 0.5;
  config.max = -2ms;
  config.type = static_cast<BackoffType>(9);
  config.jitter = static_cast<Jitter>(7);
  const auto issues = issues_of(config);
  ASSERT_EQ(issues.size(), 5u);
  EXPECT_EQ(issues[0].path, "retry.backoff.type");
  EXPECT_EQ(issues[1].path, "retry.backoff.jitter");
  EXPECT_EQ(issues[2].path, "retry.backoff.initial");
  EXPECT_EQ(issues[2].message, "must be >= 0, got -1ms");
  EXPECT_EQ(issues[3].path, "retry.backoff.multiplier");
  EXPECT_EQ(issues[3].message, "must be >= 1, got 0.5");
  EXPECT_EQ(issues[4].path, "retry.backoff.max");
  EXPECT_EQ(issues[4].message, "must be >= initial (-1ms), got -2ms");
}

TEST(Backoff, ConfigErrorForMaxBelowInitialAndZeroDecorrelatedStart) {
  BackoffConfig config;
  config.initial = 2s;
  config.max = 1s;
  auto issues = issues_of(config);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "retry.backoff.max");
  EXPECT_EQ(issues[0].message, "must be >= initial (2s), got 1s");

  config = BackoffConfig{};
  config.initial = 0s;
  config.jitter = Jitter::decorrelated;
  issues = issues_of(config);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "retry.backoff.initial");

  config.multiplier = std::numeric_limits<double>::infinity();
  config.jitter = Jitter::full;
  issues = issues_of(config);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "retry.backoff.multiplier");
}

TEST(Backoff, ValidateUsesTheGivenPath) {
  BackoffConfig config;
  config.multiplier = 0;
  std::vector<ConfigIssue> issues;
  Backoff::validate(config, issues, "services.qdrant.retry.backoff");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "services.qdrant.retry.backoff.multiplier");
}

}  // namespace
}  // namespace bulwark
