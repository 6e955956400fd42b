#include "bulwark/cache/ttl_lru_cache.hpp"

#include <fmt/format.h>

namespace bulwark {

double CacheStats::hit_rate() const noexcept {
  const std::uint64_t lookups = hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

void validate(const CacheConfig& config, std::vector<ConfigIssue>& issues, std::string_view path) {
  if (config.max_entries < 1) {
    issues.push_back({fmt::format("{}.max_entries", path), "must be >= 1, got 0"});
  }
  if (config.ttl < Duration::zero()) {
    issues.push_back({fmt::format("{}.ttl", path), "must be >= 0 (0 = entries never expire)"});
  }
}

}  // namespace bulwark
