#include "bulwark/http/client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

namespace bulwark::http {
namespace {

using namespace std::chrono_literals;

std::vector<ConfigIssue> issues_of(const ClientConfig& config) {
  std::vector<ConfigIssue> issues;
  validate(config, issues, "services.qdrant");
  return issues;
}

bool has(const std::vector<ConfigIssue>& issues, std::string_view path, std::string_view words) {
  for (const ConfigIssue& issue : issues) {
    if (issue.path == path && issue.message.find(words) != std::string::npos) return true;
  }
  return false;
}

TEST(HttpConfig, DefaultsAreValid) { EXPECT_TRUE(issues_of({}).empty()); }

TEST(HttpConfig, EveryProblemIsReportedWithItsPath) {
  ClientConfig config;
  config.base_url = "ftp://qdrant";
  config.pool.max_connections = 0;
  config.pool.max_keepalive_connections = 5;
  config.pool.keepalive_expiry = -1s;
  config.timeouts.connect = 0s;
  config.timeouts.read = -1s;
  config.timeouts.pool = -1s;
  config.limits.max_header_bytes = 10;
  config.limits.max_body_bytes = 0;
  config.tls.cert_file = "client.pem";
  config.redirects.max_redirects = -1;
  config.failed_after = 0;
  config.headers.add("Bad Name", "x");
  config.correlation_header = "X Corr";
  const auto issues = issues_of(config);
  EXPECT_TRUE(has(issues, "services.qdrant.base_url", "scheme must be http or https"));
  EXPECT_TRUE(has(issues, "services.qdrant.pool.max_connections", "must be >= 1, got 0"));
  EXPECT_TRUE(has(issues, "services.qdrant.pool.max_keepalive_connections", "<= max_connections"));
  EXPECT_TRUE(has(issues, "services.qdrant.pool.keepalive_expiry", ">= 0"));
  EXPECT_TRUE(has(issues, "services.qdrant.timeouts.connect", "must be > 0"));
  EXPECT_TRUE(has(issues, "services.qdrant.timeouts.read", "must be > 0"));
  EXPECT_TRUE(has(issues, "services.qdrant.timeouts.pool", ">= 0"));
  EXPECT_TRUE(has(issues, "services.qdrant.limits.max_header_bytes", ">= 1024"));
  EXPECT_TRUE(has(issues, "services.qdrant.limits.max_body_bytes", ">= 1"));
  EXPECT_TRUE(has(issues, "services.qdrant.tls", "set both or neither"));
  EXPECT_TRUE(has(issues, "services.qdrant.redirects.max_redirects", "0-50"));
  EXPECT_TRUE(has(issues, "services.qdrant.failed_after", ">= 1"));
  EXPECT_TRUE(has(issues, "services.qdrant.headers", "not a valid header name"));
  EXPECT_TRUE(has(issues, "services.qdrant.correlation_header", "not a valid header name"));
}

TEST(HttpConfig, AuthNeedsItsSecretAndNeverShowsIt) {
  ClientConfig config;
  config.auth.scheme = AuthScheme::header;
  EXPECT_TRUE(has(issues_of(config), "services.qdrant.auth.token", "empty"));
  EXPECT_TRUE(has(issues_of(config), "services.qdrant.auth.header_name", "api-key"));
  config.auth.header_name = "api-key";
  config.auth.token = Secret("sk-secret\r\nX-Evil: 1");
  const auto issues = issues_of(config);
  ASSERT_TRUE(has(issues, "services.qdrant.auth.token", "CR, LF"));
  for (const ConfigIssue& issue : issues) {
    EXPECT_EQ(issue.message.find("sk-secret"), std::string::npos);
  }
}

TEST(HttpConfig, HeaderValuesWithNewlinesAreRejectedWithoutEchoingThem) {
  ClientConfig config;
  config.headers.add("X-Api-Key", "abc\r\nInjected: 1");
  const auto issues = issues_of(config);
  ASSERT_TRUE(has(issues, "services.qdrant.headers.X-Api-Key", "CR, LF"));
  EXPECT_EQ(issues.front().message.find("abc"), std::string::npos);
}

TEST(HttpConfig, TheClientRefusesAnInvalidConfigListingEveryIssue) {
  boost::asio::io_context io;
  ClientConfig config;
  config.name = "qdrant";
  config.pool.max_connections = 0;
  config.pool.max_keepalive_connections = 0;
  config.timeouts.write = 0s;
  try {
    Client client(io.get_executor(), config);
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.issues().size(), 2U);
    EXPECT_NE(std::string(error.what()).find("qdrant.pool.max_connections"), std::string::npos);
  }
}

TEST(HttpConfig, DefaultClassifierFailsOn5xxAnd429Only) {
  const auto judge = [](unsigned status) {
    Response response;
    response.status = status;
    return default_response_classifier(response);
  };
  EXPECT_FALSE(judge(200));
  EXPECT_FALSE(judge(302));
  EXPECT_FALSE(judge(404));
  EXPECT_FALSE(judge(400));
  EXPECT_EQ(judge(429), errc::server_error);
  EXPECT_EQ(judge(500), errc::server_error);
  EXPECT_EQ(judge(503), errc::server_error);
}

TEST(HttpResponse, RaiseForStatusNamesStatusAndBody) {
  Response response;
  response.status = 404;
  response.reason = "Not Found";
  response.url = "http://h/x";
  response.body = "no such collection\n";
  try {
    response.raise_for_status();
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::http_client_error);
    EXPECT_NE(std::string(error.what()).find("404 Not Found: no such collection"),
              std::string::npos);
  }
  response.status = 502;
  EXPECT_THROW(response.raise_for_status(), Error);
  response.status = 204;
  EXPECT_NO_THROW(response.raise_for_status());
}

TEST(HttpResponse, JsonParseErrorsAreProtocolErrors) {
  Response response;
  response.body = R"({"a": [1, 2]})";
  EXPECT_EQ(response.json().at("a").as_array().size(), 2U);
  response.body = "<html>";
  try {
    (void)response.json();
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::protocol_error);
  }
}

}  // namespace
}  // namespace bulwark::http
