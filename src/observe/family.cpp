#include "bulwark/observe/family.hpp"

#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "observe/detail/naming.hpp"
#include "observe/detail/scrape.hpp"
#include "observe/detail/text.hpp"

namespace bulwark::observe {
namespace detail {

FamilyBase::FamilyBase(FamilyDefinition definition, const Registry* owner, std::size_t max_series,
                       Family<Counter>* dropped)
    : definition_(std::move(definition)),
      owner_(owner),
      max_series_(max_series),
      dropped_family_(dropped) {}

FamilyBase::~FamilyBase() = default;

void FamilyBase::prepare(Scrape& /*scrape*/) const {}

void FamilyBase::check_label_count(std::size_t count) const {
  if (count == definition_.label_names.size()) return;
  throw_invalid_argument(fmt::format("metric \"{}\" has {} label(s) ({}), got {} value(s)",
                                     definition_.name, definition_.label_names.size(),
                                     fmt::join(definition_.label_names, ", "), count));
}

void FamilyBase::count_dropped(std::uint64_t series) const {
  if (dropped_family_ == nullptr) return;
  Counter* counter = dropped_.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Two threads may get here at once; both find the same series, so either store is right.
    counter = &dropped_family_->labels({std::string_view(definition_.name)});
    dropped_.store(counter, std::memory_order_release);
  }
  counter->inc(series);
}

}  // namespace detail

template <class Metric>
Family<Metric>::Family(detail::FamilyDefinition definition, const Registry* owner,
                       std::size_t max_series, Family<Counter>* dropped)
    : FamilyBase(std::move(definition), owner, max_series, dropped), overflow_(make_series()) {
  // A family without labels has exactly one series; creating it now exposes it (as 0) from the
  // first scrape, so that rate() and absent() work before the first update.
  if (label_names().empty()) series_.emplace(std::vector<std::string>{}, make_series());
}

template <class Metric>
Metric& Family<Metric>::labels(std::span<const std::string_view> values) {
  return find_or_create(values);
}

template <class Metric>
Metric& Family<Metric>::labels(std::span<const std::string> values) {
  return find_or_create(values);
}

template <class Metric>
template <class Values>
Metric& Family<Metric>::find_or_create(const Values& values) {
  check_label_count(values.size());
  detail::check_label_values(definition(), values);
  const std::lock_guard lock(mutex_);
  if (const auto found = series_.find(values); found != series_.end()) return *found->second;
  if (series_.size() >= max_series()) {
    count_dropped(1);
    return *overflow_;
  }
  std::vector<std::string> key(values.begin(), values.end());
  return *series_.emplace(std::move(key), make_series()).first->second;
}

template <class Metric>
std::size_t Family<Metric>::size() const {
  const std::lock_guard lock(mutex_);
  return series_.size();
}

template <class Metric>
std::unique_ptr<Metric> Family<Metric>::make_series() const {
  if constexpr (std::is_same_v<Metric, Histogram>) {
    return std::make_unique<Histogram>(std::span<const double>(definition().bounds));
  } else {
    return std::make_unique<Metric>();
  }
}

template <class Metric>
void Family<Metric>::write(std::string& out, const detail::Scrape& /*scrape*/) const {
  const std::lock_guard lock(mutex_);
  if (series_.empty()) return;
  detail::append_header(out, definition());
  if constexpr (std::is_same_v<Metric, Histogram>) {
    std::vector<std::string> le;
    le.reserve(definition().bounds.size() + 1);
    for (const double bound : definition().bounds) {
      detail::append_value(le.emplace_back(), bound);
    }
    le.emplace_back("+Inf");
    for (const auto& [values, histogram] : series_) {
      const HistogramSnapshot snapshot = histogram->snapshot();
      for (std::size_t i = 0; i < le.size(); ++i) {
        detail::append_sample(out, name(), "_bucket", label_names(), values, le[i],
                              static_cast<double>(snapshot.buckets[i]));
      }
      detail::append_sample(out, name(), "_sum", label_names(), values, {}, snapshot.sum);
      detail::append_sample(out, name(), "_count", label_names(), values, {},
                            static_cast<double>(snapshot.count));
    }
  } else {
    for (const auto& [values, series] : series_) {
      detail::append_sample(out, name(), {}, label_names(), values, {}, series->value());
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace bulwark::observe
