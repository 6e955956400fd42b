#include "bulwark/resilience/retry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

const std::error_code transient = make_error_code(errc::timeout);
const std::error_code permanent = make_error_code(errc::protocol_error);

// Constant 100ms delays without jitter, so that every delay is known exactly.
RetryConfig fixed_config(const std::shared_ptr<ManualClock>& clock) {
  RetryConfig config;
  config.name = "search";
  config.backoff.type = BackoffType::constant;
  config.backoff.jitter = Jitter::none;
  config.clock = clock;
  config.random = std::make_shared<Random>(1);
  return config;
}

std::vector<ConfigIssue> issues_of(RetryConfig config) {
  try {
    Retry retry(std::move(config));
  } catch (const ConfigError& error) {
    return error.issues();
  }
  return {};
}

class RetryTest : public ::testing::Test {
 protected:
  // Runs one attempt that fails with `error`, as a pipeline would, and returns the decision.
  Retry::Decision fail(Retry& retry, Retry::Call& call, std::error_code error = transient) {
    retry.on_attempt(call);
    context_.begin_attempt(call.attempts(), call.deadline());
    return retry.on_failure(call, error, context_);
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  CallContext context_{"search"};
};

TEST_F(RetryTest, NumbersAttemptsAndStopsAfterMaxAttempts) {
  Retry retry(fixed_config(clock_));
  Retry::Call call = retry.begin();
  EXPECT_EQ(call.attempts(), 0);
  EXPECT_EQ(call.deadline(), Clock::time_point::max());

  Retry::Decision first = fail(retry, call);
  EXPECT_EQ(call.attempts(), 1);
  EXPECT_TRUE(first.retry);
  EXPECT_EQ(first.delay, 100ms);

  Retry::Decision second = fail(retry, call);
  EXPECT_EQ(call.attempts(), 2);
  EXPECT_TRUE(second.retry);

  Retry::Decision third = fail(retry, call);
  EXPECT_EQ(call.attempts(), 3);
  EXPECT_FALSE(third.retry);
  EXPECT_EQ(third.stop, RetryStop::attempts_exhausted);
  EXPECT_EQ(third.delay, 0s);
}

TEST_F(RetryTest, OneAttemptDisablesRetrying) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 1;
  Retry retry(config);
  Retry::Call call = retry.begin();
  const Retry::Decision decision = fail(retry, call);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.stop, RetryStop::attempts_exhausted);
  EXPECT_EQ(retry.stats().failed_without_retry, 1u);
}

TEST_F(RetryTest, BackoffDelaysFollowTheRetryNumber) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 5;
  config.backoff.type = BackoffType::exponential;
  Retry retry(config);
  Retry::Call call = retry.begin();
  EXPECT_EQ(fail(retry, call).delay, 100ms);
  EXPECT_EQ(fail(retry, call).delay, 200ms);
  EXPECT_EQ(fail(retry, call).delay, 400ms);
  EXPECT_EQ(fail(retry, call).delay, 800ms);
  EXPECT_FALSE(fail(retry, call).retry);
}

TEST_F(RetryTest, DecorrelatedJitterGrowsFromTheCallsOwnPreviousDelay) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 30;
  config.backoff.jitter = Jitter::decorrelated;
  config.backoff.max = 1h;
  config.random = std::make_shared<Random>(5);
  Retry retry(config);
  // The same computation done by hand, with an identically seeded source.
  Backoff reference(config.backoff, std::make_shared<Random>(5));
  Retry::Call call = retry.begin();
  Duration previous = config.backoff.initial;
  for (int retry_number = 1; retry_number < 30; ++retry_number) {
    const Duration expected = reference.delay(retry_number, previous);
    const Retry::Decision decision = fail(retry, call);
    ASSERT_TRUE(decision.retry);
    ASSERT_EQ(decision.delay, expected) << "retry " << retry_number;
    previous = expected;
  }
}

