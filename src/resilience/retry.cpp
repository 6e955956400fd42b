#include "bulwark/resilience/retry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace bulwark {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// Validates the whole config (backoff included) so that one ConfigError lists every bad field,
// then fills in the defaults of null members.
RetryConfig validated(RetryConfig config) {
  std::vector<ConfigIssue> issues;
  Retry::validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!config.retry_on) config.retry_on = default_retry_predicate;
  if (!config.clock) config.clock = steady_clock();
  if (!config.random) config.random = std::make_shared<Random>();
  if (!config.budget && config.budget_config) {
    config.budget = std::make_shared<RetryBudget>(*config.budget_config, config.clock);
  }
  return config;
}

}  // namespace

std::string_view to_string(RetryStop stop) noexcept {
  switch (stop) {
    case RetryStop::not_retryable:
      return "not_retryable";
    case RetryStop::attempts_exhausted:
      return "attempts_exhausted";
    case RetryStop::deadline:
      return "deadline";
    case RetryStop::budget_exhausted:
      return "budget_exhausted";
    case RetryStop::not_idempotent:
      return "not_idempotent";
    case RetryStop::retry_after_too_long:
      return "retry_after_too_long";
  }
  return "unknown";
}

Retry::Retry(RetryConfig config)
    : config_(validated(std::move(config))), backoff_(config_.backoff, config_.random) {}

void Retry::validate(const RetryConfig& config, std::vector<ConfigIssue>& issues,
                     std::string_view path) {
  if (config.max_attempts < 1) {
    issues.push_back({fmt::format("{}.max_attempts", path),
                      fmt::format("must be >= 1, got {}", config.max_attempts)});
  }
  if (config.max_duration < Duration::zero()) {
    issues.push_back({fmt::format("{}.max_duration", path),
                      fmt::format("must be >= 0, got {}", format_duration(config.max_duration))});
  }
  if (config.max_retry_after < Duration::zero()) {
    issues.push_back(
        {fmt::format("{}.max_retry_after", path),
         fmt::format("must be >= 0, got {}", format_duration(config.max_retry_after))});
  }
  Backoff::validate(config.backoff, issues, fmt::format("{}.backoff", path));
  if (config.budget_config) {
    RetryBudget::validate(*config.budget_config, issues, fmt::format("{}.budget", path));
  }
}

Retry::Call Retry::begin() noexcept {
  calls_.fetch_add(1, relaxed);
  if (config_.budget) config_.budget->record_call();
  Call call;
  if (config_.max_duration > Duration::zero()) {
    const Clock::time_point now = config_.clock->now();
    // Saturate rather than overflow for absurdly long durations.
    call.deadline_ = config_.max_duration < Clock::time_point::max() - now
                         ? now + config_.max_duration
                         : Clock::time_point::max();
  }
  call.previous_delay_ = config_.backoff.initial;
  return call;
}

Retry::Call Retry::begin(Clock::time_point outer_deadline) noexcept {
  Call call = begin();
  call.deadline_ = std::min(call.deadline_, outer_deadline);
  return call;
}

void Retry::on_attempt(Call& call) noexcept { ++call.attempts_; }

Retry::Decision Retry::on_failure(Call& call, const std::error_code& error,
                                  const CallContext& context) noexcept {
  bool retryable = false;
  try {
    retryable = config_.retry_on(error);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing predicate means "do not retry".
  }
  if (!retryable) return give_up(call, error, RetryStop::not_retryable);

  if (context.idempotency() == Idempotency::non_idempotent && context.sent()) {
    return give_up(call, error, RetryStop::not_idempotent);
  }
  if (call.attempts_ >= static_cast<std::int64_t>(config_.max_attempts)) {
    return give_up(call, error, RetryStop::attempts_exhausted);
  }

  Duration delay{};
  const std::optional<Duration> hint =
      config_.honor_retry_after ? context.retry_after() : std::nullopt;
  if (hint) {
    if (*hint > config_.max_retry_after) {
      return give_up(call, error, RetryStop::retry_after_too_long);
    }
    delay = std::max(*hint, Duration::zero());
  } else {
    delay = backoff_.delay(call.attempts_, call.previous_delay_);
  }

  if (call.deadline_ != Clock::time_point::max() && delay > call.deadline_ - config_.clock->now()) {
    return give_up(call, error, RetryStop::deadline);
  }
  if (config_.budget && !config_.budget->try_acquire_retry()) {
    budget_rejections_.fetch_add(1, relaxed);
    return give_up(call, error, RetryStop::budget_exhausted);
  }

  retries_.fetch_add(1, relaxed);
  call.previous_delay_ = delay;
  if (events_.has_listeners()) {
    events_.publish({RetryEvent::Type::retry, config_.name, call.attempts_, delay, error,
                     RetryStop::not_retryable});
  }
  return {true, delay, RetryStop::not_retryable};
}

Retry::Decision Retry::give_up(const Call& call, const std::error_code& error,
                               RetryStop stop) noexcept {
  (call.attempts_ > 1 ? failed_after_retry_ : failed_without_retry_).fetch_add(1, relaxed);
  if (events_.has_listeners()) {
    events_.publish(
        {RetryEvent::Type::gave_up, config_.name, call.attempts_, Duration::zero(), error, stop});
  }
  return {false, Duration::zero(), stop};
}

void Retry::on_success(const Call& call) noexcept {
  (call.attempts_ > 1 ? succeeded_after_retry_ : succeeded_first_try_).fetch_add(1, relaxed);
}

RetryStats Retry::stats() const noexcept {
  return {calls_.load(relaxed),
          succeeded_first_try_.load(relaxed),
          succeeded_after_retry_.load(relaxed),
          failed_without_retry_.load(relaxed),
          failed_after_retry_.load(relaxed),
          retries_.load(relaxed),
          budget_rejections_.load(relaxed)};
}

Subscription Retry::on_event(std::function<void(const RetryEvent&)> listener) {
  return events_.subscribe(std::move(listener));
}

}  // namespace bulwark
