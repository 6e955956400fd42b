// The `bulwark` program as a user runs it: validate and check against real services.
#include "support/http_server.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <boost/json/parse.hpp>

#include <array>
#include <cstdio>
#include <fstream>

namespace bulwark {
namespace {

using test::HttpServer;
using test::RedisServer;

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the program with `args` (a shell command line); stdout and stderr kept apart.
Outcome run_cli(const std::string& args) {
  const std::filesystem::path dir = test::make_temp_dir("bulwark-cli");
  // fmt rather than a chain of `+`: GCC 12 at -O1 (the tsan preset) warns falsely on those.
  const std::string command =
      fmt::format("{} {} 2>{}", BULWARK_CLI, args, (dir / "stderr").string());
  Outcome outcome;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
      outcome.out.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe);
    outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  outcome.err = test::file_tail(dir / "stderr", 1 << 20);
  std::filesystem::remove_all(dir);
  return outcome;
}

class CliTest : public ::testing::Test {
 protected:
  CliTest() : dir_(test::make_temp_dir("bulwark-cli-config")) {}
  ~CliTest() override { std::filesystem::remove_all(dir_); }

  std::string write_config(const std::string& yaml) {
    const std::filesystem::path file = dir_ / "bulwark.yaml";
    std::ofstream(file) << yaml;
    return file.string();
  }

  std::string config_for(const HttpServer& http, const RedisServer& redis) {
    return write_config(
        fmt::format("health: {{interval: 1s, timeout: 500ms}}\n"
                    "services:\n"
                    "  qdrant:\n"
                    "    kind: http\n"
                    "    url: {0}\n"
                    "    health: {{path: /healthz, expected_status: 200}}\n"
                    "  openai:\n"
                    "    kind: http\n"
                    "    url: {0}/v1\n"
                    "    optional: true\n"
                    "    auth: {{scheme: bearer, token: \"${{BULWARK_TEST_UNSET_KEY}}\"}}\n"
                    "redis:\n"
                    "  url: redis://127.0.0.1:{1}\n"
                    "  databases: {{cache: 0, knowledge: 2}}\n",
                    http.base_url(), redis.port()));
  }

  std::filesystem::path dir_;
};

TEST_F(CliTest, ValidateAcceptsAGoodFile) {
  HttpServer http;
  RedisServer redis;
  const Outcome outcome = run_cli("validate -c " + config_for(http, redis));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_NE(outcome.out.find("valid (2 HTTP services, 2 Redis databases)"), std::string::npos)
      << outcome.out;
}

TEST_F(CliTest, ValidateListsEveryProblemWithItsPathAndExits2) {
  const std::string file = write_config(
      "services:\n"
      "  qdrant:\n"
      "    kind: http\n"
      "    url: ftp://x\n"
      "    timout: 3s\n"
      "    pool: {max_connections: 0}\n"
      "    auth: {scheme: bearer, token: sk-very-secret}\n"
      "    headers: {X-Bad: \"a\\r\\nb\"}\n"
      "redis:\n"
      "  url: redis://localhost:6379\n"
      "  databases: {cache: 99}\n");
  const Outcome outcome = run_cli("validate -c " + file);
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.err.find("services.qdrant.timout: unknown key; did you mean 'timeout'?"),
            std::string::npos)
      << outcome.err;
  EXPECT_NE(outcome.err.find("services.qdrant.url:"), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("services.qdrant.pool.max_connections: must be >= 1, got 0"),
            std::string::npos)
      << outcome.err;
  EXPECT_NE(outcome.err.find("redis.databases.cache: must be 0-15, got 99"), std::string::npos)
      << outcome.err;
  EXPECT_EQ(outcome.err.find("sk-very-secret"), std::string::npos) << "a secret was printed";
}

TEST_F(CliTest, ValidateNamesAFileThatCannotBeRead) {
  const Outcome outcome = run_cli("validate -c " + (dir_ / "missing.yaml").string());
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_NE(outcome.err.find("missing.yaml"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, CheckPrintsATableAndExits0WhenEverythingIsHealthy) {
  HttpServer http;
  RedisServer redis;
  const Outcome outcome = run_cli("check -c " + config_for(http, redis));
  EXPECT_EQ(outcome.exit_code, 0) << outcome.out << outcome.err;
  EXPECT_NE(outcome.out.find("CLIENT"), std::string::npos) << outcome.out;
  for (const char* client : {"qdrant", "openai", "cache", "knowledge"}) {
    EXPECT_NE(outcome.out.find(client), std::string::npos) << outcome.out;
  }
  EXPECT_NE(outcome.out.find("unavailable"), std::string::npos) << "openai has no key";
  EXPECT_EQ(http.requests_to("/healthz").size(), 1U) << "one round of checks";
}

TEST_F(CliTest, CheckJsonAndExit1WhenAServiceIsDown) {
  HttpServer http;
  RedisServer redis;
  const std::string file = config_for(http, redis);
  http.down();
  const Outcome outcome = run_cli("check --json -c " + file);
  EXPECT_EQ(outcome.exit_code, 1) << outcome.out << outcome.err;
  const boost::json::value report = boost::json::parse(outcome.out);
  EXPECT_EQ(report.at("state").as_string(), "degraded");
  EXPECT_EQ(report.at("clients").at("qdrant").at("state").as_string(), "degraded");
  EXPECT_NE(std::string(report.at("clients").at("qdrant").at("last_error").as_string())
                .find("could not connect"),
            std::string::npos);
  EXPECT_EQ(report.at("clients").at("knowledge").at("state").as_string(), "healthy");
}

TEST_F(CliTest, CheckRefusesAnInvalidConfigWithExit2) {
  const Outcome outcome = run_cli("check -c " + write_config("services: {a: {kind: ftp}}\n"));
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_NE(outcome.err.find("services.a"), std::string::npos) << outcome.err;
}

TEST_F(CliTest, UsageErrorsAndVersion) {
  EXPECT_NE(run_cli("--version").out.find("bulwark 0.1.0"), std::string::npos);
  const Outcome none = run_cli("");
  EXPECT_NE(none.exit_code, 0);
  const Outcome bad_level = run_cli("--log-level loud validate -c /dev/null");
  EXPECT_NE(bad_level.exit_code, 0);
  EXPECT_NE(bad_level.err.find("--log-level"), std::string::npos) << bad_level.err;
  EXPECT_NE(run_cli("check --help").out.find("Exit status"), std::string::npos);
}

}  // namespace
}  // namespace bulwark
