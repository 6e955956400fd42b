#include "http/detail/url.hpp"

#include "bulwark/core/error.hpp"

#include <gtest/gtest.h>

namespace bulwark::http::detail {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

std::string rejection(std::string_view base, std::string_view url) {
  try {
    (void)resolve_target(base, url, {});
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
    return error.detail();
  }
  ADD_FAILURE() << "accepted " << url;
  return {};
}

TEST(HttpUrl, AbsoluteUrlGivesOriginTargetAndDisplay) {
  const Target target = resolve_target("", "https://api.example.com/v1/embeddings?x=1#frag", {});
  EXPECT_TRUE(target.origin.tls);
  EXPECT_EQ(target.origin.host, "api.example.com");
  EXPECT_EQ(target.origin.port, 443);
  EXPECT_EQ(target.target, "/v1/embeddings?x=1");
  EXPECT_EQ(target.display, "https://api.example.com/v1/embeddings");
  EXPECT_EQ(target.origin.key(), "https://api.example.com:443");
  EXPECT_EQ(target.origin.host_header(), "api.example.com");
}

TEST(HttpUrl, RelativeUrlsExtendTheBasePath) {
  EXPECT_EQ(resolve_target("http://qdrant:6333/v1", "/collections", {}).target, "/v1/collections");
  EXPECT_EQ(resolve_target("http://qdrant:6333/v1/", "collections", {}).target, "/v1/collections");
  EXPECT_EQ(resolve_target("http://qdrant:6333", "collections?limit=2", {}).target,
            "/collections?limit=2");
  EXPECT_EQ(resolve_target("http://qdrant:6333", "", {}).target, "/");
  EXPECT_EQ(resolve_target("http://h", "/login?next=http://x/y", {}).target,
            "/login?next=http://x/y");
  const Target target = resolve_target("http://qdrant:6333", "/x", {});
  EXPECT_EQ(target.origin.port, 6333);
  EXPECT_EQ(target.origin.host_header(), "qdrant:6333");
}

TEST(HttpUrl, QueryParametersArePercentEncodedAndAppended) {
  const Target target =
      resolve_target("http://h", "/search?a=1", Query{{"q", "a b&c=d"}, {"lang", "fr/é"}});
  EXPECT_EQ(resolve_target("http://h", "/", Query{{"at", "10:00+02:00"}}).target,
            "/?at=10%3A00%2B02%3A00");
  EXPECT_EQ(target.target, "/search?a=1&q=a%20b%26c%3Dd&lang=fr%2F%C3%A9");
}

// Plain relative URLs are joined to the parsed base URL without a parser; anything else goes
// through Boost.URL. Both must give the same target, display and host header.
TEST(HttpUrl, JoiningWithoutAParserAgreesWithTheParser) {
  const BaseUrl base = parse_base_url("https://api.example.com:8443/v1/");
  EXPECT_EQ(base.path, "/v1");
  EXPECT_EQ(base.display, "https://api.example.com:8443");
  for (std::string_view url : {"", "/", "x", "/collections/a%20b/points", "search?q=a+b&n=1",
                               "?only=query", "/a:b@c!$&'()*+,;=~._-", "//double", "/x?"}) {
    const Target fast = resolve_target(base, url, {});
    // The same URL spelt absolute always goes through the parser.
    std::string absolute = "https://api.example.com:8443/v1";
    if (url.empty() || url.front() != '/') absolute.push_back('/');
    absolute.append(url);
    const Target parsed = resolve_target("", absolute, {});
    EXPECT_EQ(fast.target, parsed.target) << url;
    EXPECT_EQ(fast.display, parsed.display) << url;
    EXPECT_EQ(fast.host_header, parsed.host_header) << url;
    EXPECT_TRUE(fast.origin == parsed.origin) << url;
  }
  const Query query{{"q", "a b"}, {"empty", ""}};
  EXPECT_EQ(resolve_target(base, "/s", query).target,
            resolve_target("", "https://h/v1/s", query).target);
  EXPECT_EQ(resolve_target(base, "/s", query).target, "/v1/s?q=a%20b&empty=");
}

TEST(HttpUrl, UrlsAPlainJoinCannotTakeStillGetTheParsersVerdict) {
  EXPECT_EQ(resolve_target("http://h", "/x#fragment", {}).target, "/x");
  EXPECT_NE(rejection("http://h", "/a b").find("not a valid absolute URL"), std::string::npos);
  EXPECT_NE(rejection("http://h", "/a%zz").find("not a valid absolute URL"), std::string::npos);
}

TEST(HttpUrl, Ipv6LiteralsAreBracketedInHostHeaderAndKey) {
  const Target target = resolve_target("", "http://[::1]:8080/", {});
  EXPECT_EQ(target.origin.host, "::1");
  EXPECT_EQ(target.origin.host_header(), "[::1]:8080");
  EXPECT_EQ(target.origin.key(), "http://[::1]:8080");
}

TEST(HttpUrl, BadUrlsAreRejectedWithTheReason) {
  EXPECT_NE(rejection("", "/relative").find("no base_url"), std::string::npos);
  EXPECT_NE(rejection("", "ftp://host/file").find("scheme must be http or https"),
            std::string::npos);
  EXPECT_NE(rejection("", "http://:80/").find("no host"), std::string::npos);
  EXPECT_NE(rejection("", "http://h:0/").find("port"), std::string::npos);
}

TEST(HttpUrl, CredentialsInUrlsAreRefusedAndNeverEchoed) {
  const std::string detail = rejection("", "https://user:hunter2@host/path?token=abc");
  EXPECT_NE(detail.find("credentials"), std::string::npos);
  EXPECT_EQ(detail.find("hunter2"), std::string::npos);
  EXPECT_EQ(detail.find("token=abc"), std::string::npos);
}

TEST(HttpUrl, RedirectsResolveRelativeAndAbsoluteLocations) {
  const Target from = resolve_target("", "http://a.example:8080/dir/page?x=1", {});
  EXPECT_EQ(resolve_redirect(from, "other").target, "/dir/other");
  EXPECT_EQ(resolve_redirect(from, "/root?y=2").target, "/root?y=2");
  const Target away = resolve_redirect(from, "https://b.example/landing");
  EXPECT_TRUE(away.origin.tls);
  EXPECT_EQ(away.origin.host, "b.example");
  EXPECT_FALSE(away.origin == from.origin);
}

}  // namespace
}  // namespace bulwark::http::detail
