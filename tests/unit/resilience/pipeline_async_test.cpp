#include "bulwark/resilience/pipeline.hpp"

#include <gtest/gtest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

namespace bulwark {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

template <class T>
T run(asio::io_context& io, asio::awaitable<T> coroutine) {
  auto future = asio::co_spawn(io, std::move(coroutine), asio::use_future);
  io.run();
  io.restart();
  return future.get();
}

struct AsyncPipelineTest : ::testing::Test {
  asio::io_context io;
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();

  PipelineConfig config() {
    PipelineConfig c;
    c.name = "svc";
    c.clock = clock;
    c.random = std::make_shared<Random>(1);
    return c;
  }
};

// Waits an hour unless cancelled; records that it was cancelled and has unwound.
struct Hang {
  bool cancelled = false;
  bool unwound = false;
  asio::awaitable<int> operator()() {
    struct Unwind {
      bool& flag;
      ~Unwind() { flag = true; }
    } unwind{unwound};
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    cancelled = ec == asio::error::operation_aborted;
    if (cancelled) throw boost::system::system_error(ec);
    co_return 0;
  }
};

TEST_F(AsyncPipelineTest, ReturnsTheAwaitedValue) {
  Pipeline pipeline(config());
  const int value = run(io, pipeline.execute_async([]() -> asio::awaitable<int> { co_return 42; }));
  EXPECT_EQ(value, 42);
}

TEST_F(AsyncPipelineTest, RetriesWithDelaysOnTheManualClock) {
  auto c = config();
  c.retry = RetryConfig{};
  c.retry->max_attempts = 3;
  c.retry->backoff = {.type = BackoffType::constant, .initial = 250ms, .jitter = Jitter::none};
  Pipeline pipeline(c);
  const int value =
      run(io, pipeline.execute_async([](CallContext& ctx) -> asio::awaitable<Result<int>> {
        if (ctx.attempt() < 3) co_return make_error_code(errc::connection_lost);
        co_return ctx.attempt();
      }));
  EXPECT_EQ(value, 3);
  EXPECT_EQ(clock->total_slept(), 500ms);
}

TEST_F(AsyncPipelineTest, AttemptTimeoutCancelsTheOperationAndCountsAsAFailure) {
  auto c = config();
  c.timeout.attempt = 1ms;
  c.circuit_breaker = CircuitBreakerConfig{};
  c.circuit_breaker->consecutive_failures = 1;
  Pipeline pipeline(c);
  Hang hang;
  const Result<int> result =
      run(io, pipeline.try_execute_async([&]() -> asio::awaitable<int> { return hang(); }));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error(), errc::timeout);
  EXPECT_TRUE(hang.cancelled);
  EXPECT_TRUE(hang.unwound);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::open);
}

TEST_F(AsyncPipelineTest, OverallTimeoutCancelsTheCallWhereverItIs) {
  auto c = config();
  c.timeout.overall = 1ms;
  Pipeline pipeline(c);
  Hang hang;
  const Result<int> result =
      run(io, pipeline.try_execute_async([&]() -> asio::awaitable<int> { return hang(); }));
  EXPECT_EQ(result.error(), errc::timeout);
  EXPECT_TRUE(hang.unwound);
}

TEST_F(AsyncPipelineTest, CancellingTheCallerCancelsTheCall) {
  Pipeline pipeline(config());
  Hang hang;
  asio::cancellation_signal cancel;
  std::optional<Result<int>> outcome;
  asio::co_spawn(
      io, pipeline.try_execute_async([&]() -> asio::awaitable<int> { return hang(); }),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, Result<int> r) {
        ASSERT_FALSE(e);
        outcome = r;
      }));
  asio::post(io, [&] { cancel.emit(asio::cancellation_type::terminal); });
  io.run();
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), errc::cancelled);
  EXPECT_TRUE(hang.unwound);
}

TEST_F(AsyncPipelineTest, ThrowsServiceUnavailableWhenTheBreakerIsOpen) {
  auto c = config();
  c.circuit_breaker = CircuitBreakerConfig{};
  Pipeline pipeline(c);
  pipeline.circuit_breaker()->force_open();
  bool called = false;
  EXPECT_THROW(run(io, pipeline.execute_async([&]() -> asio::awaitable<int> {
                 called = true;
                 co_return 1;
               })),
               ServiceUnavailable);
  EXPECT_FALSE(called);
}

