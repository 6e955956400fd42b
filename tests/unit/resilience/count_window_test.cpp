#include "resilience/detail/count_window.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace bulwark::detail {
namespace {

constexpr std::uint8_t success = make_outcome(false, false);
constexpr std::uint8_t failure = make_outcome(true, false);
constexpr std::uint8_t slow_success = make_outcome(false, true);
constexpr std::uint8_t slow_failure = make_outcome(true, true);

TEST(CountWindow, StartsEmpty) {
  CountWindow window(5);
  const WindowCounts counts = window.snapshot();
  EXPECT_EQ(counts.calls, 0u);
  EXPECT_EQ(counts.failed, 0u);
  EXPECT_EQ(counts.slow, 0u);
  EXPECT_EQ(window.recorded_total(), 0u);
}

TEST(CountWindow, RecordReturnsTheAggregatesIncludingTheNewOutcome) {
  CountWindow window(5);
  window.record_success();
  EXPECT_EQ(window.record(failure).failed, 1u);
  const WindowCounts counts = window.record(slow_failure);
  EXPECT_EQ(counts.calls, 3u);
  EXPECT_EQ(counts.failed, 2u);
  EXPECT_EQ(counts.slow, 1u);
  EXPECT_EQ(window.record(slow_success).slow, 2u);
}

TEST(CountWindow, KeepsOnlyTheLastNOutcomes) {
  CountWindow window(3);
  (void)window.record(failure);
  (void)window.record(slow_failure);
  window.record_success();
  EXPECT_EQ(window.snapshot().failed, 2u);
  window.record_success();  // evicts the failure
  EXPECT_EQ(window.snapshot().failed, 1u);
  EXPECT_EQ(window.snapshot().slow, 1u);
  (void)window.record(failure);  // evicts the slow failure
  WindowCounts counts = window.snapshot();
  EXPECT_EQ(counts.calls, 3u);
  EXPECT_EQ(counts.failed, 1u);
  EXPECT_EQ(counts.slow, 0u);
  (void)window.record(failure);  // evicts a success
  counts = window.snapshot();
  EXPECT_EQ(counts.failed, 2u);
  EXPECT_EQ(window.recorded_total(), 6u);
}

TEST(CountWindow, SameOutcomeOverSameOutcomeKeepsCounts) {
  CountWindow window(2);
  for (int i = 0; i < 10; ++i) (void)window.record(failure);
  EXPECT_EQ(window.snapshot().calls, 2u);
  EXPECT_EQ(window.snapshot().failed, 2u);
}

TEST(CountWindow, ClearEmptiesButKeepsTheRecordedTotal) {
  CountWindow window(4);
  (void)window.record(failure);
  (void)window.record(slow_success);
  window.clear();
  EXPECT_EQ(window.snapshot().calls, 0u);
  EXPECT_EQ(window.snapshot().failed, 0u);
  EXPECT_EQ(window.snapshot().slow, 0u);
  EXPECT_EQ(window.recorded_total(), 2u);
  // The ring fills up again from wherever the cursor is.
  for (int i = 0; i < 4; ++i) (void)window.record(failure);
  EXPECT_EQ(window.snapshot().failed, 4u);
}

TEST(CountWindow, LargestWindowCountsEveryCall) {
  CountWindow window(CountWindow::max_size);
  for (std::uint32_t i = 0; i < CountWindow::max_size; ++i) (void)window.record(slow_failure);
  const WindowCounts counts = window.snapshot();
  EXPECT_EQ(counts.calls, CountWindow::max_size);
  EXPECT_EQ(counts.failed, CountWindow::max_size);
  EXPECT_EQ(counts.slow, CountWindow::max_size);
}

TEST(CountWindow, ConcurrentRecordingKeepsAggregatesConsistentWithTheSlots) {
  // A small ring hammered by several threads makes writers collide on slots. Whatever they
  // leave behind, refilling the ring single-threaded must bring the aggregates back to exact
  // values: any drift between slots and aggregates would survive the refill.
  CountWindow window(8);
  constexpr int threads = 4;
  constexpr int per_thread = 20000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::uint8_t outcomes[] = {success, failure, slow_success, slow_failure};
      for (int i = 0; i < per_thread; ++i) {
        const std::uint8_t outcome = outcomes[(i + t) % 4];
        if (outcome == success) {
          window.record_success();
        } else {
          (void)window.record(outcome);
        }
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(window.recorded_total(), std::uint64_t{threads} * per_thread);
  EXPECT_EQ(window.snapshot().calls, 8u);
  for (int i = 0; i < 8; ++i) window.record_success();
  const WindowCounts counts = window.snapshot();
  EXPECT_EQ(counts.calls, 8u);
  EXPECT_EQ(counts.failed, 0u);
  EXPECT_EQ(counts.slow, 0u);
}

}  // namespace
}  // namespace bulwark::detail
