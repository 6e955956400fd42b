// http::Client's connection pool against the test server: keep-alive reuse, responses that forbid
// reuse (Connection: close, HTTP/1.0), chunked bodies, the pool limits and the pool timeout.
#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <set>
#include <thread>
#include <vector>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;
using test::run_until;

struct HttpPoolTest : ::testing::Test {
  asio::io_context io;
  HttpServer server;

  // Paths are made absolute on this server; other URLs are kept.
  Result<Response> get(Client& client, const std::string& url) {
    return run(io, client.execute(Request::get(url.starts_with("/") ? server.url(url) : url)));
  }
};

TEST_F(HttpPoolTest, SequentialRequestsReuseOneConnection) {
  Client client(io.get_executor(), test::http_config(server));
  for (int i = 0; i < 5; ++i) {
    const Result<Response> reply = get(client, "/echo");
    ASSERT_TRUE(reply) << test::describe(reply);
    EXPECT_EQ(reply->status, 200u);
  }
  EXPECT_EQ(server.connections_accepted(), 1u);
  for (const test::RecordedRequest& request : server.requests()) {
    EXPECT_EQ(request.connection, 1u);
  }
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 5u);
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(stats.pool.created, 1u);
  EXPECT_EQ(stats.pool.reused, 4u);
  EXPECT_EQ(stats.pool.requests, 5u);
  EXPECT_EQ(stats.pool.idle, 1u);
  EXPECT_EQ(stats.pool.stale_retries, 0u);
  ASSERT_EQ(stats.origins.size(), 1u);
  EXPECT_EQ(stats.origins[0].pool.created, 1u);
  test::close_and_expect_clean(io, client, &server);
  EXPECT_EQ(client.stats().pool.closed, 1u);
}

