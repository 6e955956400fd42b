#include "bulwark/observe/names.hpp"

namespace bulwark::observe {
namespace {

bool is_letter_or_underscore(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

bool is_valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  if (!is_letter_or_underscore(name[0]) && name[0] != ':') return false;
  for (const char c : name.substr(1)) {
    if (!is_letter_or_underscore(c) && !is_digit(c) && c != ':') return false;
  }
  return true;
}

bool is_valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_letter_or_underscore(name[0])) return false;
  if (name.starts_with("__")) return false;
  for (const char c : name.substr(1)) {
    if (!is_letter_or_underscore(c) && !is_digit(c)) return false;
  }
  return true;
}

}  // namespace bulwark::observe
