#include "bulwark/observe/collector.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bulwark/core/error.hpp"
#include "bulwark/observe/registry.hpp"

namespace bulwark::observe {
namespace {

using namespace std::chrono_literals;

// Stands in for a connection pool whose numbers live in the pool, not in the registry.
struct FakePool {
  std::string name;
  int active = 0;
  int idle = 0;
};

MetricOptions connections_options() {
  return {.name = "bulwark_pool_connections",
          .help = "Pooled connections, by state.",
          .labels = {"client", "state"}};
}

CollectorHandle collect_pool(Registry& registry, CollectedFamily& family, const FakePool& pool) {
  return registry.add_collector([&family, &pool](CollectorSink& sink) {
    sink.add(family, {pool.name, "active"}, pool.active);
    sink.add(family, {pool.name, "idle"}, pool.idle);
  });
}

TEST(Collector, IsCalledAtEveryScrapeAndReadsLiveValues) {
  Registry registry;
  CollectedFamily& connections = registry.collected_gauge(connections_options());
  FakePool qdrant{"qdrant", 1, 4};
  int calls = 0;
  const CollectorHandle counting = registry.add_collector([&](CollectorSink&) { ++calls; });
  const CollectorHandle handle = collect_pool(registry, connections, qdrant);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_pool_connections Pooled connections, by state.\n"
            "# TYPE bulwark_pool_connections gauge\n"
            "bulwark_pool_connections{client=\"qdrant\",state=\"active\"} 1\n"
            "bulwark_pool_connections{client=\"qdrant\",state=\"idle\"} 4\n");
  EXPECT_EQ(calls, 1);
  qdrant.active = 3;
  EXPECT_NE(registry.expose().find("{client=\"qdrant\",state=\"active\"} 3\n"), std::string::npos);
  EXPECT_EQ(calls, 2);
}

TEST(Collector, SeveralCollectorsFillOneFamilySortedByLabels) {
  Registry registry;
  CollectedFamily& connections = registry.collected_gauge(connections_options());
  CollectedFamily& transitions =
      registry.collected_counter({.name = "bulwark_circuit_breaker_transitions_total",
                                  .help = "Breaker state changes.",
                                  .labels = {"client", "from", "to"}});
  const FakePool redis{"redis", 2, 0};
  const FakePool qdrant{"qdrant", 1, 4};
  const CollectorHandle a = collect_pool(registry, connections, redis);
  const CollectorHandle b = collect_pool(registry, connections, qdrant);
  const CollectorHandle c = registry.add_collector([&](CollectorSink& sink) {
    sink.add(transitions, {"qdrant", "closed", "open"}, 2);
  });
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_pool_connections Pooled connections, by state.\n"
            "# TYPE bulwark_pool_connections gauge\n"
            "bulwark_pool_connections{client=\"qdrant\",state=\"active\"} 1\n"
            "bulwark_pool_connections{client=\"qdrant\",state=\"idle\"} 4\n"
            "bulwark_pool_connections{client=\"redis\",state=\"active\"} 2\n"
            "bulwark_pool_connections{client=\"redis\",state=\"idle\"} 0\n"
            "# HELP bulwark_circuit_breaker_transitions_total Breaker state changes.\n"
            "# TYPE bulwark_circuit_breaker_transitions_total counter\n"
            "bulwark_circuit_breaker_transitions_total{client=\"qdrant\",from=\"closed\",to="
            "\"open\"} 2\n");
}

TEST(Collector, IsRemovedWhenItsHandleIsResetOrDestroyed) {
  Registry registry;
  CollectedFamily& connections = registry.collected_gauge(connections_options());
  const FakePool qdrant{"qdrant", 1, 4};
  const FakePool redis{"redis", 2, 0};
  CollectorHandle kept = collect_pool(registry, connections, redis);
  {
    const CollectorHandle scoped = collect_pool(registry, connections, qdrant);
    EXPECT_NE(registry.expose().find("qdrant"), std::string::npos);
  }
  EXPECT_EQ(registry.expose().find("qdrant"), std::string::npos);
  EXPECT_NE(registry.expose().find("redis"), std::string::npos);
  EXPECT_TRUE(kept);
  kept.reset();
  EXPECT_FALSE(kept);
  kept.reset();                      // harmless
  EXPECT_EQ(registry.expose(), "");  // a collected family nobody emitted into is left out
}

TEST(Collector, HandlesMoveTheirCollector) {
  Registry registry;
  int calls = 0;
  CollectorHandle first = registry.add_collector([&](CollectorSink&) { ++calls; });
  CollectorHandle second = std::move(first);
  EXPECT_FALSE(first);  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_TRUE(second);
  (void)registry.expose();
  EXPECT_EQ(calls, 1);
  CollectorHandle third = registry.add_collector([&](CollectorSink&) { calls += 10; });
  third = std::move(second);  // drops the +10 collector, keeps the +1 one
  (void)registry.expose();
  EXPECT_EQ(calls, 2);
  third = CollectorHandle();
  (void)registry.expose();
  EXPECT_EQ(calls, 2);
}

