#include "bulwark/resilience/pipeline.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

// A pipeline on a manual clock with deterministic strategies; each test switches on what it needs.
struct PipelineTest : ::testing::Test {
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  std::shared_ptr<Random> random = std::make_shared<Random>(7);

  PipelineConfig config() {
    PipelineConfig c;
    c.name = "svc";
    c.clock = clock;
    c.random = random;
    return c;
  }
  static RetryConfig retry_without_jitter(std::uint32_t attempts) {
    RetryConfig r;
    r.max_attempts = attempts;
    r.backoff.type = BackoffType::constant;
    r.backoff.initial = 100ms;
    r.backoff.jitter = Jitter::none;
    return r;
  }
  static CircuitBreakerConfig breaker_after(std::uint32_t failures) {
    CircuitBreakerConfig b;
    b.consecutive_failures = failures;
    b.failure_rate_threshold = 0;
    b.recovery_timeout = 10s;
    return b;
  }
};

TEST_F(PipelineTest, PassesValuesThrough) {
  Pipeline pipeline(config());
  EXPECT_EQ(pipeline.execute([] { return 42; }), 42);
  EXPECT_EQ(pipeline.execute([](CallContext& ctx) { return ctx.attempt(); }), 1);
  pipeline.execute([] {});
  EXPECT_EQ(pipeline.stats().succeeded, 3u);
}

TEST_F(PipelineTest, RetriesTransientFailuresWithBackoffOnTheClock) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  Pipeline pipeline(c);
  std::vector<int> attempts;
  const int value = pipeline.execute([&](CallContext& ctx) -> Result<int> {
    attempts.push_back(ctx.attempt());
    if (ctx.attempt() < 3) return make_error_code(errc::connection_lost);
    return 7;
  });
  EXPECT_EQ(value, 7);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(clock->sleep_count(), 2u);
  EXPECT_EQ(clock->total_slept(), 200ms);
  EXPECT_EQ(pipeline.retry()->stats().succeeded_after_retry, 1u);
}

TEST_F(PipelineTest, ExhaustedRetriesThrowTheLastErrorWithTheAttemptCount) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  Pipeline pipeline(c);
  try {
    pipeline.execute([]() -> Result<int> { return make_error_code(errc::connect_failed); },
                     {.operation = "search"});
    FAIL() << "no exception";
  } catch (const ServiceUnavailable& error) {
    EXPECT_EQ(error.code(), errc::connect_failed);
    EXPECT_EQ(error.attempt(), 3);
    EXPECT_EQ(error.client(), "svc");
    EXPECT_EQ(error.operation(), "search");
  }
  EXPECT_EQ(pipeline.stats().failed, 1u);
}

TEST_F(PipelineTest, NonRetryableErrorsFailAtOnce) {
  auto c = config();
  c.retry = retry_without_jitter(5);
  Pipeline pipeline(c);
  int calls = 0;
  const Result<int> result = pipeline.try_execute([&]() -> Result<int> {
    ++calls;
    return make_error_code(errc::protocol_error);
  });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), errc::protocol_error);
  EXPECT_EQ(calls, 1);
}

TEST_F(PipelineTest, OpenBreakerRejectsWithoutCallingAndWithoutThrowingInTryExecute) {
  auto c = config();
  c.circuit_breaker = breaker_after(2);
  Pipeline pipeline(c);
  int calls = 0;
  auto failing = [&]() -> Result<int> {
    ++calls;
    return make_error_code(errc::timeout);
  };
  EXPECT_FALSE(pipeline.try_execute(failing));
  EXPECT_FALSE(pipeline.try_execute(failing));
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::open);

  const Result<int> rejected = pipeline.try_execute(failing);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::circuit_open);
  EXPECT_EQ(calls, 2);
  EXPECT_THROW(pipeline.execute(failing), ServiceUnavailable);
  EXPECT_EQ(pipeline.stats().rejected, 2u);
  EXPECT_EQ(pipeline.stats().failed, 2u);
}

