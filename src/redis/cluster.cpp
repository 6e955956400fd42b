// Key slots and the cluster configuration. Kept apart from the router so that configuration tools
// (the config loader and its fuzz target) can use them without linking connections and Asio.
#include "bulwark/redis/cluster.hpp"

#include "redis/detail/host_port.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

namespace bulwark::redis {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t crc = byte << 8U;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000U) != 0 ? (crc << 1U) ^ 0x1021U : crc << 1U;
    }
    table[byte] = static_cast<std::uint16_t>(crc & 0xFFFFU);
  }
  return table;
}

constexpr std::array<std::uint16_t, 256> crc_table = make_crc_table();

}  // namespace

std::string_view hash_tag(std::string_view key) noexcept {
  const std::size_t open = key.find('{');
  if (open == std::string_view::npos) return key;
  const std::size_t close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

std::uint16_t crc16(std::string_view bytes) noexcept {
  std::uint16_t crc = 0;
  for (const char c : bytes) {
    const auto index = static_cast<std::uint8_t>((crc >> 8U) ^ static_cast<std::uint8_t>(c));
    crc = static_cast<std::uint16_t>((crc << 8U) ^ crc_table[index]);
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) noexcept {
  return static_cast<std::uint16_t>(crc16(hash_tag(key)) % cluster_slot_count);
}

NodeAddress NodeAddress::parse(std::string_view text, std::string_view path) {
  detail::HostPort parsed = detail::parse_host_port(text, path, std::nullopt);
  return NodeAddress{std::move(parsed.host), parsed.port};
}

std::string NodeAddress::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

void validate(const ClusterConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  if (config.nodes.empty()) {
    issues.push_back({fmt::format("{}.nodes", path), "must list at least one host:port"});
  }
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    const std::string node_path = fmt::format("{}.nodes[{}]", path, i);
    try {
      (void)NodeAddress::parse(config.nodes[i], node_path);
    } catch (const ConfigError& error) {
      for (const ConfigIssue& issue : error.issues()) issues.push_back(issue);
    }
  }
  if (config.max_redirects == 0) {
    issues.push_back({fmt::format("{}.max_redirects", path), "must be >= 1, got 0"});
  }
  if (config.refresh_interval < Duration::zero()) {
    issues.push_back(
        {fmt::format("{}.refresh_interval", path),
         fmt::format("must be >= 0, got {}", format_duration(config.refresh_interval))});
  }
  if (config.retry_window < Duration::zero()) {
    issues.push_back({fmt::format("{}.retry_window", path),
                      fmt::format("must be >= 0, got {}", format_duration(config.retry_window))});
  }
}

}  // namespace bulwark::redis
