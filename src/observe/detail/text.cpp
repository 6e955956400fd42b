#include "observe/detail/text.hpp"

#include <cmath>
#include <cstdint>
#include <iterator>

#include <fmt/format.h>

namespace bulwark::observe::detail {

bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The lead byte says how many continuation bytes follow and carries the top bits.
    std::size_t length = 0;
    std::uint32_t minimum = 0;  // smaller values in this length are overlong encodings
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      minimum = 0x10000;
    } else {
      return false;  // a continuation byte where a character should start, or 0xF8..0xFF
    }
    std::uint32_t code = lead & (0x7Fu >> length);
    if (text.size() - i < length) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3Fu);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

void append_escaped_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (std::trunc(value) == value && std::fabs(value) < 0x1p63) {
    // Counts are the common case; printed through an integer they never get an exponent.
    fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(value));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
}

void append_header(std::string& out, const FamilyDefinition& definition) {
  out += "# HELP ";
  out += definition.name;
  out += ' ';
  append_escaped_help(out, definition.help);
  out += "\n# TYPE ";
  out += definition.name;
  out += ' ';
  out += type_name(definition.type);
  out += '\n';
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::span<const std::string> names, std::span<const std::string> values,
                   std::string_view le, double value) {
  out += name;
  out += suffix;
  if (!names.empty() || !le.empty()) {
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out += ',';
      out += names[i];
      out += "=\"";
      append_escaped_label_value(out, values[i]);
      out += '"';
    }
    if (!le.empty()) {
      if (!names.empty()) out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

}  // namespace bulwark::observe::detail