TEST_F(AsyncPipelineTest, FallbackAndVoidCalls) {
  auto c = config();
  c.circuit_breaker = CircuitBreakerConfig{};
  Pipeline pipeline(c);
  pipeline.circuit_breaker()->force_open();
  CallOptions<int> options;
  options.fallback = fallback_value(-1);
  EXPECT_EQ(run(io, pipeline.execute_async([]() -> asio::awaitable<int> { co_return 1; }, options)),
            -1);

  pipeline.circuit_breaker()->close();
  bool ran = false;
  run(io, pipeline.execute_async([&]() -> asio::awaitable<void> {
    ran = true;
    co_return;
  }));
  EXPECT_TRUE(ran);
}

TEST_F(AsyncPipelineTest, BulkheadQueuesAsyncCallersInsteadOfBlockingThreads) {
  auto c = config();
  c.bulkhead = BulkheadConfig{.name = "", .max_concurrent = 1, .max_queue = 4, .max_wait = 10s};
  Pipeline pipeline(c);
  std::vector<std::string> events;
  auto call = [&](int id) -> asio::awaitable<void> {
    co_await pipeline.execute_async([&, id]() -> asio::awaitable<void> {
      events.push_back("start " + std::to_string(id));
      // The first caller holds the only slot until both others are queued behind it.
      while (id == 0 && pipeline.bulkhead()->stats().queued < 2) {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      }
      events.push_back("end " + std::to_string(id));
    });
  };
  for (int id = 0; id < 3; ++id) asio::co_spawn(io, call(id), asio::detached);
  io.run();
  EXPECT_EQ(events,
            (std::vector<std::string>{"start 0", "end 0", "start 1", "end 1", "start 2", "end 2"}));
  EXPECT_EQ(pipeline.bulkhead()->stats().queued_total, 2u);
  EXPECT_EQ(pipeline.bulkhead()->stats().in_flight, 0u);
}

TEST_F(AsyncPipelineTest, CancelledRightAfterABulkheadGrantReturnsTheBreakerProbe) {
  auto c = config();
  c.circuit_breaker = CircuitBreakerConfig{};
  c.circuit_breaker->consecutive_failures = 1;
  c.circuit_breaker->recovery_timeout = 10s;
  c.bulkhead = BulkheadConfig{.name = "", .max_concurrent = 1, .max_queue = 1, .max_wait = 1h};
  Pipeline pipeline(c);
  EXPECT_FALSE(run(io, pipeline.try_execute_async([]() -> asio::awaitable<Result<int>> {
    co_return make_error_code(errc::timeout);
  })));
  clock->advance(10s);  // the next call takes the only half-open probe

  Result<Bulkhead::Permit> held = pipeline.bulkhead()->try_acquire();
  ASSERT_TRUE(held);
  asio::cancellation_signal cancel;
  std::optional<Result<int>> outcome;
  bool escaped = false;
  bool called = false;
  asio::co_spawn(
      io, pipeline.try_execute_async([&]() -> asio::awaitable<int> {
        called = true;
        co_return 1;
      }),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, Result<int> r) {
        escaped = static_cast<bool>(e);
        outcome = r;
      }));
  // Once the probe waits in the bulkhead queue, grant it the slot and cancel in the same turn.
  std::function<void()> release_and_cancel = [&] {
    if (pipeline.bulkhead()->stats().queued < 1) {
      asio::post(io, release_and_cancel);
      return;
    }
    held->release();
    cancel.emit(asio::cancellation_type::terminal);
  };
  asio::post(io, release_and_cancel);
  io.run();
  io.restart();
  EXPECT_FALSE(escaped);
  ASSERT_TRUE(outcome.has_value());
  if (!*outcome) {
    EXPECT_EQ(outcome->error(), errc::cancelled);
  }
  EXPECT_FALSE(called && !*outcome);

  // Whatever happened to that call, the breaker's probe is free again: a healthy call closes it.
  EXPECT_EQ(run(io, pipeline.execute_async([]() -> asio::awaitable<int> { co_return 5; })), 5);
  EXPECT_EQ(pipeline.circuit_breaker()->state(), BreakerState::closed);
}

TEST_F(AsyncPipelineTest, CancellationSurfacesAsABulwarkErrorFromExecuteAsync) {
  Pipeline pipeline(config());
  Hang hang;
  asio::cancellation_signal cancel;
  std::error_code code;
  // Named: a coroutine lambda's captures live in the lambda object, which must outlive the run.
  auto caller = [&]() -> asio::awaitable<void> {
    try {
      co_await pipeline.execute_async([&]() -> asio::awaitable<int> { return hang(); });
    } catch (const Error& error) {
      code = error.code();
    }
  };
  asio::co_spawn(io, caller(), asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::post(io, [&] { cancel.emit(asio::cancellation_type::terminal); });
  io.run();
  EXPECT_EQ(code, errc::cancelled);
}

}  // namespace
}  // namespace bulwark
