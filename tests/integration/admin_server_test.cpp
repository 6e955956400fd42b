// The admin endpoint against a real ClientManager (a test HTTP service and a real redis-server),
// called over loopback with bulwark's own HTTP client, and with raw sockets where a test must
// send what no client would.
#include "bulwark/admin/admin_server.hpp"

#include "bulwark/observe/registry.hpp"
#include "integration/admin_test_bed.hpp"
#include "support/process.hpp"
#include "support/promtool.hpp"
#include "support/raw_connection.hpp"
#include "support/require_tool.hpp"

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <thread>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::AdminTestBed;
using test::HttpServer;
using test::RawConnection;

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string header(const http::Response& response, std::string_view name) {
  return std::string(response.header(name).value_or(""));
}

TEST(AdminServer, HealthIs200UntilTheServiceGoesDownThen503) {
  AdminTestBed bed;
  ASSERT_NE(bed.port(), 0U);
  EXPECT_EQ(bed.manager().check_now_blocking().state, HealthState::healthy);

  http::Response health = bed.call("/health");
  EXPECT_EQ(health.status, 200U) << health.body;
  EXPECT_EQ(header(health, "Content-Type"), "application/json");
  boost::json::value json = boost::json::parse(health.body);
  EXPECT_EQ(json.at("state"), "healthy");
  EXPECT_EQ(json.at("clients").at("svc").at("state"), "healthy");
  EXPECT_EQ(json.at("clients").at("cache").at("kind"), "redis");
  EXPECT_EQ(bed.call("/health/live").status, 200U);
  EXPECT_EQ(boost::json::parse(bed.call("/health/live").body).at("status"), "alive");
  EXPECT_EQ(bed.call("/health/ready").status, 200U);

  bed.service().down();
  EXPECT_EQ(bed.manager().check_now_blocking().find("svc")->state, HealthState::degraded);
  health = bed.call("/health");
  EXPECT_EQ(health.status, 503U) << "degraded is not healthy";
  EXPECT_EQ(bed.call("/health/ready").status, 200U) << "degraded is still ready";
  EXPECT_EQ(bed.manager().check_now_blocking().find("svc")->state, HealthState::failed);
  health = bed.call("/health");
  EXPECT_EQ(health.status, 503U);
  json = boost::json::parse(health.body);
  EXPECT_EQ(json.at("state"), "failed");
  EXPECT_EQ(json.at("clients").at("svc").at("state"), "failed");
  EXPECT_EQ(json.at("clients").at("cache").at("state"), "healthy");
  const http::Response ready = bed.call("/health/ready");
  EXPECT_EQ(ready.status, 503U);
  EXPECT_EQ(boost::json::parse(ready.body).at("failed"), boost::json::parse(R"(["svc"])"));
  EXPECT_EQ(bed.call("/health/live").status, 200U) << "alive whatever the clients do";

  const http::Response head = bed.call("/health", std::nullopt, "HEAD");
  EXPECT_EQ(head.status, 503U);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(header(head, "Content-Length"), std::to_string(health.body.size()))
      << "what GET would send";

  bed.service().up();
  EXPECT_EQ(bed.manager().check_now_blocking().state, HealthState::healthy);
  EXPECT_EQ(bed.call("/health").status, 200U) << "and back";
}

TEST(AdminServer, ReadyIs503UntilTheManagerStartsAndAfterItStops) {
  AdminTestBed bed({}, {}, /*start_manager=*/false);
  const http::Response ready = bed.call("/health/ready");
  EXPECT_EQ(ready.status, 503U);
  EXPECT_EQ(boost::json::parse(ready.body).at("started"), false);
  bed.manager().start();
  EXPECT_EQ(bed.call("/health/ready").status, 200U);
  bed.manager().stop();
  EXPECT_EQ(bed.call("/health/ready").status, 503U);
  EXPECT_EQ(bed.call("/health/live").status, 200U);
}

TEST(AdminServer, MetricsAreTheManagersAndPassPromtool) {
  AdminTestBed bed;
  EXPECT_EQ(bed.manager().http_sync("svc")->get("/ok").status, 200U);
  (void)bed.manager().check_now_blocking();
  const http::Response metrics = bed.call("/metrics");
  EXPECT_EQ(metrics.status, 200U);
  EXPECT_EQ(header(metrics, "Content-Type"), observe::prometheus_content_type);
  EXPECT_NE(metrics.body.find(R"(bulwark_client_calls_total{client="svc",outcome="success"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(bulwark_health_state{client="cache",state="healthy"} 1)"),
            std::string::npos);
  const auto promtool = test::find_promtool();
  BULWARK_REQUIRE_TOOL(!promtool.empty(), "promtool not installed (Debian package prometheus)");
  const test::PromtoolResult result = test::check_metrics(promtool, metrics.body);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << metrics.body;
}

