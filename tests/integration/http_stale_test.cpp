// http::Client and stale keep-alive connections: the server closes an idle connection (its
// keep-alive timeout is shorter than the client's keepalive_expiry), or closes a reused
// connection just after the request was written. Replayable requests are re-sent once on a new
// connection; a POST without Idempotency-Key never is. Retry is off in these tests, so only the
// stale-connection handling can save a request.
#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;

struct HttpStaleTest : ::testing::Test {
  asio::io_context io;
  HttpServer server;

  ClientConfig config() {
    ClientConfig config = test::http_config(server);
    config.pool.keepalive_expiry = 10s;
    return config;
  }
  Result<Response> send(Client& client, Request request) {
    return run(io, client.execute(std::move(request)));
  }
};

TEST_F(HttpStaleTest, GetsNeverSeeAConnectionTheServerClosedWhileIdle) {
  server.idle_timeout(100ms);
  Client client(io.get_executor(), config());
  for (int i = 0; i < 3; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/echo")));
    ASSERT_TRUE(reply) << "request " << i << ": " << test::describe(reply);
    std::this_thread::sleep_for(250ms);  // well past the server's idle timeout
  }
  EXPECT_EQ(server.connections_accepted(), 3u);
  // Each GET reached the server once; a stale resend may or may not have reached it too.
  EXPECT_GE(server.request_count(), 3u);
  EXPECT_LE(server.request_count(), 3u + client.stats().pool.stale_retries);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, ReusedConnectionClosedAfterTheRequestIsResentForAGet) {
  Client client(io.get_executor(), config());
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> reply = send(client, Request::get(server.url("/eof-if-reused")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->body, "fresh");
  EXPECT_EQ(reply->attempts, 2);

  const auto sent = server.requests_to("/eof-if-reused");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].connection, 1u);
  EXPECT_EQ(sent[0].sequence, 2u);
  EXPECT_EQ(sent[1].connection, 2u);
  EXPECT_EQ(sent[1].sequence, 1u);
  // The same logical request: the same correlation ID both times.
  EXPECT_EQ(sent[0].header("X-Correlation-ID"), sent[1].header("X-Correlation-ID"));
  EXPECT_EQ(sent[1].header("X-Correlation-ID"), reply->correlation_id);

  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.stale_retries, 1u);
  EXPECT_EQ(stats.failures, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, PutAndDeleteAreResentToo) {
  Client client(io.get_executor(), config());
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> put =
      send(client, Request::put(server.url("/eof-if-reused")).text("body"));
  ASSERT_TRUE(put) << test::describe(put);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> del = send(client, Request::del(server.url("/eof-if-reused")));
  ASSERT_TRUE(del) << test::describe(del);
  EXPECT_EQ(client.stats().pool.stale_retries, 2u);
  for (const test::RecordedRequest& request : server.requests_to("/eof-if-reused")) {
    if (request.method == "PUT") {
      EXPECT_EQ(request.body, "body") << "the resent PUT lost its body";
    }
  }
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, PostWithoutIdempotencyKeyIsNotResent) {
  Client client(io.get_executor(), config());
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> reply =
      send(client, Request::post(server.url("/eof-if-reused")).text("charge"));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::connection_lost) << test::describe(reply);
  EXPECT_EQ(server.requests_to("/eof-if-reused").size(), 1u) << "the POST was sent twice";
  EXPECT_EQ(client.stats().pool.stale_retries, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, PostWithIdempotencyKeyIsResent) {
  Client client(io.get_executor(), config());
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> reply =
      send(client,
           Request::post(server.url("/eof-if-reused")).text("charge").idempotency_key("charge-42"));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->body, "fresh");
  const auto sent = server.requests_to("/eof-if-reused");
  ASSERT_EQ(sent.size(), 2u);
  for (const test::RecordedRequest& request : sent) {
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.body, "charge");
    EXPECT_EQ(request.header("Idempotency-Key"), "charge-42");
  }
  EXPECT_EQ(client.stats().pool.stale_retries, 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, ANewConnectionClosedBeforeTheResponseIsNeverResent) {
  Client client(io.get_executor(), config());
  const Result<Response> reply = send(client, Request::get(server.url("/eof-before-response")));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::connection_lost) << test::describe(reply);
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_EQ(client.stats().pool.stale_retries, 0u);
  EXPECT_EQ(client.stats().failures, 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, TheStaleResendIsMadeOnlyOnce) {
  // The reused connection dies, and so does the new one: the second failure is the caller's.
  Client client(io.get_executor(), config());
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> reply = send(client, Request::get(server.url("/eof-before-response")));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::connection_lost) << test::describe(reply);
  EXPECT_EQ(server.requests_to("/eof-before-response").size(), 2u);
  EXPECT_EQ(client.stats().pool.stale_retries, 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStaleTest, PostAfterTheServerClosedTheIdleConnectionIsSentAtMostOnce) {
  // Whether the client notices the closed connection before writing (then the POST goes out on
  // a new connection and succeeds) or only after (then it fails with connection_lost), the POST
  // must never reach the server twice.
  server.idle_timeout(100ms);
  Client client(io.get_executor(), config());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
    std::this_thread::sleep_for(250ms);
    const std::string body = "payment " + std::to_string(i);
    const Result<Response> reply = send(client, Request::post(server.url("/echo")).text(body));
    std::size_t copies = 0;
    for (const test::RecordedRequest& request : server.requests_to("/echo")) {
      if (request.body == body) {
        ++copies;
        if (reply) {
          EXPECT_EQ(request.sequence, 1u) << "succeeded on a connection the server closed";
        }
      }
    }
    if (reply) {
      EXPECT_EQ(copies, 1u);
    } else {
      EXPECT_EQ(reply.error(), errc::connection_lost) << test::describe(reply);
      EXPECT_LE(copies, 1u);
    }
  }
  test::close_and_expect_clean(io, client, &server);
}

}  // namespace
}  // namespace bulwark::http
