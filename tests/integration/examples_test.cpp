// The examples a new user copies from run, against a real redis-server and a test HTTP service
// whose URLs they read from the environment, and fail with a clear message when the services
// are not there.
#include "integration/cli_process.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::HttpServer;
using test::RedisServer;

// Runs `program` with API_URL and REDIS_URL set (the child inherits the environment).
struct ExampleRun {
  std::optional<int> status;
  std::string out;
  std::string err;
};

ExampleRun run_example(const std::string& program, const std::string& api_url,
                       const std::string& redis_url) {
  ::setenv("API_URL", api_url.c_str(), 1);
  ::setenv("REDIS_URL", redis_url.c_str(), 1);
  test::CliProcess run(std::vector<std::string>{}, program);
  ::unsetenv("API_URL");
  ::unsetenv("REDIS_URL");
  ExampleRun result;
  result.status = run.wait_exit(60s);
  result.out = run.out();
  result.err = run.err();
  return result;
}

#if defined(BULWARK_EXAMPLE_QUICK_START)

TEST(Examples, QuickStartCallsTheHttpServiceAndRedis) {
  HttpServer http;
  RedisServer redis;
  const ExampleRun run = run_example(BULWARK_EXAMPLE_QUICK_START, http.base_url(),
                                     fmt::format("redis://127.0.0.1:{}", redis.port()));
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("-> 200"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("hello from bulwark"), std::string::npos) << run.out;
  EXPECT_EQ(redis.cli({"GET", "bulwark:quick_start"}), "hello from bulwark");
}

TEST(Examples, QuickStartSaysWhichServiceIsUnreachable) {
  HttpServer http;
  const std::uint16_t no_redis = test::free_port();
  const ExampleRun run = run_example(BULWARK_EXAMPLE_QUICK_START, http.base_url(),
                                     fmt::format("redis://127.0.0.1:{}", no_redis));
  EXPECT_EQ(run.status, 1) << run.out << run.err;
  EXPECT_NE(run.err.find("cache is not reachable"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("REDIS_URL"), std::string::npos) << run.err;
}

TEST(Examples, SyncApiMakesBlockingCalls) {
  HttpServer http;
  RedisServer redis;
  const ExampleRun run = run_example(BULWARK_EXAMPLE_SYNC_API, http.base_url(),
                                     fmt::format("redis://127.0.0.1:{}", redis.port()));
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("GET bulwark:sync_api -> hello"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("PING -> PONG"), std::string::npos) << run.out;
}

TEST(Examples, PipelineRetriesThenOpensTheBreaker) {
  const ExampleRun run = run_example(BULWARK_EXAMPLE_PIPELINE, "", "");
  EXPECT_EQ(run.status, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("flaky:  price 12.5 after 2 calls"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("down:   circuit_open (the service was called 0 times)"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("from the fallback; breaker open"), std::string::npos) << run.out;
}

#endif

}  // namespace
}  // namespace bulwark
