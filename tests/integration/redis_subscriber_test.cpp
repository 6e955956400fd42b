// redis::Subscriber against a real redis-server: channels, patterns, unsubscribing, payloads,
// order, and resubscription after the server was killed or restarted.
#include "bulwark/redis/subscriber.hpp"

#include "bulwark/redis/connection.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <optional>
#include <stdexcept>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;

using test::run;
using test::run_until;

ConnectionConfig config_for(const RedisServer& server) {
  ConnectionConfig config;
  config.port = server.port();
  config.connect_timeout = 2s;
  return config;
}

// Quick reconnection, so that tests of outages stay short.
SubscriberOptions fast_reconnect() {
  SubscriberOptions options;
  options.reconnect.initial = 20ms;
  options.reconnect.max = 200ms;
  return options;
}

struct SubscriberTest : ::testing::Test {
  asio::io_context io;
  std::vector<Message> received;

  std::unique_ptr<Subscriber> make_subscriber(const ConnectionConfig& config,
                                              SubscriberOptions options = fast_reconnect()) {
    auto subscriber = std::make_unique<Subscriber>(io.get_executor(), config, std::move(options));
    subscriber->on_message([this](const Message& message) { received.push_back(message); });
    return subscriber;
  }

  void wait_for_messages(std::size_t count) {
    run_until(io, [&] { return received.size() >= count; });
  }
};

TEST_F(SubscriberTest, ReceivesMessagesPublishedToItsChannels) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"news", "sport", "news"})));
  EXPECT_EQ(subscriber->state(), SubscriberState::connected);
  EXPECT_EQ(server.cli({"PUBLISH", "news", "hello"}), "1");
  EXPECT_EQ(server.cli({"PUBLISH", "weather", "nobody listens"}), "0");
  EXPECT_EQ(server.cli({"PUBLISH", "sport", "goal"}), "1");
  wait_for_messages(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].channel, "news");
  EXPECT_EQ(received[0].payload, "hello");
  EXPECT_EQ(received[0].pattern, "");
  EXPECT_EQ(received[1].channel, "sport");
  EXPECT_EQ(received[1].payload, "goal");
  const SubscriberStats stats = subscriber->stats();
  EXPECT_EQ(stats.messages, 2u);
  EXPECT_EQ(stats.channels, 2u);
  EXPECT_EQ(stats.reconnects, 0u);
}

TEST_F(SubscriberTest, PatternSubscriptionsReportThePatternMatched) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->psubscribe({"news.*"})));
  EXPECT_EQ(server.cli({"PUBLISH", "sport.football", "no"}), "0");
  EXPECT_EQ(server.cli({"PUBLISH", "news.tech", "chips"}), "1");
  wait_for_messages(1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].channel, "news.tech");
  EXPECT_EQ(received[0].pattern, "news.*");
  EXPECT_EQ(received[0].payload, "chips");
  EXPECT_EQ(subscriber->stats().patterns, 1u);
}

TEST_F(SubscriberTest, UnsubscribingStopsDelivery) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"a", "b"})));
  ASSERT_TRUE(run(io, subscriber->psubscribe({"p.*"})));
  ASSERT_TRUE(run(io, subscriber->unsubscribe({"a"})));
  EXPECT_EQ(server.cli({"PUBLISH", "a", "dropped"}), "0");
  EXPECT_EQ(server.cli({"PUBLISH", "b", "kept"}), "1");
  ASSERT_TRUE(run(io, subscriber->punsubscribe()));
  EXPECT_EQ(server.cli({"PUBLISH", "p.x", "dropped"}), "0");
  EXPECT_EQ(subscriber->stats().channels, 1u);
  EXPECT_EQ(subscriber->stats().patterns, 0u);
  ASSERT_TRUE(run(io, subscriber->unsubscribe()));
  EXPECT_EQ(server.cli({"PUBLISH", "b", "dropped"}), "0");
  // Nothing left to remove: completes at once.
  ASSERT_TRUE(run(io, subscriber->unsubscribe()));
  wait_for_messages(1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].payload, "kept");
  EXPECT_EQ(subscriber->stats().channels, 0u);
}

