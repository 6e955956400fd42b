#include "bulwark/resilience/circuit_breaker.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bulwark/core/error.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using Permit = CircuitBreaker::Permit;
using ::testing::ElementsAre;

// A small, fully deterministic breaker: count window of 10, judged from 10 calls, opens at a 50%
// failure rate, no consecutive-failure rule, 10s wait.
struct Harness {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  [[nodiscard]] CircuitBreakerConfig config() const {
    CircuitBreakerConfig c;
    c.name = "svc";
    c.window_size = 10;
    c.minimum_calls = 10;
    c.failure_rate_threshold = 0.5;
    c.consecutive_failures = 0;
    c.recovery_timeout = 10s;
    c.max_half_open_duration = 0s;
    c.clock = clock;
    c.random = std::make_shared<Random>(42);
    return c;
  }
};

Permit acquire(CircuitBreaker& breaker) { return breaker.try_acquire().value(); }

void succeed(CircuitBreaker& breaker, int times = 1, Duration elapsed = {}) {
  for (int i = 0; i < times; ++i) breaker.on_success(acquire(breaker), elapsed);
}

void fail(CircuitBreaker& breaker, int times = 1, Duration elapsed = {}) {
  for (int i = 0; i < times; ++i) breaker.on_failure(acquire(breaker), elapsed);
}

bool rejects(CircuitBreaker& breaker) {
  const auto result = breaker.try_acquire();
  return !result.has_value() && result.error() == errc::circuit_open;
}

// Records every event a breaker publishes.
struct Recorder {
  explicit Recorder(CircuitBreaker& breaker)
      : subscription(breaker.on_event([this](const BreakerEvent& e) { events.push_back(e); })) {}

  [[nodiscard]] std::vector<std::string> transitions() const {
    std::vector<std::string> out;
    for (const auto& e : events) {
      if (e.type != BreakerEvent::Type::state_changed) continue;
      out.push_back(std::string(to_string(e.from)) + "->" + std::string(to_string(e.to)) + ": " +
                    e.reason);
    }
    return out;
  }
  [[nodiscard]] std::size_t rejections() const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [](const auto& e) {
      return e.type == BreakerEvent::Type::rejected;
    }));
  }

  std::vector<BreakerEvent> events;
  Subscription subscription;
};

// Opens a breaker built from Harness::config() (10 failures in a 10-call window).
void trip(CircuitBreaker& breaker) {
  fail(breaker, 10);
  ASSERT_EQ(breaker.state(), BreakerState::open);
}

// --- names ---------------------------------------------------------------------------------

TEST(BreakerState, NamesAndHealth) {
  EXPECT_EQ(to_string(BreakerState::closed), "closed");
  EXPECT_EQ(to_string(BreakerState::open), "open");
  EXPECT_EQ(to_string(BreakerState::half_open), "half_open");
  EXPECT_EQ(to_string(BreakerState::disabled), "disabled");
  EXPECT_EQ(to_string(BreakerState::forced_open), "forced_open");
  EXPECT_EQ(to_health(BreakerState::closed), HealthState::healthy);
  EXPECT_EQ(to_health(BreakerState::disabled), HealthState::healthy);
  EXPECT_EQ(to_health(BreakerState::half_open), HealthState::degraded);
  EXPECT_EQ(to_health(BreakerState::open), HealthState::failed);
  EXPECT_EQ(to_health(BreakerState::forced_open), HealthState::failed);
}

// --- configuration -------------------------------------------------------------------------

TEST(CircuitBreakerConfig, DefaultsAreValidAndFilledIn) {
  CircuitBreaker breaker(CircuitBreakerConfig{});
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_NE(breaker.config().clock, nullptr);
  EXPECT_NE(breaker.config().random, nullptr);
  EXPECT_FALSE(breaker.measures_duration());
  EXPECT_EQ(breaker.config().window_size, 100u);
}

std::vector<ConfigIssue> issues_of(const CircuitBreakerConfig& config) {
  try {
    CircuitBreaker breaker(config);
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.code(), errc::config_invalid);
    return e.issues();
  }
  return {};
}

std::string message_for(const std::vector<ConfigIssue>& issues, const std::string& path) {
  for (const auto& issue : issues) {
    if (issue.path == path) return issue.message;
  }
  return "<no issue for " + path + ">";
}

