#include "manager/detail/policy_sections.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace bulwark::detail {
namespace {

constexpr std::array<Named<BackoffType>, 3> backoff_types = {{
    {"constant", BackoffType::constant},
    {"linear", BackoffType::linear},
    {"exponential", BackoffType::exponential},
}};

constexpr std::array<Named<Jitter>, 4> jitters = {{
    {"none", Jitter::none},
    {"full", Jitter::full},
    {"equal", Jitter::equal},
    {"decorrelated", Jitter::decorrelated},
}};

constexpr std::array<Named<WindowType>, 2> window_types = {{
    {"count_based", WindowType::count_based},
    {"time_based", WindowType::time_based},
}};

std::optional<bool> switch_value(std::string_view text) {
  std::string spelled(text);
  for (char& c : spelled) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (spelled == "on" || spelled == "true" || spelled == "yes") return true;
  if (spelled == "off" || spelled == "false" || spelled == "no") return false;
  return std::nullopt;
}

// A policy section: a switch, or a map of fields read by `read_fields` over the inherited
// settings (or the library's defaults when nothing was inherited).
template <class Config, class ReadFields>
void read_switchable(YamlMap& parent, std::string_view key, std::string_view field,
                     std::optional<Config>& target, ReadFields read_fields) {
  const YAML::Node node = parent.get(key);
  if (!node.IsDefined()) return;
  if (node.IsScalar()) {
    const std::optional<ScalarValue> value = parent.scalar(key, field);
    if (!value) return;
    const std::optional<bool> on = switch_value(value->value);
    if (!on) {
      parent.context().add_issue(
          parent.path_of(key),
          fmt::format("expected a map of settings, or on/off; got {}", value->shown));
    } else if (!*on) {
      target.reset();
    } else if (!target) {
      target.emplace();
    }
    return;
  }
  YamlMap section = parent.map(key, field);
  bool enabled = true;
  section.boolean("enabled", enabled);
  Config settings = target ? *target : Config{};
  read_fields(section, settings);
  section.finish();
  if (enabled) {
    target = std::move(settings);
  } else {
    target.reset();
  }
}

// `shared` of a rate limit or retry budget: a switch, or a map of the settings.
void read_shared_state(YamlMap& section, SharedStateConfig& shared) {
  section.string("database", shared.database);
  section.string("key_prefix", shared.key_prefix);
  section.duration("timeout", shared.timeout);
  section.duration("sync_interval", shared.sync_interval);
  section.number("fallback_rate", shared.fallback_rate);
}

void read_budget(YamlMap& section, RetryBudgetConfig& budget) {
  section.number("ratio", budget.ratio);
  section.integer("min_retries_per_second", budget.min_retries_per_second);
  section.duration("window", budget.window);
  read_switchable(section, "shared", "retry.budget.shared", budget.shared, read_shared_state);
}

void read_retry(YamlMap& section, RetryConfig& retry) {
  section.integer("max_attempts", retry.max_attempts);
  section.duration("max_duration", retry.max_duration);
  YamlMap backoff = section.map("backoff");
  backoff.choice("type", retry.backoff.type, backoff_types);
  backoff.duration("initial", retry.backoff.initial);
  backoff.number("multiplier", retry.backoff.multiplier);
  backoff.duration("max", retry.backoff.max);
  backoff.choice("jitter", retry.backoff.jitter, jitters);
  backoff.finish();
  section.boolean("honor_retry_after", retry.honor_retry_after);
  section.duration("max_retry_after", retry.max_retry_after);
  read_switchable(section, "budget", "retry.budget", retry.budget_config, read_budget);
}

void read_circuit_breaker(YamlMap& section, CircuitBreakerConfig& breaker) {
  section.choice("window_type", breaker.window_type, window_types);
  section.integer("window_size", breaker.window_size);
  section.duration("window_duration", breaker.window_duration);
  section.integer("window_buckets", breaker.window_buckets);
  section.integer("minimum_calls", breaker.minimum_calls);
  section.fraction("failure_rate_threshold", breaker.failure_rate_threshold);
  section.duration("slow_call_duration", breaker.slow_call_duration);
  section.fraction("slow_call_rate_threshold", breaker.slow_call_rate_threshold);
  section.integer("consecutive_failures", breaker.consecutive_failures);
  section.duration("recovery_timeout", breaker.recovery_timeout);
  section.number("recovery_backoff", breaker.recovery_backoff);
  section.duration("max_recovery_timeout", breaker.max_recovery_timeout);
  section.fraction("recovery_jitter", breaker.recovery_jitter);
  section.integer("half_open_permitted_calls", breaker.half_open_permitted_calls);
  section.integer("half_open_success_threshold", breaker.half_open_success_threshold);
  section.duration("max_half_open_duration", breaker.max_half_open_duration);
}

// `shared` of a circuit breaker, like that of a rate limit or retry budget: a switch, or a map
// of the settings.
void read_shared_breaker(YamlMap& section, SharedBreakerSettings& settings) {
  section.string("database", settings.database);
  section.string("key_prefix", settings.breaker.key_prefix);
  section.string("channel", settings.breaker.channel);
  section.integer("probing_instances", settings.breaker.probing_instances);
  section.duration("probe_lease", settings.breaker.probe_lease);
  section.string("instance_id", settings.breaker.instance_id);
}

void read_bulkhead(YamlMap& section, BulkheadConfig& bulkhead) {
  section.integer("max_concurrent", bulkhead.max_concurrent);
  section.integer("max_queue", bulkhead.max_queue);
  section.duration("max_wait", bulkhead.max_wait);
}

void read_rate_limit(YamlMap& section, RateLimiterConfig& limiter) {
  section.number("rate", limiter.rate);
  section.integer("burst", limiter.burst);
  section.duration("max_wait", limiter.max_wait);
  read_switchable(section, "shared", "rate_limiter.shared", limiter.shared, read_shared_state);
}

}  // namespace

void read_policies(YamlMap& section, std::optional<RetryConfig>& retry,
                   std::optional<CircuitBreakerConfig>& circuit_breaker,
                   std::optional<BulkheadConfig>& bulkhead,
                   std::optional<RateLimiterConfig>& rate_limiter,
                   std::optional<SharedBreakerSettings>* shared) {
  read_switchable(section, "retry", "retry", retry, read_retry);
  read_switchable(section, "circuit_breaker", "circuit_breaker", circuit_breaker,
                  [shared](YamlMap& breaker_section, CircuitBreakerConfig& breaker) {
                    read_circuit_breaker(breaker_section, breaker);
                    if (shared != nullptr) {
                      read_switchable(breaker_section, "shared", "circuit_breaker.shared", *shared,
                                      read_shared_breaker);
                    }
                  });
  read_switchable(section, "bulkhead", "bulkhead", bulkhead, read_bulkhead);
  read_switchable(section, "rate_limit", "rate_limiter", rate_limiter, read_rate_limit);
}

Policies read_defaults(LoadContext& context, const YAML::Node& node) {
  Policies policies;
  YamlMap section(context, node, "defaults", &policies.origins);
  Duration timeout{};
  if (section.duration("timeout", timeout)) policies.timeout = timeout;
  read_policies(section, policies.retry, policies.circuit_breaker, policies.bulkhead,
                policies.rate_limiter);
  section.finish();
  return policies;
}

}  // namespace bulwark::detail
