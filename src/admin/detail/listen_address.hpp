#pragma once
// "host:port" → an endpoint. The admin endpoint listens on an IP address, never a name: what it
// exposes (health, metrics, errors) should not depend on what a name resolves to.

#include <boost/asio/ip/tcp.hpp>

#include <string_view>

namespace bulwark::detail {

/// Parses "127.0.0.1:9090", "[::1]:9090", "0.0.0.0:0". Throws `Error(invalid_argument)` naming
/// `text` and what is wrong with it.
[[nodiscard]] boost::asio::ip::tcp::endpoint parse_listen_address(std::string_view text);

}  // namespace bulwark::detail
