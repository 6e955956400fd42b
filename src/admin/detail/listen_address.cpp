#include "admin/detail/listen_address.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/asio/ip/address.hpp>

#include <charconv>
#include <string>

namespace bulwark::detail {
namespace {

[[noreturn]] void invalid(std::string_view text, std::string_view why) {
  throw Error(make_error_code(errc::invalid_argument), {},
              fmt::format("admin listen address '{}': {}", text, why));
}

}  // namespace

boost::asio::ip::tcp::endpoint parse_listen_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) invalid(text, "expected host:port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    invalid(text, "write an IPv6 address in brackets, as [::1]:9090");
  }
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc{} || end != port_text.data() + port_text.size() ||
      port > 65535) {
    invalid(text, "the port must be a number from 0 to 65535");
  }
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) invalid(text, "the host must be an IP address (127.0.0.1, 0.0.0.0, [::1])");
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace bulwark::detail