TEST_F(PipelineTest, BreakerRecoversThroughAProbeAfterItsWait) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  EXPECT_FALSE(
      pipeline.try_execute([]() -> Result<int> { return make_error_code(errc::timeout); }));
  EXPECT_EQ(pipeline.try_execute([] { return 1; }).error(), errc::circuit_open);
  clock->advance(10s);
  EXPECT_EQ(pipeline.execute([] { return 1; }), 1);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(PipelineTest, RejectIfOpenTurnsCallsAwayOnlyWhileTheBreakerWaits) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  EXPECT_FALSE(pipeline.reject_if_open());  // closed: nothing to say, nothing counted
  EXPECT_FALSE(
      pipeline.try_execute([]() -> Result<int> { return make_error_code(errc::timeout); }));

  EXPECT_EQ(pipeline.reject_if_open(), errc::circuit_open);
  EXPECT_EQ(pipeline.reject_if_open(), errc::circuit_open);
  EXPECT_EQ(pipeline.stats().rejected, 2u);
  EXPECT_EQ(pipeline.circuit_breaker()->stats().rejected_total, 2u);

  // Due to probe: the call must go the usual way, so that it becomes the probe.
  clock->advance(10s);
  EXPECT_FALSE(pipeline.reject_if_open());
  EXPECT_EQ(pipeline.stats().rejected, 2u);
  EXPECT_EQ(pipeline.execute([] { return 1; }), 1);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(PipelineTest, RetryDoesNotRetryRejectionsByDefault) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  int calls = 0;
  const Result<int> result = pipeline.try_execute([&]() -> Result<int> {
    ++calls;
    return make_error_code(errc::timeout);
  });
  // The first attempt fails and opens the breaker; the retry is rejected and not retried again.
  EXPECT_EQ(result.error(), errc::circuit_open);
  EXPECT_EQ(calls, 1);
}

TEST_F(PipelineTest, BulkheadRejectionsDoNotCountAgainstTheService) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  c.bulkhead = BulkheadConfig{.name = "", .max_concurrent = 1, .max_queue = 0};
  Pipeline pipeline(c);
  Result<int> inner = make_error_code(errc::invalid_argument);
  const int outer = pipeline.execute([&] {
    inner = pipeline.try_execute([] { return 2; });  // the only slot is taken by the outer call
    return 1;
  });
  EXPECT_EQ(outer, 1);
  ASSERT_FALSE(inner);
  EXPECT_EQ(inner.error(), errc::bulkhead_full);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::closed);
  EXPECT_EQ(pipeline.circuit_breaker()->stats().failed_total, 0u);
}

TEST_F(PipelineTest, RateLimiterDelaysWithinItsMaxWaitAndRejectsBeyond) {
  auto c = config();
  c.rate_limiter = RateLimiterConfig{.name = "", .rate = 1.0, .burst = 1, .max_wait = 1s};
  Pipeline pipeline(c);
  EXPECT_EQ(pipeline.execute([] { return 1; }), 1);
  EXPECT_EQ(clock->total_slept(), 0s);
  EXPECT_EQ(pipeline.execute([] { return 2; }), 2);  // waits one emission interval
  EXPECT_EQ(clock->total_slept(), 1s);

  auto strict = config();
  strict.rate_limiter = RateLimiterConfig{.name = "", .rate = 1.0, .burst = 1, .max_wait = 0s};
  Pipeline strict_pipeline(strict);
  EXPECT_TRUE(strict_pipeline.try_execute([] { return 1; }));
  EXPECT_EQ(strict_pipeline.try_execute([] { return 1; }).error(), errc::rate_limited);
}

TEST_F(PipelineTest, SyncAttemptThatOverrunsItsTimeoutIsATimeout) {
  auto c = config();
  c.timeout.attempt = 1s;
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  Clock::time_point seen_deadline{};
  const Result<int> result = pipeline.try_execute([&](CallContext& ctx) {
    seen_deadline = ctx.deadline();
    clock->advance(2s);
    return 5;
  });
  EXPECT_EQ(result.error(), errc::timeout);
  EXPECT_EQ(seen_deadline, clock->now() - 2s + 1s);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::open);
}

TEST_F(PipelineTest, OverallTimeoutStopsRetrying) {
  auto c = config();
  c.retry = retry_without_jitter(10);
  c.timeout.overall = 1s;
  Pipeline pipeline(c);
  int calls = 0;
  const Result<int> result = pipeline.try_execute([&]() -> Result<int> {
    ++calls;
    clock->advance(300ms);
    return make_error_code(errc::connection_lost);
  });
  ASSERT_FALSE(result);
  // 300 + 100 + 300 + 100 + 300 = 1100ms would pass the deadline: the third attempt is the last.
  EXPECT_EQ(calls, 3);
}

