// http::Client over TLS against the test server with throwaway certificates: verification
// against the given CA, host-name checks, SNI override, client certificates and keep-alive
// reuse of TLS connections.
#include "bulwark/http/client.hpp"
#include "support/certificates.hpp"
#include "support/http_checks.hpp"
#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

namespace bulwark::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::HttpServer;
using test::run;

// Certificates are made once for the whole suite: openssl runs take a noticeable moment.
class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = test::make_temp_dir("bulwark-http-tls");
    certificates_ = std::make_unique<test::Certificates>(test::make_certificates(dir_));
  }
  static void TearDownTestSuite() {
    certificates_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  static const test::Certificates& certs() { return *certificates_; }
  static test::HttpServerOptions localhost() {
    return {.cert_file = certs().server_cert(), .key_file = certs().server_key()};
  }
  static ClientConfig config_for(const HttpServer& server) {
    ClientConfig config = test::http_config(server);
    config.tls.ca_file = certs().ca_file();
    return config;
  }
  Result<Response> send(Client& client, Request request) {
    return run(io, client.execute(std::move(request)));
  }

  asio::io_context io;

 private:
  static inline std::filesystem::path dir_;
  static inline std::unique_ptr<test::Certificates> certificates_;
};

TEST_F(HttpTlsTest, TheFixtureCaIsAcceptedAndConnectionsAreReused) {
  HttpServer server(localhost());
  Client client(io.get_executor(), config_for(server));
  for (int i = 0; i < 3; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/echo")));
    ASSERT_TRUE(reply) << test::describe(reply);
    EXPECT_EQ(reply->status, 200u);
  }
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(client.stats().pool.reused, 2u);
  ASSERT_EQ(client.stats().origins.size(), 1u);
  EXPECT_EQ(client.stats().origins[0].origin, server.base_url());
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, WithoutTheCaTheServerIsRejected) {
  HttpServer server(localhost());
  ClientConfig config = test::http_config(server);  // the system's CAs only
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::tls_error) << test::describe(reply);
  EXPECT_EQ(server.request_count(), 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, ACertificateForAnotherHostIsRejected) {
  HttpServer server({.cert_file = certs().wrong_host_cert(), .key_file = certs().wrong_host_key()});
  Client client(io.get_executor(), config_for(server));
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_EQ(reply.error(), errc::tls_error) << test::describe(reply);
  EXPECT_EQ(server.request_count(), 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, ServerNameOverridesTheNameChecked) {
  HttpServer server({.cert_file = certs().wrong_host_cert(), .key_file = certs().wrong_host_key()});
  ClientConfig config = config_for(server);
  config.tls.server_name = "wrong.example";
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, VerificationCanBeTurnedOff) {
  HttpServer server({.cert_file = certs().wrong_host_cert(), .key_file = certs().wrong_host_key()});
  ClientConfig config = test::http_config(server);
  config.tls.verify_peer = false;
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_TRUE(reply) << test::describe(reply);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, IpAddressUrlIsVerifiedAgainstTheIpSan) {
  HttpServer server(localhost());
  ClientConfig config = config_for(server);
  config.base_url = "https://127.0.0.1:" + std::to_string(server.port());
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_TRUE(reply) << test::describe(reply);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, ClientCertificateIsPresentedWhenConfigured) {
  test::HttpServerOptions options = localhost();
  options.client_ca_file = certs().ca_file();
  HttpServer server(options);
  ClientConfig config = config_for(server);
  config.tls.cert_file = certs().client_cert();
  config.tls.key_file = certs().client_key();
  Client client(io.get_executor(), config);
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->status, 200u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, WithoutAClientCertificateARequiringServerRefuses) {
  test::HttpServerOptions options = localhost();
  options.client_ca_file = certs().ca_file();
  HttpServer server(options);
  Client client(io.get_executor(), config_for(server));
  const Result<Response> reply = send(client, Request::get(server.url("/echo")));
  // With TLS 1.3 the refusal can arrive after the client finished its handshake, so it may be
  // reported as a TLS error or as a lost connection; it is never a response.
  ASSERT_FALSE(reply) << test::describe(reply);
  EXPECT_TRUE(reply.error() == errc::tls_error || reply.error() == errc::connection_lost)
      << test::describe(reply);
  EXPECT_EQ(server.request_count(), 0u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, ServerClosingAnIdleTlsConnectionNeverSurfacesForGets) {
  HttpServer server(localhost());
  server.idle_timeout(100ms);
  ClientConfig config = config_for(server);
  config.pool.keepalive_expiry = 10s;
  Client client(io.get_executor(), config);
  for (int i = 0; i < 3; ++i) {
    const Result<Response> reply = send(client, Request::get(server.url("/echo")));
    ASSERT_TRUE(reply) << "request " << i << ": " << test::describe(reply);
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(server.connections_accepted(), 3u);
  test::close_and_expect_clean(io, client, &server);
}

TEST_F(HttpTlsTest, StaleTlsConnectionIsResentForAGet) {
  HttpServer server(localhost());
  Client client(io.get_executor(), config_for(server));
  ASSERT_TRUE(send(client, Request::get(server.url("/status/200"))));
  const Result<Response> reply = send(client, Request::get(server.url("/eof-if-reused")));
  ASSERT_TRUE(reply) << test::describe(reply);
  EXPECT_EQ(reply->body, "fresh");
  EXPECT_EQ(client.stats().pool.stale_retries, 1u);
  test::close_and_expect_clean(io, client, &server);
}

}  // namespace
}  // namespace bulwark::http
