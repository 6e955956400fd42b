#include "bulwark/observe/buckets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "bulwark/core/error.hpp"

namespace bulwark::observe {
namespace {

TEST(Buckets, DefaultLatencyBucketsSpanHalfAMillisecondToTenSeconds) {
  const std::vector<double> bounds = default_latency_buckets();
  ASSERT_FALSE(bounds.empty());
  EXPECT_EQ(bounds.front(), 0.0005);
  EXPECT_EQ(bounds.back(), 10);
  EXPECT_TRUE(std::is_sorted(bounds.begin(), bounds.end()));
  EXPECT_EQ(std::adjacent_find(bounds.begin(), bounds.end()), bounds.end());
}

TEST(Buckets, LinearStepsByWidth) {
  EXPECT_EQ(linear_buckets(1, 0.5, 4), (std::vector<double>{1, 1.5, 2, 2.5}));
}

TEST(Buckets, ExponentialMultipliesByFactor) {
  EXPECT_EQ(exponential_buckets(0.001, 10, 3), (std::vector<double>{0.001, 0.01, 0.1}));
  EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

TEST(Buckets, RejectLayoutsThatAreNotStrictlyAscending) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW((void)linear_buckets(0, 1, 0), Error);
  EXPECT_THROW((void)linear_buckets(0, 0, 3), Error);
  EXPECT_THROW((void)linear_buckets(0, -1, 3), Error);
  EXPECT_THROW((void)linear_buckets(inf, 1, 3), Error);
  EXPECT_THROW((void)exponential_buckets(0, 2, 3), Error);
  EXPECT_THROW((void)exponential_buckets(1, 1, 3), Error);
  EXPECT_THROW((void)exponential_buckets(1, 2, 0), Error);
  try {
    (void)exponential_buckets(1, 0.5, 3);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

}  // namespace
}  // namespace bulwark::observe
