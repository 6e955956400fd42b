#include "bulwark/observe/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "bulwark/core/error.hpp"

namespace bulwark::observe {
namespace {

TEST(Registry, ExposesCountersAndGaugesInTextFormat) {
  Registry registry;
  CounterFamily& calls = registry.counter({.name = "bulwark_client_calls_total",
                                           .help = "Calls made through a client, by outcome.",
                                           .labels = {"client", "outcome"}});
  GaugeFamily& in_flight = registry.gauge({.name = "bulwark_client_calls_in_flight",
                                           .help = "Calls in progress.",
                                           .labels = {"client"}});
  CounterFamily& bytes =
      registry.counter({.name = "bulwark_test_received_bytes_total", .help = "Bytes received."});
  calls.labels({"qdrant", "success"}).inc(3);
  calls.labels({"qdrant", "error"}).inc();
  calls.labels({"openai", "success"}).inc(1234567);
  in_flight.labels({"qdrant"}).set(2);
  in_flight.labels({"openai"}).set(-0.5);
  bytes.labels({}).add(1.5);
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_client_calls_total Calls made through a client, by outcome.\n"
            "# TYPE bulwark_client_calls_total counter\n"
            "bulwark_client_calls_total{client=\"openai\",outcome=\"success\"} 1234567\n"
            "bulwark_client_calls_total{client=\"qdrant\",outcome=\"error\"} 1\n"
            "bulwark_client_calls_total{client=\"qdrant\",outcome=\"success\"} 3\n"
            "# HELP bulwark_client_calls_in_flight Calls in progress.\n"
            "# TYPE bulwark_client_calls_in_flight gauge\n"
            "bulwark_client_calls_in_flight{client=\"openai\"} -0.5\n"
            "bulwark_client_calls_in_flight{client=\"qdrant\"} 2\n"
            "# HELP bulwark_test_received_bytes_total Bytes received.\n"
            "# TYPE bulwark_test_received_bytes_total counter\n"
            "bulwark_test_received_bytes_total 1.5\n");
}

TEST(Registry, ExposesHistogramsWithCumulativeBucketsSumAndCount) {
  Registry registry;
  HistogramFamily& duration =
      registry.histogram({.name = "bulwark_client_call_duration_seconds",
                          .help = "Duration of calls made through a client.",
                          .labels = {"client"}},
                         {0.25, 0.5, 1});
  Histogram& qdrant = duration.labels({"qdrant"});
  for (const double seconds : {0.25, 0.5, 0.75, 4.0}) qdrant.observe(seconds);
  duration.labels({"redis"});
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_client_call_duration_seconds Duration of calls made through a "
            "client.\n"
            "# TYPE bulwark_client_call_duration_seconds histogram\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"qdrant\",le=\"0.25\"} 1\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"qdrant\",le=\"0.5\"} 2\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"qdrant\",le=\"1\"} 3\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"qdrant\",le=\"+Inf\"} 4\n"
            "bulwark_client_call_duration_seconds_sum{client=\"qdrant\"} 5.5\n"
            "bulwark_client_call_duration_seconds_count{client=\"qdrant\"} 4\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"redis\",le=\"0.25\"} 0\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"redis\",le=\"0.5\"} 0\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"redis\",le=\"1\"} 0\n"
            "bulwark_client_call_duration_seconds_bucket{client=\"redis\",le=\"+Inf\"} 0\n"
            "bulwark_client_call_duration_seconds_sum{client=\"redis\"} 0\n"
            "bulwark_client_call_duration_seconds_count{client=\"redis\"} 0\n");
}

