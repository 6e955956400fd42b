#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#include "bulwark/core/error.hpp"
#include "bulwark/resilience/bulkhead.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using Permit = Bulkhead::Permit;

// What a spawned async_acquire() completed with; the permit is kept until the test drops it.
struct Completion {
  std::optional<Result<Permit>> result;
  std::exception_ptr exception;

  auto handler() {
    return [this](std::exception_ptr e, Result<Permit> r) {
      exception = e;
      result.emplace(std::move(r));
    };
  }
  [[nodiscard]] bool done() const { return result.has_value(); }
  [[nodiscard]] bool granted() const { return done() && result->has_value() && (*result)->valid(); }
  [[nodiscard]] std::error_code error() const {
    return done() && !result->has_value() ? result->error() : std::error_code();
  }
};

TEST(BulkheadAsync, TakesAFreeSlotWithoutSuspending) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1});
  Completion first;
  Completion second;
  boost::asio::co_spawn(io, bulkhead.async_acquire(), first.handler());
  boost::asio::co_spawn(io, bulkhead.async_acquire(), second.handler());
  io.run();
  EXPECT_TRUE(first.granted());
  EXPECT_EQ(second.error(), errc::bulkhead_full);  // no queue configured
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  first.result.reset();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  EXPECT_EQ(bulkhead.stats().rejected, 1U);
}

TEST(BulkheadAsync, QueuedCoroutinesAreServedInArrivalOrder) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 3, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);

  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          auto permit = co_await bulkhead.async_acquire();
          EXPECT_TRUE(permit);
          order.push_back(i);
        },  // releases its permit here, handing the slot to the next one
        boost::asio::detached);
  }
  io.poll();  // everyone queues
  EXPECT_EQ(bulkhead.stats().queued, 3U);
  EXPECT_TRUE(order.empty());

  held->release();
  EXPECT_TRUE(order.empty());  // resumed through the executor, not inside release()
  io.run();                    // returns: the queue timers were cancelled by the grants
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.in_flight, 0U);
  EXPECT_EQ(stats.queued, 0U);
  EXPECT_EQ(stats.admitted, 4U);
  EXPECT_EQ(stats.queued_total, 3U);
}

TEST(BulkheadAsync, ReleaseOnTheSameExecutorDoesNotResumeTheWaiterInline) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  bool waiter_resumed = false;
  bool resumed_inside_release = true;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto permit = co_await bulkhead.async_acquire();
        EXPECT_TRUE(permit);
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
              auto mine = co_await bulkhead.async_acquire();
              EXPECT_TRUE(mine);
              waiter_resumed = true;
            },
            boost::asio::detached);
        // Let the second coroutine queue, then release from this one.
        boost::asio::steady_timer yield(io, 0ms);
        co_await yield.async_wait(boost::asio::use_awaitable);
        EXPECT_EQ(bulkhead.stats().queued, 1U);
        permit->release();
        resumed_inside_release = waiter_resumed;
      },
      boost::asio::detached);
  io.run();
  EXPECT_TRUE(waiter_resumed);
  EXPECT_FALSE(resumed_inside_release);
}

TEST(BulkheadAsync, QueueTimeoutWhenNobodyReleases) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.name = "svc", .max_concurrent = 1, .max_queue = 2, .max_wait = 1ms});
  std::vector<BulkheadEvent> events;
  auto subscription = bulkhead.on_event([&](const BulkheadEvent& e) { events.push_back(e); });
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);

  Completion waiter;
  boost::asio::co_spawn(io, bulkhead.async_acquire(), waiter.handler());
  io.run();
  EXPECT_EQ(waiter.error(), errc::bulkhead_full);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, BulkheadEvent::Type::queue_timeout);
  EXPECT_EQ(events[0].bulkhead, "svc");
  EXPECT_EQ(events[0].queued, 0U);
  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.queue_timeouts, 1U);
  EXPECT_EQ(stats.queued, 0U);
  EXPECT_EQ(stats.in_flight, 1U);
  held->release();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
}

TEST(BulkheadAsync, QueueFullRejectsAtOnce) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  Completion queued;
  Completion rejected;
  boost::asio::co_spawn(io, bulkhead.async_acquire(), queued.handler());
  boost::asio::co_spawn(io, bulkhead.async_acquire(), rejected.handler());
  io.poll();
  EXPECT_FALSE(queued.done());
  EXPECT_EQ(rejected.error(), errc::bulkhead_full);
  held->release();
  io.run();
  EXPECT_TRUE(queued.granted());
}

