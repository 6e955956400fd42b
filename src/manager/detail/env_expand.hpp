#pragma once
// `${VAR}` and `${VAR:-default}` in configuration values, expanded from an `Environment`.
//
// Grammar (docs/configuration.md, "Environment variables"):
//   ${NAME}            the variable's value; unset is an error the caller reports
//   ${NAME:-default}   the value when set and not empty, else `default` (itself expanded, so
//                      defaults may nest: ${A:-${B:-x}})
//   $$                 a literal `$`
//   $ before anything else is kept as it is ("pa$s" stays "pa$s").
// NAME is [A-Za-z_][A-Za-z0-9_]*.

#include "bulwark/manager/config.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::detail {

struct Expansion {
  /// The text with every reference replaced; unset variables without default contribute "".
  std::string value{};
  /// Variables referenced without default that are not set, in order of appearance.
  std::vector<std::string> missing{};
  /// Every variable that was read and was set, with its value (callers decide which values
  /// are secrets to keep out of messages).
  std::vector<std::pair<std::string, std::string>> used{};
  /// True when the text contained at least one `${...}` reference.
  bool substituted = false;
  /// A malformed reference ("unterminated ${ ...", "invalid variable name ..."); `value` is then
  /// meaningless. The sentence quotes the text from the file only, never a variable's value.
  std::optional<std::string> error{};
};

/// Defaults nested deeper than this are an error (it bounds the recursion).
inline constexpr std::size_t max_expansion_depth = 8;

/// Expands `text`. Never throws for malformed input (see `Expansion::error`).
[[nodiscard]] Expansion expand_environment(std::string_view text, const Environment& environment);

/// True when `name` is a valid variable name.
[[nodiscard]] bool is_variable_name(std::string_view name) noexcept;

/// The environment-variable stem of a service name: upper case, '-' and '.' become '_'
/// ("open-ai.v1" -> "OPEN_AI_V1").
[[nodiscard]] std::string environment_stem(std::string_view service_name);

}  // namespace bulwark::detail