TEST(AdminServer, StatusPageShowsEveryClientWithItsStateAndEscapesErrors) {
  HttpServer other;
  AdminOptions options;
  options.sample_interval = 50ms;
  // Its health path is no valid URL path: each check fails with an error quoting it, markup
  // included.
  AdminTestBed bed(
      options, {test::admin_test_service("evil", other, "/status/500/<script>alert(1)</script>")});
  const HealthReport report = bed.manager().check_now_blocking();  // the second failure
  const ClientHealth* evil = report.find("evil");
  ASSERT_NE(evil, nullptr);
  ASSERT_EQ(evil->state, HealthState::failed);
  ASSERT_NE(evil->last_error.find("<script>"), std::string::npos) << evil->last_error;
  auto svc = bed.manager().http_sync("svc");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(svc->get("/ok").status, 200U);
    EXPECT_EQ(svc->get("/status/503").status, 503U);
    std::this_thread::sleep_for(60ms);  // spread the calls over several samples
  }
  std::this_thread::sleep_for(120ms);

  const http::Response status = bed.call("/status");
  ASSERT_EQ(status.status, 200U);
  const std::string& html = status.body;
  EXPECT_EQ(header(status, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header(status, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(status, "Cache-Control"), "no-store");
  EXPECT_EQ(header(status, "Content-Security-Policy")
                .rfind("default-src 'none'; style-src 'unsafe-inline'; img-src data:", 0),
            0U)
      << header(status, "Content-Security-Policy");
  EXPECT_EQ(count(html, "<tr id=\"client-"), 3U) << html;
  EXPECT_NE(html.find(R"(data-client="svc" data-state="healthy")"), std::string::npos);
  EXPECT_NE(html.find(R"(data-client="cache" data-state="healthy")"), std::string::npos);
  EXPECT_NE(html.find(R"(data-client="evil" data-state="failed")"), std::string::npos);
  EXPECT_NE(html.find(R"(id="overall" class="badge state-failed" data-state="failed")"),
            std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "escaped, never markup";
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << html;
  EXPECT_NE(html.find(R"(<meta http-equiv="refresh" content="5">)"), std::string::npos);
  EXPECT_GE(count(html, "<polyline"), 3U) << "sparklines once samples exist";
  EXPECT_EQ(bed.call("/status", std::nullopt, "HEAD").status, 200U);
}

TEST(AdminServer, BearerTokenIsRequiredEverywhereButLiveness) {
  const std::string token = "tok-3f9a7c21e0";
  AdminOptions options;
  options.bearer_token = Secret(token);
  AdminTestBed bed(options);
  for (const char* target : {"/health", "/health/ready", "/metrics", "/status", "/nope"}) {
    const http::Response denied = bed.call(target);
    EXPECT_EQ(denied.status, 401U) << target;
    EXPECT_EQ(header(denied, "WWW-Authenticate").rfind("Bearer", 0), 0U) << target;
    EXPECT_EQ(bed.call(target, "not-" + token).status, 401U) << target;
  }
  EXPECT_EQ(bed.call("/health/live").status, 200U);
  for (const char* target : {"/health", "/health/ready", "/metrics", "/status"}) {
    const http::Response allowed = bed.call(target, token);
    EXPECT_EQ(allowed.status, 200U) << target;
    EXPECT_EQ(allowed.body.find(token), std::string::npos) << target << " shows the token";
    for (const auto& [name, value] : allowed.headers) {
      EXPECT_EQ(value.find(token), std::string::npos) << name;
    }
  }
}

TEST(AdminServer, OtherMethodsAre405WithAllowAndUnknownPaths404) {
  AdminTestBed bed;
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    const http::Response reply = bed.call("/health", std::nullopt, method);
    EXPECT_EQ(reply.status, 405U) << method;
    EXPECT_EQ(header(reply, "Allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(bed.call("/nope").status, 404U);
  EXPECT_EQ(bed.call("/").status, 404U);
  EXPECT_EQ(bed.call("/health?verbose=1").status, 200U) << "the query does not matter";
}

TEST(AdminServer, OversizedRequestsAre431Or413AndTheirConnectionClosed) {
  AdminTestBed bed;  // 8 KiB by default
  {
    RawConnection raw(bed.port());
    ASSERT_TRUE(raw.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10000, 'a') +
                         "\r\n\r\n"));
    const std::string reply = raw.read_until_closed(5s);
    EXPECT_EQ(RawConnection::status_of(reply), 431U) << reply;
    EXPECT_TRUE(raw.closed());
  }
  {
    RawConnection raw(bed.port());
    ASSERT_TRUE(raw.send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n" +
                         std::string(20000, 'b')));
    const std::string reply = raw.read_until_closed(5s);
    EXPECT_EQ(RawConnection::status_of(reply), 413U) << reply;
    EXPECT_TRUE(raw.closed());
  }
  {
    // Chunked: no length announced, so the bound is found while reading.
    RawConnection raw(bed.port());
    std::string request = "POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "fa0\r\n" + std::string(4000, 'c') + "\r\n";
    request += "0\r\n\r\n";
    ASSERT_TRUE(raw.send(request));
    const std::string reply = raw.read_until_closed(5s);
    EXPECT_EQ(RawConnection::status_of(reply), 413U) << reply;
    EXPECT_TRUE(raw.closed());
  }
  // Through the ordinary client: just under the bound is fine, just over it is not.
  http::Request padded = http::Request::get("/health");
  padded.header("X-Padding", std::string(6000, 'p'));
  EXPECT_EQ(bed.send(std::move(padded)).status, 200U);
  EXPECT_EQ(bed.call("/health?" + std::string(9000, 'q')).status, 431U);
}

TEST(AdminServer, RequestsOverTheRateAre429WithRetryAfter) {
  AdminOptions options;
  options.max_requests_per_second = 5;
  AdminTestBed bed(options);
  const auto started = std::chrono::steady_clock::now();
  std::vector<unsigned> statuses;
  std::string retry_after;
  while (retry_after.empty() && statuses.size() < 200) {
    const http::Response reply = bed.call("/health/live");
    statuses.push_back(reply.status);
    if (reply.status == 429) retry_after = header(reply, "Retry-After");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_GE(statuses.size(), 6U) << "the burst (5) first";
  EXPECT_EQ(std::count(statuses.begin(), statuses.begin() + 5, 200U), 5);
  EXPECT_EQ(statuses.back(), 429U);
  EXPECT_LE(static_cast<double>(statuses.size() - 1), 5 + 5 * seconds + 1)
      << "no more than the burst and the rate allow";
  EXPECT_EQ(retry_after, "1");
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(bed.call("/health/live").status, 200U) << "after the wait it asked for";
}

TEST(AdminServer, ConnectionsBeyondTheMaximumAreClosedAtOnce) {
  AdminOptions options;
  options.max_connections = 2;
  AdminTestBed bed(options);
  const std::string request = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";
  auto first = std::make_unique<RawConnection>(bed.port());
  RawConnection second(bed.port());
  for (RawConnection* raw : {first.get(), &second}) {
    ASSERT_TRUE(raw->send(request));
    EXPECT_EQ(RawConnection::status_of(raw->read_response(5s)), 200U);
  }
  RawConnection third(bed.port());
  (void)third.send(request);
  const std::string refused = third.read_until_closed(5s);
  EXPECT_TRUE(third.closed());
  EXPECT_TRUE(refused.empty()) << refused;
  ASSERT_TRUE(second.send(request));
  EXPECT_EQ(RawConnection::status_of(second.read_response(5s)), 200U) << "the others still work";

  first.reset();  // One leaves, so there is room again.
  EXPECT_TRUE(HttpServer::wait_for([&] {
    RawConnection next(bed.port());
    return next.send(request) && RawConnection::status_of(next.read_response(1s)) == 200;
  }));
}

TEST(AdminServer, SlowAndIdleClientsAreCut) {
  AdminOptions options;
  options.read_timeout = 300ms;
  options.idle_timeout = 300ms;
  AdminTestBed bed(options);
  const auto started = std::chrono::steady_clock::now();
  RawConnection slow(bed.port());
  ASSERT_TRUE(slow.send("GET /health HTTP/1.1\r\nHost: x\r\n"));  // and never the end
  RawConnection silent(bed.port());
  EXPECT_TRUE(slow.read_until_closed(5s).empty());
  EXPECT_TRUE(slow.closed());
  EXPECT_TRUE(silent.read_until_closed(5s).empty());
  EXPECT_TRUE(silent.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);

  // A keep-alive connection that goes quiet after a request is closed too.
  RawConnection quiet(bed.port());
  ASSERT_TRUE(quiet.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(RawConnection::status_of(quiet.read_response(5s)), 200U);
  EXPECT_TRUE(quiet.read_until_closed(5s).empty());
  EXPECT_TRUE(quiet.closed());
}

TEST(AdminServer, KeepAliveAndPipelinedRequestsAreServedInOrder) {
  AdminTestBed bed;
  RawConnection raw(bed.port());
  ASSERT_TRUE(
      raw.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
               "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(RawConnection::status_of(raw.read_response(5s)), 200U);
  EXPECT_EQ(RawConnection::status_of(raw.read_response(5s)), 404U);
  EXPECT_EQ(RawConnection::status_of(raw.read_response(5s, /*head=*/true)), 200U);
  ASSERT_TRUE(raw.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string last = raw.read_until_closed(5s);
  EXPECT_EQ(RawConnection::status_of(last), 200U);
  EXPECT_TRUE(raw.closed()) << "as asked";
  RawConnection garbage(bed.port());
  ASSERT_TRUE(garbage.send("NOT HTTP AT ALL\r\n\r\n"));
  EXPECT_EQ(RawConnection::status_of(garbage.read_until_closed(5s)), 400U);
}

TEST(AdminServer, StopClosesIdleConnectionsAndTheListener) {
  AdminOptions options;
  options.idle_timeout = 60s;
  AdminTestBed bed(options);
  RawConnection idle(bed.port());
  ASSERT_TRUE(idle.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(RawConnection::status_of(idle.read_response(5s)), 200U);
  const auto started = std::chrono::steady_clock::now();
  bed.admin().stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "idle ones do not hold it up";
  EXPECT_TRUE(idle.read_until_closed(2s).empty());
  EXPECT_TRUE(idle.closed());
  EXPECT_FALSE(test::port_accepts(bed.port()));
  bed.admin().stop();  // idempotent
  EXPECT_THROW(bed.admin().start(), Error) << "not restartable";
}

TEST(AdminServer, ABusyPortOrABadAddressIsAnError) {
  AdminTestBed bed;
  AdminOptions options;
  options.listen = "127.0.0.1:" + std::to_string(bed.port());
  AdminServer second(bed.manager(), options);
  try {
    second.start();
    ADD_FAILURE() << "bound a port in use";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(options.listen), std::string::npos) << error.what();
  }
  options.listen = "localhost:0";
  EXPECT_THROW((void)AdminServer(bed.manager(), options), ConfigError);
}

TEST(AdminServer, RunsOnAGivenExecutor) {
  HttpServer service;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    ManagerConfig config;
    config.services.push_back(test::admin_test_service("svc", service));
    ClientManager manager(config);
    manager.start();
    AdminServer admin(manager, {.listen = "127.0.0.1:0"}, io.get_executor());
    admin.start();
    Runtime runtime(RuntimeOptions{.threads = 1});
    http::SyncClient client(runtime, http::ClientConfig{.base_url = "http://127.0.0.1:" +
                                                                    std::to_string(admin.port())});
    EXPECT_EQ(client.get("/health/live").status, 200U);
    admin.stop();
  }
  work.reset();
  runner.join();
}

TEST(AdminServer, UseManagerMovesTheEndpointOntoAnotherManagerWithoutClosingThePort) {
  HttpServer first_service;
  HttpServer second_service;
  Runtime admin_runtime(RuntimeOptions{.threads = 1});
  ManagerConfig first_config;
  first_config.services.push_back(test::admin_test_service("first", first_service));
  auto first = std::make_unique<ClientManager>(first_config);
  first->start();
  AdminServer admin(*first, {.listen = "127.0.0.1:0"}, admin_runtime.executor());
  admin.start();
  Runtime runtime(RuntimeOptions{.threads = 1});
  http::SyncClient client(
      runtime, http::ClientConfig{.base_url = "http://127.0.0.1:" + std::to_string(admin.port())});
  // One keep-alive connection across the switch: the port and the connection stay open.
  EXPECT_NE(client.get("/health").body.find("\"first\""), std::string::npos);

  ManagerConfig second_config;
  second_config.services.push_back(test::admin_test_service("second", second_service));
  ClientManager second(second_config);
  second.start();
  admin.use_manager(second);
  first->stop();
  first.reset();  // nothing of the server reads it any more

  const std::string health = client.get("/health").body;
  EXPECT_NE(health.find("\"second\""), std::string::npos) << health;
  EXPECT_EQ(health.find("\"first\""), std::string::npos) << health;
  EXPECT_NE(client.get("/status").body.find("data-client=\"second\""), std::string::npos);
  EXPECT_NE(client.get("/metrics").body.find("client=\"second\""), std::string::npos);
  EXPECT_EQ(client.get("/health/ready").status, 200U);
  EXPECT_EQ(client.stats().pool.created, 1U) << "the connection was kept across the switch";
  admin.stop();
}

}  // namespace
}  // namespace bulwark