TEST(BulkheadAsync, CancelledWaiterLeavesTheQueueAndTheSlotGoesToTheNext) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 2, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);

  boost::asio::cancellation_signal cancel_first;
  Completion first;
  Completion second;
  boost::asio::co_spawn(io, bulkhead.async_acquire(),
                        boost::asio::bind_cancellation_slot(cancel_first.slot(), first.handler()));
  boost::asio::co_spawn(io, bulkhead.async_acquire(), second.handler());
  io.poll();
  ASSERT_EQ(bulkhead.stats().queued, 2U);

  cancel_first.emit(boost::asio::cancellation_type::terminal);
  io.poll();
  EXPECT_EQ(first.error(), errc::cancelled);
  EXPECT_EQ(first.error(), std::errc::operation_canceled);
  EXPECT_FALSE(first.exception);
  EXPECT_FALSE(second.done());
  EXPECT_EQ(bulkhead.stats().queued, 1U);
  EXPECT_EQ(bulkhead.stats().cancelled, 1U);

  held->release();
  io.run();
  EXPECT_TRUE(second.granted());
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  second.result.reset();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
}

TEST(BulkheadAsync, CancellationAfterTheGrantKeepsThePermit) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  boost::asio::cancellation_signal cancel;
  Completion waiter;
  boost::asio::co_spawn(io, bulkhead.async_acquire(),
                        boost::asio::bind_cancellation_slot(cancel.slot(), waiter.handler()));
  io.poll();
  held->release();                                        // the grant wins...
  cancel.emit(boost::asio::cancellation_type::terminal);  // ...so this finds nothing to cancel
  io.run();
  EXPECT_TRUE(waiter.granted());
  EXPECT_EQ(bulkhead.stats().cancelled, 0U);
  waiter.result.reset();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
}

TEST(BulkheadAsync, LosingARaceWithTheOrOperatorCancelsTheWait) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  std::optional<std::size_t> winner;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer deadline(io, 1ms);
        auto result =
            co_await (bulkhead.async_acquire() || deadline.async_wait(boost::asio::use_awaitable));
        winner = result.index();
      },
      boost::asio::detached);
  io.run();  // returns at once: the cancelled wait disarmed its one-hour timer
  EXPECT_EQ(winner, 1U);
  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.cancelled, 1U);
  EXPECT_EQ(stats.queued, 0U);
  EXPECT_EQ(stats.queue_timeouts, 0U);
}

TEST(BulkheadAsync, SyncAndAsyncWaitersShareOneQueue) {
  boost::asio::io_context io;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 2, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);

  std::atomic<bool> sync_granted{false};
  std::atomic<bool> let_sync_go{false};
  std::thread sync_waiter([&] {
    auto permit = bulkhead.acquire();
    sync_granted = permit.has_value();
    while (!let_sync_go) std::this_thread::yield();
  });
  while (bulkhead.stats().queued != 1) std::this_thread::yield();
  Completion async_waiter;
  boost::asio::co_spawn(io, bulkhead.async_acquire(), async_waiter.handler());
  io.poll();
  ASSERT_EQ(bulkhead.stats().queued, 2U);

  held->release();  // to the thread, which came first
  while (!sync_granted) std::this_thread::yield();
  io.poll();
  EXPECT_FALSE(async_waiter.done());
  let_sync_go = true;  // the thread releases, handing the slot to the coroutine
  sync_waiter.join();
  io.run();
  EXPECT_TRUE(async_waiter.granted());
}

TEST(BulkheadAsync, DestroyingTheIoContextWithdrawsItsWaiters) {
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, bulkhead.async_acquire(), boost::asio::detached);
    io.poll();
    ASSERT_EQ(bulkhead.stats().queued, 1U);
  }
  EXPECT_EQ(bulkhead.stats().queued, 0U);
  EXPECT_EQ(bulkhead.stats().cancelled, 1U);
  held->release();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  EXPECT_TRUE(bulkhead.try_acquire());
}

TEST(BulkheadAsync, ASlotGrantedToADestroyedIoContextComesBack) {
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  {
    boost::asio::io_context io;
    boost::asio::co_spawn(io, bulkhead.async_acquire(), boost::asio::detached);
    io.poll();
    held->release();  // handed over, but the coroutine never runs again
    EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  }
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  EXPECT_TRUE(bulkhead.try_acquire());
}

}  // namespace
}  // namespace bulwark
