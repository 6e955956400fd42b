// The fault proxy itself: each fault is observed with a raw socket (or the HTTP client) through
// the proxy in front of the test HTTP server, and switching it off restores plain forwarding.
#include "support/fault_proxy.hpp"

#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/raw_connection.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace bulwark::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string get(std::string_view path) {
  return fmt::format("GET {} HTTP/1.1\r\nHost: proxy\r\n\r\n", path);
}

struct FaultProxyTest : ::testing::Test {
  HttpServer server;
  FaultProxy proxy{"127.0.0.1", server.port()};

  // One request on a fresh connection; the raw response.
  std::string fetch(std::string_view path, std::chrono::milliseconds limit = 2s) {
    RawConnection connection(proxy.port());
    EXPECT_TRUE(connection.send(get(path)));
    return connection.read_response(limit);
  }
};

TEST_F(FaultProxyTest, ForwardsBothWaysAndCounts) {
  const std::string response = fetch("/bytes/1000");
  EXPECT_EQ(RawConnection::status_of(response), 200u);
  EXPECT_NE(response.find(HttpServer::pattern(1000)), std::string::npos);
  EXPECT_TRUE(FaultProxy::wait_for([&] { return proxy.stats().open == 0; }));
  const FaultProxyStats stats = proxy.stats();
  EXPECT_EQ(stats.accepted, 1u);
  EXPECT_EQ(stats.bytes_up, get("/bytes/1000").size());
  EXPECT_EQ(stats.bytes_down, response.size());
  EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(FaultProxyTest, LatencyDelaysReplies) {
  proxy.latency(200ms, 20ms);
  const auto start = Clock::now();
  EXPECT_EQ(RawConnection::status_of(fetch("/status/200")), 200u);
  EXPECT_GE(Clock::now() - start, 180ms);
  proxy.clear();
  EXPECT_EQ(RawConnection::status_of(fetch("/status/200")), 200u);
}

TEST_F(FaultProxyTest, BandwidthLimitsReplies) {
  proxy.bandwidth(100'000);
  const auto start = Clock::now();
  const std::string response = fetch("/bytes/30000", 5s);
  EXPECT_NE(response.find(HttpServer::pattern(30000)), std::string::npos);
  EXPECT_GE(Clock::now() - start, 250ms);  // 30 kB at 100 kB/s
}

TEST_F(FaultProxyTest, RefuseClosesTheListenerAndListensAgainOnTheSamePort) {
  const std::uint16_t port = proxy.port();
  proxy.refuse(true);
  EXPECT_THROW(RawConnection{port}, std::runtime_error);
  proxy.refuse(false);
  EXPECT_EQ(proxy.port(), port);
  EXPECT_EQ(RawConnection::status_of(fetch("/status/200")), 200u);
}

TEST_F(FaultProxyTest, ResetOnAcceptNeverReachesTheServer) {
  proxy.reset_on_accept(true);
  RawConnection connection(proxy.port());
  connection.send(get("/status/200"));
  EXPECT_EQ(connection.read_until_closed(2s), "");
  EXPECT_TRUE(connection.closed());
  EXPECT_EQ(server.connections_accepted(), 0u);
  EXPECT_EQ(proxy.stats().resets, 1u);
}

TEST_F(FaultProxyTest, ResetAfterPassesExactlyThatManyBytes) {
  proxy.reset_after(100);
  RawConnection connection(proxy.port());
  ASSERT_TRUE(connection.send(get("/bytes/5000")));
  const std::string got = connection.read_until_closed(2s);
  EXPECT_TRUE(connection.closed());
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(proxy.stats().resets, 1u);
}

TEST_F(FaultProxyTest, BlackholedTrafficIsSwallowed) {
  proxy.blackhole(Blackhole::traffic);
  RawConnection connection(proxy.port());
  ASSERT_TRUE(connection.send(get("/status/200")));
  EXPECT_EQ(connection.read_response(300ms), "");
  EXPECT_FALSE(connection.closed());
  EXPECT_EQ(server.request_count(), 0u);
  EXPECT_EQ(proxy.stats().open, 1u);
  proxy.clear();
  EXPECT_EQ(RawConnection::status_of(fetch("/status/200")), 200u);
}

TEST_F(FaultProxyTest, BlackholedConnectsHangUntilTheClientsTimeout) {
  proxy.blackhole(Blackhole::connects);
  boost::asio::io_context io;
  http::ClientConfig config = http_config(server);
  config.timeouts.connect = 200ms;
  http::Client client(io.get_executor(), config);
  const auto start = Clock::now();
  const Result<http::Response> reply = run(io, client.execute(http::Request::get(proxy.url("/"))));
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error(), errc::timeout) << describe(reply);
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_EQ(proxy.stats().accepted, 0u);
  proxy.clear();
  const Result<http::Response> again = run(io, client.execute(http::Request::get(proxy.url("/"))));
  ASSERT_TRUE(again) << describe(again);
  close_and_expect_clean(io, client);
}

TEST_F(FaultProxyTest, SlowCloseHoldsTheServersCloseBack) {
  proxy.slow_close(300ms);
  RawConnection connection(proxy.port());
  ASSERT_TRUE(connection.send(get("/close")));
  const auto start = Clock::now();
  const std::string got = connection.read_until_closed(3s);
  EXPECT_TRUE(connection.closed());
  EXPECT_EQ(RawConnection::status_of(got), 200u);
  EXPECT_GE(Clock::now() - start, 250ms);
}

TEST_F(FaultProxyTest, SlicedRepliesArriveWhole) {
  proxy.slice(7, 100us);
  const std::string response = fetch("/bytes/2000");
  EXPECT_NE(response.find(HttpServer::pattern(2000)), std::string::npos);
  boost::asio::io_context io;
  http::Client client(io.get_executor(), http_config(server));
  const Result<http::Response> reply =
      run(io, client.execute(http::Request::get(proxy.url("/bytes/3000"))));
  ASSERT_TRUE(reply) << describe(reply);
  EXPECT_EQ(reply->body, HttpServer::pattern(3000));
  close_and_expect_clean(io, client);
}

TEST_F(FaultProxyTest, GarbageOnceGoesAheadOfOneReply) {
  proxy.inject_garbage("\x01\x02 not http\r\n");
  const std::string first = fetch("/status/200");
  EXPECT_EQ(first.rfind("\x01\x02 not http\r\n", 0), 0u) << first;
  const std::string second = fetch("/status/200");
  EXPECT_EQ(RawConnection::status_of(second), 200u) << second;
}

TEST_F(FaultProxyTest, GarbageOnEveryConnection) {
  proxy.inject_garbage("XX", GarbageMode::every_connection);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(fetch("/status/200").rfind("XX", 0), 0u);
}

TEST_F(FaultProxyTest, DownForDropsConnectionsRefusesThenComesBack) {
  RawConnection open(proxy.port());
  ASSERT_TRUE(FaultProxy::wait_for([&] { return proxy.stats().open == 1; }));
  proxy.down_for(300ms);
  EXPECT_TRUE(proxy.is_down());
  (void)open.read_until_closed(1s);
  EXPECT_TRUE(open.closed());
  EXPECT_THROW(RawConnection{proxy.port()}, std::runtime_error);
  EXPECT_TRUE(FaultProxy::wait_for([&] { return !proxy.is_down(); }, 3s));
  EXPECT_EQ(RawConnection::status_of(fetch("/status/200")), 200u);
}

TEST_F(FaultProxyTest, AnUnreachableTargetResetsTheClient) {
  server.down();
  RawConnection connection(proxy.port());
  connection.send(get("/"));
  (void)connection.read_until_closed(2s);
  EXPECT_TRUE(connection.closed());
  EXPECT_EQ(proxy.stats().upstream_failures, 1u);
  EXPECT_TRUE(FaultProxy::wait_for([&] { return proxy.stats().open == 0; }));
}

}  // namespace
}  // namespace bulwark::test
