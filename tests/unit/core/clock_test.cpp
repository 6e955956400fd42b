#include "bulwark/core/clock.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock;
  const auto start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(250ms);
  EXPECT_EQ(clock.now() - start, 250ms);
  clock.advance(-1s);  // ignored: time never goes backwards
  EXPECT_EQ(clock.now() - start, 250ms);
}

TEST(ManualClock, SetNeverGoesBackwards) {
  ManualClock clock;
  const auto start = clock.now();
  clock.set(start + 10s);
  EXPECT_EQ(clock.now(), start + 10s);
  clock.set(start + 5s);
  EXPECT_EQ(clock.now(), start + 10s);
}

TEST(ManualClock, SleepAdvancesAndIsCounted) {
  ManualClock clock;
  const auto start = clock.now();
  clock.sleep_for(100ms);
  clock.sleep_for(0ms);
  clock.sleep_for(50ms);
  EXPECT_EQ(clock.now() - start, 150ms);
  EXPECT_EQ(clock.sleep_count(), 2u);
  EXPECT_EQ(clock.total_slept(), 150ms);
  EXPECT_TRUE(clock.is_manual());
}

TEST(ManualClock, StartsAfterTheEpochSoZeroMeansNever) {
  ManualClock clock;
  EXPECT_GT(clock.now(), Clock::time_point{});
}

TEST(ManualClock, ConcurrentAdvancesAllCount) {
  ManualClock clock;
  const auto start = clock.now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.advance(1ns);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(clock.now() - start, 4000ns);
}

TEST(SteadyClock, IsMonotonicAndShared) {
  auto clock = steady_clock();
  EXPECT_EQ(clock.get(), steady_clock().get());
  const auto a = clock->now();
  const auto b = clock->now();
  EXPECT_LE(a, b);
  EXPECT_FALSE(clock->is_manual());
}

}  // namespace
}  // namespace bulwark

namespace bulwark {
namespace {

TEST(SteadyClock, CoarseReadingIsMonotonicAndCloseToTheFineOne) {
  auto clock = steady_clock();
  const auto coarse_a = clock->coarse_now();
  const auto fine = clock->now();
  const auto coarse_b = clock->coarse_now();
  EXPECT_LE(coarse_a, coarse_b);
  // Both count from the same boot-time origin; the coarse one lags by at most a few ticks.
  EXPECT_LT(std::chrono::abs(fine - coarse_b), std::chrono::seconds(1));
}

TEST(ManualClock, CoarseReadingIsTheManualTime) {
  ManualClock clock;
  clock.advance(std::chrono::milliseconds(3));
  EXPECT_EQ(clock.coarse_now(), clock.now());
}

}  // namespace
}  // namespace bulwark