TEST(CircuitBreakerConfig, EveryBadFieldIsNamed) {
  CircuitBreakerConfig c;
  c.window_size = 0;
  c.window_duration = -1s;
  c.window_buckets = 0;
  c.failure_rate_threshold = 1.5;
  c.slow_call_duration = -1ms;
  c.slow_call_rate_threshold = 0.0;
  c.recovery_timeout = -1s;
  c.recovery_backoff = 0.5;
  c.max_recovery_timeout = -2s;
  c.recovery_jitter = 1.0;
  c.half_open_permitted_calls = 0;
  c.half_open_success_threshold = 2;
  c.max_half_open_duration = -1s;
  const auto issues = issues_of(c);
  EXPECT_EQ(issues.size(), 13u);
  EXPECT_EQ(message_for(issues, "circuit_breaker.window_size"), "must be in [1, 1000000], got 0");
  EXPECT_EQ(message_for(issues, "circuit_breaker.window_duration"), "must be > 0, got -1s");
  EXPECT_EQ(message_for(issues, "circuit_breaker.window_buckets"), "must be in [1, 1000], got 0");
  EXPECT_EQ(message_for(issues, "circuit_breaker.failure_rate_threshold"),
            "must be in [0, 1], got 1.5");
  EXPECT_EQ(message_for(issues, "circuit_breaker.slow_call_duration"), "must be >= 0, got -1ms");
  EXPECT_EQ(message_for(issues, "circuit_breaker.slow_call_rate_threshold"),
            "must be in (0, 1], got 0");
  EXPECT_EQ(message_for(issues, "circuit_breaker.recovery_timeout"), "must be >= 0, got -1s");
  EXPECT_EQ(message_for(issues, "circuit_breaker.recovery_backoff"), "must be >= 1, got 0.5");
  EXPECT_EQ(message_for(issues, "circuit_breaker.max_recovery_timeout"),
            "must be >= recovery_timeout (-1s), got -2s");
  EXPECT_EQ(message_for(issues, "circuit_breaker.recovery_jitter"), "must be in [0, 1), got 1");
  EXPECT_EQ(message_for(issues, "circuit_breaker.half_open_permitted_calls"),
            "must be in [1, 65535], got 0");
  EXPECT_EQ(message_for(issues, "circuit_breaker.half_open_success_threshold"),
            "must be in [1, half_open_permitted_calls (0)], got 2");
  EXPECT_EQ(message_for(issues, "circuit_breaker.max_half_open_duration"), "must be >= 0, got -1s");
}

TEST(CircuitBreakerConfig, CrossFieldRules) {
  CircuitBreakerConfig c;
  c.window_size = 10;
  c.minimum_calls = 11;
  EXPECT_EQ(message_for(issues_of(c), "circuit_breaker.minimum_calls"),
            "must be <= window_size (10), got 11");
  c.window_type = WindowType::time_based;  // the window is not counted in calls then
  EXPECT_TRUE(issues_of(c).empty());

  CircuitBreakerConfig d;
  d.window_buckets = 10;
  d.window_duration = 5ns;
  EXPECT_EQ(message_for(issues_of(d), "circuit_breaker.window_duration"),
            "must be at least window_buckets (10) nanoseconds, got 5ns");

  CircuitBreakerConfig e;
  e.recovery_timeout = 10s;
  e.max_recovery_timeout = 5s;
  e.half_open_permitted_calls = 70000;
  e.half_open_success_threshold = 1;
  e.window_size = 1'000'001;
  e.minimum_calls = 1;
  const auto issues = issues_of(e);
  EXPECT_EQ(message_for(issues, "circuit_breaker.max_recovery_timeout"),
            "must be >= recovery_timeout (10s), got 5s");
  EXPECT_EQ(message_for(issues, "circuit_breaker.half_open_permitted_calls"),
            "must be in [1, 65535], got 70000");
  EXPECT_EQ(message_for(issues, "circuit_breaker.window_size"),
            "must be in [1, 1000000], got 1000001");
}

TEST(CircuitBreakerConfig, NotANumberIsRejected) {
  CircuitBreakerConfig c;
  c.failure_rate_threshold = std::numeric_limits<double>::quiet_NaN();
  c.recovery_backoff = std::numeric_limits<double>::infinity();
  const auto issues = issues_of(c);
  EXPECT_EQ(issues.size(), 2u);
  EXPECT_EQ(message_for(issues, "circuit_breaker.recovery_backoff"), "must be >= 1, got inf");
}

// --- CLOSED: thresholds --------------------------------------------------------------------

TEST(CircuitBreaker, StartsClosedAndPermitsEveryCall) {
  Harness h;
  CircuitBreaker breaker(h.config());
  EXPECT_EQ(breaker.name(), "svc");
  for (int i = 0; i < 100; ++i) {
    const Permit permit = acquire(breaker);
    EXPECT_FALSE(permit.probe);
    breaker.on_success(permit);
  }
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.remaining_open_time(), 0ns);
}

TEST(CircuitBreaker, FailureRateOpensExactlyAtTheThreshold) {
  Harness h;
  CircuitBreaker breaker(h.config());
  Recorder recorder(breaker);
  succeed(breaker, 6);
  fail(breaker, 4);  // 10 calls, 40%
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);  // evicts a success: 5 of 10 = 50%
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(),
              ElementsAre("closed->open: failure rate 50% >= 50% over 10 calls"));
}