TEST_F(HttpPoolTest, ConnectionCloseResponseIsNotReused) {
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> closing = get(client, "/close");
  ASSERT_TRUE(closing) << test::describe(closing);
  EXPECT_EQ(closing->body, "closing");
  const Result<Response> next = get(client, "/status/200");
  ASSERT_TRUE(next) << test::describe(next);

  EXPECT_EQ(server.connections_accepted(), 2u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].connection, 2u);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.reused, 0u);
  EXPECT_EQ(stats.pool.stale_retries, 0u) << "the closed connection was tried again";
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, Http10ResponseIsNotReused) {
  // The server keeps the connection open after its HTTP/1.0 answer: only the client's own
  // judgement keeps it from sending the second request on it.
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> first = get(client, "/http10");
  ASSERT_TRUE(first) << test::describe(first);
  EXPECT_EQ(first->body, "http/1.0");
  const Result<Response> second = get(client, "/http10");
  ASSERT_TRUE(second) << test::describe(second);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].connection, requests[1].connection);
  EXPECT_EQ(client.stats().pool.reused, 0u);
  EXPECT_EQ(client.stats().pool.idle, 0u);
  // ... and the client closed them itself.
  run_until(
      io, [&] { return server.connections_open() == 0; }, 5s);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, SwitchingProtocolsResponseIsNotReused) {
  // After a 101 the connection no longer speaks HTTP/1.1: the response is returned, and the
  // connection is closed instead of going back to the pool.
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> switched = get(client, "/switch-protocols");
  ASSERT_TRUE(switched) << test::describe(switched);
  EXPECT_EQ(switched->status, 101u);
  EXPECT_EQ(client.stats().pool.idle, 0u);
  const Result<Response> next = get(client, "/status/200");
  ASSERT_TRUE(next) << test::describe(next);

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].connection, requests[1].connection);
  EXPECT_EQ(client.stats().pool.reused, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, RequestAskingForCloseIsNotReused) {
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> first =
      run(io, client.execute(Request::get(server.url("/echo")).header("Connection", "close")));
  ASSERT_TRUE(first) << test::describe(first);
  const Result<Response> second = get(client, "/echo");
  ASSERT_TRUE(second) << test::describe(second);
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(client.stats().pool.reused, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, ChunkedBodyIsDecodedAndTheConnectionReused) {
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> chunked = get(client, "/chunked?chunks=7&size=333");
  ASSERT_TRUE(chunked) << test::describe(chunked);
  EXPECT_EQ(chunked->body, HttpServer::pattern(7 * 333));
  const Result<Response> next = get(client, "/bytes/10");
  ASSERT_TRUE(next) << test::describe(next);
  EXPECT_EQ(next->body, HttpServer::pattern(10));
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(client.stats().pool.reused, 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, HeadResponseWithContentLengthLeavesTheConnectionUsable) {
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> head = run(io, client.execute(Request::head(server.url("/bytes/5000"))));
  ASSERT_TRUE(head) << test::describe(head);
  EXPECT_EQ(head->status, 200u);
  EXPECT_TRUE(head->body.empty());
  const Result<Response> next = get(client, "/bytes/3");
  ASSERT_TRUE(next) << test::describe(next);
  EXPECT_EQ(next->body, "abc");
  EXPECT_EQ(server.connections_accepted(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, SilentServerCloseAfterEachResponseNeverSurfaces) {
  // The server closes every connection right after its response without saying so: the client
  // must notice before (or when) it reuses one, and GETs must not see an error.
  server.close_after(1);
  Client client(io.get_executor(), test::http_config(server));
  for (int i = 0; i < 20; ++i) {
    const Result<Response> reply = get(client, "/echo");
    ASSERT_TRUE(reply) << "request " << i << ": " << test::describe(reply);
  }
  // Each GET reached the server once; a stale resend may or may not have reached it too.
  EXPECT_GE(server.request_count(), 20u);
  EXPECT_LE(server.request_count(), 20u + client.stats().pool.stale_retries);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, KeepaliveExpiryZeroOpensAConnectionPerRequest) {
  ClientConfig config = test::http_config(server);
  config.pool.keepalive_expiry = Duration::zero();
  Client client(io.get_executor(), config);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get(client, "/echo"));
  EXPECT_EQ(server.connections_accepted(), 3u);
  EXPECT_EQ(client.stats().pool.reused, 0u);
  EXPECT_EQ(client.stats().pool.idle, 0u);
  run_until(
      io, [&] { return server.connections_open() == 0; }, 5s);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, PruneIdleClosesExpiredConnections) {
  ClientConfig config = test::http_config(server);
  config.pool.keepalive_expiry = 50ms;
  Client client(io.get_executor(), config);
  ASSERT_TRUE(get(client, "/echo"));
  EXPECT_EQ(client.stats().pool.idle, 1u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(client.prune_idle(), 1u);
  EXPECT_EQ(client.stats().pool.idle, 0u);
  run_until(
      io, [&] { return server.connections_open() == 0; }, 5s);
  // An expired connection is not reused either.
  ASSERT_TRUE(get(client, "/echo"));
  EXPECT_EQ(server.connections_accepted(), 2u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, ConcurrentRequestsOpenAtMostMaxConnections) {
  ClientConfig config = test::http_config(server);
  config.pool.max_connections = 2;
  config.pool.max_keepalive_connections = 2;
  Client client(io.get_executor(), config);
  std::vector<std::future<Result<Response>>> replies;
  for (int i = 0; i < 6; ++i) {
    replies.push_back(asio::co_spawn(
        io, client.execute(Request::get(server.url("/echo?delay_ms=50"))), asio::use_future));
  }
  run_until(io, [&] {
    for (auto& reply : replies) {
      if (reply.wait_for(0s) != std::future_status::ready) return false;
    }
    return true;
  });
  for (auto& reply : replies) {
    const Result<Response> result = reply.get();
    EXPECT_TRUE(result) << test::describe(result);
  }
  EXPECT_EQ(server.connections_accepted(), 2u);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.created, 2u);
  EXPECT_EQ(stats.pool.reused, 4u);
  EXPECT_EQ(stats.pool.idle, 2u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, IdleConnectionsBeyondMaxKeepaliveAreClosed) {
  ClientConfig config = test::http_config(server);
  config.pool.max_connections = 3;
  config.pool.max_keepalive_connections = 1;
  Client client(io.get_executor(), config);
  std::vector<std::future<Result<Response>>> replies;
  for (int i = 0; i < 3; ++i) {
    replies.push_back(asio::co_spawn(
        io, client.execute(Request::get(server.url("/echo?delay_ms=100"))), asio::use_future));
  }
  run_until(io, [&] {
    for (auto& reply : replies) {
      if (reply.wait_for(0s) != std::future_status::ready) return false;
    }
    return true;
  });
  for (auto& reply : replies) EXPECT_TRUE(reply.get());
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.created, 3u);
  EXPECT_EQ(stats.pool.idle, 1u);
  EXPECT_EQ(stats.pool.closed, 2u);
  run_until(
      io, [&] { return server.connections_open() == 1; }, 5s);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, PoolTimeoutWhenEveryConnectionIsBusy) {
  ClientConfig config = test::http_config(server);
  config.pool.max_connections = 1;
  config.pool.max_keepalive_connections = 1;
  config.timeouts.pool = 50ms;
  Client client(io.get_executor(), config);
  auto slow = asio::co_spawn(
      io, client.execute(Request::get(server.url("/status/200?delay_ms=500"))), asio::use_future);
  // Wait until the slow request holds the only connection (the server has it).
  run_until(io, [&] { return server.request_count() == 1; });

  const Result<Response> second = get(client, "/status/200");
  ASSERT_FALSE(second) << test::describe(second);
  EXPECT_EQ(second.error(), errc::pool_timeout) << test::describe(second);
  EXPECT_EQ(client.stats().pool.pool_wait_timeouts, 1u);
  EXPECT_EQ(server.request_count(), 1u) << "the second request reached the server";

  run_until(io, [&] { return slow.wait_for(0s) == std::future_status::ready; });
  const Result<Response> first = slow.get();
  ASSERT_TRUE(first) << test::describe(first);
  EXPECT_EQ(first->status, 200u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, AWaitingRequestGetsTheConnectionWhenItIsReturned) {
  ClientConfig config = test::http_config(server);
  config.pool.max_connections = 1;
  config.pool.max_keepalive_connections = 1;
  config.timeouts.pool = 5s;
  Client client(io.get_executor(), config);
  auto slow = asio::co_spawn(
      io, client.execute(Request::get(server.url("/status/200?delay_ms=100"))), asio::use_future);
  run_until(io, [&] { return server.request_count() == 1; });
  const Result<Response> second = get(client, "/status/201");
  ASSERT_TRUE(second) << test::describe(second);
  EXPECT_EQ(second->status, 201u);
  run_until(io, [&] { return slow.wait_for(0s) == std::future_status::ready; });
  EXPECT_TRUE(slow.get());
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(client.stats().pool.pool_wait_timeouts, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpPoolTest, EachOriginHasItsOwnPool) {
  HttpServer other;
  Client client(io.get_executor(), test::http_config(server));
  ASSERT_TRUE(get(client, "/echo"));
  ASSERT_TRUE(get(client, other.url("/echo")));
  ASSERT_TRUE(get(client, "/echo"));
  ASSERT_TRUE(get(client, other.url("/echo")));
  const ClientStats stats = client.stats();
  ASSERT_EQ(stats.origins.size(), 2u);
  EXPECT_EQ(stats.origins[0].origin, server.base_url());
  EXPECT_EQ(stats.origins[1].origin, other.base_url());
  EXPECT_EQ(stats.origins[0].pool.created, 1u);
  EXPECT_EQ(stats.origins[1].pool.created, 1u);
  EXPECT_EQ(stats.pool.created, 2u);
  EXPECT_EQ(stats.pool.reused, 2u);
  test::close_and_expect_clean(io, client, &server);
  EXPECT_TRUE(HttpServer::wait_for([&] { return other.connections_open() == 0; }));
}

}  // namespace
}  // namespace bulwark::http
