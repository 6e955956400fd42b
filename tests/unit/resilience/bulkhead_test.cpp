#include "bulwark/resilience/bulkhead.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "bulwark/core/error.hpp"

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using Permit = Bulkhead::Permit;

// Waits (without a deadline: the outcome never depends on how long it takes) until `done`.
template <class Predicate>
void spin_until(Predicate done) {
  while (!done()) std::this_thread::yield();
}

TEST(BulkheadConfig, DefaultsAreValid) {
  const Bulkhead bulkhead({.name = "svc"});
  EXPECT_EQ(bulkhead.name(), "svc");
  EXPECT_EQ(bulkhead.config().max_concurrent, 25U);
  EXPECT_EQ(bulkhead.config().max_queue, 0U);
  EXPECT_EQ(bulkhead.config().max_wait, 1s);
  EXPECT_EQ(bulkhead.stats().max_concurrent, 25U);
}

TEST(BulkheadConfig, ReportsEveryBadFieldByPath) {
  try {
    const Bulkhead bulkhead({.max_concurrent = 0, .max_queue = 4, .max_wait = 0ms});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 2U);
    EXPECT_EQ(error.issues()[0].path, "bulkhead.max_concurrent");
    EXPECT_EQ(error.issues()[0].message, "must be >= 1, got 0");
    EXPECT_EQ(error.issues()[1].path, "bulkhead.max_wait");
    EXPECT_EQ(error.issues()[1].message, "must be > 0 when max_queue > 0, got 0");
    EXPECT_EQ(error.code(), errc::config_invalid);
  }
}

TEST(BulkheadConfig, RejectsNegativeWaitButAllowsZeroWithoutQueue) {
  try {
    const Bulkhead bulkhead({.max_wait = -5ms});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_EQ(error.issues()[0].path, "bulkhead.max_wait");
    EXPECT_EQ(error.issues()[0].message, "must be >= 0, got -5ms");
  }
  EXPECT_NO_THROW(Bulkhead({.max_queue = 0, .max_wait = 0ms}));
}

TEST(Bulkhead, TryAcquireAdmitsUpToTheLimitThenRejects) {
  Bulkhead bulkhead({.max_concurrent = 3});
  std::vector<Permit> permits;
  for (int i = 0; i < 3; ++i) {
    auto permit = bulkhead.try_acquire();
    ASSERT_TRUE(permit.has_value()) << i;
    EXPECT_TRUE(permit->valid());
    permits.push_back(std::move(*permit));
  }
  const auto rejected = bulkhead.try_acquire();
  ASSERT_FALSE(rejected.has_value());
  EXPECT_EQ(rejected.error(), errc::bulkhead_full);
  EXPECT_EQ(rejected.error(), condition::rejected);

  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.in_flight, 3U);
  EXPECT_EQ(stats.admitted, 3U);
  EXPECT_EQ(stats.rejected, 1U);
}

TEST(Bulkhead, ReleasingAPermitFreesItsSlot) {
  Bulkhead bulkhead({.max_concurrent = 1});
  auto first = bulkhead.try_acquire();
  ASSERT_TRUE(first);
  EXPECT_FALSE(bulkhead.try_acquire());
  first->release();
  EXPECT_FALSE(first->valid());
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  {
    auto second = bulkhead.try_acquire();
    ASSERT_TRUE(second);
    EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  }  // destroyed: released
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  EXPECT_TRUE(bulkhead.try_acquire());
}

TEST(BulkheadPermit, MovesOwnershipAndReleasesOnce) {
  Bulkhead bulkhead({.max_concurrent = 2});
  Permit a = std::move(*bulkhead.try_acquire());
  Permit b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(b.valid());
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);

  Permit c = std::move(*bulkhead.try_acquire());
  EXPECT_EQ(bulkhead.stats().in_flight, 2U);
  c = std::move(b);  // c's own slot is released, b's moves in
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  EXPECT_TRUE(c.valid());
  EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move)

  c.release();
  c.release();  // harmless
  a.release();  // empty: harmless
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  Permit empty;
  EXPECT_FALSE(empty.valid());
}

TEST(Bulkhead, AcquireWithoutQueueRejectsAtOnceWhenFull) {
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 0, .max_wait = 1h});
  auto held = bulkhead.acquire();
  ASSERT_TRUE(held);
  const auto rejected = bulkhead.acquire();  // would hang for an hour if it queued
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::bulkhead_full);
  EXPECT_EQ(bulkhead.stats().queued_total, 0U);
}

TEST(Bulkhead, TryAcquireNeverQueuesEvenWithAQueue) {
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 5, .max_wait = 1h});
  auto held = bulkhead.try_acquire();
  ASSERT_TRUE(held);
  EXPECT_EQ(bulkhead.try_acquire().error(), errc::bulkhead_full);
  EXPECT_EQ(bulkhead.stats().queued_total, 0U);
}