TEST(CircuitBreaker, NoRateIsJudgedBelowMinimumCalls) {
  Harness h;
  CircuitBreaker breaker(h.config());
  fail(breaker, 9);  // 100% failures, but only 9 calls
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.stats().failure_rate, 1.0);  // reported even below the minimum
  fail(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

TEST(CircuitBreaker, SuccessNeverOpensEvenAboveTheRate) {
  // A success is not evaluated: reaching the minimum with a success does not open the breaker,
  // the next failure does.
  Harness h;
  auto config = h.config();
  config.minimum_calls = 5;
  CircuitBreaker breaker(config);
  fail(breaker, 4);
  succeed(breaker);  // 4 of 5 failed, but a success does not trip it
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

TEST(CircuitBreaker, ZeroFailureRateThresholdDisablesTheRateCheck) {
  Harness h;
  auto config = h.config();
  config.failure_rate_threshold = 0.0;
  CircuitBreaker breaker(config);
  fail(breaker, 50);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.stats().failed_in_window, 10u);
}

TEST(CircuitBreaker, ConsecutiveFailuresOpenAtTheCountRegardlessOfMinimum) {
  Harness h;
  auto config = h.config();
  config.failure_rate_threshold = 0.0;
  config.consecutive_failures = 3;
  CircuitBreaker breaker(config);
  Recorder recorder(breaker);
  fail(breaker, 2);
  succeed(breaker);  // resets the run
  EXPECT_EQ(breaker.stats().consecutive_failures, 0u);
  fail(breaker, 2);
  EXPECT_EQ(breaker.stats().consecutive_failures, 2u);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(), ElementsAre("closed->open: 3 consecutive failures"));
}

TEST(CircuitBreaker, CountWindowEvictsTheOldestOutcome) {
  Harness h;
  auto config = h.config();
  config.window_size = 5;
  config.minimum_calls = 5;
  config.failure_rate_threshold = 0.6;
  CircuitBreaker breaker(config);
  fail(breaker, 2);
  succeed(breaker, 3);
  EXPECT_EQ(breaker.stats().failed_in_window, 2u);
  succeed(breaker);  // evicts the first failure
  EXPECT_EQ(breaker.stats().failed_in_window, 1u);
  EXPECT_EQ(breaker.stats().calls_in_window, 5u);
  fail(breaker);  // evicts the second failure: 1 of 5
  fail(breaker);  // 2 of 5
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);  // 3 of 5 = 60%
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

// --- slow calls ----------------------------------------------------------------------------

CircuitBreakerConfig slow_config(const Harness& h) {
  auto config = h.config();
  config.window_size = 4;
  config.minimum_calls = 4;
  config.failure_rate_threshold = 0.0;
  config.slow_call_duration = 100ms;
  config.slow_call_rate_threshold = 0.5;
  return config;
}

TEST(CircuitBreaker, SlowCallRateOpensExactlyAtTheThreshold) {
  Harness h;
  CircuitBreaker breaker(slow_config(h));
  Recorder recorder(breaker);
  EXPECT_TRUE(breaker.measures_duration());
  succeed(breaker, 2, 100ms);  // exactly the limit is not slow
  succeed(breaker, 1, 101ms);
  EXPECT_EQ(breaker.stats().slow_in_window, 1u);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  succeed(breaker, 1, 1s);  // 2 of 4 slow
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(),
              ElementsAre("closed->open: slow-call rate 50% >= 50% over 4 calls"));
}

TEST(CircuitBreaker, SlowSuccessIsSlowNotFailedAndSlowFailureIsBoth) {
  Harness h;
  CircuitBreaker breaker(slow_config(h));
  succeed(breaker, 1, 200ms);
  fail(breaker, 1, 200ms);
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 2u);
  EXPECT_EQ(stats.failed_in_window, 1u);
  EXPECT_EQ(stats.slow_in_window, 2u);
  EXPECT_EQ(stats.successful_total, 1u);
  EXPECT_EQ(stats.failed_total, 1u);
  EXPECT_EQ(stats.slow_total, 2u);
  EXPECT_DOUBLE_EQ(stats.slow_call_rate, 1.0);
  EXPECT_DOUBLE_EQ(stats.failure_rate, 0.5);
}

TEST(CircuitBreaker, ElapsedIsIgnoredWithoutSlowCallDetection) {
  Harness h;
  auto config = h.config();
  config.minimum_calls = 1;
  CircuitBreaker breaker(config);
  EXPECT_FALSE(breaker.measures_duration());
  succeed(breaker, 5, 1h);
  EXPECT_EQ(breaker.stats().slow_in_window, 0u);
  EXPECT_EQ(breaker.stats().slow_total, 0u);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, SlowSuccessResetsTheConsecutiveFailureRun) {
  Harness h;
  auto config = slow_config(h);
  config.consecutive_failures = 2;
  config.slow_call_rate_threshold = 1.0;
  CircuitBreaker breaker(config);
  fail(breaker);
  succeed(breaker, 1, 1s);
  fail(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::open);
}

