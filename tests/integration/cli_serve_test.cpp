// `bulwark serve` as a service manager runs it, against a test HTTP service and a real
// redis-server: the admin endpoint answers for every configured client, SIGHUP reloads the
// configuration (refusing an invalid one, with its problems on stderr), SIGINT and SIGTERM stop
// it with exit status 0.
#include "bulwark/core/runtime.hpp"
#include "bulwark/http/sync_client.hpp"
#include "integration/cli_process.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::CliProcess;
using test::eventually;
using test::HttpServer;
using test::RedisServer;

class CliServeTest : public ::testing::Test {
 protected:
  CliServeTest() : dir_(test::make_temp_dir("bulwark-serve-config")) {}
  ~CliServeTest() override { std::filesystem::remove_all(dir_); }

  // Writes the configuration file (the same path every time: reloads read it again).
  std::string write_config(const std::string& yaml) {
    const std::filesystem::path file = dir_ / "bulwark.yaml";
    std::ofstream(file) << yaml;
    return file.string();
  }

  // qdrant (the test HTTP service) and the Redis database cache; `more` is appended.
  std::string config(const std::string& more = "") {
    return write_config(
        fmt::format("health: {{interval: 200ms, timeout: 150ms}}\n"
                    "services:\n"
                    "  qdrant:\n"
                    "    url: {}\n"
                    "    health: {{path: /healthz}}\n"
                    "{}"
                    "redis:\n"
                    "  url: redis://127.0.0.1:{}\n"
                    "  databases: {{cache: 0}}\n",
                    http_.base_url(), more, redis_.port()));
  }

  // The port of the admin endpoint, read from the line the program prints once it listens.
  static std::uint16_t admin_port(CliProcess& cli) {
    EXPECT_TRUE(cli.wait_for_output("bulwark: admin endpoint on http://127.0.0.1:"))
        << cli.out() << cli.err();
    std::smatch match;
    const std::string out = cli.out();
    if (!std::regex_search(out, match,
                           std::regex("admin endpoint on http://127\\.0\\.0\\.1:(\\d+)"))) {
      return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(match[1]));
  }

  // A blocking client of the admin endpoint, without retries or breaker: each call is one
  // request, answered as it is.
  std::unique_ptr<http::SyncClient> admin_client(std::uint16_t port) {
    http::ClientConfig client;
    client.name = "admin";
    client.base_url = fmt::format("http://127.0.0.1:{}", port);
    client.timeouts.connect = 2s;
    client.timeouts.read = 5s;
    client.retry.reset();
    client.circuit_breaker.reset();
    return std::make_unique<http::SyncClient>(runtime_, std::move(client));
  }

  // Polls /health until it answers 200 and lists every client of `names`.
  static bool healthy_with(http::SyncClient& admin, const std::vector<std::string>& names) {
    return eventually([&] {
      const Result<http::Response> response = admin.execute(http::Request::get("/health"));
      if (!response || response->status != 200) return false;
      for (const std::string& name : names) {
        if (response->body.find(fmt::format("\"{}\"", name)) == std::string::npos) return false;
      }
      return true;
    });
  }

  std::filesystem::path dir_;
  HttpServer http_;
  RedisServer redis_;
  Runtime runtime_{RuntimeOptions{.threads = 1}};
};

TEST_F(CliServeTest, ServesHealthOfEveryClientAndExits0OnSigterm) {
  // The address comes from the configuration's admin.listen here, from --admin elsewhere.
  const std::string file = config();
  std::ofstream(file, std::ios::app) << "admin: {listen: \"127.0.0.1:0\"}\n";
  CliProcess cli({"serve", "-c", file});
  const std::uint16_t port = admin_port(cli);
  ASSERT_NE(port, 0) << cli.out() << cli.err();
  auto admin = admin_client(port);
  EXPECT_TRUE(healthy_with(*admin, {"qdrant", "cache"})) << cli.err();
  EXPECT_EQ(admin->get("/status").status, 200U);
  EXPECT_NE(admin->get("/metrics").body.find("bulwark_health_state{client=\"qdrant\""),
            std::string::npos);
  EXPECT_EQ(admin->get("/health/ready").status, 200U);
  EXPECT_NE(cli.out().find("serving 1 HTTP service, 1 Redis database"), std::string::npos)
      << cli.out();

  cli.signal(SIGTERM);
  EXPECT_EQ(cli.wait_exit(15s), 0) << cli.err();
  EXPECT_NE(cli.out().find("bulwark: stopped"), std::string::npos) << cli.out();
  EXPECT_FALSE(test::port_accepts(port)) << "the endpoint closed";
}

