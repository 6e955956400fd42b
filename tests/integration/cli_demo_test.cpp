// `bulwark demo` as a new user runs it, with its output going to a pipe (no terminal): every
// phase is announced, the summary tells what the breaker and retries did, and nothing it started
// is left behind — not when it completes, not when SIGINT stops it early.
#include "integration/cli_process.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <regex>
#include <string_view>

namespace bulwark {
namespace {

using namespace std::chrono_literals;
using test::CliProcess;

// Every pid of a redis-server the demo announced (it restarts the server once).
std::vector<pid_t> redis_pids(const std::string& out) {
  std::vector<pid_t> pids;
  const std::regex pid("redis-server[^\\n]*?pid (\\d+)");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), pid); it != std::sregex_iterator();
       ++it) {
    pids.push_back(static_cast<pid_t>(std::stol((*it)[1])));
  }
  return pids;
}

std::string temporary_dir(const std::string& out) {
  std::smatch match;
  return std::regex_search(out, match, std::regex("temporary directory (\\S+),")) ? match[1].str()
                                                                                  : "";
}

// Nothing the demo started survives it.
void expect_cleaned_up(const std::string& out) {
  const std::vector<pid_t> pids = redis_pids(out);
  EXPECT_FALSE(pids.empty()) << out;
  for (const pid_t pid : pids) {
    EXPECT_FALSE(test::process_named(pid, "redis-server")) << "redis-server " << pid << " remains";
  }
  const std::string dir = temporary_dir(out);
  EXPECT_FALSE(dir.empty()) << out;
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir << " remains";
  EXPECT_NE(out.find("cleaned up: redis-server"), std::string::npos) << out;
}

std::uint64_t number_after(const std::string& text, const std::string& pattern) {
  std::smatch match;
  return std::regex_search(text, match, std::regex(pattern)) ? std::stoull(match[1]) : 0;
}

TEST(CliDemo, RunsEveryPhaseSummarisesAndCleansUp) {
  CliProcess demo({"demo", "--duration", "20s"});
  const std::optional<int> status = demo.wait_exit(120s);
  const std::string out = demo.out();
  ASSERT_EQ(status, 0) << out << demo.err();

  constexpr std::array<std::string_view, 7> phases = {"healthy",   "http-slow", "http-failing",
                                                      "http-down", "http-back", "redis-restart",
                                                      "recovered"};
  for (std::size_t i = 0; i < phases.size(); ++i) {
    EXPECT_NE(out.find(fmt::format("phase {}/7 {}: ", i + 1, phases[i])), std::string::npos)
        << phases[i] << "\n"
        << out;
  }
  EXPECT_EQ(out.find('\033'), std::string::npos) << "escape sequences outside a terminal";
  EXPECT_NE(out.find("redis-server started again on the same port"), std::string::npos) << out;

  const std::size_t summary = out.find("summary after");
  ASSERT_NE(summary, std::string::npos) << out;
  const std::string tail = out.substr(summary);
  EXPECT_GE(number_after(tail, "circuit breaker  opened (\\d+) time"), 1U) << tail;
  EXPECT_GE(number_after(tail, "(\\d+) calls? rejected while it was open"), 1U) << tail;
  EXPECT_NE(tail.find("first successful call in"), std::string::npos) << tail;
  EXPECT_NE(tail.find("bulwark_client_calls_total{client=\"catalog\",outcome=\"success\"}"),
            std::string::npos)
      << tail;
  EXPECT_NE(tail.find("bulwark_rejections_total{client=\"catalog\",reason=\"circuit_open\"}"),
            std::string::npos)
      << tail;
  expect_cleaned_up(out);
}

TEST(CliDemo, SigintStopsItEarlyAndStillCleansUp) {
  CliProcess demo({"demo", "--duration", "60s"});
  ASSERT_TRUE(demo.wait_for_output("phase 1/7 healthy")) << demo.out() << demo.err();
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait_exit(30s), 130) << demo.err();
  const std::string out = demo.out();
  EXPECT_NE(out.find("SIGINT: stopping early"), std::string::npos) << out;
  EXPECT_NE(out.find("interrupted"), std::string::npos) << out;
  EXPECT_EQ(out.find("phase 7/7"), std::string::npos) << out;
  expect_cleaned_up(out);
}

TEST(CliDemo, RefusesADurationOutOfRange) {
  CliProcess demo({"demo", "--duration", "2s"});
  EXPECT_NE(demo.wait_exit(15s).value_or(0), 0);
  EXPECT_NE(demo.err().find("between 10s and 1h"), std::string::npos) << demo.err();
  EXPECT_TRUE(redis_pids(demo.out()).empty()) << "nothing was started";
}

}  // namespace
}  // namespace bulwark
