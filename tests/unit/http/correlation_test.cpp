#include "bulwark/http/correlation.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

namespace bulwark::http {
namespace {

TEST(HttpCorrelation, NewIdsAreUuidV4) {
  const std::regex uuid_v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_correlation_id();
    ASSERT_TRUE(std::regex_match(id, uuid_v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000U);
}

TEST(HttpCorrelation, ScopesNestPerThread) {
  EXPECT_EQ(CorrelationScope::current(), "");
  {
    CorrelationScope outer("outer");
    EXPECT_EQ(CorrelationScope::current(), "outer");
    {
      CorrelationScope inner("inner");
      EXPECT_EQ(CorrelationScope::current(), "inner");
      std::string seen_elsewhere = "unset";
      std::thread([&] { seen_elsewhere = CorrelationScope::current(); }).join();
      EXPECT_EQ(seen_elsewhere, "");
    }
    EXPECT_EQ(CorrelationScope::current(), "outer");
  }
  EXPECT_EQ(CorrelationScope::current(), "");
}

}  // namespace
}  // namespace bulwark::http