TEST_F(RetryTest, NonRetryableErrorsStopAtOnce) {
  Retry retry(fixed_config(clock_));
  Retry::Call call = retry.begin();
  const Retry::Decision decision = fail(retry, call, permanent);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.stop, RetryStop::not_retryable);
  // The predicate is checked before the attempt count.
  Retry::Call last = retry.begin();
  ASSERT_TRUE(fail(retry, last).retry);
  ASSERT_TRUE(fail(retry, last).retry);
  EXPECT_EQ(fail(retry, last, permanent).stop, RetryStop::not_retryable);
}

TEST_F(RetryTest, CustomPredicateDecidesWhatIsRetryable) {
  RetryConfig config = fixed_config(clock_);
  config.retry_on = [](const std::error_code& ec) { return ec == errc::protocol_error; };
  Retry retry(config);
  Retry::Call call = retry.begin();
  EXPECT_TRUE(fail(retry, call, permanent).retry);
  EXPECT_EQ(fail(retry, call, transient).stop, RetryStop::not_retryable);
}

TEST_F(RetryTest, ThrowingPredicateMeansNotRetryable) {
  RetryConfig config = fixed_config(clock_);
  config.retry_on = [](const std::error_code&) -> bool { throw std::runtime_error("bad"); };
  Retry retry(config);
  Retry::Call call = retry.begin();
  EXPECT_EQ(fail(retry, call).stop, RetryStop::not_retryable);
}

TEST_F(RetryTest, NonIdempotentRequestsAreRetriedOnlyIfNeverSent) {
  Retry retry(fixed_config(clock_));
  CallContext post("create", Idempotency::non_idempotent);

  Retry::Call unsent = retry.begin();
  retry.on_attempt(unsent);
  post.begin_attempt(1, unsent.deadline());
  EXPECT_TRUE(retry.on_failure(unsent, transient, post).retry);  // e.g. connect failed

  Retry::Call sent = retry.begin();
  retry.on_attempt(sent);
  post.begin_attempt(1, sent.deadline());
  post.mark_sent();
  const Retry::Decision decision = retry.on_failure(sent, transient, post);
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.stop, RetryStop::not_idempotent);

  // An idempotent request is retried even when it was sent.
  Retry::Call get = retry.begin();
  retry.on_attempt(get);
  context_.begin_attempt(1, get.deadline());
  context_.mark_sent();
  EXPECT_TRUE(retry.on_failure(get, transient, context_).retry);
}

TEST_F(RetryTest, IdempotencyIsCheckedBeforeAttemptsLeft) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 1;
  Retry retry(config);
  CallContext post("create", Idempotency::non_idempotent);
  Retry::Call call = retry.begin();
  retry.on_attempt(call);
  post.begin_attempt(1, call.deadline());
  post.mark_sent();
  EXPECT_EQ(retry.on_failure(call, transient, post).stop, RetryStop::not_idempotent);
}

TEST_F(RetryTest, RetryAfterHintReplacesTheBackoffDelay) {
  Retry retry(fixed_config(clock_));
  Retry::Call call = retry.begin();
  retry.on_attempt(call);
  context_.begin_attempt(1, call.deadline());
  context_.set_retry_after(2500ms);
  const Retry::Decision decision = retry.on_failure(call, transient, context_);
  EXPECT_TRUE(decision.retry);
  EXPECT_EQ(decision.delay, 2500ms);
  // The next attempt reports no hint: back to the backoff.
  EXPECT_EQ(fail(retry, call).delay, 100ms);
}

TEST_F(RetryTest, RetryAfterAtTheLimitIsHonouredAndAboveItStops) {
  RetryConfig config = fixed_config(clock_);
  config.max_retry_after = 5s;
  Retry retry(config);

  Retry::Call at_limit = retry.begin();
  retry.on_attempt(at_limit);
  context_.begin_attempt(1, at_limit.deadline());
  context_.set_retry_after(5s);
  const Retry::Decision accepted = retry.on_failure(at_limit, transient, context_);
  EXPECT_TRUE(accepted.retry);
  EXPECT_EQ(accepted.delay, 5s);

  Retry::Call above = retry.begin();
  retry.on_attempt(above);
  context_.begin_attempt(1, above.deadline());
  context_.set_retry_after(5s + 1ns);
  const Retry::Decision refused = retry.on_failure(above, transient, context_);
  EXPECT_FALSE(refused.retry);
  EXPECT_EQ(refused.stop, RetryStop::retry_after_too_long);
}