TEST_F(CliServeTest, SighupWithAnInvalidConfigKeepsServingTheOldClients) {
  const std::string file = config();
  CliProcess cli({"serve", "-c", file, "--admin", "127.0.0.1:0"});
  const std::uint16_t port = admin_port(cli);
  ASSERT_NE(port, 0) << cli.out() << cli.err();
  auto admin = admin_client(port);
  ASSERT_TRUE(healthy_with(*admin, {"qdrant", "cache"})) << cli.err();

  (void)config("    pool: {max_connections: 0}\n    timout: 1s\n");
  cli.signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return cli.err().find("reload rejected") != std::string::npos; }))
      << cli.err();
  const std::string err = cli.err();
  EXPECT_NE(err.find("services.qdrant.pool.max_connections: must be >= 1, got 0"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("services.qdrant.timout: unknown key"), std::string::npos) << err;
  EXPECT_NE(err.find("still serving the previous configuration"), std::string::npos) << err;

  EXPECT_TRUE(cli.running());
  EXPECT_TRUE(healthy_with(*admin, {"qdrant", "cache"})) << "the old clients still serve";
  EXPECT_EQ(cli.out().find("reloaded"), std::string::npos) << cli.out();

  cli.signal(SIGINT);
  EXPECT_EQ(cli.wait_exit(15s), 0) << cli.err();
}

TEST_F(CliServeTest, SighupWithAValidConfigServesItsClientsOnTheSamePort) {
  const std::string file = config();
  CliProcess cli({"serve", "-c", file, "--admin", "127.0.0.1:0"});
  const std::uint16_t port = admin_port(cli);
  ASSERT_NE(port, 0) << cli.out() << cli.err();
  auto admin = admin_client(port);
  ASSERT_TRUE(healthy_with(*admin, {"qdrant", "cache"})) << cli.err();

  (void)config(
      fmt::format("  search:\n    url: {}\n    health: {{path: /ready}}\n", http_.base_url()));
  cli.signal(SIGHUP);
  EXPECT_TRUE(cli.wait_for_output("bulwark: reloaded")) << cli.out() << cli.err();
  EXPECT_TRUE(healthy_with(*admin, {"qdrant", "search", "cache"})) << cli.err();
  EXPECT_TRUE(eventually([&] { return !http_.requests_to("/ready").empty(); }))
      << "the new service is checked";
  EXPECT_NE(admin->get("/status").body.find("data-client=\"search\""), std::string::npos);

  cli.signal(SIGTERM);
  EXPECT_EQ(cli.wait_exit(15s), 0) << cli.err();
}

TEST_F(CliServeTest, AnInvalidConfigOrAddressExits2AndABusyPortExits1) {
  CliProcess invalid({"serve", "-c", write_config("services: {a: {kind: ftp}}\n")});
  EXPECT_EQ(invalid.wait_exit(15s), 2);
  EXPECT_NE(invalid.err().find("services.a"), std::string::npos) << invalid.err();

  CliProcess bad_flag({"serve", "-c", config(), "--admin", "nowhere"});
  EXPECT_EQ(bad_flag.wait_exit(15s), 2);
  EXPECT_NE(bad_flag.err().find("--admin"), std::string::npos) << bad_flag.err();
  EXPECT_NE(bad_flag.err().find("admin.listen: "), std::string::npos) << bad_flag.err();

  // The test HTTP service holds this port.
  CliProcess busy({"serve", "-c", config(), "--admin", fmt::format("127.0.0.1:{}", http_.port())});
  EXPECT_EQ(busy.wait_exit(15s), 1) << busy.out() << busy.err();
  EXPECT_NE(busy.err().find("cannot listen"), std::string::npos) << busy.err();
}

// A token in the file guards the endpoint of `bulwark serve` (the liveness probe stays open, as
// orchestrators call it without credentials); the token appears in no output.
TEST_F(CliServeTest, AnAdminTokenInTheFileGuardsEveryRouteButLiveness) {
  const std::string file = config();
  std::ofstream(file, std::ios::app)
      << "admin: {listen: \"127.0.0.1:0\", token: tok-ADMINSECRET-42}\n";
  CliProcess cli({"serve", "-c", file});
  const std::uint16_t port = admin_port(cli);
  ASSERT_NE(port, 0) << cli.out() << cli.err();
  auto admin = admin_client(port);
  EXPECT_EQ(admin->get("/health/live").status, 200U);
  for (const char* route : {"/health", "/health/ready", "/metrics", "/status"}) {
    EXPECT_EQ(admin->get(route).status, 401U) << route;
    http::Request with_token = http::Request::get(route);
    with_token.header("Authorization", "Bearer tok-ADMINSECRET-42");
    const Result<http::Response> allowed = admin->execute(std::move(with_token));
    ASSERT_TRUE(allowed) << route;
    EXPECT_NE(allowed->status, 401U) << route;
  }
  cli.signal(SIGTERM);
  EXPECT_EQ(cli.wait_exit(10s), 0);
  EXPECT_EQ(cli.out().find("ADMINSECRET"), std::string::npos);
  EXPECT_EQ(cli.err().find("ADMINSECRET"), std::string::npos);
}

}  // namespace
}  // namespace bulwark
