#include "bulwark/core/random.hpp"

#include <gtest/gtest.h>

#include <set>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

TEST(Random, SameSeedSameSequence) {
  Random a(42);
  Random b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
}

TEST(Random, DifferentSeedsDiffer) {
  Random a(1);
  Random b(2);
  EXPECT_NE(a.next(), b.next());
}

TEST(Random, UniformStaysInRangeAndSpreads) {
  Random random(7);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = random.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(Random, BetweenIsInclusiveAndHandlesEmptyRanges) {
  Random random(3);
  std::set<long> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto d = random.between(10ns, 13ns);
    ASSERT_GE(d, 10ns);
    ASSERT_LE(d, 13ns);
    seen.insert(d.count());
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(random.between(5s, 5s), 5s);
  EXPECT_EQ(random.between(5s, 1s), 5s);
}

}  // namespace
}  // namespace bulwark