TEST_F(RetryTest, NegativeRetryAfterMeansRetryAtOnce) {
  Retry retry(fixed_config(clock_));
  Retry::Call call = retry.begin();
  retry.on_attempt(call);
  context_.begin_attempt(1, call.deadline());
  context_.set_retry_after(-3s);
  const Retry::Decision decision = retry.on_failure(call, transient, context_);
  EXPECT_TRUE(decision.retry);
  EXPECT_EQ(decision.delay, 0s);
}

TEST_F(RetryTest, RetryAfterIsIgnoredWhenNotHonoured) {
  RetryConfig config = fixed_config(clock_);
  config.honor_retry_after = false;
  config.max_retry_after = 1s;
  Retry retry(config);
  Retry::Call call = retry.begin();
  retry.on_attempt(call);
  context_.begin_attempt(1, call.deadline());
  context_.set_retry_after(1h);  // would be too long if it were read
  const Retry::Decision decision = retry.on_failure(call, transient, context_);
  EXPECT_TRUE(decision.retry);
  EXPECT_EQ(decision.delay, 100ms);
}

TEST_F(RetryTest, DeadlineAllowsARetryEndingExactlyAtItAndNoLater) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 10;
  config.max_duration = 1s;
  Retry retry(config);
  const Clock::time_point start = clock_->now();
  Retry::Call call = retry.begin();
  EXPECT_EQ(call.deadline(), start + 1s);

  clock_->advance(900ms);
  const Retry::Decision ends_at_deadline = fail(retry, call);  // 900ms + 100ms == 1s
  EXPECT_TRUE(ends_at_deadline.retry);

  Retry::Call late = retry.begin();
  clock_->advance(900ms + 1ns);
  const Retry::Decision past = fail(retry, late);
  EXPECT_FALSE(past.retry);
  EXPECT_EQ(past.stop, RetryStop::deadline);
}

TEST_F(RetryTest, DeadlineAppliesToRetryAfterHintsToo) {
  RetryConfig config = fixed_config(clock_);
  config.max_duration = 10s;
  Retry retry(config);
  Retry::Call call = retry.begin();
  retry.on_attempt(call);
  context_.begin_attempt(1, call.deadline());
  context_.set_retry_after(11s);
  EXPECT_EQ(retry.on_failure(call, transient, context_).stop, RetryStop::deadline);
}

TEST_F(RetryTest, AttemptsAreCheckedBeforeTheDeadline) {
  RetryConfig config = fixed_config(clock_);
  config.max_attempts = 1;
  config.max_duration = 1s;
  Retry retry(config);
  Retry::Call call = retry.begin();
  clock_->advance(5s);
  EXPECT_EQ(fail(retry, call).stop, RetryStop::attempts_exhausted);
}

TEST_F(RetryTest, BudgetRefusesRetriesOnceSpent) {
  RetryBudgetConfig budget_config;
  budget_config.ratio = 0.0;
  budget_config.min_retries_per_second = 1;
  budget_config.window = 1s;  // one retry per window, whatever the traffic
  auto budget = std::make_shared<RetryBudget>(budget_config, clock_);
  RetryConfig config = fixed_config(clock_);
  config.budget = budget;
  Retry retry(config);

  Retry::Call first = retry.begin();
  EXPECT_TRUE(fail(retry, first).retry);
  Retry::Call second = retry.begin();
  const Retry::Decision refused = fail(retry, second);
  EXPECT_FALSE(refused.retry);
  EXPECT_EQ(refused.stop, RetryStop::budget_exhausted);

  EXPECT_EQ(retry.stats().budget_rejections, 1u);
  const RetryBudgetStats budget_stats = budget->stats();
  EXPECT_EQ(budget_stats.calls_in_window, 2u);  // begin() records each call
  EXPECT_EQ(budget_stats.retries_in_window, 1u);
  EXPECT_EQ(budget_stats.rejected_total, 1u);

  clock_->advance(1s);  // the spent retry leaves the window
  Retry::Call third = retry.begin();
  EXPECT_TRUE(fail(retry, third).retry);
}

