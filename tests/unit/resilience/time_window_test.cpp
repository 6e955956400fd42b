#include "resilience/detail/time_window.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bulwark::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::uint8_t success = make_outcome(false, false);
constexpr std::uint8_t failure = make_outcome(true, false);
constexpr std::uint8_t slow_failure = make_outcome(true, true);

// One hour past the clock's epoch: a bucket boundary for every bucket length used here.
const Clock::time_point t0{std::chrono::hours(1)};

TEST(TimeWindow, CountsOutcomesInTheWindow) {
  TimeWindow window(10s, 10);
  EXPECT_EQ(window.bucket_length(), 1s);
  window.record_at(success, t0);
  (void)window.record(failure, t0 + 2500ms);
  const WindowCounts counts = window.record(slow_failure, t0 + 9s);
  EXPECT_EQ(counts.calls, 3u);
  EXPECT_EQ(counts.failed, 2u);
  EXPECT_EQ(counts.slow, 1u);
  EXPECT_EQ(window.recorded_total(), 3u);
}

TEST(TimeWindow, AnOutcomeExpiresWithItsBucket) {
  TimeWindow window(10s, 10);
  window.record_at(failure, t0 + 500ms);
  EXPECT_EQ(window.snapshot(t0 + 9999ms).failed, 1u);  // its bucket [0s, 1s) is still in
  EXPECT_EQ(window.snapshot(t0 + 10s).failed, 0u);     // the window is now [1s, 11s)
}

TEST(TimeWindow, BucketsExpireOneByOne) {
  TimeWindow window(4s, 4);
  for (int i = 0; i < 4; ++i) window.record_at(failure, t0 + std::chrono::seconds(i));
  EXPECT_EQ(window.snapshot(t0 + 3s).calls, 4u);
  EXPECT_EQ(window.snapshot(t0 + 4s).calls, 3u);
  EXPECT_EQ(window.snapshot(t0 + 5s).calls, 2u);
  EXPECT_EQ(window.snapshot(t0 + 7s).calls, 0u);
}

TEST(TimeWindow, AReusedBucketForgetsItsOldEpoch) {
  TimeWindow window(2s, 2);
  window.record_at(failure, t0);
  window.record_at(failure, t0);
  window.record_at(success, t0 + 2s);  // same bucket, two epochs later
  const WindowCounts counts = window.snapshot(t0 + 2s);
  EXPECT_EQ(counts.calls, 1u);
  EXPECT_EQ(counts.failed, 0u);
}

TEST(TimeWindow, OutcomesFromALaterClockReadingCount) {
  // A thread that read the clock a little later filled the next bucket already.
  TimeWindow window(10s, 10);
  window.record_at(failure, t0 + 1s);
  EXPECT_EQ(window.snapshot(t0).calls, 1u);
}

TEST(TimeWindow, ClearForgetsEverything) {
  TimeWindow window(10s, 10);
  window.record_at(failure, t0);
  window.record_at(failure, t0 + 1s);
  window.clear();
  EXPECT_EQ(window.snapshot(t0 + 1s).calls, 0u);
  window.record_at(success, t0 + 1s);  // the same epoch as before the clear
  const WindowCounts counts = window.snapshot(t0 + 1s);
  EXPECT_EQ(counts.calls, 1u);
  EXPECT_EQ(counts.failed, 0u);
  EXPECT_EQ(window.recorded_total(), 3u);
}

TEST(TimeWindow, ClockNearItsEpochIsUsable) {
  TimeWindow window(10s, 10);
  window.record_at(failure, Clock::time_point{});
  EXPECT_EQ(window.snapshot(Clock::time_point{}).calls, 1u);
}

TEST(TimeWindow, ConcurrentRecordingInOneBucketLosesNothing) {
  TimeWindow window(10s, 10);
  window.record_at(success, t0);  // claims the bucket before the threads start
  constexpr int threads = 4;
  constexpr int per_thread = 10000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) window.record_at(i % 2 == 0 ? failure : success, t0);
    });
  }
  for (auto& worker : workers) worker.join();
  const WindowCounts counts = window.snapshot(t0);
  EXPECT_EQ(counts.calls, 1u + threads * per_thread);
  EXPECT_EQ(counts.failed, threads * per_thread / 2u);
}

TEST(TimeWindow, ConcurrentRecordingAcrossBucketsStaysBounded) {
  // Threads move through time at different speeds, so buckets are claimed while others record
  // into them. Counts may be off by the outcomes recorded during a claim; nothing may be torn
  // (the sanitizers watch this test) and the totals are exact.
  TimeWindow window(8ms, 8);
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const Clock::time_point now = t0 + std::chrono::microseconds(i * (t + 1));
        (void)window.record(failure, now);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(window.recorded_total(), std::uint64_t{threads} * per_thread);
  // Far in the future everything has expired.
  EXPECT_EQ(window.snapshot(t0 + 1h).calls, 0u);
}

}  // namespace
}  // namespace bulwark::detail
