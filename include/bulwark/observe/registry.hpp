#pragma once
/// @file
/// `Registry`: owns metric families and collectors and writes them in the Prometheus text
/// exposition format, version 0.0.4.
///
/// ```
/// bulwark::observe::Registry registry;
/// auto& calls = registry.counter({.name = "bulwark_client_calls_total",
///                                 .help = "Calls made through a client, by outcome.",
///                                 .labels = {"client", "outcome"}});
/// calls.labels({"qdrant", "success"}).inc();
///
/// // In the /metrics handler:
/// response.set(content_type, bulwark::observe::prometheus_content_type);
/// response.body() = registry.expose();
/// ```
///
/// Names: every family name and label name is checked against Prometheus' syntax
/// (`names.hpp`) and against the conventions of docs/metrics.md: snake_case, no `:`, base
/// units only (`_seconds`, `_bytes`; not `_ms`, `_milliseconds`, `_kilobytes`), `_total` on
/// counters and on nothing else, no `_bucket`, `_count` or `_sum` suffix, no metric type as a
/// word of the name, no `le` or `quantile` label, and a non-empty HELP text. Violations throw
/// `Error(invalid_argument)`; so whatever a registry exposes passes `promtool check metrics`.
///
/// Registering a name again with the same definition (type, HELP, label names, buckets, direct
/// or collected) returns the existing family; with a different one it throws
/// `Error(invalid_argument)`. `max_series` is not part of the definition: the first wins.
///
/// Output: families in registration order; within a family, series sorted by label values
/// (byte-wise); labels in the order they were declared. A family with no series yet (labels
/// declared, `labels()` never called; a collected family nobody emitted into) is left out
/// entirely, HELP and TYPE included.
///
/// Self-monitoring: the registry always holds `bulwark_metrics_dropped_series_total{family}`,
/// counting label sets turned away because their family was full (see family.hpp). It is
/// registered first, and so exposed first once something has been dropped.
///
/// Thread-safety: every member function may be called concurrently, including `expose()` while
/// other threads register families and update series.
/// Lifetime: families and their series live as long as the registry. Collector handles may
/// outlive it.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/observe/buckets.hpp"
#include "bulwark/observe/collector.hpp"
#include "bulwark/observe/family.hpp"
#include "bulwark/observe/metric.hpp"

namespace bulwark::observe {

/// The Content-Type of `Registry::expose()`'s output, for the HTTP response to a scrape.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

/// Registry-wide settings.
struct RegistryOptions {
  /// Most series one family may hold unless its `MetricOptions::max_series` says otherwise.
  /// Must be >= 1.
  std::size_t max_series_per_family = 1000;
};

class Registry {
 public:
  Registry();
  /// Throws `ConfigError` when `options` is invalid.
  explicit Registry(RegistryOptions options);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;
  ~Registry();

  /// A family of counters. The name must end in `_total`.
  CounterFamily& counter(const MetricOptions& options);
  /// A family of gauges.
  GaugeFamily& gauge(const MetricOptions& options);
  /// A family of histograms counting into `buckets` (finite upper bounds, strictly ascending;
  /// a trailing +Inf is accepted and ignored). Empty means `default_latency_buckets()`.
  HistogramFamily& histogram(const MetricOptions& options, std::vector<double> buckets = {});

  /// A counter family whose samples collectors add at scrape time (see collector.hpp). The name
  /// must end in `_total`.
  CollectedFamily& collected_counter(const MetricOptions& options);
  /// A gauge family whose samples collectors add at scrape time (see collector.hpp).
  CollectedFamily& collected_gauge(const MetricOptions& options);

  /// Runs `collector` at every scrape until the returned handle is destroyed or reset.
  /// Throws `Error(invalid_argument)` when `collector` is empty.
  CollectorHandle add_collector(Collector collector);

  /// Appends every family in text format 0.0.4 to `out`. Runs the collectors first. If a
  /// collector throws, the exception propagates and `out` is unchanged.
  void write_prometheus(std::string& out) const;
  /// `write_prometheus()` into a new string.
  [[nodiscard]] std::string expose() const;

 private:
  struct State;
  // Checks `definition`, returns the family already registered under its name when the
  // definitions agree, or else stores and returns `make(definition, max_series)`.
  template <class FamilyType, class Make>
  FamilyType& add_family(detail::FamilyDefinition definition, std::size_t max_series, Make make);

  std::unique_ptr<State> state_;
};

}  // namespace bulwark::observe
