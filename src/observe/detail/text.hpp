#pragma once
// The pieces of the Prometheus text exposition format 0.0.4: escaping, number spelling, HELP and
// TYPE lines and sample lines.

#include <span>
#include <string>
#include <string_view>

#include "bulwark/observe/family.hpp"

namespace bulwark::observe::detail {

/// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or values past
/// U+10FFFF), as Prometheus requires of label values and HELP text.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

/// Appends HELP text with `\` and newline escaped as `\\` and `\n`.
void append_escaped_help(std::string& out, std::string_view help);

/// Appends a label value with `\`, `"` and newline escaped as `\\`, `\"` and `\n`.
void append_escaped_label_value(std::string& out, std::string_view value);

/// Appends a sample value as Prometheus parses it: `+Inf`, `-Inf`, `NaN`; integral values below
/// 2^63 in magnitude as plain integers (`1234567`, never `1.234567e+06`); anything else in the
/// shortest form that reads back exactly (`0.25`, `1e-05`).
void append_value(std::string& out, double value);

/// Appends the `# HELP` and `# TYPE` lines of a family.
void append_header(std::string& out, const FamilyDefinition& definition);

/// Appends one sample line: `<name><suffix>{<labels>[,le="<le>"]} <value>\n`. `values` has one
/// entry per name in `names`; `le` is only written when not empty.
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::span<const std::string> names, std::span<const std::string> values,
                   std::string_view le, double value);

}  // namespace bulwark::observe::detail