TEST_F(RetryTest, EarlierStopsDoNotSpendTheBudget) {
  auto budget = std::make_shared<RetryBudget>(RetryBudgetConfig{}, clock_);
  RetryConfig config = fixed_config(clock_);
  config.budget = budget;
  config.max_duration = 50ms;  // shorter than the 100ms delay
  Retry retry(config);
  Retry::Call call = retry.begin();
  EXPECT_EQ(fail(retry, call).stop, RetryStop::deadline);
  Retry::Call other = retry.begin();
  EXPECT_EQ(fail(retry, other, permanent).stop, RetryStop::not_retryable);
  EXPECT_EQ(budget->stats().retries_in_window, 0u);
  EXPECT_EQ(budget->stats().rejected_total, 0u);
  EXPECT_EQ(retry.stats().budget_rejections, 0u);
}

TEST_F(RetryTest, StatsCountEveryOutcome) {
  Retry retry(fixed_config(clock_));
  {
    Retry::Call call = retry.begin();
    retry.on_attempt(call);
    retry.on_success(call);
  }
  {
    Retry::Call call = retry.begin();
    ASSERT_TRUE(fail(retry, call).retry);
    retry.on_attempt(call);
    retry.on_success(call);
  }
  {
    Retry::Call call = retry.begin();
    ASSERT_FALSE(fail(retry, call, permanent).retry);
  }
  {
    Retry::Call call = retry.begin();
    ASSERT_TRUE(fail(retry, call).retry);
    ASSERT_TRUE(fail(retry, call).retry);
    ASSERT_FALSE(fail(retry, call).retry);
  }
  const RetryStats stats = retry.stats();
  EXPECT_EQ(stats.calls, 4u);
  EXPECT_EQ(stats.succeeded_first_try, 1u);
  EXPECT_EQ(stats.succeeded_after_retry, 1u);
  EXPECT_EQ(stats.failed_without_retry, 1u);
  EXPECT_EQ(stats.failed_after_retry, 1u);
  EXPECT_EQ(stats.retries, 3u);
  EXPECT_EQ(stats.budget_rejections, 0u);
}

TEST_F(RetryTest, PublishesRetryAndGiveUpEvents) {
  Retry retry(fixed_config(clock_));
  std::vector<RetryEvent> events;
  Subscription subscription = retry.on_event([&](const RetryEvent& e) { events.push_back(e); });

  Retry::Call call = retry.begin();
  ASSERT_TRUE(fail(retry, call).retry);
  ASSERT_TRUE(fail(retry, call).retry);
  ASSERT_FALSE(fail(retry, call, make_error_code(errc::server_error)).retry);

  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, RetryEvent::Type::retry);
  EXPECT_EQ(events[0].retry_name, "search");
  EXPECT_EQ(events[0].attempt, 1);
  EXPECT_EQ(events[0].delay, 100ms);
  EXPECT_EQ(events[0].error, transient);
  EXPECT_EQ(events[1].type, RetryEvent::Type::retry);
  EXPECT_EQ(events[1].attempt, 2);
  EXPECT_EQ(events[2].type, RetryEvent::Type::gave_up);
  EXPECT_EQ(events[2].attempt, 3);
  EXPECT_EQ(events[2].delay, 0s);
  EXPECT_EQ(events[2].error, errc::server_error);
  EXPECT_EQ(events[2].stop, RetryStop::attempts_exhausted);

  subscription.reset();
  Retry::Call unobserved = retry.begin();
  ASSERT_FALSE(fail(retry, unobserved, permanent).retry);
  EXPECT_EQ(events.size(), 3u);
}