TEST(Registry, HistogramsWithoutBucketsUseTheLatencyDefaults) {
  Registry registry;
  HistogramFamily& duration =
      registry.histogram({.name = "bulwark_test_duration_seconds", .help = "Durations."});
  EXPECT_EQ(duration.labels({}).bounds().size(), default_latency_buckets().size());
  duration.labels({}).observe(0.003);
  const std::string text = registry.expose();
  EXPECT_NE(text.find("bulwark_test_duration_seconds_bucket{le=\"0.0005\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_duration_seconds_bucket{le=\"0.0025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("bulwark_test_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_test_duration_seconds_bucket{le=\"10\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_test_duration_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
}

TEST(Registry, AcceptsATrailingInfBucketAndRejectsUnorderedOnes) {
  Registry registry;
  const double inf = std::numeric_limits<double>::infinity();
  HistogramFamily& sizes = registry.histogram(
      {.name = "bulwark_test_reply_bytes", .help = "Reply sizes."}, {100, 1000, inf});
  EXPECT_EQ(sizes.labels({}).bounds().size(), 2u);
  const MetricOptions other{.name = "bulwark_test_other_bytes", .help = "Sizes."};
  EXPECT_THROW(registry.histogram(other, {1, 1}), Error);
  EXPECT_THROW(registry.histogram(other, {2, 1}), Error);
  EXPECT_THROW(registry.histogram(other, {1, std::numeric_limits<double>::quiet_NaN()}), Error);
  EXPECT_THROW(registry.histogram(other, {-inf, 1}), Error);
  EXPECT_THROW(registry.histogram(other, {1, inf, 2}), Error);
  // Only +Inf: a histogram of one bucket, which Prometheus allows.
  EXPECT_EQ(registry.histogram(other, {inf}).labels({}).bounds().size(), 0u);
}

TEST(Registry, EscapesHelpAndLabelValues) {
  Registry registry;
  GaugeFamily& gauge = registry.gauge({.name = "bulwark_test_paths",
                                       .help = "Paths like C:\\temp,\nsplit \"twice\".",
                                       .labels = {"path"}});
  gauge.labels({"C:\\temp\n\"quoted\""}).set(1);
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_test_paths Paths like C:\\\\temp,\\nsplit \"twice\".\n"
            "# TYPE bulwark_test_paths gauge\n"
            "bulwark_test_paths{path=\"C:\\\\temp\\n\\\"quoted\\\"\"} 1\n");
}

TEST(Registry, WritesSpecialAndLargeValuesAsPrometheusReadsThem) {
  Registry registry;
  GaugeFamily& gauge =
      registry.gauge({.name = "bulwark_test_values", .help = "Values.", .labels = {"case"}});
  gauge.labels({"a_nan"}).set(std::numeric_limits<double>::quiet_NaN());
  gauge.labels({"b_inf"}).set(std::numeric_limits<double>::infinity());
  gauge.labels({"c_minus_inf"}).set(-std::numeric_limits<double>::infinity());
  gauge.labels({"d_big"}).set(1e15);
  gauge.labels({"e_small"}).set(0.000125);
  EXPECT_EQ(registry.expose(),
            "# HELP bulwark_test_values Values.\n"
            "# TYPE bulwark_test_values gauge\n"
            "bulwark_test_values{case=\"a_nan\"} NaN\n"
            "bulwark_test_values{case=\"b_inf\"} +Inf\n"
            "bulwark_test_values{case=\"c_minus_inf\"} -Inf\n"
            "bulwark_test_values{case=\"d_big\"} 1000000000000000\n"
            "bulwark_test_values{case=\"e_small\"} 0.000125\n");
}

TEST(Registry, ExposesFamiliesInRegistrationOrderAndLeavesOutEmptyOnes) {
  Registry registry;
  GaugeFamily& zeta = registry.gauge({.name = "zeta_items", .help = "Z."});
  registry.counter({.name = "alpha_unused_total", .help = "A.", .labels = {"client"}});
  CounterFamily& beta =
      registry.counter({.name = "beta_used_total", .help = "B.", .labels = {"client"}});
  beta.labels({"x"}).inc();
  zeta.labels({}).set(1);
  EXPECT_EQ(registry.expose(),
            "# HELP zeta_items Z.\n"
            "# TYPE zeta_items gauge\n"
            "zeta_items 1\n"
            "# HELP beta_used_total B.\n"
            "# TYPE beta_used_total counter\n"
            "beta_used_total{client=\"x\"} 1\n");
}

TEST(Registry, AnEmptyRegistryExposesNothing) {
  const Registry registry;
  EXPECT_EQ(registry.expose(), "");
}

TEST(Registry, WritePrometheusAppends) {
  Registry registry;
  registry.gauge({.name = "bulwark_test_up", .help = "Up."}).labels({}).set(1);
  std::string out = "# preamble\n";
  registry.write_prometheus(out);
  EXPECT_EQ(out,
            "# preamble\n# HELP bulwark_test_up Up.\n# TYPE bulwark_test_up gauge\n"
            "bulwark_test_up 1\n");
}

TEST(Registry, NamesTheContentTypeOfItsOutput) {
  EXPECT_EQ(prometheus_content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(Registry, RejectsAZeroSeriesLimit) {
  EXPECT_THROW(Registry(RegistryOptions{.max_series_per_family = 0}), ConfigError);
}

// ---- registering the same name twice --------------------------------------------------------

TEST(RegistryDuplicates, TheSameDefinitionReturnsTheExistingFamily) {
  Registry registry;
  const MetricOptions options{
      .name = "bulwark_client_calls_total", .help = "Calls.", .labels = {"client", "outcome"}};
  CounterFamily& first = registry.counter(options);
  first.labels({"qdrant", "success"}).inc();
  CounterFamily& second = registry.counter(options);
  EXPECT_EQ(&first, &second);
  EXPECT_EQ(second.labels({"qdrant", "success"}).value(), 1);
  // The limit is not part of the definition: the first registration's stays.
  MetricOptions other_limit = options;
  other_limit.max_series = 5;
  EXPECT_EQ(&registry.counter(other_limit), &first);
  EXPECT_EQ(first.max_series(), 1000u);

  const MetricOptions histogram{.name = "bulwark_test_duration_seconds", .help = "D."};
  EXPECT_EQ(&registry.histogram(histogram, {1, 2}), &registry.histogram(histogram, {1, 2}));
  EXPECT_EQ(&registry.histogram(histogram, {1, 2}),
            &registry.histogram(histogram, {1, 2, std::numeric_limits<double>::infinity()}));
}

TEST(RegistryDuplicates, ADifferentDefinitionIsAnError) {
  Registry registry;
  registry.counter({.name = "bulwark_test_calls_total", .help = "Calls.", .labels = {"client"}});
  const auto expect_conflict = [](auto&& register_again, std::string_view fragment) {
    try {
      register_again();
      ADD_FAILURE() << "no exception; expected one mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_conflict(
      [&] {
        registry.counter(
            {.name = "bulwark_test_calls_total", .help = "Calls.", .labels = {"service"}});
      },
      "labels were (client), now (service)");
  expect_conflict(
      [&] {
        registry.counter({.name = "bulwark_test_calls_total",
                          .help = "Calls.",
                          .labels = {"client", "outcome"}});
      },
      "labels were");
  expect_conflict(
      [&] {
        registry.counter(
            {.name = "bulwark_test_calls_total", .help = "Other.", .labels = {"client"}});
      },
      "HELP");
  expect_conflict(
      [&] {
        registry.collected_counter(
            {.name = "bulwark_test_calls_total", .help = "Calls.", .labels = {"client"}});
      },
      "was a counter, now a collected counter");

  registry.gauge({.name = "bulwark_test_level", .help = "Level."});
  expect_conflict([&] { registry.histogram({.name = "bulwark_test_level", .help = "Level."}); },
                  "was a gauge, now a histogram");
  registry.histogram({.name = "bulwark_test_duration_seconds", .help = "D."}, {1, 2});
  expect_conflict(
      [&] {
        registry.histogram({.name = "bulwark_test_duration_seconds", .help = "D."}, {1, 3});
      },
      "buckets");
}

// ---- names --------------------------------------------------------------------------------------

struct BadName {
  MetricType type;
  std::string name;
  std::vector<std::string> labels;
  std::string why;  // a fragment of the message
};

void register_as(Registry& registry, const BadName& bad) {
  const MetricOptions options{.name = bad.name, .help = "Help.", .labels = bad.labels};
  switch (bad.type) {
    case MetricType::counter:
      registry.counter(options);
      break;
    case MetricType::gauge:
      registry.gauge(options);
      break;
    case MetricType::histogram:
      registry.histogram(options);
      break;
  }
}

TEST(RegistryNames, RejectsNamesPrometheusOrItsConventionsDoNotAllow) {
  const std::vector<BadName> cases = {
      {MetricType::gauge, "", {}, "not a valid metric name"},
      {MetricType::gauge, "9lives", {}, "not a valid metric name"},
      {MetricType::gauge, "bulwark-pool", {}, "not a valid metric name"},
      {MetricType::gauge, "bulwark:pool", {}, "recording rules"},
      {MetricType::gauge, "bulwarkPoolSize", {}, "snake_case"},
      {MetricType::counter, "bulwark_calls", {}, "must end in \"_total\""},
      {MetricType::gauge, "bulwark_calls_total", {}, "only a counter"},
      {MetricType::histogram, "bulwark_duration_seconds_total", {}, "only a counter"},
      {MetricType::gauge, "bulwark_latency_bucket", {}, "_bucket"},
      {MetricType::histogram, "bulwark_latency_count", {}, "_count"},
      {MetricType::gauge, "bulwark_latency_sum", {}, "_sum"},
      {MetricType::histogram, "bulwark_latency_ms", {}, "\"ms\" is not a base unit"},
      {MetricType::histogram, "bulwark_latency_milliseconds", {}, "not a base unit"},
      {MetricType::gauge, "bulwark_uptime_minutes", {}, "not a base unit"},
      {MetricType::counter, "bulwark_received_kilobytes_total", {}, "not a base unit"},
      {MetricType::gauge, "bulwark_pool_gauge", {}, "metric type"},
      {MetricType::counter, "bulwark_counter_calls_total", {}, "metric type"},
      {MetricType::gauge, "bulwark_pool_size", {"9client"}, "not a valid label name"},
      {MetricType::gauge, "bulwark_pool_size", {"__client"}, "not a valid label name"},
      {MetricType::gauge, "bulwark_pool_size", {"client-name"}, "not a valid label name"},
      {MetricType::gauge, "bulwark_pool_size", {"clientName"}, "snake_case"},
      {MetricType::gauge, "bulwark_pool_size", {"le"}, "reserved"},
      {MetricType::histogram, "bulwark_duration_seconds", {"le"}, "reserved"},
      {MetricType::gauge, "bulwark_pool_size", {"quantile"}, "reserved"},
      {MetricType::gauge, "bulwark_pool_size", {"client", "client"}, "twice"},
  };
  for (const BadName& bad : cases) {
    Registry registry;
    try {
      register_as(registry, bad);
      ADD_FAILURE() << bad.name << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << bad.name;
      EXPECT_NE(std::string(e.what()).find(bad.why), std::string::npos)
          << bad.name << ": " << e.what();
    }
  }
}

TEST(RegistryNames, RejectsAnEmptyHelpText) {
  Registry registry;
  EXPECT_THROW(registry.gauge({.name = "bulwark_pool_size", .help = ""}), Error);
}

TEST(RegistryNames, AcceptsConventionalNames) {
  Registry registry;
  EXPECT_NO_THROW(registry.counter({.name = "bulwark_client_calls_total", .help = "C."}));
  EXPECT_NO_THROW(registry.histogram({.name = "bulwark_call_duration_seconds", .help = "D."}));
  EXPECT_NO_THROW(registry.gauge({.name = "bulwark_reply_bytes", .help = "R."}));
  // Words that merely contain a unit or a type are fine.
  EXPECT_NO_THROW(registry.gauge({.name = "bulwark_sessions", .help = "S."}));
  EXPECT_NO_THROW(registry.gauge({.name = "bulwark_gauges_registered", .help = "G."}));
  EXPECT_NO_THROW(
      registry.gauge({.name = "_private_level", .help = "P.", .labels = {"_x", "Client"}}));
}

// ---- concurrency ------------------------------------------------------------------------------

TEST(RegistryConcurrency, ScrapesWhileOtherThreadsRegisterAndUpdate) {
  Registry registry;
  CounterFamily& calls =
      registry.counter({.name = "bulwark_test_calls_total", .help = "C.", .labels = {"client"}});
  std::atomic<bool> stop{false};
  std::atomic<int> scrapes{0};
  std::thread scraper([&] {
    while (!stop.load()) {
      (void)registry.expose();
      scrapes.fetch_add(1);
    }
  });
  while (scrapes.load() == 0) std::this_thread::yield();
  std::vector<std::thread> writers;
  for (int t = 0; t < 2; ++t) {
    writers.emplace_back([&, t] {
      Counter& mine = calls.labels({"client" + std::to_string(t)});
      for (int i = 0; i < 20'000; ++i) {
        mine.inc();
        if (i % 1000 == 0) {
          registry
              .gauge({.name = "bulwark_test_level_" + std::to_string(i / 1000),
                      .help = "L.",
                      .labels = {"client"}})
              .labels({"c" + std::to_string(t)})
              .set(i);
        }
      }
    });
  }
  for (auto& writer : writers) writer.join();
  stop = true;
  scraper.join();
  const std::string text = registry.expose();
  EXPECT_NE(text.find("bulwark_test_calls_total{client=\"client0\"} 20000\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_test_calls_total{client=\"client1\"} 20000\n"), std::string::npos);
  EXPECT_NE(text.find("bulwark_test_level_19{client=\"c1\"} 19000\n"), std::string::npos);
}

}  // namespace
}  // namespace bulwark::observe
