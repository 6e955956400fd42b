// Bulkhead::validate lives apart from the bulkhead's Asio machinery so that configuration tools
// (the config loader and its fuzz target) can use it without linking the waiters.

#include <fmt/format.h>

#include "bulwark/resilience/bulkhead.hpp"

namespace bulwark {

void Bulkhead::validate(const BulkheadConfig& config, std::vector<ConfigIssue>& issues,
                        std::string_view path) {
  const auto field = [&](std::string_view name) { return fmt::format("{}.{}", path, name); };
  if (config.max_concurrent < 1) {
    issues.push_back(
        {field("max_concurrent"), fmt::format("must be >= 1, got {}", config.max_concurrent)});
  }
  if (config.max_wait < Duration::zero()) {
    issues.push_back({field("max_wait"),
                      fmt::format("must be >= 0, got -{}", format_duration(-config.max_wait))});
  } else if (config.max_queue > 0 && config.max_wait == Duration::zero()) {
    issues.push_back({field("max_wait"), "must be > 0 when max_queue > 0, got 0"});
  }
}

}  // namespace bulwark
