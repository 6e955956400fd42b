// batch(): order of results, the concurrency bound, errors that stay with their item, and
// cancellation. Items are coroutines that yield to the io_context a chosen number of times, so
// interleavings are deterministic without timers or threads.
#include "bulwark/core/batch.hpp"

#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace bulwark {
namespace {

namespace asio = boost::asio;

asio::awaitable<void> yield_times(int times) {
  for (int i = 0; i < times; ++i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
}

// Counts the calls in flight and the most seen at once.
struct Gauge {
  int now = 0;
  int peak = 0;
  int started = 0;

  void enter() {
    ++started;
    peak = std::max(peak, ++now);
  }
  void leave() { --now; }
};

TEST(Batch, ResultsKeepTheOrderOfTheItems) {
  asio::io_context io;
  // Later items finish first: item i yields (10 - i) times.
  std::vector<int> items{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto work = batch(
      items,
      [](const int& item) -> asio::awaitable<std::string> {
        co_await yield_times(10 - item);
        co_return std::to_string(item * item);
      },
      10);
  const std::vector<Result<std::string>> results = test::run(io, std::move(work));
  ASSERT_EQ(results.size(), items.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i]) << i;
    EXPECT_EQ(*results[i], std::to_string(i * i));
  }
}

TEST(Batch, NeverRunsMoreThanMaxConcurrencyAtOnce) {
  for (const std::size_t limit : {1u, 2u, 3u, 7u}) {
    asio::io_context io;
    Gauge gauge;
    std::vector<int> items(20);
    for (int i = 0; i < 20; ++i) items[static_cast<std::size_t>(i)] = i % 4 + 1;
    auto work = batch(
        items,
        [&gauge](const int& yields) -> asio::awaitable<int> {
          gauge.enter();
          co_await yield_times(yields);
          gauge.leave();
          co_return yields;
        },
        limit);
    const auto results = test::run(io, std::move(work));
    EXPECT_EQ(gauge.started, 20);
    EXPECT_EQ(gauge.peak, static_cast<int>(limit)) << "limit " << limit;
    for (const auto& result : results) EXPECT_TRUE(result);
  }
}

TEST(Batch, StartsItemsInOrder) {
  asio::io_context io;
  std::vector<int> started;
  auto work = batch(
      std::vector<int>{0, 1, 2, 3, 4, 5},
      [&started](const int& item) -> asio::awaitable<void> {
        started.push_back(item);
        co_await yield_times(6 - item);
      },
      2);
  (void)test::run(io, std::move(work));
  EXPECT_EQ(started, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

TEST(Batch, AFailingItemKeepsItsErrorAndTheOthersRun) {
  asio::io_context io;
  auto work = batch(
      std::vector<int>{0, 1, 2, 3, 4, 5},
      [](const int& item) -> asio::awaitable<int> {
        co_await yield_times(1);
        if (item == 1) throw Error(make_error_code(errc::server_error), {"svc", "GET /x"}, "503");
        if (item == 3) throw std::runtime_error("not a system_error");
        if (item == 4) {
          throw std::system_error(std::make_error_code(std::errc::connection_refused));
        }
        co_return item * 10;
      },
      2);
  const auto results = test::run(io, std::move(work));
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].value(), 0);
  EXPECT_EQ(results[1].error(), errc::server_error);
  EXPECT_EQ(results[2].value(), 20);
  EXPECT_EQ(results[3].error(), errc::exception);
  EXPECT_EQ(results[4].error(), std::errc::connection_refused);
  EXPECT_EQ(results[5].value(), 50);
}

TEST(Batch, FunctionsReturningResultAreNotWrappedTwice) {
  asio::io_context io;
  auto work = batch(
      std::vector<int>{1, -1, 2},
      [](const int& item) -> asio::awaitable<Result<int>> {
        if (item < 0) co_return make_error_code(errc::invalid_argument);
        co_return item;
      },
      3);
  const std::vector<Result<int>> results = test::run(io, std::move(work));
  EXPECT_EQ(results[0].value(), 1);
  EXPECT_EQ(results[1].error(), errc::invalid_argument);
  EXPECT_EQ(results[2].value(), 2);
}

TEST(Batch, VoidFunctionsGiveResultVoid) {
  asio::io_context io;
  int sum = 0;
  auto work = batch(
      std::vector<int>{1, 2, 3},
      [&sum](const int& item) -> asio::awaitable<void> {
        co_await yield_times(item);
        if (item == 2) throw Error(make_error_code(errc::timeout));
        sum += item;
      },
      2);
  const std::vector<Result<void>> results = test::run(io, std::move(work));
  EXPECT_TRUE(results[0]);
  EXPECT_EQ(results[1].error(), errc::timeout);
  EXPECT_TRUE(results[2]);
  EXPECT_EQ(sum, 4);
}

TEST(Batch, NoItemsGiveNoResults) {
  asio::io_context io;
  auto work = batch(
      std::vector<int>{}, [](const int& item) -> asio::awaitable<int> { co_return item; }, 4);
  EXPECT_TRUE(test::run(io, std::move(work)).empty());
}

TEST(Batch, ZeroConcurrencyIsRejected) {
  asio::io_context io;
  auto work = batch(
      std::vector<int>{1}, [](const int& item) -> asio::awaitable<int> { co_return item; }, 0);
  try {
    (void)test::run(io, std::move(work));
    FAIL() << "no exception";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
  }
}

TEST(Batch, ItemsOutliveTheCallersVector) {
  asio::io_context io;
  asio::awaitable<std::vector<Result<std::size_t>>> work = [] {
    std::vector<std::string> words{"alpha", "be", "gamma"};
    // `words` is moved into the batch; this scope ends before the batch runs.
    return batch(
        std::move(words),
        [](const std::string& word) -> asio::awaitable<std::size_t> {
          co_await yield_times(2);
          co_return word.size();
        },
        2);
  }();
  const auto results = test::run(io, std::move(work));
  EXPECT_EQ(results[0].value(), 5u);
  EXPECT_EQ(results[1].value(), 2u);
  EXPECT_EQ(results[2].value(), 5u);
}

// Cancelling the batch aborts the calls in flight and starts no more. The calls wait on a timer
// that never expires by itself, so only the cancellation can end them.
TEST(Batch, CancellationAbortsRunningItemsAndSkipsTheRest) {
  asio::io_context io;
  Gauge gauge;
  auto work = batch(
      std::vector<int>{0, 1, 2, 3, 4},
      [&gauge](const int&) -> asio::awaitable<int> {
        gauge.enter();
        asio::steady_timer forever(co_await asio::this_coro::executor,
                                   asio::steady_timer::time_point::max());
        co_await forever.async_wait(asio::use_awaitable);
        co_return 1;
      },
      2);
  asio::cancellation_signal signal;
  std::optional<std::vector<Result<int>>> results;
  asio::co_spawn(io, std::move(work),
                 asio::bind_cancellation_slot(
                     signal.slot(), [&](std::exception_ptr error, std::vector<Result<int>> value) {
                       if (error) std::rethrow_exception(error);
                       results = std::move(value);
                     }));
  io.poll();
  ASSERT_EQ(gauge.now, 2) << "both slots should be busy";
  signal.emit(asio::cancellation_type::terminal);
  io.poll();
  ASSERT_TRUE(results.has_value());
  EXPECT_EQ(gauge.started, 2);
  EXPECT_EQ((*results)[0].error(), std::errc::operation_canceled);
  EXPECT_EQ((*results)[1].error(), std::errc::operation_canceled);
  for (std::size_t i = 2; i < 5; ++i) EXPECT_EQ((*results)[i].error(), errc::cancelled) << i;
}

}  // namespace
}  // namespace bulwark
