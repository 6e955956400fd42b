// ServiceClient without a network: config validation, the service's message in error responses,
// path-segment encoding, and the counters of a client that made no call.
#include "bulwark/http/service_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace bulwark {
namespace {

using namespace std::chrono_literals;

// Exposes the protected message extraction.
class Probe : public ServiceClient {
 public:
  using ServiceClient::error_message;
  using ServiceClient::ServiceClient;
};

struct ServiceClientUnitTest : ::testing::Test {
  boost::asio::io_context io;
  std::shared_ptr<http::Client> http =
      std::make_shared<http::Client>(io.get_executor(), http::ClientConfig{.name = "svc"});

  std::string message_of(std::string body) {
    const Probe probe(http);
    http::Response response;
    response.status = 400;
    response.body = std::move(body);
    return probe.error_message(response);
  }
};

TEST_F(ServiceClientUnitTest, ErrorMessageReadsTheCommonShapes) {
  EXPECT_EQ(message_of(R"({"error": {"message": "Incorrect API key", "type": "x"}})"),
            "Incorrect API key");
  EXPECT_EQ(message_of(R"({"error": "bad thing"})"), "bad thing");
  EXPECT_EQ(message_of(R"({"status": {"error": "Not found: Collection `x`"}, "time": 0})"),
            "Not found: Collection `x`");
  EXPECT_EQ(message_of(R"({"message": "nope"})"), "nope");
  EXPECT_EQ(message_of(R"({"detail": [{"loc": ["body"], "msg": "field required"}]})"),
            R"([{"loc":["body"],"msg":"field required"}])");
  EXPECT_EQ(message_of("plain\ntext"), "plain text");
  EXPECT_EQ(message_of(R"({"other": 1})"), R"({"other": 1})");
  EXPECT_EQ(message_of(""), "(empty body)");
  const std::string long_body(500, 'x');
  std::string expected(200, 'x');  // (not `string(200, 'x') + "..."`: GCC 12 -O1 warns falsely)
  expected.append("...");
  EXPECT_EQ(message_of(long_body), expected);
}

TEST_F(ServiceClientUnitTest, NameDefaultsToTheHttpClients) {
  const ServiceClient client(http);
  EXPECT_EQ(client.name(), "svc");
  const ServiceClient named(http, {.name = "billing"});
  EXPECT_EQ(named.name(), "billing");
  EXPECT_EQ(named.client(), http);
}

TEST_F(ServiceClientUnitTest, FreshClientHasZeroCounters) {
  const ServiceClient client(http, {.cache = CacheConfig{.max_entries = 4}});
  const ServiceStats stats = client.stats();
  EXPECT_EQ(stats.name, "svc");
  EXPECT_EQ(stats.requests, 0u);
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(stats.error_rate, 0.0);
  EXPECT_EQ(stats.recent_error_rate, 0.0);
  EXPECT_EQ(stats.window, 60s);
  ASSERT_TRUE(stats.cache.has_value());
  EXPECT_EQ(stats.cache->size, 0u);
}

TEST_F(ServiceClientUnitTest, ProviderWithoutAClientIsUnavailable) {
  const ServiceClient client(ClientProvider([] { return std::shared_ptr<http::Client>(); }),
                             {.name = "optional-service"});
  try {
    (void)client.client();
    FAIL() << "no exception";
  } catch (const ServiceUnavailable& error) {
    EXPECT_EQ(error.code(), errc::not_found);
    EXPECT_EQ(error.client(), "optional-service");
  }
}

TEST(ServiceClientConfig, DefaultsAreValid) {
  std::vector<ConfigIssue> issues;
  validate(ServiceClientConfig{}, issues);
  EXPECT_TRUE(issues.empty());
}

TEST(ServiceClientConfig, EveryBadFieldIsReported) {
  ServiceClientConfig config;
  config.cache = CacheConfig{.max_entries = 0, .ttl = -1s};
  config.health_path = "";
  config.expected_status = 42;
  config.health_timeout = -1s;
  config.error_window_buckets = 1001;
  std::vector<ConfigIssue> issues;
  validate(config, issues, "services.qdrant");
  std::vector<std::string> paths;
  for (const ConfigIssue& issue : issues) paths.push_back(issue.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "services.qdrant.cache.max_entries", "services.qdrant.cache.ttl",
                       "services.qdrant.health_path", "services.qdrant.expected_status",
                       "services.qdrant.health_timeout", "services.qdrant.error_window_buckets"}));
}

TEST(ServiceClientConfig, WindowNeedsAMillisecondPerBucket) {
  std::vector<ConfigIssue> issues;
  validate(ServiceClientConfig{.error_window = 50ms, .error_window_buckets = 60}, issues);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].path, "service.error_window");
  EXPECT_EQ(issues[0].message, "must be at least 1ms per bucket (60 buckets), got 50ms");
}

TEST(ServiceClientPaths, SegmentsArePercentEncoded) {
  EXPECT_EQ(ServiceClient::encode_path_segment("docs-v1.2_x~"), "docs-v1.2_x~");
  EXPECT_EQ(ServiceClient::encode_path_segment("a b/c?d#e%"), "a%20b%2Fc%3Fd%23e%25");
  EXPECT_EQ(ServiceClient::encode_path_segment("é"), "%C3%A9");
  EXPECT_EQ(ServiceClient::encode_path_segment(""), "");
}

}  // namespace
}  // namespace bulwark