TEST(Collector, HandleMayOutliveItsRegistry) {
  CollectorHandle handle;
  {
    Registry registry;
    handle = registry.add_collector([](CollectorSink&) {});
  }
  handle.reset();
  EXPECT_FALSE(handle);
}

TEST(Collector, ResetWaitsForAScrapeInProgress) {
  Registry registry;
  std::atomic<bool> running{false};
  std::atomic<bool> finished{false};
  CollectorHandle handle = registry.add_collector([&](CollectorSink&) {
    running = true;
    std::this_thread::sleep_for(20ms);  // long enough for reset() to be waiting
    finished = true;
  });
  std::thread scraper([&] { (void)registry.expose(); });
  while (!running) std::this_thread::yield();
  handle.reset();
  // The collector may refer to objects destroyed right after this point.
  EXPECT_TRUE(finished);
  scraper.join();
}

TEST(Collector, KeepsTheFirstOfTwoSamplesWithTheSameLabels) {
  Registry registry;
  CollectedFamily& level =
      registry.collected_gauge({.name = "bulwark_test_level", .help = "L.", .labels = {"client"}});
  const CollectorHandle a =
      registry.add_collector([&](CollectorSink& sink) { sink.add(level, {"x"}, 1); });
  const CollectorHandle b =
      registry.add_collector([&](CollectorSink& sink) { sink.add(level, {"x"}, 2); });
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_test_level L.\n"
            "# TYPE bulwark_test_level gauge\n"
            "bulwark_test_level{client=\"x\"} 1\n");
}

TEST(Collector, CapsTheSeriesOfACollectedFamilyAndCountsTheRest) {
  Registry registry;
  CollectedFamily& level = registry.collected_gauge(
      {.name = "bulwark_test_level", .help = "L.", .labels = {"client"}, .max_series = 2});
  const CollectorHandle handle = registry.add_collector([&](CollectorSink& sink) {
    for (const char* client : {"d", "c", "b", "a"}) sink.add(level, {client}, 1);
  });
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_metrics_dropped_series_total Label sets turned away because their "
            "metric family already held its maximum number of series.\n"
            "# TYPE bulwark_metrics_dropped_series_total counter\n"
            "bulwark_metrics_dropped_series_total{family=\"bulwark_test_level\"} 2\n"
            "# HELP bulwark_test_level L.\n"
            "# TYPE bulwark_test_level gauge\n"
            "bulwark_test_level{client=\"a\"} 1\n"
            "bulwark_test_level{client=\"b\"} 1\n");
}

TEST(Collector, AnExceptionFailsTheScrapeAndLeavesTheOutputAlone) {
  Registry registry;
  registry.gauge({.name = "bulwark_test_up", .help = "Up."}).labels({}).set(1);
  bool fail = true;
  const CollectorHandle handle = registry.add_collector([&](CollectorSink&) {
    if (fail) throw std::runtime_error("pool is gone");
  });
  std::string out = "kept\n";
  EXPECT_THROW(registry.write_prometheus(out), std::runtime_error);
  EXPECT_EQ(out, "kept\n");
  fail = false;
  EXPECT_NO_THROW(registry.write_prometheus(out));
  EXPECT_EQ(out,
            "kept\n# HELP bulwark_test_up Up.\n# TYPE bulwark_test_up gauge\nbulwark_test_up 1\n");
}

TEST(Collector, SamplesAreChecked) {
  Registry registry;
  Registry other;
  CollectedFamily& mine = registry.collected_gauge(connections_options());
  CollectedFamily& theirs = other.collected_gauge(connections_options());
  const auto scrape_with = [&](Collector collector) {
    const CollectorHandle handle = registry.add_collector(std::move(collector));
    (void)registry.expose();
  };
  EXPECT_THROW(scrape_with([&](CollectorSink& sink) { sink.add(mine, {"qdrant"}, 1); }), Error);
  EXPECT_THROW(scrape_with([&](CollectorSink& sink) { sink.add(mine, {"q", "\xFF"}, 1); }), Error);
  EXPECT_THROW(scrape_with([&](CollectorSink& sink) {
                 sink.add(theirs, {"q", "idle"}, 1);
               }),
               Error);
  const std::vector<std::string> labels{"q", "idle"};
  EXPECT_NO_THROW(scrape_with([&](CollectorSink& sink) { sink.add(mine, labels, 1); }));
  EXPECT_THROW(registry.add_collector(Collector{}), Error);
}

TEST(Collector, MayRegisterFamiliesWhileItRuns) {
  Registry registry;
  const CollectorHandle handle = registry.add_collector([&](CollectorSink& sink) {
    CollectedFamily& late = registry.collected_gauge({.name = "bulwark_test_late", .help = "L."});
    sink.add(late, {}, 7);
  });
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_test_late L.\n# TYPE bulwark_test_late gauge\nbulwark_test_late 7\n");
}

}  // namespace
}  // namespace bulwark::observe
