#include "bulwark/resilience/shared_state.hpp"

#include <fmt/format.h>

namespace bulwark {

void validate(const SharedStateConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  if (config.key_prefix.empty()) {
    issues.push_back({fmt::format("{}.key_prefix", path), "must not be empty"});
  }
  if (config.timeout <= Duration::zero()) {
    issues.push_back({fmt::format("{}.timeout", path),
                      fmt::format("must be > 0, got {}", format_duration(config.timeout))});
  }
  if (!(config.fallback_rate >= 0.0 && config.fallback_rate <= 1e9)) {  // false for NaN
    issues.push_back(
        {fmt::format("{}.fallback_rate", path),
         fmt::format("must be >= 0 and <= 1e9 permits per second, got {}", config.fallback_rate)});
  }
  if (config.sync_interval <= Duration::zero()) {
    issues.push_back({fmt::format("{}.sync_interval", path),
                      fmt::format("must be > 0, got {}", format_duration(config.sync_interval))});
  }
}

}  // namespace bulwark
