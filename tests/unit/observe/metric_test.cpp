#include "bulwark/observe/metric.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace bulwark::observe {
namespace {

using namespace std::chrono_literals;

TEST(Counter, CountsIntegerAndFractionalIncrements) {
  Counter counter;
  EXPECT_EQ(counter.value(), 0);
  counter.inc();
  counter.inc(41);
  counter.add(0.5);
  EXPECT_EQ(counter.value(), 42.5);
}

TEST(Counter, IgnoresNegativeAndNaNAmountsBecauseItNeverGoesDown) {
  Counter counter;
  counter.inc(2);
  counter.add(-1);
  counter.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(counter.value(), 2);
}

TEST(Counter, SitsOnItsOwnCacheLine) {
  // Series updated by different threads must not share a line (false sharing).
  EXPECT_EQ(alignof(Counter), 64u);
  EXPECT_EQ(alignof(Gauge), 64u);
  EXPECT_EQ(alignof(Histogram), 64u);
}

TEST(Gauge, SetsIncrementsAndDecrements) {
  Gauge gauge;
  gauge.set(10);
  gauge.inc();
  gauge.inc(2.5);
  gauge.dec();
  gauge.dec(20);
  EXPECT_EQ(gauge.value(), -7.5);
}

TEST(Histogram, CountsAnObservationInTheFirstBucketWhoseBoundIsAtLeastIt) {
  const std::vector<double> bounds{0.25, 0.5, 1};
  Histogram histogram(bounds);
  histogram.observe(0.25);  // on the bound: "le" is inclusive
  histogram.observe(0.5);
  histogram.observe(0.75);
  histogram.observe(4);  // beyond every bound: +Inf only
  histogram.observe(-1);
  const HistogramSnapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.bounds, bounds);
  EXPECT_EQ(snapshot.buckets, (std::vector<std::uint64_t>{2, 3, 4, 5}));
  EXPECT_EQ(snapshot.count, 5u);
  EXPECT_EQ(snapshot.sum, 4.5);
}

TEST(Histogram, IgnoresNaNButKeepsInfinities) {
  const std::vector<double> bounds{1};
  Histogram histogram(bounds);
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.snapshot().count, 0u);
  histogram.observe(std::numeric_limits<double>::infinity());
  const HistogramSnapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.buckets, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_TRUE(std::isinf(snapshot.sum));
}

TEST(Histogram, ObservesDurationsInSeconds) {
  const std::vector<double> bounds{0.001, 0.1, 1};
  Histogram histogram(bounds);
  histogram.observe(250ms);
  histogram.observe(std::chrono::microseconds(500));
  const HistogramSnapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.buckets, (std::vector<std::uint64_t>{1, 1, 2, 2}));
  EXPECT_DOUBLE_EQ(snapshot.sum, 0.2505);
}

TEST(Histogram, WithoutFiniteBoundsHasOnlyTheInfBucket) {
  Histogram histogram(std::span<const double>{});
  histogram.observe(3);
  EXPECT_EQ(histogram.snapshot().buckets, (std::vector<std::uint64_t>{1}));
}

// Several threads hammer the same series; every update must be counted, none lost.
TEST(Metrics, ConcurrentUpdatesFromSeveralThreadsSumExactly) {
  constexpr int threads = 4;
  constexpr int per_thread = 100'000;
  Counter counter;
  Counter fractional;
  Gauge gauge;
  const std::vector<double> bounds{1, 2};
  Histogram histogram(bounds);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        counter.inc();
        fractional.add(0.5);  // exactly representable, so the sum is exact too
        gauge.inc(t % 2 == 0 ? 1.0 : -0.5);
        histogram.observe(static_cast<double>(i % 3));
      }
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_EQ(counter.value(), threads * per_thread);
  EXPECT_EQ(fractional.value(), threads * per_thread * 0.5);
  EXPECT_EQ(gauge.value(), (threads / 2) * per_thread * 0.5);
  const HistogramSnapshot snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, std::uint64_t{threads} * per_thread);
  // i % 3 is 0, 1, 2 in turn; 100'000 = 3 * 33'333 + 1, so 0 comes up once more.
  EXPECT_EQ(snapshot.buckets[0], threads * 66'667u);
  EXPECT_EQ(snapshot.buckets[1], threads * 100'000u);
  EXPECT_EQ(snapshot.sum, threads * 99'999.0);
}

TEST(MetricType, NamesItselfAsOnTheTypeLine) {
  EXPECT_STREQ(type_name(MetricType::counter), "counter");
  EXPECT_STREQ(type_name(MetricType::gauge), "gauge");
  EXPECT_STREQ(type_name(MetricType::histogram), "histogram");
}

}  // namespace
}  // namespace bulwark::observe
