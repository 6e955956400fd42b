#include "bulwark/manager/health.hpp"

#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>

#include <deque>

namespace bulwark {
namespace {

namespace asio = boost::asio;

// A check whose outcomes are scripted; it completes at once, so rounds never wait.
struct ScriptedCheck {
  std::shared_ptr<std::deque<CheckResult>> outcomes = std::make_shared<std::deque<CheckResult>>();
  void push(bool ok, std::string error = {}) { outcomes->push_back({ok, std::move(error)}); }
  std::function<asio::awaitable<CheckResult>()> fn() const {
    return [outcomes = outcomes]() -> asio::awaitable<CheckResult> {
      CheckResult next = outcomes->empty() ? CheckResult{true, {}} : outcomes->front();
      if (!outcomes->empty()) outcomes->pop_front();
      co_return next;
    };
  }
};

struct Transition {
  std::string name;
  HealthState from;
  HealthState to;
  std::string reason;
};

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitorTest() : monitor(io.get_executor(), HealthConfig{.max_consecutive_failures = 3}) {
    monitor.on_transition([this](const std::string& name, HealthState from, HealthState to,
                                 const std::string& reason) {
      transitions.push_back({name, from, to, reason});
    });
  }

  HealthMonitor::Target target(std::string name, const ScriptedCheck& check) {
    HealthMonitor::Target t;
    t.name = std::move(name);
    t.kind = "http";
    t.check = check.fn();
    t.breaker_state = [this] { return breaker; };
    return t;
  }

  HealthReport round() { return test::run(io, monitor.check_now()); }

  asio::io_context io;
  HealthMonitor monitor;
  std::vector<Transition> transitions;
  std::string breaker = "closed";
};

TEST_F(HealthMonitorTest, DegradedAfterOneFailureFailedAfterTheLimitHealthyAfterAPass) {
  ScriptedCheck check;
  check.push(false, "connect refused");
  check.push(false, "connect refused");
  check.push(false, "connect refused");
  check.push(true);
  monitor.add(target("qdrant", check));

  HealthReport report = round();
  EXPECT_EQ(report.find("qdrant")->state, HealthState::degraded);
  EXPECT_EQ(report.find("qdrant")->consecutive_failures, 1U);
  EXPECT_EQ(report.find("qdrant")->last_error, "connect refused");
  EXPECT_EQ(round().find("qdrant")->state, HealthState::degraded);
  report = round();
  EXPECT_EQ(report.find("qdrant")->state, HealthState::failed);
  EXPECT_EQ(report.state, HealthState::failed);
  report = round();
  EXPECT_EQ(report.find("qdrant")->state, HealthState::healthy);
  EXPECT_EQ(report.find("qdrant")->consecutive_failures, 0U);
  EXPECT_TRUE(report.find("qdrant")->last_error.empty());
  EXPECT_GT(report.find("qdrant")->last_check, 0);

  // One notification per change, none for the repeated degraded state.
  ASSERT_EQ(transitions.size(), 3U);
  EXPECT_EQ(transitions[0].to, HealthState::degraded);
  EXPECT_EQ(transitions[1].to, HealthState::failed);
  EXPECT_EQ(transitions[2].to, HealthState::healthy);
}

TEST_F(HealthMonitorTest, TheBreakerStateWeighsInEvenWhenChecksPass) {
  ScriptedCheck check;
  monitor.add(target("redis.cache", check));
  breaker = "open";
  EXPECT_EQ(round().find("redis.cache")->state, HealthState::failed);
  breaker = "half_open";
  EXPECT_EQ(monitor.report().find("redis.cache")->state, HealthState::degraded);
  EXPECT_EQ(monitor.report().find("redis.cache")->circuit_breaker_state, "half_open");
  breaker = "closed";
  EXPECT_EQ(monitor.report().find("redis.cache")->state, HealthState::healthy);
}

TEST_F(HealthMonitorTest, ATransitionCausedByTheBreakerSaysSoRatherThanNothing) {
  ScriptedCheck check;
  monitor.add(target("redis.cache", check));
  breaker = "open";
  (void)round();
  breaker = "closed";
  (void)round();
  ASSERT_EQ(transitions.size(), 2U);
  EXPECT_EQ(transitions[0].to, HealthState::failed);
  EXPECT_EQ(transitions[0].reason, "the check passed, but the circuit breaker is open");
  EXPECT_EQ(transitions[1].to, HealthState::healthy);
  EXPECT_EQ(transitions[1].reason, "");
}

TEST_F(HealthMonitorTest, ChecksAreIndependent) {
  ScriptedCheck good;
  ScriptedCheck bad;
  bad.push(false, "503");
  monitor.add(target("good", good));
  monitor.add(target("bad", bad));
  const HealthReport report = round();
  EXPECT_EQ(report.find("good")->state, HealthState::healthy);
  EXPECT_EQ(report.find("bad")->state, HealthState::degraded);
  EXPECT_EQ(report.state, HealthState::degraded);
}

TEST_F(HealthMonitorTest, ACheckThatThrowsFailsWithItsMessage) {
  HealthMonitor::Target t;
  t.name = "thrower";
  t.kind = "http";
  t.check = []() -> asio::awaitable<CheckResult> {
    throw std::runtime_error("boom");
    co_return CheckResult{};
  };
  monitor.add(std::move(t));
  const HealthReport report = round();
  EXPECT_EQ(report.find("thrower")->state, HealthState::degraded);
  EXPECT_EQ(report.find("thrower")->last_error, "boom");
}

TEST_F(HealthMonitorTest, UnavailableOptionalClientsAreNotCheckedNorCounted) {
  ScriptedCheck check;
  HealthMonitor::Target t = target("openai", check);
  t.available = false;
  t.optional = true;
  t.check = nullptr;
  monitor.add(std::move(t));
  breaker = "open";
  const HealthReport report = round();
  EXPECT_EQ(report.state, HealthState::healthy);
  EXPECT_EQ(report.find("openai")->last_check, 0);
  EXPECT_FALSE(report.find("openai")->available);
}

TEST_F(HealthMonitorTest, ReportJsonHasTheDocumentedShape) {
  ScriptedCheck check;
  check.push(false, "GET /healthz answered 503, expected 200");
  monitor.add(target("qdrant", check));
  const boost::json::value json = round().to_json();
  const auto& client = json.at("clients").at("qdrant").as_object();
  EXPECT_EQ(json.at("state").as_string(), "degraded");
  EXPECT_EQ(client.at("state").as_string(), "degraded");
  EXPECT_EQ(client.at("kind").as_string(), "http");
  EXPECT_TRUE(client.at("last_check").is_int64());
  EXPECT_EQ(client.at("consecutive_failures").to_number<int>(), 1);
  EXPECT_EQ(client.at("circuit_breaker_state").as_string(), "closed");
  EXPECT_EQ(client.at("last_error").as_string(), "GET /healthz answered 503, expected 200");
  EXPECT_TRUE(client.at("latency_ms").is_double());
  EXPECT_TRUE(client.at("pool").is_object());
  EXPECT_EQ(client.at("recreations").to_number<int>(), 0);
}

}  // namespace
}  // namespace bulwark
