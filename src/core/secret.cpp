#include "bulwark/core/secret.hpp"

#include <ostream>

namespace bulwark {

Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

Secret::~Secret() { wipe(); }

void Secret::wipe() noexcept {
  // Volatile writes so the compiler cannot drop them as dead stores.
  volatile char* bytes = value_.data();
  for (std::size_t i = 0; i < value_.size(); ++i) bytes[i] = 0;
  value_.clear();
}

bool operator==(const Secret& a, const Secret& b) noexcept {
  const std::string_view x = a.reveal();
  const std::string_view y = b.reveal();
  unsigned char diff = x.size() == y.size() ? 0 : 1;
  const std::size_t n = x.size() < y.size() ? x.size() : y.size();
  for (std::size_t i = 0; i < n; ++i) {
    diff |= static_cast<unsigned char>(x[i] ^ y[i]);
  }
  return diff == 0;
}

std::ostream& operator<<(std::ostream& out, const Secret&) { return out << Secret::redacted; }

namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Where the userinfo of `url` ends (the position of its '@'), or npos when it has none. Passwords
// are often pasted unencoded, so a '/', '?' or '#' inside one must not hide it: an '@' after such
// a character still ends the userinfo when a "user:password" colon comes before it, unless that
// colon is clearly a port ("host:8080/path?mail=a@b").
std::size_t userinfo_end(std::string_view url, std::size_t authority_begin) {
  const std::size_t first_at = url.find('@', authority_begin);
  if (first_at == std::string_view::npos) return std::string_view::npos;
  const std::size_t delimiter = url.find_first_of("/?#", authority_begin);
  if (delimiter == std::string_view::npos || first_at < delimiter) {
    // The ordinary case; a password may itself contain '@', so take the last one.
    return url.substr(0, delimiter).rfind('@');
  }
  const std::size_t colon = url.find(':', authority_begin);
  if (colon == std::string_view::npos || colon > first_at) return std::string_view::npos;
  if (colon < delimiter && all_digits(url.substr(colon + 1, delimiter - colon - 1))) {
    return std::string_view::npos;
  }
  return first_at;
}

}  // namespace

std::string redact_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t authority_begin = scheme_end + 3;
  const std::size_t at = userinfo_end(url, authority_begin);
  if (at == std::string_view::npos) return std::string(url);

  const std::string_view userinfo = url.substr(authority_begin, at - authority_begin);
  const std::size_t colon = userinfo.find(':');
  std::string out(url.substr(0, authority_begin));
  if (colon == std::string_view::npos) {
    // A lone userinfo part is usually a token (redis://TOKEN@host): hide it too.
    out += Secret::redacted;
  } else {
    out += userinfo.substr(0, colon);
    out += ':';
    out += Secret::redacted;
  }
  out += url.substr(at);
  return out;
}

}  // namespace bulwark