// --- time-based window ---------------------------------------------------------------------

CircuitBreakerConfig time_config(const Harness& h) {
  auto config = h.config();
  config.window_type = WindowType::time_based;
  config.window_duration = 10s;
  config.window_buckets = 10;
  config.minimum_calls = 4;
  return config;
}

TEST(CircuitBreaker, TimeWindowExpiresOldBuckets) {
  Harness h;
  CircuitBreaker breaker(time_config(h));
  h.clock->advance(500ms);
  fail(breaker, 3);
  h.clock->advance(9s);  // 9.5s later: still inside the window
  EXPECT_EQ(breaker.stats().calls_in_window, 3u);
  h.clock->advance(500ms);  // the bucket of the failures has expired
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  succeed(breaker);
  fail(breaker);  // had the failures not expired, 4 of 5 would have opened it
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.stats().calls_in_window, 2u);
}

TEST(CircuitBreaker, TimeWindowOpensAtTheThresholdAcrossBuckets) {
  Harness h;
  CircuitBreaker breaker(time_config(h));
  Recorder recorder(breaker);
  succeed(breaker);
  h.clock->advance(3s);
  fail(breaker);
  h.clock->advance(3s);
  succeed(breaker);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  h.clock->advance(3s);
  fail(breaker);  // 2 of 4, spread over 9s
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(),
              ElementsAre("closed->open: failure rate 50% >= 50% over 4 calls"));
}

// --- OPEN ----------------------------------------------------------------------------------

TEST(CircuitBreaker, OpenRejectsAndCountsRejections) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  Recorder recorder(breaker);
  EXPECT_EQ(breaker.remaining_open_time(), 10s);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rejects(breaker));
  const auto rejected = breaker.try_acquire();
  ASSERT_FALSE(rejected.has_value());
  EXPECT_TRUE(rejected.error() == condition::rejected);
  EXPECT_EQ(breaker.stats().rejected_total, 4u);
  ASSERT_EQ(recorder.rejections(), 4u);
  EXPECT_EQ(recorder.events.back().from, BreakerState::open);
  EXPECT_EQ(recorder.events.back().to, BreakerState::open);
  EXPECT_EQ(recorder.events.back().breaker, "svc");
  EXPECT_EQ(recorder.events.back().at, h.clock->now());
  EXPECT_TRUE(recorder.events.back().reason.empty());
  h.clock->advance(6s);
  EXPECT_EQ(breaker.remaining_open_time(), 4s);
  EXPECT_EQ(breaker.stats().times_opened, 1u);
}

TEST(CircuitBreaker, WaitElapsesIntoHalfOpenLazily) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  Recorder recorder(breaker);
  h.clock->advance(10s - 1ns);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_TRUE(rejects(breaker));
  h.clock->advance(1ns);
  EXPECT_EQ(breaker.remaining_open_time(), 0ns);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);  // state() performs the transition
  EXPECT_THAT(recorder.transitions(), ElementsAre("open->half_open: recovery timeout elapsed"));
  EXPECT_EQ(recorder.events.back().at, h.clock->now());
}

TEST(CircuitBreaker, TryAcquireAfterTheWaitIsTheFirstProbe) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  h.clock->advance(10s);
  const Permit probe = acquire(breaker);
  EXPECT_TRUE(probe.probe);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_TRUE(rejects(breaker));  // one probe per episode by default
  breaker.on_success(probe);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, ZeroRecoveryTimeoutProbesOnTheNextCall) {
  Harness h;
  auto config = h.config();
  config.recovery_timeout = 0s;
  CircuitBreaker breaker(config);
  fail(breaker, 10);
  EXPECT_TRUE(acquire(breaker).probe);
}

// --- HALF_OPEN -----------------------------------------------------------------------------

TEST(CircuitBreaker, HalfOpenAdmitsOnlyThePermittedProbesAndClosesAtTheThreshold) {
  Harness h;
  auto config = h.config();
  config.half_open_permitted_calls = 3;
  config.half_open_success_threshold = 3;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(10s);
  Recorder recorder(breaker);
  const Permit a = acquire(breaker);
  const Permit b = acquire(breaker);
  const Permit c = acquire(breaker);
  EXPECT_TRUE(a.probe && b.probe && c.probe);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(recorder.rejections(), 1u);
  EXPECT_EQ(recorder.events.back().from, BreakerState::half_open);
  breaker.on_success(a);
  breaker.on_success(b);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_TRUE(rejects(breaker));  // a finished probe does not free its slot
  breaker.on_success(c);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_THAT(recorder.transitions(), ElementsAre("open->half_open: recovery timeout elapsed",
                                                  "half_open->closed: 3 probes succeeded"));
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 0u);  // a fresh window; probes are not in it
  EXPECT_EQ(stats.successful_total, 3u);
}

