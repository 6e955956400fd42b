// http::Client against a real nginx (support/nginx_server.hpp): keep-alive reuse, nginx's own
// keep-alive timeout and request limit, status codes, request bodies and TLS.
#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/nginx_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::NginxOptions;
using test::NginxServer;
using test::run;

ClientConfig config_for(const NginxServer& nginx) {
  ClientConfig config;
  config.name = "nginx";
  config.base_url = nginx.base_url();
  config.timeouts.connect = 2s;
  config.retry.reset();
  return config;
}

struct HttpNginxTest : ::testing::Test {
  asio::io_context io;

  Result<Response> get(Client& client, std::string url) {
    return run(io, client.execute(Request::get(std::move(url))));
  }
};

TEST_F(HttpNginxTest, SequentialGetsReuseOneConnection) {
  NginxServer nginx;
  Client client(io.get_executor(), config_for(nginx));
  for (int i = 0; i < 10; ++i) {
    const Result<Response> reply = get(client, nginx.base_url() + "/hello");
    ASSERT_TRUE(reply) << test::describe(reply);
    EXPECT_EQ(reply->status, 200u);
    EXPECT_EQ(reply->body, "hello\n");
  }
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.created, 1u);
  EXPECT_EQ(stats.pool.reused, 9u);
  EXPECT_EQ(stats.pool.idle, 1u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, StaticBodiesArriveWhole) {
  NginxServer nginx;
  Client client(io.get_executor(), config_for(nginx));
  for (const auto& [path, size] : std::vector<std::pair<std::string, std::size_t>>{
           {"/1k", 1024}, {"/64k", 64 * 1024}, {"/1m", 1024 * 1024}}) {
    const Result<Response> reply = get(client, nginx.base_url() + path);
    ASSERT_TRUE(reply) << path << ": " << test::describe(reply);
    EXPECT_EQ(reply->body.size(), size) << path;
  }
  EXPECT_EQ(client.stats().pool.created, 1u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, AnIdleConnectionNginxClosedNeverSurfaces) {
  NginxServer nginx({.keepalive_timeout = 1s});
  ClientConfig config = config_for(nginx);
  config.pool.keepalive_expiry = 10s;
  Client client(io.get_executor(), config);
  ASSERT_TRUE(get(client, nginx.base_url() + "/hello"));
  std::this_thread::sleep_for(1500ms);  // past nginx's keepalive_timeout
  const Result<Response> reply = get(client, nginx.base_url() + "/hello");
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->body, "hello\n");
  EXPECT_EQ(client.stats().pool.created, 2u);
  EXPECT_EQ(client.stats().failures, 0u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, NginxsRequestLimitPerConnectionIsRespected) {
  // nginx answers the last request of a connection with Connection: close.
  NginxServer nginx({.keepalive_requests = 3});
  Client client(io.get_executor(), config_for(nginx));
  for (int i = 0; i < 10; ++i) {
    const Result<Response> reply = get(client, nginx.base_url() + "/hello");
    ASSERT_TRUE(reply) << "request " << i << ": " << test::describe(reply);
  }
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.created, 4u);
  EXPECT_EQ(stats.pool.stale_retries, 0u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, A503FromNginxCountsAsAFailure) {
  NginxServer nginx;
  Client client(io.get_executor(), config_for(nginx));
  const Result<Response> reply = get(client, nginx.base_url() + "/status/503");
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 503u);
  const Result<Response> ok = get(client, nginx.base_url() + "/status/200");
  ASSERT_TRUE(ok) << test::describe(ok);
  EXPECT_EQ(ok->body, "ok");
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 2u);
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(client.resilience().circuit_breaker()->stats().failed_total, 1u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, PostBodiesAreAcceptedAndTheConnectionReused) {
  NginxServer nginx;
  Client client(io.get_executor(), config_for(nginx));
  for (const std::size_t size : {0u, 10u, 100u * 1024u}) {
    const Result<Response> reply =
        run(io, client.execute(
                    Request::post(nginx.base_url() + "/echo-post").text(std::string(size, 'b'))));
    ASSERT_TRUE(reply) << size << ": " << test::describe(reply);
    EXPECT_EQ(reply->status, 200u);
  }
  EXPECT_EQ(client.stats().pool.created, 1u);
  test::close_and_expect_clean(io, client);
}

TEST_F(HttpNginxTest, TlsWithTheFixtureCa) {
  NginxServer nginx({.tls = true});
  ClientConfig config = config_for(nginx);
  config.base_url = nginx.tls_base_url();
  config.tls.ca_file = nginx.ca_file();
  Client client(io.get_executor(), config);
  for (int i = 0; i < 3; ++i) {
    const Result<Response> reply = get(client, nginx.tls_base_url() + "/hello");
    ASSERT_TRUE(reply) << test::describe(reply);
    EXPECT_EQ(reply->body, "hello\n");
  }
  EXPECT_EQ(client.stats().pool.created, 1u);
  EXPECT_EQ(client.stats().pool.reused, 2u);

  ClientConfig untrusting = config_for(nginx);
  Client stranger(io.get_executor(), untrusting);
  const Result<Response> rejected = get(stranger, nginx.tls_base_url() + "/hello");
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::tls_error) << test::describe(rejected);
  test::close_and_expect_clean(io, client);
  test::close_and_expect_clean(io, stranger);
}

TEST_F(HttpNginxTest, ARestartedNginxIsReachedAgain) {
  NginxServer nginx;
  Client client(io.get_executor(), config_for(nginx));
  ASSERT_TRUE(get(client, nginx.base_url() + "/hello"));
  nginx.stop();
  const Result<Response> down = get(client, nginx.base_url() + "/hello");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), errc::connect_failed) << test::describe(down);
  nginx.start();
  const Result<Response> back = get(client, nginx.base_url() + "/hello");
  ASSERT_TRUE(back) << test::describe(back);
  test::close_and_expect_clean(io, client);
}

}  // namespace
}  // namespace bulwark::http
