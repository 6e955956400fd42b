#include "http/detail/url.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/url.hpp>

namespace bulwark::http::detail {
namespace {

[[noreturn]] void reject(std::string_view what) {
  throw Error(make_error_code(errc::invalid_argument), {}, std::string(what));
}

// What may be shown of a URL the caller gave: never its query or credentials.
std::string shown(std::string_view url) {
  const auto cut = url.find_first_of("?#");
  std::string text(url.substr(0, cut));
  const auto at = text.find('@');
  const auto scheme_end = text.find("://");
  if (at != std::string::npos && scheme_end != std::string::npos && at > scheme_end) {
    text.erase(scheme_end + 3, at - scheme_end - 2);
  }
  return text;
}

Target from_absolute(const boost::urls::url& url, std::string_view original) {
  Target result;
  const auto scheme = url.scheme_id();
  if (scheme == boost::urls::scheme::https) {
    result.origin.tls = true;
  } else if (scheme != boost::urls::scheme::http) {
    reject(fmt::format("URL '{}': scheme must be http or https", shown(original)));
  }
  if (url.has_userinfo()) {
    reject(fmt::format("URL '{}': credentials in URLs are not sent; configure auth instead",
                       shown(original)));
  }
  if (url.host_type() == boost::urls::host_type::ipv6) {
    result.origin.host = url.host_address();
  } else {
    result.origin.host = url.host();
  }
  if (result.origin.host.empty()) reject(fmt::format("URL '{}' has no host", shown(original)));
  if (url.has_port()) {
    if (url.port_number() == 0) {
      reject(fmt::format("URL '{}': port must be 1-65535", shown(original)));
    }
    result.origin.port = url.port_number();
  } else {
    result.origin.port = result.origin.tls ? 443 : 80;
  }
  result.target = std::string(url.encoded_target());
  if (result.target.empty() || result.target.front() != '/') {
    result.target = "/" + result.target;  // (insert(0, "/") trips a GCC 12 -O3 false warning)
  }
  result.display = fmt::format("{}://{}{}", result.origin.tls ? "https" : "http",
                               result.origin.host_header(), std::string(url.encoded_path()));
  return result;
}

boost::urls::url parse_absolute(std::string_view text, std::string_view what) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) {
    reject(fmt::format("{} '{}' is not a valid absolute URL: {}", what, shown(text),
                       parsed.error().message()));
  }
  return boost::urls::url(*parsed);
}

}  // namespace

std::string Origin::key() const {
  return fmt::format("{}://{}:{}", tls ? "https" : "http",
                     host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
}

std::string Origin::host_header() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) name += fmt::format(":{}", port);
  return name;
}

Target resolve_target(std::string_view base_url, std::string_view url,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  boost::urls::url full;
  // "scheme://" before any path, query or fragment ("/next?to=http://x" is relative).
  const auto scheme_end = url.find("://");
  const bool absolute =
      scheme_end != std::string_view::npos && url.find_first_of("/?#") > scheme_end;
  if (absolute) {
    full = parse_absolute(url, "URL");
  } else {
    if (base_url.empty()) {
      reject(fmt::format("URL '{}' is relative and the client has no base_url", shown(url)));
    }
    const boost::urls::url base = parse_absolute(base_url, "base_url");
    if (base.has_query() || base.has_fragment()) {
      reject(fmt::format("base_url '{}' must not have a query or fragment", shown(base_url)));
    }
    // Relative URLs extend the base URL's path ("/v1" + "/embeddings"), as service clients
    // expect, rather than replacing it as RFC 3986 reference resolution would.
    std::string joined(base.buffer());
    while (!joined.empty() && joined.back() == '/') joined.pop_back();
    if (url.empty() || url.front() != '/') joined.push_back('/');
    joined += url;
    full = parse_absolute(joined, "URL");
  }
  full.remove_fragment();
  // Only unreserved characters go unencoded: '+' would read as a space to the many servers
  // that decode queries as form data, and '&', '=' would split the parameter.
  for (const auto& [name, value] : query) {
    const std::string encoded_name = boost::urls::encode(name, boost::urls::unreserved_chars);
    const std::string encoded_value = boost::urls::encode(value, boost::urls::unreserved_chars);
    full.encoded_params().append(boost::urls::param_pct_view(encoded_name, encoded_value));
  }
  return from_absolute(full, absolute ? url : base_url);
}

Target resolve_redirect(const Target& from, std::string_view location) {
  auto reference = boost::urls::parse_uri_reference(location);
  if (!reference) {
    throw Error(make_error_code(errc::protocol_error), {},
                fmt::format("{} redirected to an invalid Location", from.display));
  }
  boost::urls::url base =
      parse_absolute(fmt::format("{}://{}{}", from.origin.tls ? "https" : "http",
                                 from.origin.host_header(), from.target),
                     "URL");
  boost::urls::url next;
  const auto resolved = boost::urls::resolve(base, *reference, next);
  if (!resolved) {
    throw Error(make_error_code(errc::protocol_error), {},
                fmt::format("{} redirected to a Location that cannot be resolved", from.display));
  }
  next.remove_fragment();
  return from_absolute(next, next.buffer());
}

}  // namespace bulwark::http::detail
