#include "redis/detail/host_port.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>

#include <charconv>

namespace bulwark::redis::detail {

HostPort parse_host_port(std::string_view text, std::string_view path,
                         std::optional<std::uint16_t> default_port) {
  auto bad = [&](std::string_view why) {
    return ConfigError(std::string(path),
                       fmt::format("{} in \"{}\" (expected host:port)", why, text));
  };
  HostPort endpoint{.host = {}, .port = default_port.value_or(0)};
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
  if (port.empty() && !default_port) throw bad("missing port");
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

}  // namespace bulwark::redis::detail
