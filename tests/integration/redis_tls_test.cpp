// TLS to a real redis-server: certificates and host names are verified unless told otherwise.
#include "bulwark/redis/connection.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using test::run;

struct TlsTest : ::testing::Test {
  asio::io_context io;
  RedisServer server{{.tls = true}};

  ConnectionConfig tls_config() const {
    ConnectionConfig config;
    config.host = "localhost";
    config.port = server.tls_port();
    config.tls.enabled = true;
    config.connect_timeout = 5s;
    return config;
  }

  std::error_code connect_error(const ConnectionConfig& config, std::string* message = nullptr) {
    try {
      run(io, Connection::connect(io.get_executor(), config));
    } catch (const Error& error) {
      if (message != nullptr) *message = error.what();
      return error.code();
    }
    return {};
  }
};

TEST_F(TlsTest, VerifiedAgainstTheGivenCa) {
  auto config = tls_config();
  config.tls.ca_file = server.ca_file();
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  Result<Value> pong = run(io, connection->execute(make_command("PING")));
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->as_string(), "PONG");
}

TEST_F(TlsTest, AnUntrustedCertificateIsRefusedByDefault) {
  std::string message;
  EXPECT_EQ(connect_error(tls_config(), &message), errc::tls_error);
  EXPECT_NE(message.find("TLS handshake"), std::string::npos) << message;
}

TEST_F(TlsTest, AHostNameTheCertificateDoesNotNameIsRefused) {
  auto config = tls_config();
  config.tls.ca_file = server.ca_file();
  config.tls.server_name = "cache.example.com";
  EXPECT_EQ(connect_error(config), errc::tls_error);
}

TEST_F(TlsTest, VerificationCanBeTurnedOffExplicitly) {
  auto config = tls_config();
  config.tls.verify_peer = false;
  auto connection = run(io, Connection::connect(io.get_executor(), config));
  EXPECT_TRUE(run(io, connection->execute(make_command("PING"))));
}

TEST_F(TlsTest, AMissingCaFileIsATlsError) {
  auto config = tls_config();
  config.tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_EQ(connect_error(config), errc::tls_error);
}

}  // namespace
}  // namespace bulwark::redis
