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

std::string redact_url(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const std::size_t authority_begin = scheme_end + 3;
  const std::size_t authority_end = url.find_first_of("/?#", authority_begin);
  const std::string_view authority = url.substr(
      authority_begin, authority_end == std::string_view::npos ? std::string_view::npos
                                                               : authority_end - authority_begin);
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);

  const std::string_view userinfo = authority.substr(0, at);
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
  out += url.substr(authority_begin + at);
  return out;
}

}  // namespace bulwark
