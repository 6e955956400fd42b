// Shared circuit breakers: several instances, each with its own Redis connections, against one
// real redis-server. An outage seen by one opens every breaker within the propagation target;
// half-open probing is bounded fleet-wide; without Redis every instance keeps working on its
// local breaker, and shares again once Redis is back.
#include "bulwark/shared/shared_breaker.hpp"

#include "bulwark/core/runtime.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace bulwark::shared {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

// The target for an open breaker to reach the other instances on loopback.
constexpr auto propagation_target = 100ms;

// Polls `done` every millisecond; how long it took, or nothing after `limit`.
template <class Done>
std::optional<std::chrono::steady_clock::duration> wait_for(Done done,
                                                            std::chrono::milliseconds limit = 5s) {
  const auto start = std::chrono::steady_clock::now();
  while (!done()) {
    if (std::chrono::steady_clock::now() - start > limit) return std::nullopt;
    std::this_thread::sleep_for(1ms);
  }
  return std::chrono::steady_clock::now() - start;
}

redis::ClientConfig database_for(const RedisServer& server) {
  redis::ClientConfig config;
  config.name = "redis.coordination";
  config.connection.port = server.port();
  config.connection.connect_timeout = 500ms;
  return config;
}

// One instance of the application: its own coordinator (connections) and breaker.
struct Instance {
  std::shared_ptr<Coordinator> coordinator;
  std::unique_ptr<SharedBreaker> shared;
  std::shared_ptr<CircuitBreaker> breaker;

  bool rejects() { return !breaker->try_acquire().has_value(); }
  void trip() {
    for (int i = 0; i < 3; ++i) {
      auto permit = breaker->try_acquire();
      if (permit) breaker->on_failure(*permit);
    }
  }
};

struct SharedBreakerTest : ::testing::Test {
  Runtime runtime{RuntimeOptions{.threads = 2}};
  RedisServer server;
  std::vector<std::unique_ptr<Instance>> instances;

  CircuitBreakerConfig breaker_config() {
    CircuitBreakerConfig config;
    config.name = "payments";
    config.consecutive_failures = 3;
    config.recovery_timeout = 30s;
    config.max_half_open_duration = 5s;
    return config;
  }

  Instance& add(CircuitBreakerConfig config, SharedBreakerConfig shared = {}) {
    auto instance = std::make_unique<Instance>();
    instance->coordinator = std::make_shared<Coordinator>(runtime.executor(), database_for(server));
    shared.name = config.name;
    shared.instance_id = "instance-" + std::to_string(instances.size());
    instance->shared = std::make_unique<SharedBreaker>(instance->coordinator, shared);
    config.probe_gate = instance->shared->probe_gate();
    instance->breaker = std::make_shared<CircuitBreaker>(config);
    instance->shared->attach(instance->breaker);
    instances.push_back(std::move(instance));
    return *instances.back();
  }

  void add_many(std::size_t count, CircuitBreakerConfig config) {
    for (std::size_t i = 0; i < count; ++i) add(config);
  }

  void wait_coordinated() {
    for (auto& instance : instances) {
      ASSERT_TRUE(wait_for([&] { return instance->shared->coordinated(); }))
          << "never connected to Redis";
    }
  }

  void TearDown() override {
    for (auto& instance : instances) {
      instance->shared.reset();
      instance->coordinator->close();
    }
    instances.clear();
    // Background work (a publication, a resynchronisation) ends with the closed connections;
    // let it finish on the runtime rather than be torn down with it.
    std::this_thread::sleep_for(50ms);
  }
};

