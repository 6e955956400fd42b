#pragma once
// Shared pieces of the HTTP client integration tests: a client config aimed at a test server,
// and the return-to-baseline checks every test ends with (no connection left checked out; after
// close() none idle and the server sees every connection closed).

#include "bulwark/http/client.hpp"
#include "support/http_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>

namespace bulwark::test {

/// A client for `server`: its base URL (though most tests send absolute `server.url(...)` URLs,
/// leaving base-URL resolution to the tests about it), short connect timeout, and no retry or
/// breaker, so that each test sees exactly the attempts it makes (tests that exercise them turn
/// them on).
inline http::ClientConfig http_config(const HttpServer& server) {
  http::ClientConfig config;
  config.name = "test";
  config.base_url = server.base_url();
  config.timeouts.connect = std::chrono::seconds(2);
  config.timeouts.read = std::chrono::seconds(5);
  config.retry.reset();
  config.circuit_breaker.reset();
  return config;
}

/// No request still holds a connection, in the sum and in every origin.
inline void expect_no_active_connections(const http::Client& client) {
  const http::ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.active, 0u) << "a connection is still checked out";
  for (const http::OriginStats& origin : stats.origins) {
    EXPECT_EQ(origin.pool.active, 0u) << origin.origin;
  }
}

/// Closes the client and checks that nothing is left: no active or idle connection, and (when
/// a server is given) the server sees all of its connections closed.
inline void close_and_expect_clean(boost::asio::io_context& io, http::Client& client,
                                   const HttpServer* server = nullptr) {
  expect_no_active_connections(client);
  client.close();
  const http::ClientStats stats = client.stats();
  EXPECT_EQ(stats.pool.active, 0u);
  EXPECT_EQ(stats.pool.idle, 0u) << "close() left idle connections";
  if (server != nullptr) {
    run_until(
        io, [&] { return server->connections_open() == 0; }, std::chrono::seconds(5));
    EXPECT_EQ(server->connections_open(), 0u) << "the server still sees open connections";
  }
}

/// `run(io, client.execute(...))` with the error, when there is one, printed by gtest.
inline std::string describe(const Result<http::Response>& result) {
  if (result) return "status " + std::to_string(result->status);
  return error_name(result.error()) + ": " + result.error().message();
}

}  // namespace bulwark::test
