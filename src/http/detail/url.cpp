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
  result.host_header = result.origin.host_header();
  result.display = fmt::format("{}://{}{}", result.origin.tls ? "https" : "http",
                               result.host_header, std::string(url.encoded_path()));
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

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Only the characters RFC 3986 allows in a path and query (pchar, '/', '?'), with well-formed
// percent-encodings, and no fragment: such a URL needs no parser to be joined to a base URL.
bool is_plain_reference(std::string_view url) noexcept {
  // Unreserved marks, sub-delims, and ':', '@', '/', '?'.
  constexpr std::string_view marks = "-._~!$&'()*+,;=:@/?";
  for (std::size_t i = 0; i < url.size(); ++i) {
    const char c = url[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (marks.find(c) != std::string_view::npos) continue;
    if (c == '%' && i + 2 < url.size() && is_hex(url[i + 1]) && is_hex(url[i + 2])) {
      i += 2;
      continue;
    }
    return false;
  }
  return true;
}

bool is_absolute(std::string_view url) noexcept {
  // "scheme://" before any path, query or fragment ("/next?to=http://x" is relative).
  const auto scheme_end = url.find("://");
  return scheme_end != std::string_view::npos && url.find_first_of("/?#") > scheme_end;
}

void append_query(boost::urls::url& full,
                  const std::vector<std::pair<std::string, std::string>>& query) {
  // Only unreserved characters go unencoded: '+' would read as a space to the many servers
  // that decode queries as form data, and '&', '=' would split the parameter.
  for (const auto& [name, value] : query) {
    const std::string encoded_name = boost::urls::encode(name, boost::urls::unreserved_chars);
    const std::string encoded_value = boost::urls::encode(value, boost::urls::unreserved_chars);
    full.encoded_params().append(boost::urls::param_pct_view(encoded_name, encoded_value));
  }
}

}  // namespace

BaseUrl parse_base_url(std::string_view base_url) {
  BaseUrl base;
  if (base_url.empty()) return base;
  const boost::urls::url parsed = parse_absolute(base_url, "base_url");
  if (parsed.has_query() || parsed.has_fragment()) {
    reject(fmt::format("base_url '{}' must not have a query or fragment", shown(base_url)));
  }
  Target root = from_absolute(parsed, base_url);
  base.text = std::string(base_url);
  base.origin = std::move(root.origin);
  base.path = std::string(parsed.encoded_path());
  while (!base.path.empty() && base.path.back() == '/') base.path.pop_back();
  base.host_header = std::move(root.host_header);
  base.display = fmt::format("{}://{}", base.origin.tls ? "https" : "http", base.host_header);
  return base;
}

std::string Origin::key() const {
  return fmt::format("{}://{}:{}", tls ? "https" : "http",
                     host.find(':') != std::string::npos ? "[" + host + "]" : host, port);
}

std::string Origin::host_header() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) name += fmt::format(":{}", port);
  return name;
}

Target resolve_target(const BaseUrl& base, std::string_view url,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  const bool absolute = is_absolute(url);
  if (!absolute && base.text.empty()) {
    reject(fmt::format("URL '{}' is relative and the client has no base_url", shown(url)));
  }
  // The common case, a plain path relative to the base URL, joined without a parser.
  if (!absolute && is_plain_reference(url) &&
      (query.empty() || url.find('?') == std::string_view::npos)) {
    Target result;
    result.origin = base.origin;
    result.host_header = base.host_header;
    // Relative URLs extend the base URL's path ("/v1" + "/embeddings"), as service clients
    // expect, rather than replacing it as RFC 3986 reference resolution would.
    result.target.reserve(base.path.size() + url.size() + 1);
    result.target.append(base.path);
    if (url.empty() || url.front() != '/') result.target.push_back('/');
    result.target.append(url);
    const std::string_view path =
        std::string_view(result.target).substr(0, result.target.find('?'));
    result.display.reserve(base.display.size() + path.size());
    result.display.append(base.display).append(path);
    char separator = '?';
    for (const auto& [name, value] : query) {
      result.target.push_back(separator);
      result.target.append(boost::urls::encode(name, boost::urls::unreserved_chars));
      result.target.push_back('=');
      result.target.append(boost::urls::encode(value, boost::urls::unreserved_chars));
      separator = '&';
    }
    return result;
  }
  boost::urls::url full;
  if (absolute) {
    full = parse_absolute(url, "URL");
  } else {
    std::string joined(base.text);
    while (!joined.empty() && joined.back() == '/') joined.pop_back();
    if (url.empty() || url.front() != '/') joined.push_back('/');
    joined += url;
    full = parse_absolute(joined, "URL");
  }
  full.remove_fragment();
  append_query(full, query);
  return from_absolute(full, absolute ? url : std::string_view(base.text));
}

Target resolve_target(std::string_view base_url, std::string_view url,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  return resolve_target(is_absolute(url) ? BaseUrl{} : parse_base_url(base_url), url, query);
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
