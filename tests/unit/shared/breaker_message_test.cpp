#include "bulwark/shared/breaker_message.hpp"

#include <gtest/gtest.h>

#include <string>

namespace bulwark::shared {
namespace {

using namespace std::chrono_literals;

TEST(BreakerMessage, RoundTrips) {
  const BreakerMessage open{SharedBreakerState::open, 42, 1500ms, "web-1-77"};
  EXPECT_EQ(encode(open), "v1|open|42|1500|web-1-77");
  const auto decoded = decode_breaker_message(encode(open));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->state, SharedBreakerState::open);
  EXPECT_EQ(decoded->epoch, 42U);
  EXPECT_EQ(decoded->wait, 1500ms);
  EXPECT_EQ(decoded->instance, "web-1-77");

  const auto closed = decode_breaker_message("v1|closed|7|0|b");
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->state, SharedBreakerState::closed);
}

TEST(BreakerMessage, MalformedPayloadsAreRejected) {
  for (const char* bad : {"", "v1", "v2|open|1|10|a", "v1|shut|1|10|a", "v1|open|0|10|a",
                          "v1|open|x|10|a", "v1|open|1|-5|a", "v1|open|1|10|", "v1|open|1|10|a|b",
                          "v1|open|1|99999999999999|a", "v1|open|1|10"}) {
    EXPECT_FALSE(decode_breaker_message(bad)) << bad;
  }
}

TEST(EpochFilter, AppliesOnlyNewerMessagesOfOtherInstances) {
  EpochFilter filter("me");
  EXPECT_EQ(filter.admit({SharedBreakerState::open, 3, 1s, "other"}), Admission::apply);
  EXPECT_EQ(filter.admit({SharedBreakerState::closed, 3, 0s, "other"}), Admission::stale);
  EXPECT_EQ(filter.admit({SharedBreakerState::closed, 2, 0s, "third"}), Admission::stale);
  EXPECT_EQ(filter.admit({SharedBreakerState::open, 9, 1s, "me"}), Admission::own);
  EXPECT_EQ(filter.last_epoch(), 3U) << "an echo does not move the epoch";

  // A transition this instance published overtakes what was published before it.
  filter.published(5);
  EXPECT_EQ(filter.admit({SharedBreakerState::open, 4, 1s, "other"}), Admission::stale);
  EXPECT_EQ(filter.admit({SharedBreakerState::closed, 6, 0s, "other"}), Admission::apply);
  filter.published(4);  // a late reply never lowers it
  EXPECT_EQ(filter.last_epoch(), 6U);
}

TEST(EpochFilter, RestartsFromWhatRedisHoldsAfterAReconnection) {
  EpochFilter filter("me");
  filter.published(50);
  filter.restart_from(1);  // Redis restarted without its data
  EXPECT_EQ(filter.admit({SharedBreakerState::open, 2, 1s, "other"}), Admission::apply);
}

}  // namespace
}  // namespace bulwark::shared
