// What the admin endpoint answers, decided without sockets: routes, methods, the bearer token,
// the rate limit, the health status codes and the security headers.
#include "admin/detail/router.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <atomic>

namespace bulwark::detail {
namespace {

using namespace std::chrono_literals;

ClientHealth client(std::string name, HealthState state, bool available = true,
                    bool optional = false) {
  ClientHealth health;
  health.name = std::move(name);
  health.kind = "http";
  health.state = state;
  health.available = available;
  health.optional = optional;
  return health;
}

HealthReport report_of(std::vector<ClientHealth> clients) {
  HealthReport report;
  report.clients = std::move(clients);
  for (const ClientHealth& c : report.clients) {
    if (c.available && c.state > report.state) report.state = c.state;
  }
  return report;
}

class RouterTest : public ::testing::Test {
 protected:
  Router make(AdminOptions options = {}) {
    AdminSources sources;
    sources.health = [this] { return report_; };
    sources.started = [this] { return started_.load(); };
    sources.metrics = [] { return std::string("# metrics\n"); };
    sources.status_page = [](const HealthReport& report) {
      return "<html>" + std::to_string(report.clients.size()) + "</html>";
    };
    return Router(options, std::move(sources), clock_);
  }

  static AdminRequest get(std::string_view target,
                          std::optional<std::string_view> authorization = std::nullopt) {
    return AdminRequest{"GET", target, authorization};
  }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  HealthReport report_ = report_of({client("svc", HealthState::healthy)});
  std::atomic<bool> started_{true};
};

TEST_F(RouterTest, LivenessAnswersAlive) {
  Router router = make();
  const AdminReply reply = router.handle(get("/health/live"));
  EXPECT_EQ(reply.status, 200U);
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(boost::json::parse(reply.body), boost::json::parse(R"({"status":"alive"})"));
}

TEST_F(RouterTest, HealthIs200OnlyWhenEveryAvailableClientIsHealthy) {
  Router router = make();
  EXPECT_EQ(router.handle(get("/health")).status, 200U);
  EXPECT_EQ(boost::json::parse(router.handle(get("/health")).body).at("state"), "healthy");
  report_ = report_of({client("svc", HealthState::healthy), client("db", HealthState::degraded)});
  EXPECT_EQ(router.handle(get("/health")).status, 503U) << "degraded is not healthy";
  report_ = report_of(
      {client("svc", HealthState::healthy), client("openai", HealthState::failed, true, true)});
  EXPECT_EQ(router.handle(get("/health")).status, 503U) << "an available optional one counts";
  report_ = report_of(
      {client("svc", HealthState::healthy), client("openai", HealthState::failed, false, true)});
  EXPECT_EQ(router.handle(get("/health")).status, 200U) << "an unavailable one does not";
}

TEST_F(RouterTest, ReadyWhenStartedAndNoRequiredClientFailed) {
  Router router = make();
  EXPECT_EQ(router.handle(get("/health/ready")).status, 200U);
  report_ = report_of({client("svc", HealthState::degraded)});
  EXPECT_EQ(router.handle(get("/health/ready")).status, 200U) << "degraded is still ready";
  report_ = report_of(
      {client("svc", HealthState::healthy), client("openai", HealthState::failed, true, true)});
  EXPECT_EQ(router.handle(get("/health/ready")).status, 200U) << "optional ones may fail";
  report_ = report_of({client("svc", HealthState::failed)});
  const AdminReply failed = router.handle(get("/health/ready"));
  EXPECT_EQ(failed.status, 503U);
  EXPECT_EQ(boost::json::parse(failed.body),
            boost::json::parse(R"({"status":"not_ready","started":true,"failed":["svc"]})"));
  report_ = report_of({client("svc", HealthState::healthy)});
  started_ = false;
  EXPECT_EQ(router.handle(get("/health/ready")).status, 503U) << "not started";
}

TEST_F(RouterTest, MetricsAndStatusHaveTheirContentTypes) {
  Router router = make();
  const AdminReply metrics = router.handle(get("/metrics"));
  EXPECT_EQ(metrics.status, 200U);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(metrics.body, "# metrics\n");
  const AdminReply status = router.handle(get("/status?x=1"));
  EXPECT_EQ(status.status, 200U);
  EXPECT_EQ(status.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(status.body, "<html>1</html>");
}

TEST_F(RouterTest, EveryReplyCarriesTheSecurityHeaders) {
  Router router = make();
  for (const std::string_view target : {"/status", "/health", "/nope", "/metrics"}) {
    const AdminReply reply = router.handle(get(target));
    EXPECT_EQ(reply.header("X-Content-Type-Options"), "nosniff") << target;
    EXPECT_EQ(reply.header("Cache-Control"), "no-store") << target;
    const auto csp = reply.header("Content-Security-Policy");
    ASSERT_TRUE(csp) << target;
    EXPECT_NE(csp->find("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
              std::string_view::npos)
        << *csp;
    EXPECT_EQ(csp->find("script-src"), std::string_view::npos) << "no scripts at all";
  }
}

TEST_F(RouterTest, UnknownPathsAre404AndOtherMethods405WithAllow) {
  Router router = make();
  EXPECT_EQ(router.handle(get("/")).status, 404U);
  EXPECT_EQ(router.handle(get("/health/")).status, 404U);
  EXPECT_EQ(router.handle(get("/statusx")).status, 404U);
  for (const std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    const AdminReply reply = router.handle(AdminRequest{method, "/health", std::nullopt});
    EXPECT_EQ(reply.status, 405U) << method;
    EXPECT_EQ(reply.header("Allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(router.handle(AdminRequest{"HEAD", "/health", std::nullopt}).status, 200U);
}

TEST_F(RouterTest, BearerTokenGuardsEverythingButLiveness) {
  AdminOptions options;
  options.bearer_token = Secret("s3cret-token");
  Router router = make(options);
  for (const std::string_view target : {"/health", "/health/ready", "/metrics", "/status", "/x"}) {
    const AdminReply denied = router.handle(get(target));
    EXPECT_EQ(denied.status, 401U) << target;
    EXPECT_EQ(denied.header("WWW-Authenticate").value_or("").substr(0, 6), "Bearer") << target;
    EXPECT_EQ(denied.body.find("s3cret"), std::string::npos);
    EXPECT_EQ(router.handle(get(target, "Bearer wrong")).status, 401U) << target;
  }
  EXPECT_EQ(router.handle(get("/health/live")).status, 200U);
  EXPECT_EQ(router.handle(get("/health", "Bearer s3cret-token")).status, 200U);
  EXPECT_EQ(router.handle(get("/status", "bearer   s3cret-token ")).status, 200U);
  EXPECT_EQ(router.handle(get("/x", "Bearer s3cret-token")).status, 404U);
}

TEST(BearerMatches, NeedsTheSchemeAndTheWholeToken) {
  const Secret token("abc");
  EXPECT_TRUE(bearer_matches("Bearer abc", token));
  EXPECT_TRUE(bearer_matches("BEARER\tabc", token));
  EXPECT_FALSE(bearer_matches(std::nullopt, token));
  EXPECT_FALSE(bearer_matches("", token));
  EXPECT_FALSE(bearer_matches("abc", token));
  EXPECT_FALSE(bearer_matches("Bearerabc", token));
  EXPECT_FALSE(bearer_matches("Basic abc", token));
  EXPECT_FALSE(bearer_matches("Bearer ab", token));
  EXPECT_FALSE(bearer_matches("Bearer abcd", token));
  EXPECT_FALSE(bearer_matches("Bearer ", token));
}

TEST_F(RouterTest, AnEmptyTokenMeansNoAuthentication) {
  AdminOptions options;
  options.bearer_token = Secret("");
  Router router = make(options);
  EXPECT_EQ(router.handle(get("/health")).status, 200U);
}

TEST_F(RouterTest, RequestsOverTheRateAre429WithRetryAfter) {
  AdminOptions options;
  options.max_requests_per_second = 4;
  Router router = make(options);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(router.handle(get("/health/live")).status, 200U) << i;
  const AdminReply limited = router.handle(get("/health"));
  EXPECT_EQ(limited.status, 429U);
  EXPECT_EQ(limited.header("Retry-After"), "1");
  clock_->advance(250ms);
  EXPECT_EQ(router.handle(get("/health")).status, 200U) << "one permit every 250 ms";
  EXPECT_EQ(router.handle(get("/health")).status, 429U);
}

TEST_F(RouterTest, ASlowRateAsksForALongerWait) {
  AdminOptions options;
  options.max_requests_per_second = 0.2;  // one every 5 s
  Router router = make(options);
  EXPECT_EQ(router.handle(get("/health")).status, 200U);
  EXPECT_EQ(router.handle(get("/health")).header("Retry-After"), "5");
}

TEST_F(RouterTest, ZeroRateMeansNoLimit) {
  AdminOptions options;
  options.max_requests_per_second = 0;
  Router router = make(options);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(router.handle(get("/health/live")).status, 200U);
}

TEST_F(RouterTest, AFailingSourceIs500WithoutDetails) {
  AdminSources sources;
  sources.health = []() -> HealthReport { throw std::runtime_error("boom at /secret/place"); };
  sources.started = [] { return true; };
  sources.metrics = [] { return std::string(); };
  sources.status_page = [](const HealthReport&) { return std::string(); };
  Router router({}, std::move(sources), clock_);
  const AdminReply reply = router.handle(get("/health"));
  EXPECT_EQ(reply.status, 500U);
  EXPECT_EQ(reply.body.find("boom"), std::string::npos);
}

TEST(HealthStatus, EmptyReportIsHealthyAndReadyOnceStarted) {
  EXPECT_EQ(health_status({}), 200U);
  EXPECT_TRUE(is_ready({}, true));
  EXPECT_FALSE(is_ready({}, false));
}

}  // namespace
}  // namespace bulwark::detail
