#include "bulwark/resilience/timeout.hpp"

#include <gtest/gtest.h>
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

// Runs `coroutine` to completion on a fresh io_context and returns its value.
template <class T>
T run(asio::awaitable<T> coroutine) {
  asio::io_context io;
  auto future = asio::co_spawn(io, std::move(coroutine), asio::use_future);
  io.run();
  return future.get();
}

// An operation that never finishes on its own: it waits an hour and records how it ended.
struct Probe {
  bool started = false;
  bool finished = false;
  bool saw_cancellation = false;
};

asio::awaitable<int> wait_an_hour(Probe& probe) {
  probe.started = true;
  struct Finish {
    Probe& probe;
    ~Finish() { probe.finished = true; }
  } finish{probe};
  asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
  try {
    co_await timer.async_wait(asio::use_awaitable);
  } catch (const boost::system::system_error& error) {
    probe.saw_cancellation = error.code() == asio::error::operation_aborted;
    throw;
  }
  co_return 1;
}

asio::awaitable<int> answer_now() { co_return 42; }

asio::awaitable<int> fail_now() {
  throw Error(errc::connect_failed);
  co_return 0;
}

TEST(WithTimeout, CancelsTheInnerOperationAndWaitsForItToStop) {
  Probe probe;
  const auto result = run([&]() -> asio::awaitable<std::error_code> {
    try {
      co_await with_timeout(wait_an_hour(probe), 1ms);
    } catch (const Error& error) {
      // By the time the timeout is reported the inner coroutine has already unwound.
      EXPECT_TRUE(probe.finished);
      co_return error.code();
    }
    co_return std::error_code{};
  }());
  EXPECT_EQ(result, errc::timeout);
  EXPECT_TRUE(probe.started);
  EXPECT_TRUE(probe.finished);
  EXPECT_TRUE(probe.saw_cancellation);
}

TEST(WithTimeout, ReturnsTheValueWhenInTime) { EXPECT_EQ(run(with_timeout(answer_now(), 1h)), 42); }

TEST(WithTimeout, AFastFailureIsReportedAtOnceNotAsATimeout) {
  // With a one-hour limit, waiting for the timer would hang the test: the failure must win.
  const auto code = run([]() -> asio::awaitable<std::error_code> {
    try {
      co_await with_timeout(fail_now(), 1h);
    } catch (const Error& error) {
      co_return error.code();
    }
    co_return std::error_code{};
  }());
  EXPECT_EQ(code, errc::connect_failed);
}

TEST(WithTimeout, ZeroMeansNoLimit) { EXPECT_EQ(run(with_timeout(answer_now(), 0ms)), 42); }

TEST(WithTimeout, VoidOperations) {
  bool ran = false;
  run([&]() -> asio::awaitable<void> {
    co_await with_timeout(
        [&]() -> asio::awaitable<void> {
          ran = true;
          co_return;
        }(),
        1h);
  }());
  EXPECT_TRUE(ran);
}

TEST(WithTimeout, OuterCancellationReachesTheInnerOperation) {
  Probe probe;
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::exception_ptr outcome;
  asio::co_spawn(
      io, with_timeout(wait_an_hour(probe), 1h),
      asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, int) { outcome = e; }));
  // Let the operation start, then cancel from outside.
  asio::post(io, [&] { cancel.emit(asio::cancellation_type::terminal); });
  io.run();
  EXPECT_TRUE(probe.finished);
  EXPECT_TRUE(probe.saw_cancellation);
  ASSERT_TRUE(outcome);
  try {
    std::rethrow_exception(outcome);
  } catch (const boost::system::system_error& error) {
    EXPECT_EQ(error.code(), asio::error::operation_aborted);
  }
}

}  // namespace
}  // namespace bulwark
