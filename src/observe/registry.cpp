#include "bulwark/observe/registry.hpp"

#include <limits>
#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "bulwark/core/error.hpp"
#include "observe/detail/naming.hpp"
#include "observe/detail/scrape.hpp"

namespace bulwark::observe {
namespace {

constexpr std::string_view dropped_series_name = "bulwark_metrics_dropped_series_total";

// What differs between two definitions of one name, for the error message.
std::string describe_conflict(const detail::FamilyDefinition& old_definition,
                              const detail::FamilyDefinition& new_definition) {
  const auto kind = [](const detail::FamilyDefinition& d) {
    return fmt::format("{}{}", d.collected ? "collected " : "", type_name(d.type));
  };
  std::string differences;
  const auto add = [&](std::string_view what) {
    differences += differences.empty() ? "" : ", ";
    differences += what;
  };
  if (old_definition.type != new_definition.type ||
      old_definition.collected != new_definition.collected) {
    add(fmt::format("was a {}, now a {}", kind(old_definition), kind(new_definition)));
  }
  if (old_definition.label_names != new_definition.label_names) {
    add(fmt::format("labels were ({}), now ({})", fmt::join(old_definition.label_names, ", "),
                    fmt::join(new_definition.label_names, ", ")));
  }
  if (old_definition.help != new_definition.help) add("the HELP text differs");
  if (old_definition.bounds != new_definition.bounds) add("the histogram buckets differ");
  return fmt::format("metric \"{}\" is already registered differently: {}", new_definition.name,
                     differences);
}

}  // namespace

struct Registry::State {
  explicit State(RegistryOptions registry_options) : options(registry_options) {}

  RegistryOptions options;
  std::mutex mutex;  // guards the members below; never held while collectors run
  std::vector<std::unique_ptr<detail::FamilyBase>> families{};  // in registration order
  std::map<std::string, detail::FamilyBase*, std::less<>> by_name{};
  std::size_t collected_families = 0;
  CounterFamily* dropped = nullptr;
  std::shared_ptr<detail::CollectorSet> collectors = std::make_shared<detail::CollectorSet>();
};

Registry::Registry() : Registry(RegistryOptions{}) {}

Registry::Registry(RegistryOptions options) {
  if (options.max_series_per_family == 0) {
    throw ConfigError("metrics.max_series_per_family", "must be >= 1, got 0");
  }
  state_ = std::make_unique<State>(options);
  // Never full: it holds one series per family, and families are declared in code.
  state_->dropped = &add_family<CounterFamily>(
      {.name = std::string(dropped_series_name),
       .help = "Label sets turned away because their metric family already held its maximum "
               "number of series.",
       .type = MetricType::counter,
       .label_names = {"family"}},
      std::numeric_limits<std::size_t>::max(),
      [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new CounterFamily(std::move(definition), this, max_series, nullptr);
      });
}

Registry::~Registry() = default;

template <class FamilyType, class Make>
FamilyType& Registry::add_family(detail::FamilyDefinition definition, std::size_t max_series,
                                 Make make) {
  detail::check_definition(definition);
  const std::lock_guard lock(state_->mutex);
  if (const auto found = state_->by_name.find(definition.name); found != state_->by_name.end()) {
    const detail::FamilyBase& existing = *found->second;
    if (existing.definition() != definition) {
      detail::throw_invalid_argument(describe_conflict(existing.definition(), definition));
    }
    // Same type and same collectedness mean the same class, so the cast is exact.
    return static_cast<FamilyType&>(*found->second);
  }
  if (max_series == 0) max_series = state_->options.max_series_per_family;
  std::unique_ptr<FamilyType> family(make(std::move(definition), max_series));
  FamilyType& result = *family;
  state_->by_name.emplace(result.name(), &result);
  state_->families.push_back(std::move(family));
  return result;
}

CounterFamily& Registry::counter(const MetricOptions& options) {
  return add_family<CounterFamily>(
      {options.name, options.help, MetricType::counter, options.labels, {}, false},
      options.max_series, [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new CounterFamily(std::move(definition), this, max_series, state_->dropped);
      });
}

GaugeFamily& Registry::gauge(const MetricOptions& options) {
  return add_family<GaugeFamily>(
      {options.name, options.help, MetricType::gauge, options.labels, {}, false},
      options.max_series, [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new GaugeFamily(std::move(definition), this, max_series, state_->dropped);
      });
}

HistogramFamily& Registry::histogram(const MetricOptions& options, std::vector<double> buckets) {
  return add_family<HistogramFamily>(
      {options.name, options.help, MetricType::histogram, options.labels,
       detail::checked_bounds(std::move(buckets)), false},
      options.max_series, [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new HistogramFamily(std::move(definition), this, max_series, state_->dropped);
      });
}

CollectedFamily& Registry::collected_counter(const MetricOptions& options) {
  return add_family<CollectedFamily>(
      {options.name, options.help, MetricType::counter, options.labels, {}, true},
      options.max_series, [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new CollectedFamily(std::move(definition), this, max_series, state_->dropped,
                                   state_->collected_families++);
      });
}

CollectedFamily& Registry::collected_gauge(const MetricOptions& options) {
  return add_family<CollectedFamily>(
      {options.name, options.help, MetricType::gauge, options.labels, {}, true}, options.max_series,
      [this](detail::FamilyDefinition definition, std::size_t max_series) {
        return new CollectedFamily(std::move(definition), this, max_series, state_->dropped,
                                   state_->collected_families++);
      });
}

CollectorHandle Registry::add_collector(Collector collector) {
  if (!collector) detail::throw_invalid_argument("a collector must not be empty");
  detail::CollectorSet& set = *state_->collectors;
  const std::lock_guard lock(set.mutex);
  const std::uint64_t id = set.next_id++;
  set.collectors.emplace_back(id, std::move(collector));
  return CollectorHandle(state_->collectors, id);
}

void Registry::write_prometheus(std::string& out) const {
  detail::Scrape scrape;
  {
    detail::CollectorSet& set = *state_->collectors;
    const std::lock_guard lock(set.mutex);
    CollectorSink sink(this, scrape);
    for (const auto& entry : set.collectors) entry.second(sink);
  }
  // Taken after the collectors ran, so that families they registered are included. Families are
  // never removed, so the pointers stay valid without the lock.
  std::vector<const detail::FamilyBase*> families;
  {
    const std::lock_guard lock(state_->mutex);
    families.reserve(state_->families.size());
    for (const auto& family : state_->families) families.push_back(family.get());
  }
  for (const detail::FamilyBase* family : families) family->prepare(scrape);
  std::string text;
  for (const detail::FamilyBase* family : families) family->write(text, scrape);
  out += text;
}

std::string Registry::expose() const {
  std::string out;
  write_prometheus(out);
  return out;
}

}  // namespace bulwark::observe