TEST_F(SharedBreakerTest, OpenReachesEveryInstanceWithinThePropagationTarget) {
  add_many(3, breaker_config());
  wait_coordinated();
  // A subscription is confirmed before the instance reads the recorded state; give the last
  // one's read a moment so it cannot race the transition below.
  std::this_thread::sleep_for(50ms);

  const auto opened = std::chrono::steady_clock::now();
  instances[0]->trip();
  ASSERT_EQ(instances[0]->breaker->state(), BreakerState::open);
  for (std::size_t i = 1; i < instances.size(); ++i) {
    auto& peer = *instances[i];
    ASSERT_TRUE(wait_for([&] { return peer.breaker->state() == BreakerState::open; }))
        << "instance " << i << " never opened";
    const auto delay = std::chrono::steady_clock::now() - opened;
    std::printf("propagation to instance %zu: %.3f ms\n", i,
                std::chrono::duration<double, std::milli>(delay).count());
    EXPECT_LT(delay, propagation_target);
    // Open without ever calling the service: nothing was reported to this breaker.
    EXPECT_EQ(peer.breaker->stats().failed_total, 0U);
    EXPECT_TRUE(peer.rejects());
    // The sender's wait, not a fresh local one.
    EXPECT_LE(peer.breaker->remaining_open_time(), 30s);
    EXPECT_GT(peer.breaker->remaining_open_time(), 25s);
    EXPECT_EQ(peer.shared->stats().received, 1U);
  }
  // Counted when Redis answers the publishing script, which may come after the others heard it.
  EXPECT_TRUE(wait_for([&] { return instances[0]->shared->stats().published == 1U; }));
  EXPECT_EQ(instances[0]->shared->stats().received, 0U) << "its own message is not applied";

  // Recorded with an expiry of the wait.
  const std::string recorded = server.cli({"GET", "bulwark:breaker:payments"});
  EXPECT_EQ(recorded.rfind("v1|open|", 0), 0U) << recorded;
  const long ttl = std::stol(server.cli({"PTTL", "bulwark:breaker:payments"}));
  EXPECT_GT(ttl, 25'000);
  EXPECT_LE(ttl, 30'000);

  // A manual close is shared too, and removes the record.
  instances[2]->breaker->close();
  for (auto& instance : instances) {
    ASSERT_TRUE(wait_for([&] { return instance->breaker->state() == BreakerState::closed; }));
  }
  ASSERT_TRUE(wait_for([&] { return server.cli({"EXISTS", "bulwark:breaker:payments"}) == "0"; }));
}

TEST_F(SharedBreakerTest, StaleMalformedAndOwnMessagesAreDropped) {
  add_many(2, breaker_config());
  wait_coordinated();
  std::this_thread::sleep_for(50ms);
  Instance& sender = *instances[0];
  Instance& receiver = *instances[1];
  sender.trip();  // epoch 1
  ASSERT_TRUE(wait_for([&] { return receiver.breaker->state() == BreakerState::open; }));
  sender.breaker->close();  // epoch 2
  ASSERT_TRUE(wait_for([&] { return receiver.breaker->state() == BreakerState::closed; }));
  const std::string channel = "bulwark:breaker:payments";

  // Overtaken by the close: an "open" of epoch 1 delivered late changes nothing.
  EXPECT_EQ(server.cli({"PUBLISH", channel, "v1|open|1|30000|instance-0"}), "2");
  EXPECT_EQ(server.cli({"PUBLISH", channel, "not a breaker message"}), "2");
  // Its own message, as if echoed: the receiver does not apply what it sent.
  EXPECT_EQ(server.cli({"PUBLISH", channel, "v1|open|99|30000|instance-1"}), "2");
  ASSERT_TRUE(wait_for([&] { return receiver.shared->stats().dropped >= 3; }));
  EXPECT_EQ(receiver.breaker->state(), BreakerState::closed);

  // The sender is another instance for that last one: it applied it (epoch 99).
  ASSERT_TRUE(wait_for([&] { return sender.breaker->state() == BreakerState::open; }));

  // A newer epoch from anybody else applies, and a manual override is left alone.
  receiver.breaker->force_open();
  EXPECT_EQ(server.cli({"PUBLISH", channel, "v1|closed|100|0|instance-7"}), "2");
  ASSERT_TRUE(wait_for([&] { return sender.breaker->state() == BreakerState::closed; }));
  ASSERT_TRUE(wait_for([&] { return receiver.shared->stats().received >= 3; }));
  EXPECT_EQ(receiver.breaker->state(), BreakerState::forced_open);
  EXPECT_EQ(server.cli({"PUBLISH", channel, "v1|open|101|20000|instance-7"}), "2");
  ASSERT_TRUE(wait_for([&] { return sender.breaker->state() == BreakerState::open; }));
  EXPECT_GT(sender.breaker->remaining_open_time(), 15s);
  EXPECT_LE(sender.breaker->remaining_open_time(), 20s);
}

TEST_F(SharedBreakerTest, AnInstanceThatStartsLateAdoptsTheRecordedOutage) {
  add(breaker_config());
  wait_coordinated();
  instances[0]->trip();
  ASSERT_TRUE(wait_for([&] { return server.cli({"EXISTS", "bulwark:breaker:payments"}) == "1"; }));

  Instance& late = add(breaker_config());
  ASSERT_TRUE(wait_for([&] { return late.breaker->state() == BreakerState::open; }));
  EXPECT_TRUE(late.rejects());
  EXPECT_GT(late.breaker->remaining_open_time(), 25s);
}

TEST_F(SharedBreakerTest, OnlyTheGrantedNumberOfInstancesProbe) {
  CircuitBreakerConfig config = breaker_config();
  config.recovery_timeout = 300ms;
  config.max_recovery_timeout = 300ms;
  add_many(4, config);
  wait_coordinated();
  std::this_thread::sleep_for(50ms);
  instances[0]->trip();
  for (auto& instance : instances) {
    ASSERT_TRUE(wait_for([&] { return instance->breaker->state() == BreakerState::open; }));
  }
  std::this_thread::sleep_for(350ms);  // every wait is over

  // Every instance keeps asking for a permit, as traffic would; only one is ever let through.
  std::vector<CircuitBreaker::Permit> probes;
  std::vector<std::size_t> probers;
  const auto until = std::chrono::steady_clock::now() + 600ms;
  while (std::chrono::steady_clock::now() < until) {
    for (std::size_t i = 0; i < instances.size(); ++i) {
      if (auto permit = instances[i]->breaker->try_acquire()) {
        probes.push_back(*permit);
        probers.push_back(i);
      }
    }
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(probes.size(), 1U) << "probes admitted fleet-wide";
  const std::size_t prober = probers[0];
  std::uint64_t denied = 0;
  for (auto& instance : instances) denied += instance->shared->stats().probes_denied;
  EXPECT_GE(denied, 3U);

  // The probe succeeds: the prober closes, and so does everybody else.
  instances[prober]->breaker->on_success(probes[0]);
  for (auto& instance : instances) {
    ASSERT_TRUE(wait_for([&] { return instance->breaker->state() == BreakerState::closed; }));
    EXPECT_TRUE(instance->breaker->try_acquire().has_value());
  }
}

TEST_F(SharedBreakerTest, WithoutRedisEveryInstanceWorksOnItsLocalBreaker) {
  CircuitBreakerConfig config = breaker_config();
  config.recovery_timeout = 200ms;
  config.max_recovery_timeout = 200ms;
  add_many(2, config);
  wait_coordinated();

  server.kill9();
  for (auto& instance : instances) {
    ASSERT_TRUE(wait_for([&] { return !instance->shared->coordinated(); }));
  }
  // Calls flow on local state: the second instance is unaffected by the first one's outage.
  instances[0]->trip();
  EXPECT_EQ(instances[0]->breaker->state(), BreakerState::open);
  EXPECT_TRUE(instances[1]->breaker->try_acquire().has_value());
  ASSERT_TRUE(wait_for([&] { return instances[0]->shared->stats().publish_failures >= 1; }));
  // Local rules for half-open: the wait is over, the probe is admitted without asking anyone.
  std::this_thread::sleep_for(250ms);
  EXPECT_TRUE(instances[0]->breaker->try_acquire().has_value());
  EXPECT_EQ(instances[0]->breaker->state(), BreakerState::half_open);
  EXPECT_EQ(instances[1]->breaker->state(), BreakerState::closed);
}

TEST_F(SharedBreakerTest, AnOutageSeenWhileRedisWasDownIsSharedOnceItIsBack) {
  CircuitBreakerConfig config = breaker_config();
  add_many(2, config);
  wait_coordinated();

  server.kill9();
  ASSERT_TRUE(wait_for([&] { return !instances[0]->shared->coordinated(); }));
  instances[0]->trip();
  EXPECT_EQ(instances[1]->breaker->state(), BreakerState::closed);

  server.start();
  for (auto& instance : instances) {
    ASSERT_TRUE(wait_for([&] { return instance->shared->coordinated(); }, 10s));
  }
  ASSERT_TRUE(wait_for([&] { return instances[1]->breaker->state() == BreakerState::open; }));
  EXPECT_TRUE(instances[1]->rejects());
}

}  // namespace
}  // namespace bulwark::shared
