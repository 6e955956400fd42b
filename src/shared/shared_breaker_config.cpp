#include "bulwark/shared/shared_breaker_config.hpp"

#include <fmt/format.h>

namespace bulwark::shared {

void validate(const SharedBreakerConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  const auto bad = [&](std::string_view field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  if (config.name.empty()) bad("name", "must not be empty");
  if (config.probing_instances < 1) {
    bad("probing_instances", fmt::format("must be >= 1, got {}", config.probing_instances));
  }
  if (config.probe_lease < Duration::zero()) {
    bad("probe_lease", fmt::format("must be >= 0, got {}", format_duration(config.probe_lease)));
  } else if (config.probe_lease > Duration::zero() &&
             config.probe_lease < std::chrono::seconds(1)) {
    // Slots are leased in whole seconds' worth of Redis expiry at least: a shorter lease would be
    // raised without a word.
    bad("probe_lease", fmt::format("must be 0 (derived from the breaker) or at least 1s, got {}",
                                   format_duration(config.probe_lease)));
  }
  if (config.instance_id.find('|') != std::string::npos) {
    bad("instance_id", "must not contain '|'");
  }
  for (char c : config.channel) {
    if (static_cast<unsigned char>(c) < 0x21) {
      bad("channel", "must not contain spaces or control characters");
      break;
    }
  }
}

}  // namespace bulwark::shared
