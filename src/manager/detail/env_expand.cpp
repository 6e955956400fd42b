#include "manager/detail/env_expand.hpp"

#include <fmt/format.h>

#include <cctype>

namespace bulwark::detail {
namespace {

// Quoted pieces of the file in error messages are cut short: enough to find the spot.
std::string excerpt(std::string_view text) {
  constexpr std::size_t limit = 40;
  if (text.size() <= limit) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, limit));
}

// The position of the '}' that closes the '{' at `open`, counting nested braces so that a
// default may itself hold references; npos when it is never closed.
std::size_t closing_brace(std::string_view text, std::size_t open) {
  std::size_t depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == '{') {
      ++depth;
    } else if (text[i] == '}' && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

bool expand_into(std::string_view text, const Environment& environment, std::size_t depth,
                 Expansion& out) {
  if (depth > max_expansion_depth) {
    out.error = fmt::format("defaults nested more than {} deep", max_expansion_depth);
    return false;
  }
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t dollar = text.find('$', i);
    if (dollar == std::string_view::npos || dollar + 1 == text.size()) {
      out.value.append(text.substr(i));
      break;
    }
    out.value.append(text.substr(i, dollar - i));
    const char next = text[dollar + 1];
    if (next == '$') {
      out.value.push_back('$');
      i = dollar + 2;
      continue;
    }
    if (next != '{') {
      out.value.push_back('$');
      i = dollar + 1;
      continue;
    }
    const std::size_t close = closing_brace(text, dollar + 1);
    if (close == std::string_view::npos) {
      out.error = fmt::format("unterminated \"${{\" in {}", excerpt(text.substr(dollar)));
      return false;
    }
    const std::string_view reference = text.substr(dollar, close + 1 - dollar);
    const std::string_view inner = text.substr(dollar + 2, close - dollar - 2);
    const std::size_t separator = inner.find(":-");
    const std::string_view name = inner.substr(0, separator);
    if (!is_variable_name(name)) {
      out.error = fmt::format(
          "invalid reference {} (write ${{NAME}} or ${{NAME:-default}}; NAME is letters, digits "
          "and '_'; $$ is a literal $)",
          excerpt(reference));
      return false;
    }
    out.substituted = true;
    const std::optional<std::string> value = environment ? environment(name) : std::nullopt;
    if (separator == std::string_view::npos) {
      if (value) {
        out.value.append(*value);
        out.used.emplace_back(name, *value);
      } else {
        out.missing.emplace_back(name);
      }
    } else if (value && !value->empty()) {
      out.value.append(*value);
      out.used.emplace_back(name, *value);
    } else if (!expand_into(inner.substr(separator + 2), environment, depth + 1, out)) {
      return false;
    }
    i = close + 1;
  }
  return true;
}

}  // namespace

bool is_variable_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  const auto letter = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  };
  if (!letter(name.front())) return false;
  for (const char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

Expansion expand_environment(std::string_view text, const Environment& environment) {
  Expansion out;
  if (!expand_into(text, environment, 0, out)) out.value.clear();
  return out;
}

std::string environment_stem(std::string_view service_name) {
  std::string stem;
  stem.reserve(service_name.size());
  for (const char c : service_name) {
    if (c == '-' || c == '.') {
      stem.push_back('_');
    } else {
      stem.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return stem;
}

}  // namespace bulwark::detail
