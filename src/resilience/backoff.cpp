#include "bulwark/resilience/backoff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace bulwark {
namespace {

bool valid_type(BackoffType type) noexcept {
  return type == BackoffType::constant || type == BackoffType::linear ||
         type == BackoffType::exponential;
}

bool valid_jitter(Jitter jitter) noexcept {
  return jitter == Jitter::none || jitter == Jitter::full || jitter == Jitter::equal ||
         jitter == Jitter::decorrelated;
}

// `d * 3` without overflowing: delays near the representable maximum saturate.
Duration saturating_triple(Duration d) noexcept {
  constexpr auto limit = std::numeric_limits<Duration::rep>::max() / 3;
  return d.count() > limit ? Duration::max() : d * 3;
}

}  // namespace

Backoff::Backoff(BackoffConfig config, std::shared_ptr<Random> random)
    : config_(config), random_(std::move(random)) {
  std::vector<ConfigIssue> issues;
  validate(config_, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!random_) random_ = std::make_shared<Random>();
}

void Backoff::validate(const BackoffConfig& config, std::vector<ConfigIssue>& issues,
                       std::string_view path) {
  const auto field = [&](std::string_view name) { return fmt::format("{}.{}", path, name); };
  if (!valid_type(config.type)) {
    issues.push_back({field("type"), fmt::format("must be constant, linear or exponential, got {}",
                                                 static_cast<int>(config.type))});
  }
  if (!valid_jitter(config.jitter)) {
    issues.push_back(
        {field("jitter"), fmt::format("must be none, full, equal or decorrelated, got {}",
                                      static_cast<int>(config.jitter))});
  }
  if (config.initial < Duration::zero()) {
    issues.push_back(
        {field("initial"), fmt::format("must be >= 0, got {}", format_duration(config.initial))});
  } else if (config.initial == Duration::zero() && config.jitter == Jitter::decorrelated) {
    issues.push_back({field("initial"), "must be > 0 with decorrelated jitter, got 0s"});
  }
  if (!(config.multiplier >= 1.0) || !std::isfinite(config.multiplier)) {
    issues.push_back({field("multiplier"), fmt::format("must be >= 1, got {}", config.multiplier)});
  }
  if (config.max < config.initial || config.max < Duration::zero()) {
    issues.push_back(
        {field("max"), fmt::format("must be >= initial ({}), got {}",
                                   format_duration(config.initial), format_duration(config.max))});
  }
}

Duration Backoff::base_delay(int retry) const noexcept {
  const Duration initial = config_.initial;
  const Duration cap = config_.max;
  const auto n = static_cast<std::int64_t>(std::max(retry, 1));
  switch (config_.type) {
    case BackoffType::constant:
      return std::min(initial, cap);
    case BackoffType::linear:
      // Compare before multiplying so that a large retry number cannot overflow.
      if (initial.count() != 0 && n > cap.count() / initial.count()) return cap;
      return std::min(initial * n, cap);
    case BackoffType::exponential: {
      if (initial == Duration::zero()) return initial;  // 0 * inf would be NaN below.
      // In floating point the product saturates to infinity instead of wrapping; any value at or
      // beyond the cap (including infinity) is the cap.
      const double scaled = static_cast<double>(initial.count()) *
                            std::pow(config_.multiplier, static_cast<double>(n - 1));
      if (!(scaled < static_cast<double>(cap.count()))) return cap;
      return Duration{static_cast<Duration::rep>(scaled)};
    }
  }
  return cap;
}

Duration Backoff::delay(int retry, Duration previous) const noexcept {
  const Duration cap = config_.max;
  switch (config_.jitter) {
    case Jitter::none:
      return base_delay(retry);
    case Jitter::full:
      return random_->between(Duration::zero(), base_delay(retry));
    case Jitter::equal: {
      const Duration base = base_delay(retry);
      const Duration half = base / 2;
      return half + random_->between(Duration::zero(), base - half);
    }
    case Jitter::decorrelated: {
      // `between` returns `initial` when the upper bound is below it (e.g. previous == 0).
      const Duration drawn = random_->between(
          config_.initial, saturating_triple(std::max(previous, Duration::zero())));
      return std::min(drawn, cap);
    }
  }
  return base_delay(retry);
}

}  // namespace bulwark