TEST_F(SubscriberTest, BinaryPayloadsArriveIntact) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"bin"})));
  auto publisher = run(io, Connection::connect(io.get_executor(), config_for(server)));
  const std::vector<std::string> payloads = {std::string("nul\0inside\r\n$5\r\n*1\xff\xfe", 19),
                                             std::string(), std::string(1 << 20, 'x')};
  std::vector<Command> publishes;
  for (const std::string& payload : payloads) {
    publishes.push_back(make_command("PUBLISH", "bin", payload));
  }
  ASSERT_TRUE(run(io, publisher->execute_batch(std::move(publishes))));
  wait_for_messages(payloads.size());
  ASSERT_EQ(received.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(received[i].payload, payloads[i]) << "message " << i;
  }
}

TEST_F(SubscriberTest, ManyMessagesArriveInOrder) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"seq"})));
  auto publisher = run(io, Connection::connect(io.get_executor(), config_for(server)));
  constexpr int count = 5000;
  std::vector<Command> publishes;
  for (int i = 0; i < count; ++i) publishes.push_back(make_command("PUBLISH", "seq", i));
  ASSERT_TRUE(run(io, publisher->execute_batch(std::move(publishes))));
  wait_for_messages(count);
  ASSERT_EQ(received.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(received[static_cast<std::size_t>(i)].payload, std::to_string(i)) << "message " << i;
  }
  EXPECT_EQ(subscriber->stats().messages, static_cast<std::uint64_t>(count));
}

TEST_F(SubscriberTest, AThrowingHandlerIsCountedAndDeliveryGoesOn) {
  RedisServer server;
  Subscriber subscriber(io.get_executor(), config_for(server), fast_reconnect());
  subscriber.on_message([this](const Message& message) {
    received.push_back(message);
    if (message.payload == "bad") throw std::runtime_error("handler failed");
  });
  ASSERT_TRUE(run(io, subscriber.subscribe({"c"})));
  server.cli({"PUBLISH", "c", "bad"});
  server.cli({"PUBLISH", "c", "good"});
  wait_for_messages(2);
  EXPECT_EQ(received.back().payload, "good");
  EXPECT_EQ(subscriber.stats().handler_errors, 1u);
  EXPECT_EQ(subscriber.state(), SubscriberState::connected);
}

TEST_F(SubscriberTest, ResubscribesByItselfAfterTheServerRestarts) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  std::vector<SubscriberState> states;
  subscriber->on_state_change([&](SubscriberState state) { states.push_back(state); });
  ASSERT_TRUE(run(io, subscriber->subscribe({"news"})));
  ASSERT_TRUE(run(io, subscriber->psubscribe({"alerts.*"})));

  server.restart();
  run_until(io, [&] {
    const SubscriberStats stats = subscriber->stats();
    return stats.reconnects >= 1 && stats.state == SubscriberState::connected;
  });
  // `connected` means the resubscription is confirmed: nothing else to wait for.
  EXPECT_EQ(server.cli({"PUBLISH", "news", "after restart"}), "1");
  EXPECT_EQ(server.cli({"PUBLISH", "alerts.disk", "full"}), "1");
  wait_for_messages(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].payload, "after restart");
  EXPECT_EQ(received[1].pattern, "alerts.*");
  const std::vector<SubscriberState> expected = {
      SubscriberState::connected, SubscriberState::reconnecting, SubscriberState::connected};
  EXPECT_EQ(states, expected);
  EXPECT_EQ(subscriber->stats().last_error, errc::connection_lost);
}

TEST_F(SubscriberTest, KeepsRetryingWhileTheServerIsDownAndRecovers) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"kept", "dropped"})));

  server.kill9();
  run_until(io, [&] { return subscriber->stats().connect_failures >= 3; });
  EXPECT_EQ(subscriber->state(), SubscriberState::reconnecting);
  EXPECT_EQ(subscriber->stats().last_error, errc::connect_failed);
  // While disconnected: a removal completes at once, an addition waits for the reconnection.
  ASSERT_TRUE(run(io, subscriber->unsubscribe({"dropped"})));
  std::optional<Result<void>> late;
  asio::co_spawn(io, subscriber->subscribe({"late"}),
                 [&](const std::exception_ptr&, Result<void> result) { late = std::move(result); });
  run_until(io, [&] { return subscriber->stats().connect_failures >= 5; });
  EXPECT_FALSE(late.has_value());

  server.start();
  run_until(io, [&] { return late.has_value(); });
  EXPECT_TRUE(*late);
  EXPECT_EQ(subscriber->state(), SubscriberState::connected);
  EXPECT_EQ(subscriber->stats().reconnects, 1u);
  EXPECT_EQ(server.cli({"PUBLISH", "dropped", "x"}), "0");
  EXPECT_EQ(server.cli({"PUBLISH", "kept", "one"}), "1");
  EXPECT_EQ(server.cli({"PUBLISH", "late", "two"}), "1");
  wait_for_messages(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].payload, "one");
  EXPECT_EQ(received[1].payload, "two");
}