TEST_F(PipelineTest, NonIdempotentCallsAreNotResentOnceSent) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  Pipeline pipeline(c);
  int sent_calls = 0;
  EXPECT_FALSE(pipeline.try_execute(
      [&](CallContext& ctx) -> Result<int> {
        ++sent_calls;
        ctx.mark_sent();
        return make_error_code(errc::connection_lost);
      },
      {.operation = "create", .idempotency = Idempotency::non_idempotent}));
  EXPECT_EQ(sent_calls, 1);

  int unsent_calls = 0;
  EXPECT_TRUE(pipeline.try_execute(
      [&](CallContext& ctx) -> Result<int> {
        if (++unsent_calls == 1) return make_error_code(errc::connect_failed);  // never reached it
        return ctx.attempt();
      },
      {.operation = "create", .idempotency = Idempotency::non_idempotent}));
  EXPECT_EQ(unsent_calls, 2);

  int blind_calls = 0;  // no context: the pipeline must assume the request went out
  EXPECT_FALSE(pipeline.try_execute(
      [&]() -> Result<int> {
        ++blind_calls;
        return make_error_code(errc::connect_failed);
      },
      {.operation = "create", .idempotency = Idempotency::non_idempotent}));
  EXPECT_EQ(blind_calls, 1);
}

TEST_F(PipelineTest, RetryAfterHintSetsTheNextDelay) {
  auto c = config();
  c.retry = retry_without_jitter(2);
  Pipeline pipeline(c);
  const int value = pipeline.execute([&](CallContext& ctx) -> Result<int> {
    if (ctx.attempt() == 1) {
      ctx.set_retry_after(2s);
      return make_error_code(errc::server_error);
    }
    return 9;
  });
  EXPECT_EQ(value, 9);
  EXPECT_EQ(clock->total_slept(), 2s);
}

TEST_F(PipelineTest, ClassifiedResultsAreRetriedAndTheLastOneIsReturned) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  Pipeline pipeline(c);
  int calls = 0;
  CallOptions<int> options;
  options.classify_result = [](const int& status) {
    return status >= 500 ? make_error_code(errc::server_error) : std::error_code{};
  };
  const int status = pipeline.execute([&] { return ++calls < 10 ? 503 : 200; }, options);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(calls, 3);
}

TEST_F(PipelineTest, FallbackAnswersChosenFailures) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  pipeline.circuit_breaker()->force_open();
  CallOptions<std::string> options;
  options.fallback = fallback_value<std::string>(
      "cached", [](const std::error_code& ec) { return ec == errc::circuit_open; });
  EXPECT_EQ(pipeline.execute([] { return std::string("live"); }, options), "cached");
  EXPECT_EQ(pipeline.stats().fallbacks, 1u);

  pipeline.circuit_breaker()->close();
  EXPECT_THROW(pipeline.execute(
                   []() -> Result<std::string> { return make_error_code(errc::timeout); }, options),
               Error);
}

TEST_F(PipelineTest, ForeignExceptionsReachTheCallerUnchangedAndCountAsFailures) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  c.circuit_breaker = breaker_after(2);
  Pipeline pipeline(c);
  int calls = 0;
  auto throwing = [&]() -> int {
    ++calls;
    throw std::runtime_error("parse failed");
  };
  EXPECT_THROW(pipeline.execute(throwing), std::runtime_error);
  EXPECT_THROW((void)pipeline.try_execute(throwing), std::runtime_error);
  EXPECT_EQ(calls, 2);  // not transient: never retried
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::open);
}

TEST_F(PipelineTest, SystemErrorsThrownByTheCallAreJudgedByTheirCode) {
  auto c = config();
  c.retry = retry_without_jitter(2);
  Pipeline pipeline(c);
  int calls = 0;
  const int value = pipeline.execute([&]() -> int {
    if (++calls == 1) throw Error(errc::connection_lost, {"svc", "get", 1}, "peer closed");
    return 3;
  });
  EXPECT_EQ(value, 3);
  EXPECT_EQ(calls, 2);
}

TEST_F(PipelineTest, BoostSystemErrorsAreJudgedByTheirCodeToo) {
  // What Asio throws: a boost::system::system_error, which is not a std::system_error.
  auto c = config();
  c.retry = retry_without_jitter(2);
  Pipeline pipeline(c);
  int calls = 0;
  const int value = pipeline.execute([&]() -> int {
    if (++calls == 1) {
      throw boost::system::system_error(
          boost::system::errc::make_error_code(boost::system::errc::connection_reset));
    }
    return 4;
  });
  EXPECT_EQ(value, 4);
  EXPECT_EQ(calls, 2);
}