TEST(Bulkhead, QueueTimeoutWhenNobodyReleases) {
  Bulkhead bulkhead({.name = "svc", .max_concurrent = 1, .max_queue = 1, .max_wait = 1ms});
  std::vector<BulkheadEvent> events;
  auto subscription = bulkhead.on_event([&](const BulkheadEvent& e) { events.push_back(e); });
  auto held = bulkhead.acquire();
  ASSERT_TRUE(held);

  const auto timed_out = bulkhead.acquire();
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error(), errc::bulkhead_full);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, BulkheadEvent::Type::queue_timeout);
  EXPECT_EQ(events[0].bulkhead, "svc");
  EXPECT_EQ(events[0].in_flight, 1U);
  EXPECT_EQ(events[0].queued, 0U);

  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.queued, 0U);
  EXPECT_EQ(stats.queued_total, 1U);
  EXPECT_EQ(stats.queue_timeouts, 1U);
  EXPECT_EQ(stats.rejected, 0U);
  EXPECT_EQ(stats.in_flight, 1U);
  held->release();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);  // the timed-out waiter holds nothing
}

TEST(Bulkhead, QueueFullRejectsAtOnceAndPublishes) {
  Bulkhead bulkhead({.name = "svc", .max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  std::vector<BulkheadEvent> events;
  auto subscription = bulkhead.on_event([&](const BulkheadEvent& e) { events.push_back(e); });
  auto held = bulkhead.acquire();
  ASSERT_TRUE(held);

  Result<Permit> queued_result = make_error_code(errc::cancelled);
  std::thread waiter([&] { queued_result = bulkhead.acquire(); });
  spin_until([&] { return bulkhead.stats().queued == 1; });

  const auto rejected = bulkhead.acquire();  // the queue's one place is taken
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::bulkhead_full);
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].type, BulkheadEvent::Type::rejected);
  EXPECT_EQ(events[0].in_flight, 1U);
  EXPECT_EQ(events[0].queued, 1U);

  held->release();  // hands the slot to the waiter
  waiter.join();
  ASSERT_TRUE(queued_result);
  EXPECT_TRUE(queued_result->valid());
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  queued_result->release();

  const BulkheadStats stats = bulkhead.stats();
  EXPECT_EQ(stats.in_flight, 0U);
  EXPECT_EQ(stats.admitted, 2U);
  EXPECT_EQ(stats.rejected, 1U);
  EXPECT_EQ(stats.queued_total, 1U);
  EXPECT_EQ(events.size(), 1U);  // a grant is not an event
}

TEST(Bulkhead, QueuedCallersAreServedInArrivalOrder) {
  constexpr int waiters = 4;
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = waiters, .max_wait = 1h});
  auto held = bulkhead.acquire();
  ASSERT_TRUE(held);

  std::mutex order_mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < waiters; ++i) {
    threads.emplace_back([&, i] {
      auto permit = bulkhead.acquire();
      ASSERT_TRUE(permit);
      std::lock_guard lock(order_mutex);
      order.push_back(i);
    });  // the permit is released after recording, handing on to the next in line
    // Let waiter i join the queue before waiter i + 1 arrives.
    spin_until([&] { return bulkhead.stats().queued == static_cast<std::uint32_t>(i + 1); });
  }
  // Waiters hold the line: a newcomer cannot overtake them, even though release() is coming.
  EXPECT_EQ(bulkhead.try_acquire().error(), errc::bulkhead_full);
  held->release();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
  EXPECT_EQ(bulkhead.stats().admitted, waiters + 1U);
}

TEST(Bulkhead, HandOffKeepsTheSlotOccupied) {
  Bulkhead bulkhead({.max_concurrent = 1, .max_queue = 1, .max_wait = 1h});
  auto held = bulkhead.acquire();
  ASSERT_TRUE(held);
  std::atomic<bool> release_waiter{false};
  std::thread waiter([&] {
    auto permit = bulkhead.acquire();
    ASSERT_TRUE(permit);
    spin_until([&] { return release_waiter.load(); });
  });
  spin_until([&] { return bulkhead.stats().queued == 1; });
  held->release();
  // The slot went straight to the waiter: it is still taken, whether or not the waiter has
  // woken up yet.
  EXPECT_EQ(bulkhead.stats().in_flight, 1U);
  EXPECT_FALSE(bulkhead.try_acquire());
  release_waiter = true;
  waiter.join();
  EXPECT_EQ(bulkhead.stats().in_flight, 0U);
}

TEST(Bulkhead, NoEventsWithoutRejections) {
  Bulkhead bulkhead({.max_concurrent = 2});
  int events = 0;
  auto subscription = bulkhead.on_event([&](const BulkheadEvent&) { ++events; });
  for (int i = 0; i < 10; ++i) {
    auto permit = bulkhead.try_acquire();
    ASSERT_TRUE(permit);
  }
  EXPECT_EQ(events, 0);
  subscription.reset();
  auto a = bulkhead.try_acquire();
  auto b = bulkhead.try_acquire();
  EXPECT_FALSE(bulkhead.try_acquire());
  EXPECT_EQ(events, 0);  // unsubscribed
  EXPECT_EQ(bulkhead.stats().rejected, 1U);
}

}  // namespace
}  // namespace bulwark