TEST_F(SubscriberTest, CloseWhileReconnectingEndsEverythingCleanly) {
  RedisServer server;
  auto subscriber = make_subscriber(config_for(server));
  ASSERT_TRUE(run(io, subscriber->subscribe({"a"})));
  server.kill9();
  run_until(io, [&] { return subscriber->stats().connect_failures >= 1; });
  std::optional<Result<void>> pending;
  asio::co_spawn(
      io, subscriber->subscribe({"b"}),
      [&](const std::exception_ptr&, Result<void> result) { pending = std::move(result); });
  run_until(io, [&] { return subscriber->stats().channels == 2; });

  subscriber->close();
  run_until(io, [&] { return pending.has_value(); });
  EXPECT_EQ(pending->error(), errc::shutting_down);
  EXPECT_EQ(subscriber->state(), SubscriberState::closed);
  EXPECT_EQ(run(io, subscriber->subscribe({"c"})).error(), errc::shutting_down);
  subscriber.reset();
  // Nothing is left running: no timer, no connection attempt.
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());
}

TEST_F(SubscriberTest, CloseCancelsAConnectionAttemptInProgress) {
  // Accepts TCP connections but never answers the handshake.
  asio::ip::tcp::acceptor silent(io, {asio::ip::address_v4::loopback(), 0});
  ConnectionConfig config;
  config.port = silent.local_endpoint().port();
  config.connect_timeout = 20s;
  auto subscriber = make_subscriber(config);
  io.run_for(100ms);
  EXPECT_EQ(subscriber->state(), SubscriberState::connecting);
  const auto closed_at = std::chrono::steady_clock::now();
  subscriber.reset();
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());
  EXPECT_LT(std::chrono::steady_clock::now() - closed_at, 2s);
}

TEST_F(SubscriberTest, ReconnectionDelaysStayWithinTheirBounds) {
  auto clock = std::make_shared<ManualClock>();
  ConnectionConfig config;
  config.port = test::free_port();  // nothing listens there
  SubscriberOptions options;
  options.reconnect.initial = 10ms;
  options.reconnect.max = 40ms;
  options.clock = clock;
  auto subscriber = make_subscriber(config, options);
  run_until(io, [&] { return subscriber->stats().connect_failures >= 20; });
  subscriber->close();
  const std::uint64_t sleeps = clock->sleep_count();
  EXPECT_GE(sleeps, 19u);
  EXPECT_LE(clock->total_slept(), Clock::duration(40ms) * static_cast<int>(sleeps));
  // Equal jitter: never less than half the base delay, which reaches the cap by the 3rd retry.
  EXPECT_GE(clock->total_slept(), Clock::duration(20ms) * static_cast<int>(sleeps - 3));
  EXPECT_EQ(subscriber->stats().last_error, errc::connect_failed);
}

TEST_F(SubscriberTest, Resp2IsAConfigurationError) {
  ConnectionConfig config;
  config.protocol = Protocol::resp2;
  try {
    Subscriber subscriber(io.get_executor(), config);
    FAIL() << "a RESP2 subscriber was built";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1u);
    EXPECT_EQ(error.issues()[0].path, "redis.protocol");
    EXPECT_NE(error.issues()[0].message.find("RESP3"), std::string::npos);
  }
  SubscriberOptions options;
  options.reconnect.max = 0ms;  // below initial
  try {
    Subscriber subscriber(io.get_executor(), ConnectionConfig{}, options);
    FAIL() << "a bad backoff was accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.issues().at(0).path.rfind("subscriber.reconnect.", 0), 0u);
  }
}

}  // namespace
}  // namespace bulwark::redis
