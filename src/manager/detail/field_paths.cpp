#include "manager/detail/field_paths.hpp"

#include <fmt/format.h>

#include <array>

namespace bulwark::detail {
namespace {

struct Rename {
  std::string_view field;  // a field, or a prefix of fields ending at a '.'
  std::string_view key;    // its YAML spelling; empty drops the prefix
};

// Longest first where one is a prefix of another.
constexpr std::array<Rename, 10> http_renames = {{
    {"base_url", "url"},
    {"timeouts.total", "timeout"},
    {"timeouts.connect", "pool.connect_timeout"},
    {"timeouts.read", "pool.read_timeout"},
    {"timeouts.write", "pool.write_timeout"},
    {"timeouts.pool", "pool.pool_timeout"},
    {"auth.header_name", "auth.header"},
    {"tls.verify_peer", "tls.verify"},
    {"redirects.max_redirects", "redirects.max"},
    {"rate_limiter", "rate_limit"},
}};

constexpr std::array<Rename, 6> redis_renames = {{
    {"connection.database", "db"},
    {"sentinel.master_name", "sentinel.master"},
    {"sentinel.tls.verify_peer", "sentinel.tls.verify"},
    {"connection.tls.verify_peer", "tls.verify"},
    {"connection", ""},
    {"rate_limiter", "rate_limit"},
}};

// `field` is `prefix` or starts with `prefix.`; returns what follows the prefix ("" or ".x").
std::optional<std::string_view> after_prefix(std::string_view field, std::string_view prefix) {
  if (!field.starts_with(prefix)) return std::nullopt;
  const std::string_view rest = field.substr(prefix.size());
  if (!rest.empty() && rest.front() != '.') return std::nullopt;
  return rest;
}

}  // namespace

std::string yaml_field(ClientKind kind, std::string_view field) {
  const auto renames = kind == ClientKind::http ? std::span<const Rename>(http_renames)
                                                : std::span<const Rename>(redis_renames);
  for (const Rename& rename : renames) {
    if (const auto rest = after_prefix(field, rename.field)) {
      if (rename.key.empty()) return std::string(rest->empty() ? *rest : rest->substr(1));
      return fmt::format("{}{}", rename.key, *rest);
    }
  }
  return std::string(field);
}

std::string locate(ClientKind kind, std::string_view field, const Origins* origins,
                   std::string_view fallback) {
  if (origins != nullptr) {
    if (const auto found = origins->find(field); found != origins->end()) return found->second;
  }
  const std::string key = yaml_field(kind, field);
  if (key.empty()) return std::string(fallback);
  return fmt::format("{}.{}", fallback, key);
}

}  // namespace bulwark::detail