TEST_F(RetryTest, EveryStopHasAName) {
  EXPECT_EQ(to_string(RetryStop::not_retryable), "not_retryable");
  EXPECT_EQ(to_string(RetryStop::attempts_exhausted), "attempts_exhausted");
  EXPECT_EQ(to_string(RetryStop::deadline), "deadline");
  EXPECT_EQ(to_string(RetryStop::budget_exhausted), "budget_exhausted");
  EXPECT_EQ(to_string(RetryStop::not_idempotent), "not_idempotent");
  EXPECT_EQ(to_string(RetryStop::retry_after_too_long), "retry_after_too_long");
}

TEST_F(RetryTest, DefaultsAreFilledIn) {
  Retry retry(RetryConfig{});
  EXPECT_TRUE(retry.config().retry_on);
  EXPECT_TRUE(retry.config().retry_on(transient));
  EXPECT_FALSE(retry.config().retry_on(permanent));
  EXPECT_EQ(retry.config().clock, steady_clock());
  EXPECT_NE(retry.config().random, nullptr);
  EXPECT_EQ(retry.config().budget, nullptr);
}

TEST_F(RetryTest, ConfigErrorNamesEveryBadField) {
  RetryConfig config;
  config.max_attempts = 0;
  config.max_duration = -1s;
  config.max_retry_after = -5ms;
  config.backoff.multiplier = 0.5;
  config.backoff.max = 1ms;  // below initial (100ms)
  const auto issues = issues_of(config);
  ASSERT_EQ(issues.size(), 5u);
  EXPECT_EQ(issues[0].path, "retry.max_attempts");
  EXPECT_EQ(issues[0].message, "must be >= 1, got 0");
  EXPECT_EQ(issues[1].path, "retry.max_duration");
  EXPECT_EQ(issues[1].message, "must be >= 0, got -1s");
  EXPECT_EQ(issues[2].path, "retry.max_retry_after");
  EXPECT_EQ(issues[3].path, "retry.backoff.multiplier");
  EXPECT_EQ(issues[4].path, "retry.backoff.max");
  EXPECT_TRUE(issues_of(RetryConfig{}).empty());
}

TEST_F(RetryTest, ConcurrentCallsShareOneRetry) {
  auto budget = std::make_shared<RetryBudget>(RetryBudgetConfig{}, clock_);
  RetryConfig config = fixed_config(clock_);
  config.budget = budget;
  config.backoff.jitter = Jitter::full;
  Retry retry(config);
  std::atomic<int> events{0};
  Subscription subscription =
      retry.on_event([&](const RetryEvent&) { events.fetch_add(1, std::memory_order_relaxed); });
  constexpr int threads = 4;
  constexpr int calls_per_thread = 500;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      CallContext context("search");
      for (int i = 0; i < calls_per_thread; ++i) {
        Retry::Call call = retry.begin();
        for (;;) {
          retry.on_attempt(call);
          context.begin_attempt(call.attempts(), call.deadline());
          if (i % 2 == 0 && call.attempts() == 2) {
            retry.on_success(call);
            break;
          }
          const Retry::Decision decision = retry.on_failure(call, transient, context);
          if (!decision.retry) break;
          EXPECT_LE(decision.delay, 100ms);
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const RetryStats stats = retry.stats();
  const std::uint64_t calls = threads * calls_per_thread;
  EXPECT_EQ(stats.calls, calls);
  EXPECT_EQ(stats.succeeded_first_try, 0u);
  EXPECT_EQ(stats.succeeded_first_try + stats.succeeded_after_retry + stats.failed_without_retry +
                stats.failed_after_retry,
            calls);
  // Every granted retry was paid for by the budget, and every refusal was counted.
  EXPECT_EQ(stats.retries, budget->stats().retries_in_window);
  EXPECT_EQ(stats.budget_rejections, budget->stats().rejected_total);
  EXPECT_GT(stats.budget_rejections,
            0u);  // 2000 calls earn 400 + 100 retries, far fewer than asked
  EXPECT_EQ(static_cast<std::uint64_t>(events.load()),
            stats.retries + stats.failed_without_retry + stats.failed_after_retry);
}

}  // namespace
}  // namespace bulwark
