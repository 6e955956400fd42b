// States adopted from elsewhere (another instance of a fleet) and the probe gate.
#include "bulwark/resilience/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

struct Harness {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  [[nodiscard]] CircuitBreakerConfig config() const {
    CircuitBreakerConfig c;
    c.name = "svc";
    c.window_size = 10;
    c.minimum_calls = 10;
    c.consecutive_failures = 3;
    c.recovery_timeout = 10s;
    c.recovery_backoff = 2.0;
    c.max_half_open_duration = 0s;
    c.clock = clock;
    return c;
  }
};

bool rejects(CircuitBreaker& breaker) { return !breaker.try_acquire().has_value(); }

void trip(CircuitBreaker& breaker) {
  for (int i = 0; i < 3; ++i) breaker.on_failure(breaker.try_acquire().value());
}

void record(CircuitBreaker& breaker, std::vector<std::string>& out, Subscription& subscription) {
  subscription = breaker.on_event([&out](const BreakerEvent& e) {
    if (e.type == BreakerEvent::Type::state_changed) {
      out.push_back(std::string(to_string(e.from)) + "->" + std::string(to_string(e.to)) + ": " +
                    e.reason);
    }
  });
}

TEST(CircuitBreakerAdopt, OpenFromClosedRejectsForExactlyTheGivenWait) {
  Harness h;
  CircuitBreaker breaker(h.config());
  std::vector<std::string> events;
  Subscription subscription;
  record(breaker, events, subscription);

  EXPECT_TRUE(breaker.adopt_open(3s, "opened by peer"));
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_EQ(breaker.remaining_open_time(), 3s);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(breaker.stats().times_opened, 1U);
  h.clock->advance(2999ms);
  EXPECT_TRUE(rejects(breaker));
  h.clock->advance(1ms);
  EXPECT_TRUE(breaker.try_acquire().has_value());
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[0], "closed->open: opened by peer");
}

TEST(CircuitBreakerAdopt, OpenWhileOpenReplacesTheWaitSilently) {
  Harness h;
  CircuitBreaker breaker(h.config());
  trip(breaker);
  ASSERT_EQ(breaker.remaining_open_time(), 10s);
  std::vector<std::string> events;
  Subscription subscription;
  record(breaker, events, subscription);

  EXPECT_TRUE(breaker.adopt_open(20s, "peer"));
  EXPECT_EQ(breaker.remaining_open_time(), 20s);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(breaker.stats().times_opened, 1U);
  // The adopted wait does not grow the backoff: the next local re-open still waits 20s (10s x 2).
  h.clock->advance(20s);
  auto probe = breaker.try_acquire();
  ASSERT_TRUE(probe.has_value());
  breaker.on_failure(*probe);
  EXPECT_EQ(breaker.remaining_open_time(), 20s);
}

TEST(CircuitBreakerAdopt, ClosedFromOpenOrHalfOpenOnly) {
  Harness h;
  CircuitBreaker breaker(h.config());
  EXPECT_FALSE(breaker.adopt_closed("peer closed"));  // already closed
  trip(breaker);
  std::vector<std::string> events;
  Subscription subscription;
  record(breaker, events, subscription);
  EXPECT_TRUE(breaker.adopt_closed("peer closed"));
  EXPECT_EQ(breaker.state(), BreakerState::closed);
  EXPECT_EQ(breaker.stats().calls_in_window, 0U);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0], "open->closed: peer closed");

  trip(breaker);
  h.clock->advance(10s);
  ASSERT_EQ(breaker.state(), BreakerState::half_open);
  EXPECT_TRUE(breaker.adopt_closed("peer closed"));
  EXPECT_EQ(breaker.state(), BreakerState::closed);
}

TEST(CircuitBreakerAdopt, ManualOverridesAreNotUndone) {
  Harness h;
  CircuitBreaker breaker(h.config());
  breaker.force_open();
  EXPECT_FALSE(breaker.adopt_closed("peer"));
  EXPECT_FALSE(breaker.adopt_open(1s, "peer"));
  EXPECT_EQ(breaker.state(), BreakerState::forced_open);
  breaker.disable();
  EXPECT_FALSE(breaker.adopt_open(1s, "peer"));
  EXPECT_EQ(breaker.state(), BreakerState::disabled);
}

TEST(CircuitBreakerProbeGate, KeepsTheBreakerOpenUntilItAllowsAProbe) {
  Harness h;
  auto allowed = std::make_shared<std::atomic<bool>>(false);
  auto asked = std::make_shared<std::atomic<int>>(0);
  CircuitBreakerConfig config = h.config();
  config.probe_gate = [allowed, asked] {
    asked->fetch_add(1);
    return allowed->load();
  };
  CircuitBreaker breaker(config);
  trip(breaker);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(asked->load(), 0) << "the gate is only asked once the wait is over";

  h.clock->advance(10s);
  EXPECT_TRUE(rejects(breaker));
  EXPECT_EQ(breaker.state(), BreakerState::open);
  EXPECT_GE(asked->load(), 2);

  allowed->store(true);
  EXPECT_TRUE(breaker.try_acquire().has_value());
  EXPECT_EQ(breaker.state(), BreakerState::half_open);
}

}  // namespace
}  // namespace bulwark