TEST(CircuitBreaker, SuccessThresholdBelowPermittedClosesEarly) {
  Harness h;
  auto config = h.config();
  config.half_open_permitted_calls = 3;
  config.half_open_success_threshold = 2;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(10s);
  const Permit a = acquire(breaker);
  const Permit b = acquire(breaker);
  const Permit late = acquire(breaker);
  breaker.on_success(a);
  breaker.on_success(b);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  breaker.on_failure(late);  // from the finished episode: neither a probe nor in the window
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  EXPECT_EQ(breaker.stats().failed_total, 11u);
}

TEST(CircuitBreaker, FailedProbeReopensWithGrowingCappedWait) {
  Harness h;
  auto config = h.config();
  config.recovery_backoff = 2.0;
  config.max_recovery_timeout = 35s;
  CircuitBreaker breaker(config);
  trip(breaker);
  Recorder recorder(breaker);
  EXPECT_EQ(breaker.stats().current_recovery_timeout, 10s);
  const Duration expected[] = {20s, 35s, 35s};
  for (const Duration wait : expected) {
    h.clock->advance(breaker.remaining_open_time());
    breaker.on_failure(acquire(breaker));
    EXPECT_EQ(breaker.state(), BreakerState::open);
    EXPECT_EQ(breaker.remaining_open_time(), wait);
    EXPECT_EQ(breaker.stats().current_recovery_timeout, wait);
  }
  EXPECT_EQ(breaker.stats().times_opened, 4u);
  EXPECT_EQ(recorder.transitions()[1], "half_open->open: probe failed");

  // Closing resets the wait: the next trip waits the initial 10s again.
  h.clock->advance(35s);
  breaker.on_success(acquire(breaker));
  EXPECT_EQ(breaker.stats().current_recovery_timeout, 10s);
  trip(breaker);
  EXPECT_EQ(breaker.remaining_open_time(), 10s);
}

TEST(CircuitBreaker, SlowProbeReopens) {
  Harness h;
  auto config = slow_config(h);
  config.failure_rate_threshold = 0.5;
  CircuitBreaker breaker(config);
  fail(breaker, 4);
  ASSERT_EQ(breaker.state(), BreakerState::open);
  h.clock->advance(10s);
  Recorder recorder(breaker);
  breaker.on_success(acquire(breaker), 150ms);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(), ElementsAre("open->half_open: recovery timeout elapsed",
                                                  "half_open->open: probe was slow"));
  h.clock->advance(10s);
  breaker.on_success(acquire(breaker), 100ms);  // not slow: closes
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, JitterStaysWithinBoundsAndIsRepeatableWithASeed) {
  const auto waits = [](std::uint64_t seed) {
    Harness h;
    auto config = h.config();
    config.recovery_jitter = 0.1;
    config.random = std::make_shared<Random>(seed);
    CircuitBreaker breaker(config);
    std::vector<Duration> out;
    for (int i = 0; i < 50; ++i) {
      fail(breaker, 10);
      out.push_back(breaker.remaining_open_time());
      breaker.close();
    }
    return out;
  };
  const auto first = waits(7);
  for (const Duration wait : first) {
    EXPECT_GE(wait, 9s);
    EXPECT_LE(wait, 11s);
  }
  const std::set<Duration> distinct(first.begin(), first.end());
  EXPECT_GT(distinct.size(), 40u);
  EXPECT_TRUE(std::any_of(first.begin(), first.end(), [](Duration d) { return d < 9500ms; }));
  EXPECT_TRUE(std::any_of(first.begin(), first.end(), [](Duration d) { return d > 10500ms; }));
  EXPECT_EQ(waits(7), first);
  EXPECT_NE(waits(8), first);
}

TEST(CircuitBreaker, JitterAppliesToTheGrownWait) {
  Harness h;
  auto config = h.config();
  config.recovery_backoff = 3.0;
  config.recovery_jitter = 0.5;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(breaker.remaining_open_time());
  breaker.on_failure(acquire(breaker));
  EXPECT_EQ(breaker.stats().current_recovery_timeout, 30s);  // before jitter
  EXPECT_GE(breaker.remaining_open_time(), 15s);
  EXPECT_LE(breaker.remaining_open_time(), 45s);
}

