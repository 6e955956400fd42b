// The Sentinel configuration's parsing and validation live apart from discovery so that
// configuration tools (the config loader and its fuzz target) can use them without linking
// connections and Asio.

#include "bulwark/redis/sentinel.hpp"

#include "redis/detail/host_port.hpp"

#include <fmt/format.h>

#include <charconv>

namespace bulwark::redis {

std::string to_string(const Endpoint& endpoint) {
  if (endpoint.host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", endpoint.host, endpoint.port);
  }
  return fmt::format("{}:{}", endpoint.host, endpoint.port);
}

Endpoint parse_sentinel_node(std::string_view text, std::string_view path) {
  detail::HostPort parsed = detail::parse_host_port(text, path, 26379);
  return Endpoint{.host = std::move(parsed.host), .port = parsed.port};
}

void validate(const SentinelConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  auto issue = [&](std::string field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  if (config.master_name.empty())
    issue("master_name", "is required (the name the sentinels monitor)");
  if (config.master_name.find_first_of(" \t\r\n") != std::string::npos) {
    issue("master_name", fmt::format("must not contain spaces, got \"{}\"", config.master_name));
  }
  if (config.nodes.empty()) issue("nodes", "must list at least one sentinel (host:port)");
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    const Endpoint& node = config.nodes[i];
    if (node.host.empty()) issue(fmt::format("nodes[{}]", i), "missing host");
    if (node.port == 0) issue(fmt::format("nodes[{}]", i), "port must be 1-65535, got 0");
  }
  if (config.timeout <= Duration::zero()) {
    issue("timeout", fmt::format("must be > 0, got {}", format_duration(config.timeout)));
  }
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    issue("tls.key_file", "a client certificate needs both cert_file and key_file");
  }
}

}  // namespace bulwark::redis
