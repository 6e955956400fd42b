#include "bulwark/core/duration.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <limits>

namespace bulwark {
namespace {

// Wide enough that no sum of terms below the int64 limit can overflow while being checked.
__extension__ using Wide = __int128;

struct Unit {
  std::string_view name;
  std::int64_t nanoseconds;
};

// Longest names first where one is a prefix of another ("ms" before "m").
constexpr std::array<Unit, 8> units = {{{"ns", 1},
                                        {"us", 1'000},
                                        {"\xC2\xB5s", 1'000},  // µs
                                        {"ms", 1'000'000},
                                        {"s", 1'000'000'000},
                                        {"m", 60'000'000'000},
                                        {"h", 3'600'000'000'000},
                                        {"d", 86'400'000'000'000}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

// Parses one "<number><unit>" term at `pos`, adding its value to `total`.
bool parse_term(std::string_view text, std::size_t& pos, Wide& total, std::string* error) {
  const std::size_t start = pos;
  Wide whole = 0;
  bool any_digit = false;
  while (pos < text.size() && is_digit(text[pos])) {
    whole = whole * 10 + (text[pos] - '0');
    if (whole > std::numeric_limits<std::int64_t>::max()) {
      return fail(error, fmt::format("\"{}\" is too large", text));
    }
    any_digit = true;
    ++pos;
  }
  Wide fraction = 0;
  Wide fraction_scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && is_digit(text[pos])) {
      // Digits beyond nanosecond precision of the largest unit cannot change the result.
      if (fraction_scale < 1'000'000'000'000'000'000) {
        fraction = fraction * 10 + (text[pos] - '0');
        fraction_scale *= 10;
      }
      any_digit = true;
      ++pos;
    }
  }
  if (!any_digit) {
    return fail(error,
                fmt::format("expected a number at \"{}\" in \"{}\"", text.substr(start), text));
  }
  if (pos == text.size()) {
    return fail(error,
                fmt::format("missing unit in \"{}\" (write e.g. 250ms, 10s, 1.5m, 2h)", text));
  }
  std::size_t unit_end = pos;
  while (unit_end < text.size() && !is_digit(text[unit_end]) && text[unit_end] != '.') ++unit_end;
  const std::string_view unit_text = text.substr(pos, unit_end - pos);
  for (const Unit& unit : units) {
    if (unit.name == unit_text) {
      total += whole * unit.nanoseconds +
               (fraction * unit.nanoseconds + fraction_scale / 2) / fraction_scale;
      if (total > std::numeric_limits<std::int64_t>::max()) {
        return fail(error, fmt::format("\"{}\" is too large (limit is about 292 years)", text));
      }
      pos = unit_end;
      return true;
    }
  }
  return fail(error, fmt::format("unknown unit \"{}\" in \"{}\" (use ns, us, ms, s, m, h or d)",
                                 unit_text, text));
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<Duration> try_parse_duration(std::string_view text, std::string* error) {
  text = trim(text);
  if (text.empty()) {
    fail(error, "empty duration (write e.g. 250ms, 10s, 1.5m, 2h)");
    return std::nullopt;
  }
  if (text.front() == '-') {
    fail(error, fmt::format("negative duration \"{}\" is not allowed", text));
    return std::nullopt;
  }
  if (text.front() == '+') text.remove_prefix(1);
  if (text == "0") return Duration::zero();

  Wide total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (!parse_term(text, pos, total, error)) return std::nullopt;
  }
  return Duration{static_cast<std::int64_t>(total)};
}

Duration parse_duration(std::string_view text) {
  std::string error;
  if (auto parsed = try_parse_duration(text, &error)) return *parsed;
  throw ConfigError("", std::move(error));
}

std::string format_duration(Duration d) {
  if (d == Duration::zero()) return "0s";
  std::string out;
  // Unsigned, so that the most negative value has a magnitude too.
  std::uint64_t rest = static_cast<std::uint64_t>(d.count());
  if (d.count() < 0) {
    out += '-';
    rest = 0 - rest;
  }
  // From hours down; days are left as hours because "36h" reads better than "1d12h".
  constexpr std::array<Unit, 6> descending = {{{"h", 3'600'000'000'000},
                                               {"m", 60'000'000'000},
                                               {"s", 1'000'000'000},
                                               {"ms", 1'000'000},
                                               {"us", 1'000},
                                               {"ns", 1}}};
  for (const Unit& unit : descending) {
    const auto size = static_cast<std::uint64_t>(unit.nanoseconds);
    if (rest >= size) {
      fmt::format_to(std::back_inserter(out), "{}{}", rest / size, unit.name);
      rest %= size;
    }
  }
  return out;
}

}  // namespace bulwark
