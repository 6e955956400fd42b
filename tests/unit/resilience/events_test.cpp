#include "bulwark/resilience/events.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace bulwark {
namespace {

struct Ping {
  int value;
};

TEST(EventPublisher, DeliversToEveryListenerUntilUnsubscribed) {
  EventPublisher<Ping> publisher;
  EXPECT_FALSE(publisher.has_listeners());
  int a = 0;
  int b = 0;
  Subscription first = publisher.subscribe([&](const Ping& p) { a += p.value; });
  {
    Subscription second = publisher.subscribe([&](const Ping& p) { b += p.value; });
    publisher.publish({2});
  }
  publisher.publish({3});
  EXPECT_EQ(a, 5);
  EXPECT_EQ(b, 2);
  first.reset();
  EXPECT_FALSE(publisher.has_listeners());
  publisher.publish({100});
  EXPECT_EQ(a, 5);
}

TEST(EventPublisher, ListenerExceptionsDoNotEscape) {
  EventPublisher<Ping> publisher;
  int after = 0;
  auto s1 = publisher.subscribe([](const Ping&) { throw std::runtime_error("boom"); });
  auto s2 = publisher.subscribe([&](const Ping&) { ++after; });
  EXPECT_NO_THROW(publisher.publish({1}));
  EXPECT_EQ(after, 1);
}

TEST(EventPublisher, ListenerMayUnsubscribeItself) {
  EventPublisher<Ping> publisher;
  Subscription self;
  int calls = 0;
  self = publisher.subscribe([&](const Ping&) {
    ++calls;
    self.reset();
  });
  publisher.publish({1});
  publisher.publish({1});
  EXPECT_EQ(calls, 1);
}

TEST(EventPublisher, SubscriptionMayOutliveThePublisher) {
  Subscription subscription;
  {
    EventPublisher<Ping> publisher;
    subscription = publisher.subscribe([](const Ping&) {});
  }
  subscription.reset();  // must not touch the destroyed publisher
  EXPECT_FALSE(subscription.active());
}

TEST(EventPublisher, ConcurrentPublishAndSubscribe) {
  EventPublisher<Ping> publisher;
  std::atomic<int> received{0};
  std::thread publisher_thread([&] {
    for (int i = 0; i < 2000; ++i) publisher.publish({1});
  });
  for (int i = 0; i < 200; ++i) {
    auto s = publisher.subscribe([&](const Ping&) { received.fetch_add(1); });
  }
  publisher_thread.join();
  EXPECT_GE(received.load(), 0);
  EXPECT_FALSE(publisher.has_listeners());
}

}  // namespace
}  // namespace bulwark
