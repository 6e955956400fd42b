#pragma once
// "host:port" as configurations write Redis nodes (cluster seeds, sentinels): an IPv6 host in
// brackets, the port 1-65535. Throws `ConfigError` at `path`, quoting the text and saying what
// is wrong with it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::redis::detail {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

/// `default_port` is used when the text has none; without one, a missing port is an error.
[[nodiscard]] HostPort parse_host_port(std::string_view text, std::string_view path,
                                       std::optional<std::uint16_t> default_port);

}  // namespace bulwark::redis::detail
