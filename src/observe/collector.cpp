#include "bulwark/observe/collector.hpp"

#include <algorithm>

#include "observe/detail/naming.hpp"
#include "observe/detail/scrape.hpp"
#include "observe/detail/text.hpp"

namespace bulwark::observe {

CollectedFamily::CollectedFamily(detail::FamilyDefinition definition, const Registry* owner,
                                 std::size_t max_series, Family<Counter>* dropped,
                                 std::size_t index)
    : FamilyBase(std::move(definition), owner, max_series, dropped), index_(index) {}

void CollectedFamily::prepare(detail::Scrape& scrape) const {
  if (index_ >= scrape.collected.size()) return;
  std::vector<detail::CollectedSample>& samples = scrape.collected[index_];
  const detail::LabelValuesLess less;
  // Stable, so that of two samples with the same labels the one emitted first is kept.
  std::stable_sort(samples.begin(), samples.end(),
                   [&](const auto& a, const auto& b) { return less(a.labels, b.labels); });
  const auto duplicates =
      std::unique(samples.begin(), samples.end(),
                  [](const auto& a, const auto& b) { return a.labels == b.labels; });
  samples.erase(duplicates, samples.end());
  if (samples.size() > max_series()) {
    count_dropped(samples.size() - max_series());
    samples.resize(max_series());
  }
}

void CollectedFamily::write(std::string& out, const detail::Scrape& scrape) const {
  if (index_ >= scrape.collected.size() || scrape.collected[index_].empty()) return;
  detail::append_header(out, definition());
  for (const detail::CollectedSample& sample : scrape.collected[index_]) {
    detail::append_sample(out, name(), {}, label_names(), sample.labels, {}, sample.value);
  }
}

void CollectorSink::add(const CollectedFamily& family, std::span<const std::string_view> labels,
                        double value) {
  add_sample(family, labels, value);
}

void CollectorSink::add(const CollectedFamily& family, std::span<const std::string> labels,
                        double value) {
  add_sample(family, labels, value);
}

template <class Labels>
void CollectorSink::add_sample(const CollectedFamily& family, const Labels& labels, double value) {
  if (family.owner() != owner_) {
    detail::throw_invalid_argument("metric \"" + family.name() +
                                   "\" belongs to another registry than the one scraping");
  }
  family.check_label_count(labels.size());
  detail::check_label_values(family.definition(), labels);
  if (scrape_->collected.size() <= family.index_) scrape_->collected.resize(family.index_ + 1);
  scrape_->collected[family.index_].push_back(
      {std::vector<std::string>(labels.begin(), labels.end()), value});
}

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : set_(std::move(other.set_)), id_(std::exchange(other.id_, 0)) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    reset();
    set_ = std::move(other.set_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void CollectorHandle::reset() noexcept {
  const std::uint64_t id = std::exchange(id_, 0);
  const std::shared_ptr<detail::CollectorSet> set = std::exchange(set_, {}).lock();
  if (id == 0 || set == nullptr) return;
  Collector removed;
  {
    const std::lock_guard lock(set->mutex);
    auto& collectors = set->collectors;
    const auto found = std::find_if(collectors.begin(), collectors.end(),
                                    [id](const auto& entry) { return entry.first == id; });
    if (found != collectors.end()) {
      removed = std::move(found->second);
      collectors.erase(found);
    }
  }
  // `removed` dies here, outside the lock: what it captured may add or remove collectors.
}

}  // namespace bulwark::observe
