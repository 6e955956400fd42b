#include "bulwark/resilience/rate_limiter.hpp"

#include "bulwark/resilience/rate_limit_coordinator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace bulwark {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;
constexpr double max_rate = 1e9;  // one permit per nanosecond, the clock's resolution
// Bounds on how far the TAT may run ahead of now (bucket capacity, and a granted wait), so that
// the arithmetic on clock nanoseconds cannot overflow: about 31 and 3 years.
constexpr double max_capacity_ns = 1e18;
constexpr std::int64_t max_wait_ns = 100'000'000'000'000'000;

std::uint32_t effective_burst(const RateLimiterConfig& config) noexcept {
  if (config.burst != 0) return config.burst;
  const double one_second = std::ceil(config.rate);
  return one_second <= 1.0 ? 1U : static_cast<std::uint32_t>(std::min(one_second, 4e9));
}

std::int64_t interval_of(double rate) noexcept {
  return std::max<std::int64_t>(1, std::llround(1e9 / rate));
}

}  // namespace

RateLimiter::RateLimiter(RateLimiterConfig config) : config_(std::move(config)) {
  std::vector<ConfigIssue> issues;
  validate(config_, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  config_.burst = effective_burst(config_);
  if (!config_.clock) config_.clock = steady_clock();
  interval_ns_ = interval_of(config_.rate);
  capacity_ns_ = static_cast<std::int64_t>(config_.burst) * interval_ns_;
  // A TAT of "now" means a full bucket.
  tat_ns_.store(config_.clock->coarse_now().time_since_epoch().count(), relaxed);
}

void RateLimiter::validate(const RateLimiterConfig& config, std::vector<ConfigIssue>& issues,
                           std::string_view path) {
  const bool rate_ok = config.rate > 0.0 && config.rate <= max_rate;  // false for NaN
  if (!rate_ok) {
    issues.push_back(
        {fmt::format("{}.rate", path),
         fmt::format("must be > 0 and <= 1e9 permits per second, got {}", config.rate)});
  } else {
    const double capacity = static_cast<double>(effective_burst(config)) *
                            static_cast<double>(interval_of(config.rate));
    if (capacity > max_capacity_ns) {
      issues.push_back({fmt::format("{}.burst", path),
                        fmt::format("must take at most 1e9 seconds to refill at rate {}, got {}",
                                    config.rate, effective_burst(config))});
    }
  }
  if (config.shared) {
    bulwark::validate(*config.shared, issues, fmt::format("{}.shared", path));
    if (config.shared->fallback_rate > 0.0 && config.shared->fallback_rate <= max_rate) {
      RateLimiterConfig local = config;
      local.rate = config.shared->fallback_rate;
      const double capacity = static_cast<double>(effective_burst(local)) *
                              static_cast<double>(interval_of(local.rate));
      if (capacity > max_capacity_ns) {
        issues.push_back({fmt::format("{}.shared.fallback_rate", path),
                          fmt::format("must refill the burst ({}) within 1e9 seconds, got {}",
                                      effective_burst(local), local.rate)});
      }
    }
    // The shared bucket keeps time in whole microseconds (the server's TIME).
    if (rate_ok && config.rate > 1e6) {
      issues.push_back(
          {fmt::format("{}.rate", path),
           fmt::format("must be <= 1e6 permits per second when shared, got {}", config.rate)});
    }
  }
  if (config.max_wait < Duration::zero()) {
    issues.push_back({fmt::format("{}.max_wait", path),
                      fmt::format("must be >= 0, got {}", format_duration(config.max_wait))});
  }
}

RateLimiter::Admission RateLimiter::try_acquire(std::uint32_t permits) noexcept {
  return try_acquire(permits, config_.max_wait);
}

RateLimiter::Admission RateLimiter::try_acquire(std::uint32_t permits, Duration max_wait) noexcept {
  const Clock::time_point now_point = config_.clock->coarse_now();
  if (permits == 0) return {{}, Duration::zero()};
  if (permits > config_.burst) {
    return reject(make_error_code(errc::invalid_argument), Duration::max(), now_point);
  }
  const std::int64_t now = now_point.time_since_epoch().count();
  const std::int64_t allowed_wait = std::clamp<std::int64_t>(max_wait.count(), 0, max_wait_ns);
  const std::int64_t cost = static_cast<std::int64_t>(permits) * interval_ns_;

  std::int64_t tat = tat_ns_.load(relaxed);
  for (;;) {
    // Taking the permits moves the TAT forward by their cost, from now if the bucket is full.
    const std::int64_t next_tat = std::max(tat, now) + cost;
    // The bucket may run at most `capacity` ahead of now; beyond that the caller has to wait.
    const std::int64_t wait = std::max<std::int64_t>(0, next_tat - now - capacity_ns_);
    if (wait > allowed_wait) {
      return reject(make_error_code(errc::rate_limited), Duration{wait}, now_point);
    }
    // Relaxed suffices: the TAT is the only shared state and guards no other memory.
    if (tat_ns_.compare_exchange_weak(tat, next_tat, relaxed, relaxed)) {
      admitted_.fetch_add(1, relaxed);
      if (wait > 0) delayed_.fetch_add(1, relaxed);
      return {{}, Duration{wait}};
    }
  }
}

RateLimiter::Admission RateLimiter::reject(std::error_code error, Duration retry_after,
                                           Clock::time_point now) noexcept {
  rejected_.fetch_add(1, relaxed);
  if (events_.has_listeners()) events_.publish({config_.name, retry_after, now});
  return {error, retry_after};
}

boost::asio::awaitable<RateLimiter::Admission> RateLimiter::async_try_acquire(
    std::uint32_t permits) {
  if (!config_.coordinator || permits == 0 || permits > config_.burst) {
    co_return try_acquire(permits);
  }
  const std::optional<Admission> shared =
      co_await config_.coordinator->acquire(permits, config_.max_wait);
  if (!shared) {
    local_fallbacks_.fetch_add(1, relaxed);
    co_return try_acquire(permits);
  }
  if (shared->error) {
    co_return reject(shared->error, shared->wait, config_.clock->coarse_now());
  }
  admitted_.fetch_add(1, relaxed);
  if (shared->wait > Duration::zero()) delayed_.fetch_add(1, relaxed);
  co_return *shared;
}

Result<void> RateLimiter::acquire(std::uint32_t permits) {
  const Admission admission = try_acquire(permits);
  if (admission.error) return admission.error;
  config_.clock->sleep_for(admission.wait);
  return ok();
}

RateLimiterStats RateLimiter::stats() const noexcept {
  const std::int64_t now = config_.clock->coarse_now().time_since_epoch().count();
  const std::int64_t ahead = std::max<std::int64_t>(0, tat_ns_.load(relaxed) - now);
  const double available =
      static_cast<double>(capacity_ns_ - ahead) / static_cast<double>(interval_ns_);
  return {admitted_.load(relaxed), delayed_.load(relaxed), rejected_.load(relaxed),
          std::max(0.0, available), local_fallbacks_.load(relaxed)};
}

Subscription RateLimiter::on_event(std::function<void(const RateLimiterEvent&)> listener) {
  return events_.subscribe(std::move(listener));
}

}  // namespace bulwark