TEST(CircuitBreaker, HalfOpenLongerThanTheLimitReopens) {
  Harness h;
  auto config = h.config();
  config.max_half_open_duration = 5s;
  config.recovery_backoff = 2.0;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(10s);
  const Permit hung = acquire(breaker);
  Recorder recorder(breaker);
  h.clock->advance(5s);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_TRUE(rejects(breaker));
  h.clock->advance(1ns);
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_THAT(recorder.transitions(), ElementsAre("half_open->open: half-open for longer than 5s"));
  EXPECT_EQ(breaker.remaining_open_time(), 20s);  // reopened with backoff, as a failed probe
  breaker.on_success(hung);                       // too late to count
  EXPECT_EQ(breaker.state(), BreakerState::open);

  // The next episode gets its own clock: it is judged from when it began.
  h.clock->advance(20s);
  const Permit probe = acquire(breaker);
  h.clock->advance(4s);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  breaker.on_success(probe);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, HalfOpenTimeoutIsCheckedByTryAcquire) {
  Harness h;
  auto config = h.config();
  config.max_half_open_duration = 5s;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(10s);
  (void)acquire(breaker);
  h.clock->advance(6s);
  EXPECT_TRUE(rejects(breaker));  // re-opened by this very call, then rejected
  EXPECT_EQ(breaker.stats().times_opened, 2u);
  EXPECT_EQ(breaker.remaining_open_time(), 10s);
}

TEST(CircuitBreaker, ZeroMaxHalfOpenDurationMeansNoLimit) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  h.clock->advance(10s);
  (void)acquire(breaker);
  h.clock->advance(24h);
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
}

// --- generations, ignored outcomes, classification -----------------------------------------

TEST(CircuitBreaker, OutcomesOfAnOlderGenerationAreNotCounted) {
  Harness h;
  auto config = h.config();
  config.consecutive_failures = 2;
  CircuitBreaker breaker(config);
  const Permit slow_call = acquire(breaker);  // admitted while CLOSED
  fail(breaker, 2);
  ASSERT_EQ(breaker.state(), BreakerState::open);
  const auto frozen = breaker.stats();

  breaker.on_failure(slow_call);  // finishes while OPEN
  EXPECT_EQ(breaker.stats().failed_in_window, frozen.failed_in_window);
  EXPECT_EQ(breaker.stats().consecutive_failures, frozen.consecutive_failures);
  EXPECT_EQ(breaker.stats().times_opened, 1u);
  EXPECT_EQ(breaker.stats().failed_total, 3u);  // the totals still see it

  h.clock->advance(10s);
  const Permit probe = acquire(breaker);
  breaker.on_success(slow_call);  // must not pass for the probe
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  breaker.on_failure(slow_call);  // nor fail the episode
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  breaker.on_ignored(slow_call);  // nor free the probe slot
  EXPECT_TRUE(rejects(breaker));
  breaker.on_success(probe);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  breaker.on_failure(slow_call);  // nor land in the fresh window
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  EXPECT_EQ(breaker.stats().consecutive_failures, 0u);
}

TEST(CircuitBreaker, ClosingStartsANewGenerationForPermitsInFlight) {
  Harness h;
  CircuitBreaker breaker(h.config());
  const Permit before = acquire(breaker);
  breaker.close();
  breaker.on_failure(before);
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
}

TEST(CircuitBreaker, IgnoredOutcomesAreNotRecorded) {
  Harness h;
  CircuitBreaker breaker(h.config());
  breaker.on_ignored(acquire(breaker));
  breaker.on_result(acquire(breaker), Verdict::ignored, 1s);
  fail(breaker, 9);
  EXPECT_EQ(breaker.state(), BreakerState::closed);  // 9 calls: the ignored ones are not calls
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 9u);
  EXPECT_EQ(stats.ignored_total, 2u);
}

TEST(CircuitBreaker, IgnoredProbeFreesItsSlot) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  h.clock->advance(10s);
  const Permit first = acquire(breaker);
  EXPECT_TRUE(rejects(breaker));
  breaker.on_ignored(first);
  const Permit second = acquire(breaker);
  EXPECT_TRUE(second.probe);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  breaker.on_result(second, Verdict::success, 0ns);
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreaker, OnResultRoutesEachVerdict) {
  Harness h;
  auto config = h.config();
  config.minimum_calls = 3;
  config.window_size = 3;
  config.failure_rate_threshold = 1.0;
  CircuitBreaker breaker(config);
  breaker.on_result(acquire(breaker), Verdict::failure, 0ns);
  breaker.on_result(acquire(breaker), Verdict::success, 0ns);
  breaker.on_result(acquire(breaker), Verdict::ignored, 0ns);
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 2u);
  EXPECT_EQ(stats.failed_in_window, 1u);
  EXPECT_EQ(stats.successful_total, 1u);
  EXPECT_EQ(stats.failed_total, 1u);
  EXPECT_EQ(stats.ignored_total, 1u);
}

