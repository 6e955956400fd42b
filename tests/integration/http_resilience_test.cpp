// How HTTP outcomes feed http::Client's resilience pipeline: 5xx and 429 are failures for the
// breaker and retry, other 4xx are not; Retry-After is honoured; only replayable requests are
// retried; a server that is down opens the breaker and a recovered one closes it again.
#include "bulwark/http/client.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;

struct HttpResilienceTest : ::testing::Test {
  asio::io_context io;
  HttpServer server;

  Result<Response> send(Client& client, Request request) {
    return run(io, client.execute(std::move(request)));
  }
  // A breaker that opens after `failures` failures in a row (the failure rate needs more calls
  // than a test makes) and stays open for `open_for`.
  ClientConfig with_breaker(std::uint32_t failures, Duration open_for = 10s) {
    ClientConfig config = test::http_config(server);
    config.circuit_breaker = CircuitBreakerConfig{
        .minimum_calls = 100, .consecutive_failures = failures, .recovery_timeout = open_for};
    return config;
  }
  static RetryConfig quick_retry(std::uint32_t attempts) {
    return RetryConfig{.max_attempts = attempts,
                       .backoff = {.initial = 1ms, .max = 5ms, .jitter = Jitter::none}};
  }
};

TEST_F(HttpResilienceTest, ServerErrorsOpenTheBreaker) {
  Client client(io.get_executor(), with_breaker(3));
  for (int i = 0; i < 3; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/status/503")));
    ASSERT_TRUE(reply) << "a 5xx is still a response from execute: " << test::describe(reply);
    EXPECT_EQ(reply->status, 503u);
  }
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);
  const Result<Response> rejected = send(client, Request::get(server.url("/status/200")));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::circuit_open) << test::describe(rejected);
  EXPECT_EQ(server.request_count(), 3u);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.failures, 4u);
  EXPECT_EQ(client.health(), HealthState::failed);
  // send() throws the rejection.
  EXPECT_THROW((void)run(io, client.send(Request::get(server.url("/status/200")))), Error);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, TooManyRequestsCountsAsAFailure) {
  Client client(io.get_executor(), with_breaker(2));
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(send(client, Request::get(server.url("/status/429"))));
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);
  EXPECT_EQ(client.stats().failures, 2u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, ClientErrorsDoNotTripTheBreaker) {
  Client client(io.get_executor(), with_breaker(3));
  for (const unsigned status : {400u, 401u, 403u, 404u, 409u, 422u}) {
    for (int i = 0; i < 4; ++i) {
      const Result<Response> reply =
          send(client, Request::get(server.url("/status/" + std::to_string(status))));
      ASSERT_TRUE(reply) << test::describe(reply);
      EXPECT_EQ(reply->status, status);
    }
  }
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 24u);
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(stats.consecutive_failures, 0u);
  EXPECT_EQ(client.health(), HealthState::healthy);
  EXPECT_EQ(server.connections_accepted(), 1u) << "error statuses must not cost the connection";
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, ServerErrorsAreRetriedForGets) {
  ClientConfig config = test::http_config(server);
  config.retry = quick_retry(3);
  Client client(io.get_executor(), config);
  server.fail_next("/flaky", 2, 502);
  const Result<Response> reply = send(client, Request::get(server.url("/flaky")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(reply->attempts, 3);
  EXPECT_EQ(server.requests_to("/flaky").size(), 3u);
  EXPECT_EQ(server.connections_accepted(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, WhenRetriesRunOutTheLastResponseIsReturned) {
  ClientConfig config = test::http_config(server);
  config.retry = quick_retry(2);
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/status/500")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 500u);
  EXPECT_EQ(reply->attempts, 2);
  EXPECT_EQ(server.request_count(), 2u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, APostWithoutIdempotencyKeyIsNotRetried) {
  ClientConfig config = test::http_config(server);
  config.retry = quick_retry(3);
  Client client(io.get_executor(), config);
  server.fail_next("/charge", 1, 503);
  const Result<Response> reply = send(client, Request::post(server.url("/charge")).text("1 EUR"));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 503u);
  EXPECT_EQ(server.requests_to("/charge").size(), 1u);

  server.fail_next("/charge", 1, 503);
  const Result<Response> keyed =
      send(client, Request::post(server.url("/charge")).text("1 EUR").idempotency_key("k-1"));
  ASSERT_TRUE(keyed) << test::describe(keyed);
  EXPECT_EQ(keyed->status, 200u);
  EXPECT_EQ(server.requests_to("/charge").size(), 3u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, ARequestThatNeverLeftIsRetriedEvenForAPost) {
  // Connection refused: the POST cannot have reached the service, so it is safe to retry.
  ClientConfig config = test::http_config(server);
  config.retry = quick_retry(50);
  config.retry->backoff = {.initial = 20ms, .max = 20ms, .jitter = Jitter::none};
  Client client(io.get_executor(), config);
  server.down();
  std::thread revive([&] {
    std::this_thread::sleep_for(100ms);
    server.up();
  });
  const Result<Response> reply = send(client, Request::post(server.url("/echo")).text("once"));
  revive.join();
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_GT(reply->attempts, 1);
  EXPECT_EQ(server.requests_to("/echo").size(), 1u);
  EXPECT_GE(client.stats().pool.connect_errors, 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, RetryAfterIsHonoured) {
  // Backoff alone would wait 10s and overrun max_duration, so only the server's Retry-After: 0
  // makes the retry happen.
  ClientConfig config = test::http_config(server);
  config.retry = RetryConfig{.max_attempts = 2,
                             .max_duration = 2s,
                             .backoff = {.initial = 10s, .max = 10s, .jitter = Jitter::none}};
  Client client(io.get_executor(), config);
  server.fail_next("/limited", 1, 429, 0);
  const Result<Response> reply = send(client, Request::get(server.url("/limited")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  EXPECT_EQ(server.requests_to("/limited").size(), 2u);

  server.fail_next("/busy", 1, 503, 0);
  const Result<Response> busy = send(client, Request::get(server.url("/busy")));
  ASSERT_TRUE(busy) << test::describe(busy);
  EXPECT_EQ(busy->status, 200u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, ARetryAfterLongerThanAllowedStopsRetrying) {
  ClientConfig config = test::http_config(server);
  config.retry = quick_retry(3);
  config.retry->max_retry_after = 500ms;
  Client client(io.get_executor(), config);
  server.fail_next("/later", 1, 503, 1);
  const Result<Response> reply = send(client, Request::get(server.url("/later")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 503u);
  EXPECT_EQ(reply->header("Retry-After"), "1");
  EXPECT_EQ(server.requests_to("/later").size(), 1u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, AServerThatIsDownOpensTheBreakerAndARecoveredOneClosesIt) {
  ClientConfig config = with_breaker(2, 100ms);
  Client client(io.get_executor(), config);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  server.down();
  for (int i = 0; i < 2; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/status/200")));
    ASSERT_FALSE(reply);
    EXPECT_TRUE(reply.error() == errc::connect_failed || reply.error() == errc::connection_lost)
        << test::describe(reply);
  }
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);
  EXPECT_EQ(client.health(), HealthState::failed);
  const Result<Response> rejected = send(client, Request::get(server.url("/status/200")));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error(), errc::circuit_open) << test::describe(rejected);

  server.up();
  std::this_thread::sleep_for(150ms);  // the breaker's recovery timeout
  const Result<Response> probe = send(client, Request::get(server.url("/status/200")));
  ASSERT_TRUE(probe) << test::describe(probe);
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
  EXPECT_NE(client.health(), HealthState::failed);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, HealthFailsAfterConsecutiveFailuresWithoutABreaker) {
  ClientConfig config = test::http_config(server);
  config.failed_after = 2;
  Client client(io.get_executor(), config);
  EXPECT_EQ(client.health(), HealthState::healthy);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/500"))));
  ASSERT_TRUE(send(client, Request::get(server.url("/status/500"))));
  EXPECT_EQ(client.stats().consecutive_failures, 2u);
  EXPECT_EQ(client.health(), HealthState::failed);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  EXPECT_EQ(client.stats().consecutive_failures, 0u);
  EXPECT_NE(client.health(), HealthState::failed);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpResilienceTest, ACustomClassifierDecidesWhatFails) {
  ClientConfig config = with_breaker(2);
  config.classify_response = [](const Response& response) -> std::error_code {
    if (response.status == 404) return errc::server_error;  // this service never 404s if healthy
    return {};
  };
  Client client(io.get_executor(), config);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(send(client, Request::get(server.url("/status/503"))));
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::closed);
  ASSERT_TRUE(send(client, Request::get(server.url("/status/404"))));
  ASSERT_TRUE(send(client, Request::get(server.url("/status/404"))));
  EXPECT_EQ(client.resilience().circuit_breaker()->state(), BreakerState::open);
  test::close_and_expect_clean(io, client, &server);
}

}  // namespace
}  // namespace bulwark::http
