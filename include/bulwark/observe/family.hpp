#pragma once
/// @file
/// Metric families: one name, one HELP text, one type and a fixed list of label names, holding one
/// time series per combination of label values. Families are created by a `Registry`
/// (`counter()`, `gauge()`, `histogram()`), which owns them; callers keep references.
///
/// ```
/// auto& duration = registry.histogram({.name = "bulwark_client_call_duration_seconds",
///                                      .help = "Duration of calls made through a client.",
///                                      .labels = {"client"}});
/// bulwark::observe::Histogram& qdrant = duration.labels({"qdrant"});  // once, at setup
/// qdrant.observe(elapsed);                                            // per call
/// ```
///
/// `labels()` looks the series up (creating it the first time) under the family's mutex: it is
/// meant for setup, not for the hot path. Keep the reference it returns.
///
/// Cardinality: label values must come from configuration (client names, fixed outcome words),
/// never from request data. Still, a family holds at most `max_series` series; once it is full,
/// `labels()` with new values returns a shared overflow series that is never exposed, and adds 1
/// to `bulwark_metrics_dropped_series_total{family="<name>"}`. Series are never removed: a client
/// that is recreated under the same name gets its old series back, which keeps counters monotonic.
///
/// Thread-safety: every member function may be called concurrently.
/// Lifetime: a family and its series live as long as their `Registry`.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/observe/metric.hpp"

namespace bulwark::observe {

class Registry;

/// How a family is declared. Registering the same options twice returns the same family.
struct MetricOptions {
  /// Full metric name, snake_case, with the unit and, for counters, the `_total` suffix:
  /// `bulwark_client_calls_total`, `bulwark_client_call_duration_seconds`.
  std::string name{};
  /// One sentence for the `# HELP` line; must not be empty.
  std::string help{};
  /// Label names, in the order label values are given and exposed. Fixed for the family's life.
  std::vector<std::string> labels{};
  /// Most series the family may hold; 0 uses `RegistryOptions::max_series_per_family`.
  std::size_t max_series = 0;
};

template <class Metric>
class Family;

namespace detail {

struct Scrape;

/// What identifies a family. Two registrations of the same name must agree on all of it.
struct FamilyDefinition {
  std::string name{};
  std::string help{};
  MetricType type = MetricType::counter;
  std::vector<std::string> label_names{};
  std::vector<double> bounds{};  ///< Histograms only: finite upper bounds, ascending.
  bool collected = false;        ///< Samples come from collectors at scrape time.

  bool operator==(const FamilyDefinition&) const = default;
};

/// Orders label value lists; transparent so that lookups with string_views do not allocate.
struct LabelValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        std::begin(a), std::end(a), std::begin(b), std::end(b),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

/// What every family shares: its definition, its series limit and how it reports dropped series.
class FamilyBase {
 public:
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;
  virtual ~FamilyBase();

  [[nodiscard]] const std::string& name() const noexcept { return definition_.name; }
  [[nodiscard]] const std::string& help() const noexcept { return definition_.help; }
  [[nodiscard]] MetricType type() const noexcept { return definition_.type; }
  [[nodiscard]] const std::vector<std::string>& label_names() const noexcept {
    return definition_.label_names;
  }
  /// Most series this family holds; further label sets are dropped.
  [[nodiscard]] std::size_t max_series() const noexcept { return max_series_; }

 protected:
  /// `dropped` is the registry's `bulwark_metrics_dropped_series_total` family, or null for
  /// that family itself (which is never full).
  FamilyBase(FamilyDefinition definition, const Registry* owner, std::size_t max_series,
             Family<Counter>* dropped);

  [[nodiscard]] const FamilyDefinition& definition() const noexcept { return definition_; }
  [[nodiscard]] const Registry* owner() const noexcept { return owner_; }
  /// Throws `Error(invalid_argument)` unless `count` matches the number of label names.
  void check_label_count(std::size_t count) const;
  /// Adds `series` to this family's count of dropped series.
  void count_dropped(std::uint64_t series) const;

 private:
  friend class observe::Registry;
  /// Called on each family, in order, before any is written: collected families sort and cap
  /// the samples the collectors gave them.
  virtual void prepare(Scrape& scrape) const;
  /// Appends the family in text format 0.0.4; nothing when it has no series.
  virtual void write(std::string& out, const Scrape& scrape) const = 0;

  FamilyDefinition definition_;
  const Registry* owner_;
  std::size_t max_series_;
  Family<Counter>* dropped_family_;
  mutable std::atomic<Counter*> dropped_{nullptr};  // our series there, made on first drop
};

}  // namespace detail

/// A family of `Counter`, `Gauge` or `Histogram` series that callers update directly.
template <class Metric>
class Family final : public detail::FamilyBase {
 public:
  /// The series for these label values, one per label name in order; created on first use.
  /// Throws `Error(invalid_argument)` when the number of values does not match the label names
  /// or a value is not valid UTF-8. When the family is full, returns its overflow series (see
  /// the file comment). A family without labels has one series: `labels({})`.
  Metric& labels(std::initializer_list<std::string_view> values) {
    return labels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  Metric& labels(std::span<const std::string_view> values);
  Metric& labels(std::span<const std::string> values);

  /// Series created so far (the overflow series is not counted).
  [[nodiscard]] std::size_t size() const;

 private:
  friend class Registry;
  Family(detail::FamilyDefinition definition, const Registry* owner, std::size_t max_series,
         Family<Counter>* dropped);

  template <class Values>
  Metric& find_or_create(const Values& values);
  [[nodiscard]] std::unique_ptr<Metric> make_series() const;
  void write(std::string& out, const detail::Scrape& scrape) const override;

  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>, detail::LabelValuesLess> series_;
  std::unique_ptr<Metric> overflow_;
};

using CounterFamily = Family<Counter>;
using GaugeFamily = Family<Gauge>;
using HistogramFamily = Family<Histogram>;

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace bulwark::observe
