#include "bulwark/resilience/retry_budget.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace bulwark {

RetryBudget::RetryBudget(RetryBudgetConfig config, std::shared_ptr<Clock> clock)
    : config_(std::move(config)), clock_(std::move(clock)) {
  std::vector<ConfigIssue> issues;
  validate(config_, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!clock_) clock_ = steady_clock();
  origin_ = clock_->now();
  bucket_width_ = std::max(Duration{1}, config_.window / static_cast<Duration::rep>(bucket_count));
  const double window_seconds = std::chrono::duration<double>(config_.window).count();
  floor_ = static_cast<double>(config_.min_retries_per_second) * window_seconds;
}

void RetryBudget::validate(const RetryBudgetConfig& config, std::vector<ConfigIssue>& issues,
                           std::string_view path) {
  if (!(config.ratio >= 0.0) || !std::isfinite(config.ratio)) {
    issues.push_back(
        {fmt::format("{}.ratio", path), fmt::format("must be >= 0, got {}", config.ratio)});
  }
  if (config.window <= Duration::zero()) {
    issues.push_back({fmt::format("{}.window", path),
                      fmt::format("must be > 0, got {}", format_duration(config.window))});
  }
  if (config.shared) bulwark::validate(*config.shared, issues, fmt::format("{}.shared", path));
}

std::int64_t RetryBudget::current_epoch() const noexcept {
  const Duration elapsed = clock_->now() - origin_;
  latest_epoch_ = std::max(latest_epoch_, elapsed.count() / bucket_width_.count());
  return latest_epoch_;
}

RetryBudget::Bucket& RetryBudget::bucket_for(std::int64_t epoch) noexcept {
  Bucket& bucket = buckets_[static_cast<std::size_t>(epoch) % bucket_count];
  if (bucket.epoch != epoch) bucket = Bucket{epoch, 0, 0};  // the slot held an expired slice
  return bucket;
}

RetryBudget::Totals RetryBudget::totals(std::int64_t epoch) const noexcept {
  Totals sum;
  const std::int64_t oldest = epoch - static_cast<std::int64_t>(bucket_count) + 1;
  for (const Bucket& bucket : buckets_) {
    if (bucket.epoch >= oldest) {
      sum.calls += bucket.calls;
      sum.retries += bucket.retries;
    }
  }
  return sum;
}

void RetryBudget::record_call() noexcept {
  std::lock_guard lock(mutex_);
  ++bucket_for(current_epoch()).calls;
  ++unshared_.calls;
}

bool RetryBudget::try_acquire_retry() noexcept {
  std::lock_guard lock(mutex_);
  const std::int64_t epoch = current_epoch();
  Totals sum = totals(epoch);
  if (fleet_) {
    sum.calls = fleet_->calls + in_flight_.calls + unshared_.calls;
    sum.retries = fleet_->retries + in_flight_.retries + unshared_.retries;
  }
  const double allowance = config_.ratio * static_cast<double>(sum.calls) + floor_;
  // The relative margin keeps products such as 0.1 * 30 = 3.0000000000000004 from granting one
  // retry more than the ratio allows.
  const double margin = 1e-9 * std::max(1.0, allowance);
  if (static_cast<double>(sum.retries) < allowance - margin) {
    ++bucket_for(epoch).retries;
    ++unshared_.retries;
    return true;
  }
  ++rejected_total_;
  return false;
}

RetryBudgetStats RetryBudget::stats() const noexcept {
  std::lock_guard lock(mutex_);
  const Totals sum = totals(current_epoch());
  RetryBudgetStats stats{sum.calls, sum.retries, rejected_total_};
  if (fleet_) {
    stats.fleet = true;
    stats.fleet_calls = fleet_->calls + in_flight_.calls + unshared_.calls;
    stats.fleet_retries = fleet_->retries + in_flight_.retries + unshared_.retries;
  }
  return stats;
}

RetryBudgetCounts RetryBudget::take_unshared() noexcept {
  std::lock_guard lock(mutex_);
  const RetryBudgetCounts taken = unshared_;
  in_flight_.calls += taken.calls;
  in_flight_.retries += taken.retries;
  unshared_ = {};
  return taken;
}

void RetryBudget::set_fleet_totals(RetryBudgetCounts totals) noexcept {
  std::lock_guard lock(mutex_);
  fleet_ = totals;
  in_flight_ = {};
}

void RetryBudget::clear_fleet_totals() noexcept {
  std::lock_guard lock(mutex_);
  fleet_.reset();
  in_flight_ = {};
}

bool RetryBudget::uses_fleet_totals() const noexcept {
  std::lock_guard lock(mutex_);
  return fleet_.has_value();
}

}  // namespace bulwark
