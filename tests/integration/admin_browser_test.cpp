// The /status page in a real browser: Debian's headless Chromium loads it from a running
// AdminServer and from a running `bulwark serve`, and the test reads the DOM Chromium built (so
// the markup parses as intended: rows, states, no script elements) and keeps a screenshot for
// people to look at.
#include "bulwark/admin/admin_server.hpp"
#include "bulwark/http/sync_client.hpp"

#include "integration/admin_test_bed.hpp"
#include "integration/cli_process.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"
#include "support/require_tool.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::AdminTestBed;
using test::HttpServer;

const std::filesystem::path chromium = "/usr/bin/chromium";

// Runs Chromium headless with `args` then `url`; returns what it wrote (stdout and stderr).
std::string run_chromium(const std::vector<std::string>& args, const std::string& url,
                         const std::filesystem::path& work) {
  std::vector<std::string> argv = {"timeout",
                                   "90",
                                   chromium.string(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--disable-extensions",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + (work / "profile").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  const std::filesystem::path log = work / "chromium.log";
  std::filesystem::remove(log);
  const pid_t pid = test::spawn(argv, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The DOM Chromium printed, without its log lines around it.
std::string dom_of(const std::string& output) {
  const auto begin = output.find("<html");
  const auto end = output.rfind("</html>");
  if (begin == std::string::npos || end == std::string::npos) return {};
  return output.substr(begin, end + 7 - begin);
}

TEST(AdminBrowser, ChromiumRendersOneRowPerClientWithItsState) {
  BULWARK_REQUIRE_TOOL(std::filesystem::exists(chromium),
                       "Chromium is not installed (Debian package chromium)");
  HttpServer search;     // goes down: failed
  HttpServer embedding;  // fails its last check: degraded
  AdminOptions options;
  options.sample_interval = 200ms;
  std::vector<HttpServiceConfig> extra;
  extra.push_back(test::admin_test_service("search", search));
  extra.push_back(test::admin_test_service("embeddings", embedding));
  HttpServiceConfig openai = test::admin_test_service("openai", embedding);
  openai.optional = true;
  openai.available = false;  // its key is not set
  extra.push_back(openai);
  AdminTestBed bed(options, extra);

  // Some traffic over a few samples, so that rates and sparklines have something to show.
  auto svc = bed.manager().http_sync("svc");
  auto cache = bed.manager().redis_sync("cache");
  constexpr int rounds = 12;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < 2 + round % 4; ++i) {
      (void)svc->get("/status/200?delay_ms=" + std::to_string(i));
    }
    if (round % 3 == 0) (void)svc->get("/status/503");
    cache->set("k", std::to_string(round));
    if (round == 6) search.down();
    if (round == rounds - 1) embedding.fail_next("/health", 1, 500);
    (void)bed.manager().check_now_blocking();
    std::this_thread::sleep_for(210ms);
  }
  const HealthReport report = bed.manager().health();
  ASSERT_EQ(report.find("svc")->state, HealthState::healthy);
  ASSERT_EQ(report.find("search")->state, HealthState::failed);
  ASSERT_EQ(report.find("embeddings")->state, HealthState::degraded) << "one failed check";

  // Traffic goes on while Chromium loads the page, so that the rates are live.
  std::atomic<bool> busy{true};
  std::thread traffic([&] {
    for (int i = 0; busy.load(); ++i) {
      (void)svc->get(i % 7 == 0 ? "/status/503" : "/status/200");
      if (i % 3 == 0) cache->set("k", std::to_string(i));
      std::this_thread::sleep_for(20ms);
    }
  });
  struct Join {
    std::atomic<bool>& busy;
    std::thread& thread;
    ~Join() {
      busy = false;
      thread.join();
    }
  } join{busy, traffic};

  const std::filesystem::path work = test::make_temp_dir("bulwark-chromium");
  const std::string url = "http://127.0.0.1:" + std::to_string(bed.port()) + "/status";
  const std::string dom = dom_of(run_chromium({"--dump-dom"}, url, work));
  ASSERT_FALSE(dom.empty()) << "Chromium printed no DOM";
  const auto has = [&](std::string_view text) { return dom.find(text) != std::string::npos; };
  EXPECT_TRUE(has(R"(id="client-svc" data-client="svc" data-state="healthy")")) << dom;
  EXPECT_TRUE(has(R"(data-client="cache" data-state="healthy")"));
  EXPECT_TRUE(has(R"(data-client="search" data-state="failed")"));
  EXPECT_TRUE(has(R"(data-client="embeddings" data-state="degraded")"));
  EXPECT_TRUE(has(R"(data-client="openai" data-state="unavailable")"));
  EXPECT_TRUE(has(R"(id="overall" class="badge state-failed" data-state="failed")"));
  EXPECT_TRUE(has("<svg")) << "inline SVG survived parsing";
  EXPECT_FALSE(has("<script")) << "the page has no scripts";

  const std::filesystem::path out_dir = BULWARK_TEST_OUTPUT_DIR;
  std::filesystem::create_directories(out_dir);
  const std::filesystem::path screenshot = out_dir / "status.png";
  std::filesystem::remove(screenshot);
  const std::string log =
      run_chromium({"--screenshot=" + screenshot.string(), "--window-size=1200,800"}, url, work);
  ASSERT_TRUE(std::filesystem::exists(screenshot)) << log;
  EXPECT_GT(std::filesystem::file_size(screenshot), 10'000U);
  std::cout << "status page screenshot: " << screenshot.string() << std::endl;
  std::filesystem::remove_all(work);
}

// What an operator sees: `bulwark serve` over a healthy service, a service nobody listens for
// and a Redis database, its /status page opened in Chromium.
TEST(AdminBrowser, ChromiumReadsTheStatusPageOfARunningBulwarkServe) {
  BULWARK_REQUIRE_TOOL(std::filesystem::exists(chromium),
                       "Chromium is not installed (Debian package chromium)");
  HttpServer search;
  test::RedisServer redis;
  const std::filesystem::path work = test::make_temp_dir("bulwark-serve-chromium");
  const std::filesystem::path file = work / "bulwark.yaml";
  std::ofstream(file) << fmt::format(
      "health: {{interval: 200ms, timeout: 150ms}}\n"
      "services:\n"
      "  search: {{url: \"{}\", health: {{path: /healthz}}}}\n"
      "  gone: {{url: \"http://127.0.0.1:{}\", health: {{path: /healthz}}}}\n"
      "redis:\n"
      "  url: redis://127.0.0.1:{}\n"
      "  databases: {{cache: 0}}\n",
      search.base_url(), test::free_port(), redis.port());
  test::CliProcess serve({"serve", "-c", file.string(), "--admin", "127.0.0.1:0"});
  ASSERT_TRUE(serve.wait_for_output("admin endpoint on http://127.0.0.1:")) << serve.err();
  std::smatch match;
  const std::string out = serve.out();
  ASSERT_TRUE(std::regex_search(out, match, std::regex("http://127\\.0\\.0\\.1:(\\d+)")));
  const std::string url = fmt::format("http://127.0.0.1:{}/status", match[1].str());

  // The unreachable service fails its checks within a few rounds.
  Runtime runtime;
  http::ClientConfig config;
  config.name = "admin";
  config.base_url = url;
  config.retry.reset();
  config.circuit_breaker.reset();
  http::SyncClient admin(runtime, config);
  ASSERT_TRUE(test::eventually([&] {
    const Result<http::Response> page = admin.execute(http::Request::get(url));
    return page &&
           page->body.find(R"(data-client="gone" data-state="failed")") != std::string::npos;
  })) << serve.err();

  const std::string dom = dom_of(run_chromium({"--dump-dom"}, url, work));
  ASSERT_FALSE(dom.empty()) << "Chromium printed no DOM";
  const auto has = [&](std::string_view text) { return dom.find(text) != std::string::npos; };
  EXPECT_TRUE(has(R"(data-client="search" data-state="healthy")")) << dom;
  EXPECT_TRUE(has(R"(data-client="cache" data-state="healthy")"));
  EXPECT_TRUE(has(R"(data-client="gone" data-state="failed")"));
  EXPECT_TRUE(has(R"(id="overall" class="badge state-failed" data-state="failed")"));
  EXPECT_FALSE(has("<script"));

  const std::filesystem::path screenshot =
      std::filesystem::path(BULWARK_TEST_OUTPUT_DIR) / "status-serve.png";
  std::filesystem::create_directories(screenshot.parent_path());
  std::filesystem::remove(screenshot);
  const std::string log =
      run_chromium({"--screenshot=" + screenshot.string(), "--window-size=1200,600"}, url, work);
  ASSERT_TRUE(std::filesystem::exists(screenshot)) << log;
  std::cout << "bulwark serve status page screenshot: " << screenshot.string() << std::endl;

  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait_exit(std::chrono::seconds(10)), 0) << serve.err();
  std::filesystem::remove_all(work);
}

}  // namespace
}  // namespace bulwark
