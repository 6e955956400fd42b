#include "http/detail/engine.hpp"

#include <gtest/gtest.h>

namespace bulwark::http::detail {
namespace {

using namespace std::chrono_literals;

TEST(HttpRetryAfter, DeltaSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("3", now), Duration(3s));
  EXPECT_EQ(parse_retry_after(" 0 ", now), Duration(0s));
  EXPECT_EQ(parse_retry_after("999999999", now), Duration(86400s));  // capped at a day
}

TEST(HttpRetryAfter, HttpDate) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // 06 Nov 1994 08:49:37
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Duration(10s));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now), Duration::zero());
}

TEST(HttpRetryAfter, NonsenseIsIgnored) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_FALSE(parse_retry_after("", now));
  EXPECT_FALSE(parse_retry_after("-1", now));
  EXPECT_FALSE(parse_retry_after("soon", now));
  EXPECT_FALSE(parse_retry_after("1.5", now));
}

}  // namespace
}  // namespace bulwark::http::detail
