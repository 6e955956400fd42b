#include "redis/detail/numbers.hpp"

#include <charconv>
#include <system_error>

namespace bulwark::redis::detail {

bool parse_integer(std::string_view text, std::int64_t& out) noexcept {
  // from_chars takes '-' but not '+'; RESP allows both (but not both at once).
  std::size_t digits_from = 0;
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
  } else if (!text.empty() && text.front() == '-') {
    digits_from = 1;
  }
  if (text.size() <= digits_from || text[digits_from] < '0' || text[digits_from] > '9') {
    return false;
  }
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_length(std::string_view text, std::int64_t& out) noexcept {
  if (text == "-1") {
    out = -1;
    return true;
  }
  if (text.empty() || text.front() < '0' || text.front() > '9') return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_double(std::string_view text, double& out) noexcept {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    // "+-1" and "++1" would otherwise pass once the '+' is gone.
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return false;
  }
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out, std::chars_format::general);
  return ec == std::errc() && ptr == end;
}

bool is_big_number(std::string_view text) noexcept {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view format_integer(std::int64_t value, NumberBuffer& buffer) noexcept {
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())};
}

std::string_view format_unsigned(std::uint64_t value, NumberBuffer& buffer) noexcept {
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())};
}

std::string_view format_double(double value, NumberBuffer& buffer) noexcept {
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), static_cast<std::size_t>(result.ptr - buffer.data())};
}

}  // namespace bulwark::redis::detail
