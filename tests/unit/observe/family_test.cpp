#include "bulwark/observe/family.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bulwark/core/error.hpp"
#include "bulwark/observe/registry.hpp"

namespace bulwark::observe {
namespace {

MetricOptions calls_options(std::size_t max_series = 0) {
  return {.name = "bulwark_client_calls_total",
          .help = "Calls made through a client, by outcome.",
          .labels = {"client", "outcome"},
          .max_series = max_series};
}

TEST(Family, ReturnsTheSameSeriesForTheSameLabelValues) {
  Registry registry;
  CounterFamily& calls = registry.counter(calls_options());
  Counter& ok = calls.labels({"qdrant", "success"});
  const std::string client = "qdrant";
  EXPECT_EQ(&calls.labels({client, "success"}), &ok);
  const std::vector<std::string> values{"qdrant", "success"};
  EXPECT_EQ(&calls.labels(values), &ok);
  const std::vector<std::string_view> views{"qdrant", "success"};
  EXPECT_EQ(&calls.labels(views), &ok);
  EXPECT_NE(&calls.labels({"qdrant", "error"}), &ok);
  EXPECT_NE(&calls.labels({"redis", "success"}), &ok);
  EXPECT_EQ(calls.size(), 3u);
}

TEST(Family, SeriesKeepTheirValues) {
  Registry registry;
  GaugeFamily& connections = registry.gauge(
      {.name = "bulwark_test_connections", .help = "Connections.", .labels = {"client"}});
  connections.labels({"a"}).set(3);
  connections.labels({"b"}).set(5);
  EXPECT_EQ(connections.labels({"a"}).value(), 3);
  EXPECT_EQ(connections.labels({"b"}).value(), 5);
}

TEST(Family, DescribesItself) {
  Registry registry;
  CounterFamily& calls = registry.counter(calls_options());
  EXPECT_EQ(calls.name(), "bulwark_client_calls_total");
  EXPECT_EQ(calls.help(), "Calls made through a client, by outcome.");
  EXPECT_EQ(calls.type(), MetricType::counter);
  EXPECT_EQ(calls.label_names(), (std::vector<std::string>{"client", "outcome"}));
  EXPECT_EQ(calls.max_series(), RegistryOptions{}.max_series_per_family);
}

TEST(Family, WithoutLabelsHasOneSeriesFromTheStart) {
  Registry registry;
  CounterFamily& restarts =
      registry.counter({.name = "bulwark_test_restarts_total", .help = "Restarts."});
  EXPECT_EQ(restarts.size(), 1u);
  restarts.labels({}).inc();
  EXPECT_EQ(restarts.labels({}).value(), 1);
  EXPECT_EQ(restarts.size(), 1u);
}

TEST(Family, RejectsAWrongNumberOfLabelValues) {
  Registry registry;
  CounterFamily& calls = registry.counter(calls_options());
  EXPECT_THROW(calls.labels({"qdrant"}), Error);
  EXPECT_THROW(calls.labels({"qdrant", "success", "extra"}), Error);
  EXPECT_THROW(calls.labels({}), Error);
  try {
    calls.labels({"qdrant"});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("bulwark_client_calls_total"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(calls.size(), 0u);
}

TEST(Family, RejectsLabelValuesThatAreNotUtf8) {
  Registry registry;
  CounterFamily& calls = registry.counter(calls_options());
  EXPECT_THROW(calls.labels({"qdrant", "\xC3("}), Error);
  EXPECT_EQ(&calls.labels({"caf\xC3\xA9", "success"}), &calls.labels({"caf\xC3\xA9", "success"}));
}

TEST(FamilyCardinality, BeyondTheLimitNewLabelSetsShareAnUnexposedSeriesAndAreCounted) {
  Registry registry;
  CounterFamily& calls = registry.counter(calls_options(2));
  EXPECT_EQ(calls.max_series(), 2u);
  Counter& a = calls.labels({"a", "success"});
  Counter& b = calls.labels({"b", "success"});
  Counter& c = calls.labels({"c", "success"});
  Counter& d = calls.labels({"d", "success"});
  EXPECT_EQ(&c, &d);  // one overflow series
  EXPECT_NE(&c, &a);
  EXPECT_NE(&c, &b);
  EXPECT_EQ(&calls.labels({"a", "success"}), &a);  // existing series are still found
  EXPECT_EQ(calls.size(), 2u);
  a.inc();
  c.inc(100);  // harmless: never exposed
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_metrics_dropped_series_total Label sets turned away because their "
            "metric family already held its maximum number of series.\n"
            "# TYPE bulwark_metrics_dropped_series_total counter\n"
            "bulwark_metrics_dropped_series_total{family=\"bulwark_client_calls_total\"} 2\n"
            "# HELP bulwark_client_calls_total Calls made through a client, by outcome.\n"
            "# TYPE bulwark_client_calls_total counter\n"
            "bulwark_client_calls_total{client=\"a\",outcome=\"success\"} 1\n"
            "bulwark_client_calls_total{client=\"b\",outcome=\"success\"} 0\n");
}

TEST(FamilyCardinality, TheRegistryDefaultAppliesWhenTheFamilySetsNone) {
  Registry registry(RegistryOptions{.max_series_per_family = 3});
  HistogramFamily& duration = registry.histogram(
      {.name = "bulwark_test_duration_seconds", .help = "Durations.", .labels = {"client"}});
  EXPECT_EQ(duration.max_series(), 3u);
  for (const char* client : {"a", "b", "c", "d", "e"}) duration.labels({client}).observe(0.1);
  EXPECT_EQ(duration.size(), 3u);
  EXPECT_NE(
      registry.expose().find(
          "bulwark_metrics_dropped_series_total{family=\"bulwark_test_duration_seconds\"} 2\n"),
      std::string::npos);
}

TEST(FamilyCardinality, DefaultsToAThousandSeries) {
  Registry registry;
  GaugeFamily& gauge =
      registry.gauge({.name = "bulwark_test_items", .help = "Items.", .labels = {"item"}});
  for (int i = 0; i < 1001; ++i) gauge.labels({std::to_string(i)});
  EXPECT_EQ(gauge.size(), 1000u);
}

}  // namespace
}  // namespace bulwark::observe
