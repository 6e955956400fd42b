#pragma once
// Turning a request's URL (absolute, or relative to the client's base URL) plus its query
// parameters into the origin to connect to and the request target to send.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::http::detail {

struct Origin {
  bool tls = false;
  std::string host;  // As in the URL; IPv6 literals without brackets.
  std::uint16_t port = 0;

  // "https://host:443": the pool's key, also used in statistics.
  [[nodiscard]] std::string key() const;
  // The Host header: the host, with the port unless it is the scheme's default.
  [[nodiscard]] std::string host_header() const;
  friend bool operator==(const Origin&, const Origin&) = default;
};

struct Target {
  Origin origin;
  std::string target;       // origin-form: "/path?query"
  std::string display;      // "https://host:port/path": for errors and Response::url (no query)
  std::string host_header;  // origin.host_header()
};

// A client's base URL, parsed once: relative request URLs are joined to it without parsing it
// again.
struct BaseUrl {
  std::string text;  // As configured; empty = none.
  Origin origin;
  std::string path;     // Encoded, without a trailing '/'.
  std::string display;  // "https://host:port"
  std::string host_header;
};

// Throws `Error(invalid_argument)` as `resolve_target` does, and for a base URL with a query or
// fragment.
[[nodiscard]] BaseUrl parse_base_url(std::string_view base_url);

// Throws `Error(invalid_argument)` naming what is wrong: a URL that does not parse, a scheme
// other than http/https, no host, credentials in the URL, a relative URL without a base.
[[nodiscard]] Target resolve_target(const BaseUrl& base, std::string_view url,
                                    const std::vector<std::pair<std::string, std::string>>& query);
[[nodiscard]] Target resolve_target(std::string_view base_url, std::string_view url,
                                    const std::vector<std::pair<std::string, std::string>>& query);

// The target of a redirect's `Location` (absolute or relative to `from`).
[[nodiscard]] Target resolve_redirect(const Target& from, std::string_view location);

}  // namespace bulwark::http::detail
