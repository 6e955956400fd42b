// The Sentinel configuration's parsing and validation live apart from discovery so that
// configuration tools (the config loader and its fuzz target) can use them without linking
// connections and Asio.

#include "bulwark/redis/sentinel.hpp"

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
  auto bad = [&](std::string_view why) {
    return ConfigError(std::string(path),
                       fmt::format("{} in \"{}\" (expected host:port)", why, text));
  };
  Endpoint endpoint{.host = {}, .port = 26379};
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) throw bad("unclosed '['");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw bad("unexpected text after ']'");
      port = rest.substr(1);
      if (port.empty()) throw bad("missing port");
    }
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) throw bad("an IPv6 address needs brackets");
    if (port.empty()) throw bad("missing port");
  }
  if (host.empty()) throw bad("missing host");
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) throw bad("invalid host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size()) throw bad("port is not a number");
    if (value == 0 || value > 65535) throw bad(fmt::format("port {} is out of range", value));
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  endpoint.host = std::string(host);
  return endpoint;
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
