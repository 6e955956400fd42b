#include "redis/detail/escape.hpp"

#include <algorithm>

namespace bulwark::redis::detail {

void append_quoted(std::string& out, std::string_view text, std::size_t max_bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  const std::string_view shown = text.substr(0, std::min(text.size(), max_bytes));
  out += '"';
  for (const char c : shown) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f) {
          out += c;
        } else {
          out += "\\x";
          out += hex[byte >> 4];
          out += hex[byte & 0x0f];
        }
      }
    }
  }
  out += '"';
  if (shown.size() < text.size()) out += "...";
}

std::string quote(std::string_view text, std::size_t max_bytes) {
  std::string out;
  append_quoted(out, text, max_bytes);
  return out;
}

}  // namespace bulwark::redis::detail
