#include "bulwark/resilience/pipeline.hpp"

#include <utility>
#include <vector>

namespace bulwark {
namespace {

// Builds one strategy, collecting its configuration problems instead of stopping at the first
// strategy that has any, so the caller hears about all of them at once.
template <class Strategy, class Config>
std::shared_ptr<Strategy> build(std::optional<Config>& config, std::vector<ConfigIssue>& issues) {
  if (!config) return nullptr;
  try {
    return std::make_shared<Strategy>(std::move(*config));
  } catch (const ConfigError& error) {
    issues.insert(issues.end(), error.issues().begin(), error.issues().end());
    return nullptr;
  }
}

template <class Config>
void inherit(std::optional<Config>& config, const PipelineConfig& pipeline) {
  if (!config) return;
  if (config->name.empty()) config->name = pipeline.name;
  if (!config->clock) config->clock = pipeline.clock;
}

template <class Config>
void inherit_random(std::optional<Config>& config, const PipelineConfig& pipeline) {
  if (config && !config->random) config->random = pipeline.random;
}

void check_timeouts(const TimeoutConfig& timeout, std::vector<ConfigIssue>& issues) {
  if (timeout.attempt < Duration::zero()) {
    issues.push_back(
        {"timeout.attempt", "must not be negative, got " + format_duration(timeout.attempt)});
  }
  if (timeout.overall < Duration::zero()) {
    issues.push_back(
        {"timeout.overall", "must not be negative, got " + format_duration(timeout.overall)});
  }
}

}  // namespace

Pipeline::Pipeline(PipelineConfig config)
    : name_(config.name),
      clock_(config.clock ? config.clock : steady_clock()),
      timeout_(config.timeout) {
  config.clock = clock_;
  inherit(config.retry, config);
  inherit(config.circuit_breaker, config);
  inherit(config.rate_limiter, config);
  inherit_random(config.retry, config);
  inherit_random(config.circuit_breaker, config);
  if (config.bulkhead && config.bulkhead->name.empty()) config.bulkhead->name = config.name;

  std::vector<ConfigIssue> issues;
  retry_ = build<Retry>(config.retry, issues);
  breaker_ = build<CircuitBreaker>(config.circuit_breaker, issues);
  limiter_ = build<RateLimiter>(config.rate_limiter, issues);
  bulkhead_ = build<Bulkhead>(config.bulkhead, issues);
  finish_construction(std::move(issues));
}

Pipeline::Pipeline(std::string name, PipelineParts parts, std::shared_ptr<Clock> clock)
    : name_(std::move(name)),
      clock_(clock ? std::move(clock) : steady_clock()),
      retry_(std::move(parts.retry)),
      breaker_(std::move(parts.circuit_breaker)),
      limiter_(std::move(parts.rate_limiter)),
      bulkhead_(std::move(parts.bulkhead)),
      timeout_(parts.timeout) {
  finish_construction({});
}

void Pipeline::finish_construction(std::vector<ConfigIssue> issues) {
  check_timeouts(timeout_, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  timed_ = timeout_.attempt > Duration::zero() || (breaker_ && breaker_->measures_duration());
}

Result<Pipeline::Gate> Pipeline::enter(bool coordinated_limiter) noexcept {
  Gate gate;
  if (breaker_) {
    Result<CircuitBreaker::Permit> permit = breaker_->try_acquire();
    if (!permit) return permit.error();
    gate.permit = *permit;
    gate.has_permit = true;
  }
  if (limiter_ && !coordinated_limiter) {
    const RateLimiter::Admission admission = limiter_->try_acquire();
    if (admission.error) {
      abandon(gate);
      return admission.error;
    }
    gate.limiter_wait = admission.wait;
  }
  return gate;
}

void Pipeline::leave(const Gate& gate, const std::error_code& error, Duration elapsed) noexcept {
  if (!gate.has_permit) return;
  if (!error) {
    breaker_->on_success(gate.permit, elapsed);
    return;
  }
  // A classifier that throws must not leave a probe slot taken: count it as a failure.
  Verdict verdict = Verdict::failure;
  try {
    verdict = breaker_->classify(error);
  } catch (...) {  // NOLINT(bugprone-empty-catch)
  }
  breaker_->on_result(gate.permit, verdict, elapsed);
}

void Pipeline::abandon(const Gate& gate) noexcept {
  if (gate.has_permit) breaker_->on_ignored(gate.permit);
}

Clock::time_point Pipeline::overall_deadline() const noexcept {
  if (timeout_.overall <= Duration::zero()) return Clock::time_point::max();
  return clock_->now() + timeout_.overall;
}

void Pipeline::count(const std::error_code& error, bool fell_back) noexcept {
  if (fell_back) {
    fallbacks_.fetch_add(1, std::memory_order_relaxed);
  } else if (!error) {
    succeeded_.fetch_add(1, std::memory_order_relaxed);
  } else if (error == condition::rejected) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
  } else {
    failed_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::error_code Pipeline::reject_if_open() noexcept {
  if (!breaker_) return {};
  const BreakerState state = breaker_->state();
  const bool waiting = state == BreakerState::forced_open ||
                       (state == BreakerState::open &&
                        breaker_->remaining_open_time() > Duration::zero());  // else a probe is due
  if (!waiting) return {};
  Result<CircuitBreaker::Permit> permit = breaker_->try_acquire();
  if (permit) {
    // Half-open in between: the call goes the usual way and takes its own permit.
    breaker_->on_ignored(*permit);
    return {};
  }
  count(permit.error(), false);
  return permit.error();
}

PipelineStats Pipeline::stats() const noexcept {
  return {succeeded_.load(std::memory_order_relaxed), failed_.load(std::memory_order_relaxed),
          rejected_.load(std::memory_order_relaxed), fallbacks_.load(std::memory_order_relaxed)};
}

void Pipeline::throw_failure(const std::error_code& error, const CallContext& context) const {
  throw_error(error, ErrorContext{name_, std::string(context.operation()), context.attempt()});
}

}  // namespace bulwark