TEST(CircuitBreaker, ClassifyUsesTheDefaultOrTheConfiguredPredicate) {
  Harness h;
  CircuitBreaker plain(h.config());
  EXPECT_EQ(plain.classify({}), Verdict::success);
  EXPECT_EQ(plain.classify(errc::connect_failed), Verdict::failure);
  EXPECT_EQ(plain.classify(errc::circuit_open), Verdict::ignored);

  auto config = h.config();
  config.classify = [](const std::error_code& ec) {
    if (ec == errc::redis_error) return Verdict::success;  // the service answered
    return default_failure_classifier(ec);
  };
  CircuitBreaker custom(config);
  EXPECT_EQ(custom.classify(errc::redis_error), Verdict::success);
  EXPECT_EQ(custom.classify(errc::timeout), Verdict::failure);
  for (int i = 0; i < 20; ++i) {
    custom.on_result(acquire(custom), custom.classify(errc::redis_error), 0ns);
  }
  EXPECT_EQ(custom.state(), BreakerState::closed);
}

// --- manual control ------------------------------------------------------------------------

TEST(CircuitBreaker, DisabledPermitsEverythingAndRecordsNothing) {
  Harness h;
  CircuitBreaker breaker(h.config());
  Recorder recorder(breaker);
  breaker.disable();
  breaker.disable();  // no change, no event
  fail(breaker, 50);
  succeed(breaker, 3);
  EXPECT_EQ(breaker.state(), BreakerState::disabled);
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 0u);
  EXPECT_EQ(stats.consecutive_failures, 0u);
  EXPECT_EQ(stats.failed_total, 50u);
  EXPECT_EQ(stats.successful_total, 3u);
  breaker.close();
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_THAT(recorder.transitions(),
              ElementsAre("closed->disabled: disabled", "disabled->closed: closed manually"));
}

TEST(CircuitBreaker, ForcedOpenRejectsUntilClosed) {
  Harness h;
  CircuitBreaker breaker(h.config());
  Recorder recorder(breaker);
  breaker.force_open();
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
  EXPECT_TRUE(rejects(breaker));
  h.clock->advance(24h);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
  EXPECT_EQ(breaker.remaining_open_time(), 0ns);
  EXPECT_EQ(breaker.stats().rejected_total, 2u);
  EXPECT_EQ(breaker.stats().times_opened, 0u);
  EXPECT_EQ(recorder.rejections(), 2u);
  EXPECT_EQ(recorder.events.back().from, BreakerState::forced_open);
  breaker.reset();
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_FALSE(acquire(breaker).probe);
  EXPECT_THAT(recorder.transitions(),
              ElementsAre("closed->forced_open: forced open", "forced_open->closed: reset"));
}

TEST(CircuitBreaker, ForceOpenOverridesOpenAndHalfOpen) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  breaker.force_open();
  h.clock->advance(10s);
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
  breaker.close();
  trip(breaker);
  h.clock->advance(10s);
  const Permit probe = acquire(breaker);
  breaker.force_open();
  breaker.on_success(probe);  // the probe's episode is over
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
}

TEST(CircuitBreaker, CloseAndResetStartAFreshWindow) {
  Harness h;
  auto config = h.config();
  config.consecutive_failures = 5;
  CircuitBreaker breaker(config);
  Recorder recorder(breaker);
  fail(breaker, 4);
  breaker.close();  // already CLOSED: fresh window, no event
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  EXPECT_EQ(breaker.stats().consecutive_failures, 0u);
  EXPECT_TRUE(recorder.transitions().empty());
  fail(breaker, 4);
  EXPECT_EQ(breaker.state(), BreakerState::closed);  // 4 in a row, not 8
  breaker.reset();
  EXPECT_EQ(breaker.stats().calls_in_window, 0u);
  EXPECT_EQ(breaker.stats().failed_total, 8u);  // totals are counters: kept
  EXPECT_THAT(recorder.transitions(), ElementsAre("closed->closed: reset"));
}

TEST(CircuitBreaker, CloseFromOpenResetsTheGrownWait) {
  Harness h;
  auto config = h.config();
  config.recovery_backoff = 2.0;
  CircuitBreaker breaker(config);
  trip(breaker);
  h.clock->advance(10s);
  breaker.on_failure(acquire(breaker));
  EXPECT_EQ(breaker.stats().current_recovery_timeout, 20s);
  breaker.close();
  EXPECT_EQ(breaker.stats().current_recovery_timeout, 10s);
  trip(breaker);
  EXPECT_EQ(breaker.remaining_open_time(), 10s);
}

// --- events and statistics -----------------------------------------------------------------

