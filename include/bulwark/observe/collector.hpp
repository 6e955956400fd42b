#pragma once
/// @file
/// Collectors: callbacks a `Registry` runs at every scrape to read values that live elsewhere (a
/// pool's connection counts, a breaker's state, a component's statistics struct), so that those
/// values are never copied into metrics on the hot path.
///
/// A collected family is declared once, like any family; any number of collectors may then emit
/// samples into it, typically one collector per client:
///
/// ```
/// auto& connections = registry.collected_gauge({.name = "bulwark_pool_connections",
///                                               .help = "Pooled connections, by state.",
///                                               .labels = {"client", "state"}});
/// bulwark::observe::CollectorHandle handle =
///     registry.add_collector([&connections, &pool](bulwark::observe::CollectorSink& sink) {
///       const auto stats = pool.stats();
///       sink.add(connections, {"qdrant", "active"}, stats.active);
///       sink.add(connections, {"qdrant", "idle"}, stats.idle);
///     });
/// // When the pool goes away, so does `handle`, and the collector with it.
/// ```
///
/// At a scrape, the samples of a collected family are sorted by label values; when two carry the
/// same label values only the first is kept, and beyond the family's `max_series` the rest are
/// dropped and counted in `bulwark_metrics_dropped_series_total{family="<name>"}`.
///
/// Collectors run one after another, in the order they were added, on the thread that scrapes,
/// while the registry holds its collector lock. So a collector must be quick, must not scrape
/// the same registry, and must not add or remove collectors (that deadlocks); it may register
/// families. If a collector throws, the exception leaves `Registry::write_prometheus()` and the
/// output is left as it was: a scrape fails visibly instead of silently missing samples.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "bulwark/observe/family.hpp"

namespace bulwark::observe {

namespace detail {
struct CollectorSet;
}  // namespace detail

/// A counter or gauge family whose samples collectors supply at each scrape. The registry stores
/// no values for it. Create with `Registry::collected_counter()` or `collected_gauge()`.
/// Thread-safety and lifetime as for every family.
class CollectedFamily final : public detail::FamilyBase {
 private:
  friend class Registry;
  friend class CollectorSink;
  CollectedFamily(detail::FamilyDefinition definition, const Registry* owner,
                  std::size_t max_series, Family<Counter>* dropped, std::size_t index);

  void prepare(detail::Scrape& scrape) const override;
  void write(std::string& out, const detail::Scrape& scrape) const override;

  std::size_t index_;  // where this family's samples go in a Scrape
};

/// What a collector writes its samples to. Only valid during the collector's call.
class CollectorSink {
 public:
  CollectorSink(const CollectorSink&) = delete;
  CollectorSink& operator=(const CollectorSink&) = delete;

  /// Adds one sample: `value` for the series with these label values (one per label name, in
  /// order). For a collected counter the value is the running total, which must never go down.
  /// Throws `Error(invalid_argument)` when `family` belongs to another registry, the number of
  /// values does not match its label names, or a value is not valid UTF-8.
  void add(const CollectedFamily& family, std::initializer_list<std::string_view> labels,
           double value) {
    add(family, std::span<const std::string_view>(labels.begin(), labels.size()), value);
  }
  void add(const CollectedFamily& family, std::span<const std::string_view> labels, double value);
  void add(const CollectedFamily& family, std::span<const std::string> labels, double value);

 private:
  friend class Registry;
  CollectorSink(const Registry* owner, detail::Scrape& scrape) : owner_(owner), scrape_(&scrape) {}

  template <class Labels>
  void add_sample(const CollectedFamily& family, const Labels& labels, double value);

  const Registry* owner_;
  detail::Scrape* scrape_;
};

/// A collector: called at each scrape with a sink to add samples to.
using Collector = std::function<void(CollectorSink&)>;

/// Keeps a collector registered; removes it when destroyed or reset. Move-only.
///
/// Once `reset()` or the destructor returns, the collector is not running and will not be called
/// again, so it may safely refer to objects that die right after its handle (declare the handle
/// after them, or reset it first). For that, removal waits for a scrape in progress to finish.
/// The handle may outlive its registry; it then does nothing.
class [[nodiscard]] CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(CollectorHandle&& other) noexcept;
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  CollectorHandle(const CollectorHandle&) = delete;
  CollectorHandle& operator=(const CollectorHandle&) = delete;
  ~CollectorHandle() { reset(); }

  /// Removes the collector now; does nothing when the handle holds none. Must not be called from
  /// a collector (that deadlocks).
  void reset() noexcept;
  /// True until the handle is reset or moved from.
  explicit operator bool() const noexcept { return id_ != 0; }

 private:
  friend class Registry;
  CollectorHandle(std::weak_ptr<detail::CollectorSet> set, std::uint64_t id) noexcept
      : set_(std::move(set)), id_(id) {}

  std::weak_ptr<detail::CollectorSet> set_{};
  std::uint64_t id_ = 0;
};

}  // namespace bulwark::observe