TEST_F(PipelineTest, AThrowingResultClassifierDoesNotWedgeAHalfOpenBreaker) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  EXPECT_FALSE(
      pipeline.try_execute([]() -> Result<int> { return make_error_code(errc::timeout); }));
  clock->advance(10s);  // the next call is the half-open probe
  CallOptions<int> throwing;
  throwing.classify_result = [](const int&) -> std::error_code {
    throw std::runtime_error("bad body");
  };
  EXPECT_THROW(pipeline.execute([] { return 1; }, throwing), std::runtime_error);
  // The probe counted as a failure and re-opened the breaker; its slot was not left taken.
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::open);
  clock->advance(10s);
  EXPECT_EQ(pipeline.execute([] { return 2; }), 2);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(PipelineTest, RetryIsNotChargedForARetryTheOverallTimeoutForbids) {
  auto c = config();
  c.retry = retry_without_jitter(3);
  c.timeout.overall = 1s;
  Pipeline pipeline(c);
  const Result<int> result = pipeline.try_execute([&]() -> Result<int> {
    clock->advance(950ms);
    return make_error_code(errc::connection_lost);
  });
  EXPECT_EQ(result.error(), errc::connection_lost);
  const RetryStats stats = pipeline.retry()->stats();
  EXPECT_EQ(stats.retries, 0u);
  EXPECT_EQ(stats.failed_without_retry, 1u);
}

TEST_F(PipelineTest, RetryMaxDurationStopsRetriesButDoesNotCutAnAttemptShort) {
  for (const Duration slow_call : {Duration::zero(), Duration(10s)}) {
    auto c = config();
    c.retry = retry_without_jitter(3);
    c.retry->max_duration = 1s;
    c.circuit_breaker = breaker_after(5);
    c.circuit_breaker->slow_call_duration = slow_call;  // must not change the outcome
    Pipeline pipeline(c);
    EXPECT_EQ(pipeline.execute([&] {
      clock->advance(2s);
      return 7;
    }),
              7);
  }
}

TEST_F(PipelineTest, SyncOverallTimeoutReportsALateSuccessAsATimeout) {
  auto c = config();
  c.timeout.overall = 1s;
  Pipeline pipeline(c);
  EXPECT_EQ(pipeline
                .try_execute([&] {
                  clock->advance(2s);
                  return 1;
                })
                .error(),
            errc::timeout);
}

TEST_F(PipelineTest, AThrowingFallbackCountsAsAFailure) {
  auto c = config();
  c.circuit_breaker = breaker_after(1);
  Pipeline pipeline(c);
  pipeline.circuit_breaker()->force_open();
  CallOptions<int> options;
  options.fallback = fallback_to<int>(
      [](const std::error_code&) -> int { throw std::runtime_error("no cache either"); });
  EXPECT_THROW(pipeline.execute([] { return 1; }, options), std::runtime_error);
  EXPECT_EQ(pipeline.stats().fallbacks, 0u);
  EXPECT_EQ(pipeline.stats().rejected, 1u);
}

TEST_F(PipelineTest, SharedBreakerIsSeenByEveryPipelineUsingIt) {
  auto breaker_config = breaker_after(1);
  breaker_config.clock = clock;
  auto breaker = std::make_shared<CircuitBreaker>(breaker_config);
  Pipeline a("a", {.circuit_breaker = breaker}, clock);
  Pipeline b("b", {.circuit_breaker = breaker}, clock);
  EXPECT_FALSE(a.try_execute([]() -> Result<int> { return make_error_code(errc::timeout); }));
  EXPECT_EQ(b.try_execute([] { return 1; }).error(), errc::circuit_open);
}

TEST_F(PipelineTest, ConfigErrorsOfEveryStrategyAreReportedTogether) {
  auto c = config();
  c.retry = RetryConfig{};
  c.retry->max_attempts = 0;
  c.circuit_breaker = CircuitBreakerConfig{};
  c.circuit_breaker->failure_rate_threshold = 1.5;
  c.timeout.attempt = -1s;
  try {
    Pipeline pipeline(c);
    FAIL() << "no exception";
  } catch (const ConfigError& error) {
    std::vector<std::string> paths;
    for (const auto& issue : error.issues()) paths.push_back(issue.path);
    EXPECT_NE(std::find(paths.begin(), paths.end(), "retry.max_attempts"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "circuit_breaker.failure_rate_threshold"),
              paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "timeout.attempt"), paths.end());
  }
}

}  // namespace
}  // namespace bulwark
