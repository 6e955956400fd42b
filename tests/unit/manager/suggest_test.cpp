#include "manager/detail/suggest.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace bulwark::detail {
namespace {

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("timeout", "timeout", 3), 0U);
  EXPECT_EQ(edit_distance("timout", "timeout", 3), 1U);
  EXPECT_EQ(edit_distance("tiemout", "timeout", 3), 1U);  // a transposition is one edit
  EXPECT_EQ(edit_distance("Timeout", "timeout", 3), 0U);  // case is ignored
  EXPECT_EQ(edit_distance("", "abc", 3), 3U);
  EXPECT_EQ(edit_distance("abcdefgh", "a", 3), 4U);  // capped at limit + 1
}

TEST(Suggest, ClosestMatchIsOnlyOfferedWhenClose) {
  const std::vector<std::string> keys = {"timeout", "retry", "pool", "url"};
  EXPECT_EQ(closest_match("timout", keys), "timeout");
  EXPECT_EQ(closest_match("retyr", keys), "retry");
  EXPECT_EQ(closest_match("uri", keys), "url");
  EXPECT_EQ(closest_match("colour", keys), std::nullopt);
  EXPECT_EQ(closest_match("", keys), std::nullopt);
  EXPECT_EQ(closest_match(std::string(1000, 't'), keys), std::nullopt);
}

}  // namespace
}  // namespace bulwark::detail
