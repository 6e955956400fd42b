// The registry's output checked by Prometheus' own tool: `promtool check metrics` parses the text
// format exactly as the Prometheus server does and lints names, types, units and HELP texts. The
// exposition here is what a service using bulwark would serve: catalogue families with labels,
// a histogram, collected gauges, escaping, special values and the dropped-series counter.
#include "bulwark/observe/catalogue.hpp"
#include "bulwark/observe/registry.hpp"
#include "support/promtool.hpp"
#include "support/require_tool.hpp"

#include <gtest/gtest.h>
#include <filesystem>
#include <limits>
#include <string>

namespace bulwark::observe {
namespace {

using test::check_metrics;
using test::find_promtool;
using test::PromtoolResult;

class Promtool : public ::testing::Test {
 protected:
  void SetUp() override {
    promtool_ = find_promtool();
    BULWARK_REQUIRE_TOOL(!promtool_.empty(),
                         "promtool not found: install the Debian package `prometheus` "
                         "(scripts/deps.sh does) to check the exposition format");
  }
  std::filesystem::path promtool_;
};

TEST_F(Promtool, AcceptsARealisticExposition) {
  Registry registry;
  CounterFamily& calls = registry.counter(catalogue::client_calls());
  HistogramFamily& duration = registry.histogram(catalogue::client_call_duration());
  GaugeFamily& breaker = registry.gauge(catalogue::circuit_breaker_state());
  CounterFamily& transitions = registry.counter(catalogue::circuit_breaker_transitions());
  CounterFamily& rejections = registry.counter(catalogue::rejections());
  CollectedFamily& connections = registry.collected_gauge(catalogue::pool_connections());
  CollectedFamily& health = registry.collected_gauge(catalogue::health_state());
  GaugeFamily& odd = registry.gauge({.name = "bulwark_test_odd_values",
                                     .help = "Values that need care: C:\\path\nand more.",
                                     .labels = {"case"},
                                     .max_series = 5});

  for (const char* client : {"qdrant", "openai", "knowledge"}) {
    calls.labels({client, "success"}).inc(1000);
    calls.labels({client, "timeout"}).inc(3);
    Histogram& latency = duration.labels({client});
    for (const double elapsed : {0.0003, 0.002, 0.04, 0.9, 12.0}) latency.observe(elapsed);
    for (const char* state : {"closed", "open", "half_open"}) {
      breaker.labels({client, state}).set(std::string_view(state) == "closed" ? 1 : 0);
    }
  }
  transitions.labels({"openai", "closed", "open"}).inc();
  transitions.labels({"openai", "open", "half_open"}).inc();
  rejections.labels({"openai", "circuit_open"}).inc(17);
  odd.labels({"nan"}).set(std::numeric_limits<double>::quiet_NaN());
  odd.labels({"plus_inf"}).set(std::numeric_limits<double>::infinity());
  odd.labels({"minus_inf"}).set(-std::numeric_limits<double>::infinity());
  odd.labels({"tiny"}).set(1e-9);
  odd.labels({"escaped \\ \" \n caf\xC3\xA9"}).set(1);
  odd.labels({"one too many"}).set(1);  // dropped: the family holds 5

  const CollectorHandle pools = registry.add_collector([&](CollectorSink& sink) {
    sink.add(connections, {"qdrant", "active"}, 3);
    sink.add(connections, {"qdrant", "idle"}, 5);
    sink.add(connections, {"openai", "active"}, 0);
    sink.add(connections, {"openai", "idle"}, 2);
  });
  const CollectorHandle monitor = registry.add_collector([&](CollectorSink& sink) {
    for (const char* state : {"healthy", "degraded", "failed"}) {
      sink.add(health, {"qdrant", state}, std::string_view(state) == "healthy" ? 1 : 0);
    }
  });

  const std::string text = registry.expose();
  ASSERT_NE(text.find("bulwark_metrics_dropped_series_total{family=\"bulwark_test_odd_values\"} 1"),
            std::string::npos);
  ASSERT_NE(
      text.find("bulwark_client_call_duration_seconds_bucket{client=\"qdrant\",le=\"+Inf\"} 5"),
      std::string::npos);
  const PromtoolResult result = check_metrics(promtool_, text);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(result.output, "") << "\n--- exposition ---\n" << text;
}

// The harness must notice problems, or the test above proves nothing.
TEST_F(Promtool, RejectsWhatBreaksTheConventions) {
  const PromtoolResult lint = check_metrics(promtool_, "# TYPE requests counter\nrequests 1\n");
  EXPECT_NE(lint.exit_code, 0);
  EXPECT_NE(lint.output.find("_total"), std::string::npos) << lint.output;
  const PromtoolResult parse = check_metrics(promtool_, "broken{label=unquoted} 1\n");
  EXPECT_NE(parse.exit_code, 0) << parse.output;
}

}  // namespace
}  // namespace bulwark::observe
