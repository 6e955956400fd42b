#include "bulwark/http/headers.hpp"
#include "bulwark/http/request.hpp"
#include "http/detail/fields.hpp"

#include <gtest/gtest.h>

namespace bulwark::http {
namespace {

TEST(HttpHeaders, LookupIgnoresCase) {
  Headers headers{{"Content-Type", "text/plain"}};
  EXPECT_EQ(headers.get("content-type"), "text/plain");
  EXPECT_FALSE(headers.get("Content-Length"));
}

TEST(HttpHeaders, AddKeepsRepeatsAndSetReplacesThemAll) {
  Headers headers;
  headers.add("Accept", "a").add("accept", "b").add("X", "1");
  EXPECT_EQ(headers.size(), 3U);
  headers.set("ACCEPT", "c");
  EXPECT_EQ(headers.size(), 2U);
  EXPECT_EQ(headers.get("accept"), "c");
  EXPECT_EQ(headers.remove("x"), 1U);
  EXPECT_EQ(headers.size(), 1U);
}

TEST(HttpFields, TokensAndValues) {
  EXPECT_TRUE(detail::is_token("X-Correlation-ID"));
  EXPECT_FALSE(detail::is_token(""));
  EXPECT_FALSE(detail::is_token("Bad Name"));
  EXPECT_FALSE(detail::is_token("a:b"));
  EXPECT_TRUE(detail::is_field_value("Bearer abc"));
  EXPECT_FALSE(detail::is_field_value("a\r\nInjected: yes"));
  EXPECT_FALSE(detail::is_field_value("a\nb"));
  EXPECT_FALSE(detail::is_field_value(std::string_view("a\0b", 3)));
}

TEST(HttpRequest, ReplayableMethodsAndIdempotencyKeys) {
  EXPECT_TRUE(Request::get("/").is_replayable());
  EXPECT_TRUE(Request::head("/").is_replayable());
  EXPECT_TRUE(Request::options("/").is_replayable());
  EXPECT_TRUE(Request::put("/").is_replayable());
  EXPECT_TRUE(Request::del("/").is_replayable());
  EXPECT_FALSE(Request::post("/").is_replayable());
  EXPECT_FALSE(Request::patch("/").is_replayable());
  EXPECT_TRUE(Request::post("/").idempotency_key("k-1").is_replayable());
}

TEST(HttpRequest, BuildersSetBodyAndContentType) {
  const Request request = Request::post("/points").json({{"limit", 5}}).query("wait", "true");
  EXPECT_EQ(request.body, R"({"limit":5})");
  EXPECT_EQ(request.headers.get("Content-Type"), "application/json");
  ASSERT_EQ(request.query_params.size(), 1U);
  EXPECT_EQ(Request::put("/").text("hi").headers.get("content-type"), "text/plain; charset=utf-8");
}

}  // namespace
}  // namespace bulwark::http