TEST(CircuitBreaker, EveryTransitionIsPublishedInOrderWithItsReason) {
  Harness h;
  auto config = h.config();
  config.half_open_permitted_calls = 2;
  config.half_open_success_threshold = 2;
  CircuitBreaker breaker(config);
  Recorder recorder(breaker);
  succeed(breaker, 4);
  fail(breaker, 6);
  h.clock->advance(10s);
  breaker.on_failure(acquire(breaker));
  h.clock->advance(10s);
  const Permit a = acquire(breaker);
  const Permit b = acquire(breaker);
  breaker.on_success(a);
  breaker.on_success(b);
  breaker.force_open();
  breaker.disable();
  breaker.close();
  EXPECT_THAT(
      recorder.transitions(),
      ElementsAre("closed->open: failure rate 60% >= 50% over 10 calls",
                  "open->half_open: recovery timeout elapsed", "half_open->open: probe failed",
                  "open->half_open: recovery timeout elapsed",
                  "half_open->closed: 2 probes succeeded", "closed->forced_open: forced open",
                  "forced_open->disabled: disabled", "disabled->closed: closed manually"));
  for (const auto& event : recorder.events) EXPECT_EQ(event.breaker, "svc");
}

TEST(CircuitBreaker, SubscriptionEndsDelivery) {
  Harness h;
  CircuitBreaker breaker(h.config());
  int events = 0;
  {
    const Subscription subscription = breaker.on_event([&](const BreakerEvent&) { ++events; });
    breaker.force_open();
  }
  breaker.close();
  EXPECT_EQ(events, 1);
}

TEST(CircuitBreaker, ListenersMayCallBackIntoTheBreaker) {
  Harness h;
  CircuitBreaker breaker(h.config());
  std::vector<BreakerState> seen;
  const Subscription subscription = breaker.on_event([&](const BreakerEvent& e) {
    seen.push_back(breaker.state());
    (void)breaker.stats();
    if (e.type == BreakerEvent::Type::state_changed && e.to == BreakerState::open) {
      breaker.force_open();  // a transition from inside a transition's event
    }
  });
  fail(breaker, 10);
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
  EXPECT_THAT(seen, ElementsAre(BreakerState::open, BreakerState::forced_open));
}

TEST(CircuitBreaker, StatsAddUp) {
  Harness h;
  auto config = slow_config(h);
  config.window_size = 10;
  config.minimum_calls = 10;
  config.failure_rate_threshold = 0.5;
  config.slow_call_rate_threshold = 1.0;
  CircuitBreaker breaker(config);
  succeed(breaker, 3);
  succeed(breaker, 1, 1s);
  fail(breaker, 2);
  breaker.on_ignored(acquire(breaker));
  auto stats = breaker.stats();
  EXPECT_EQ(stats.state, BreakerState::closed);
  EXPECT_EQ(stats.calls_in_window, 6u);
  EXPECT_EQ(stats.failed_in_window, 2u);
  EXPECT_EQ(stats.slow_in_window, 1u);
  EXPECT_DOUBLE_EQ(stats.failure_rate, 2.0 / 6.0);
  EXPECT_DOUBLE_EQ(stats.slow_call_rate, 1.0 / 6.0);
  EXPECT_EQ(stats.consecutive_failures, 2u);
  EXPECT_EQ(stats.successful_total, 4u);
  EXPECT_EQ(stats.failed_total, 2u);
  EXPECT_EQ(stats.slow_total, 1u);
  EXPECT_EQ(stats.ignored_total, 1u);
  EXPECT_EQ(stats.rejected_total, 0u);
  EXPECT_EQ(stats.times_opened, 0u);
  EXPECT_EQ(stats.current_recovery_timeout, 10s);

  fail(breaker, 3);  // 9 calls: below the minimum
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  fail(breaker);  // 10 calls, 6 failed
  stats = breaker.stats();
  EXPECT_EQ(stats.state, BreakerState::open);
  EXPECT_EQ(stats.times_opened, 1u);
  EXPECT_EQ(stats.calls_in_window, 10u);  // what opened it stays visible while OPEN
  h.clock->advance(10s);
  EXPECT_EQ(breaker.stats().state, BreakerState::half_open);  // stats see lazy transitions
}

TEST(CircuitBreaker, EmptyWindowReportsZeroRates) {
  Harness h;
  CircuitBreaker breaker(h.config());
  const auto stats = breaker.stats();
  EXPECT_EQ(stats.calls_in_window, 0u);
  EXPECT_EQ(stats.failure_rate, 0.0);
  EXPECT_EQ(stats.slow_call_rate, 0.0);
}

TEST(CircuitBreaker, MovedBreakerKeepsWorking) {
  Harness h;
  CircuitBreaker original(h.config());
  fail(original, 9);
  CircuitBreaker moved(std::move(original));
  fail(moved);
  EXPECT_EQ(moved.state(), BreakerState::open);
  EXPECT_EQ(moved.name(), "svc");
}

}  // namespace
}  // namespace bulwark
