// http::Client redirects (off by default, followed when enabled, bounded, credentials kept to
// their origin) and streamed response bodies (large, chunked, aborted by the callback).
#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;
using test::run_until;
using ::testing::EndsWith;

// Percent-encodes a URL for the `to` parameter of /redirect.
std::string encoded(std::string_view url) {
  std::string out;
  for (const char c : url) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '-') {
      out.push_back(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    }
  }
  return out;
}

struct HttpRedirectTest : ::testing::Test {
  asio::io_context io;
  HttpServer server;

  Result<Response> send(Client& client, Request request) {
    return run(io, client.execute(std::move(request)));
  }
  std::string redirect_to(std::string_view url, unsigned code = 302) {
    return server.url("/redirect?to=" + encoded(url) + "&code=" + std::to_string(code));
  }
  ClientConfig following() {
    ClientConfig config = test::http_config(server);
    config.redirects.follow = true;
    return config;
  }
};

TEST_F(HttpRedirectTest, RedirectsAreReturnedByDefault) {
  Client client(io.get_executor(), test::http_config(server));
  const Result<Response> reply = send(client, Request::get(redirect_to("/status/200")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 302u);
  EXPECT_EQ(reply->header("Location"), "/status/200");
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_EQ(client.stats().failures, 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpRedirectTest, RedirectsAreFollowedWhenEnabled) {
  Client client(io.get_executor(), following());
  const Result<Response> reply = send(client, Request::get(redirect_to("/status/201")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 201u);
  EXPECT_THAT(reply->url, EndsWith("/status/201"));
  EXPECT_EQ(reply->attempts, 1) << "redirects are not attempts";
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/status/201");
  // The same logical request: one correlation ID, and one connection for the same origin.
  EXPECT_EQ(requests[0].header("X-Correlation-ID"), requests[1].header("X-Correlation-ID"));
  EXPECT_EQ(requests[1].connection, requests[0].connection);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpRedirectTest, TheRequestCanAskToFollow) {
  Client client(io.get_executor(), test::http_config(server));
  Request request = Request::get(redirect_to("/status/200"));
  request.follow_redirects = true;
  const Result<Response> reply = send(client, std::move(request));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);

  Client follows(io.get_executor(), following());
  Request not_this_one = Request::get(redirect_to("/status/200"));
  not_this_one.follow_redirects = false;
  const Result<Response> kept = send(follows, std::move(not_this_one));
  ASSERT_TRUE(kept) << test::describe(kept);
  EXPECT_EQ(kept->status, 302u);
  test::close_and_expect_clean(io, client);
  test::close_and_expect_clean(io, follows, &server);
}

TEST_F(HttpRedirectTest, ARedirectLoopFailsWithProtocolError) {
  ClientConfig config = following();
  config.redirects.max_redirects = 3;
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/loop")));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::protocol_error) << test::describe(reply);
  // The request and three redirects followed; the fourth redirect is one too many.
  EXPECT_EQ(server.requests_to("/loop").size(), 4u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpRedirectTest, RedirectToAnotherOriginDropsTheCredentials) {
  HttpServer other;
  ClientConfig config = following();
  config.auth = {.scheme = AuthScheme::bearer, .token = Secret("s3cr3t")};
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(redirect_to(other.url("/echo"))));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].header("Authorization"), "Bearer s3cr3t");
  ASSERT_EQ(other.request_count(), 1u);
  EXPECT_EQ(other.requests()[0].header("Authorization"), std::nullopt)
      << "the token went to another origin";
  EXPECT_EQ(client.stats().origins.size(), 2u);
  test::close_and_expect_clean(io, client, &server);
  EXPECT_TRUE(HttpServer::wait_for([&] { return other.connections_open() == 0; }));
}

TEST_F(HttpRedirectTest, A307KeepsTheMethodAndBody) {
  Client client(io.get_executor(), following());
  const Result<Response> reply =
      send(client, Request::post(redirect_to("/echo", 307)).text("payload"));
  ASSERT_TRUE(reply) << test::describe(reply);
  ASSERT_EQ(reply->status, 200u);
  const auto echoed = server.requests_to("/echo");
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_EQ(echoed[0].method, "POST");
  EXPECT_EQ(echoed[0].body, "payload");
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpRedirectTest, A303TurnsIntoAGetWithoutBody) {
  Client client(io.get_executor(), following());
  const Result<Response> reply =
      send(client, Request::post(redirect_to("/echo", 303)).text("payload"));
  ASSERT_TRUE(reply) << test::describe(reply);
  ASSERT_EQ(reply->status, 200u);
  const auto echoed = server.requests_to("/echo");
  ASSERT_EQ(echoed.size(), 1u);
  EXPECT_EQ(echoed[0].method, "GET");
  EXPECT_EQ(echoed[0].body, "");
  test::close_and_expect_clean(io, client, &server);
}

struct HttpStreamTest : HttpRedirectTest {};

TEST_F(HttpStreamTest, ALargeBodyIsStreamedToTheCallback) {
  ClientConfig config = test::http_config(server);
  config.limits.max_body_bytes = 1000;  // does not apply to streamed bodies
  Client client(io.get_executor(), config);
  constexpr std::size_t size = 8 * 1024 * 1024;
  std::string received;
  std::size_t pieces = 0;
  const Result<Response> reply =
      send(client, Request::get(server.url("/bytes/" + std::to_string(size)))
                       .stream_to([&](std::string_view chunk) {
                         received.append(chunk);
                         ++pieces;
                       }));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_TRUE(reply->body.empty());
  EXPECT_EQ(received.size(), size);
  EXPECT_TRUE(received == HttpServer::pattern(size)) << "streamed bytes differ";
  EXPECT_GT(pieces, 1u);
  // Read to the end: the connection is reused.
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  EXPECT_EQ(server.connections_accepted(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStreamTest, AChunkedBodyIsStreamedDecoded) {
  Client client(io.get_executor(), test::http_config(server));
  std::string received;
  const Result<Response> reply =
      send(client, Request::get(server.url("/chunked?chunks=50&size=1000"))
                       .stream_to([&](std::string_view chunk) { received.append(chunk); }));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(received, HttpServer::pattern(50 * 1000));
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  EXPECT_EQ(server.connections_accepted(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpStreamTest, ACallbackThatThrowsAbortsTheRequestAndClosesTheConnection) {
  Client client(io.get_executor(), test::http_config(server));
  std::size_t received = 0;
  Request request =
      Request::get(server.url("/bytes/4000000")).stream_to([&](std::string_view chunk) {
        received += chunk.size();
        throw std::runtime_error("disk full");
      });
  try {
    (void)run(io, client.send(std::move(request)));
    ADD_FAILURE() << "the callback's exception did not reach the caller";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "disk full");
  }
  EXPECT_GT(received, 0u);
  run_until(
      io, [&] { return server.connections_open() == 0; }, 5s);
  EXPECT_EQ(server.connections_open(), 0u) << "the aborted connection was kept";
  EXPECT_EQ(client.stats().pool.idle, 0u);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  EXPECT_EQ(server.connections_accepted(), 2u);
  test::close_and_expect_clean(io, client, &server);
}

}  // namespace
}  // namespace bulwark::http
