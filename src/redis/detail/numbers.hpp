#pragma once
// Number parsing and formatting shared by the RESP parser and writer. Everything here works on
// caller-provided buffers and never allocates: these run once per integer reply and once per
// numeric command argument.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bulwark::redis::detail {

/// Large enough for any int64 or shortest-round-trip double ("-2.2250738585072014e-308").
using NumberBuffer = std::array<char, 32>;

/// An optionally signed ('+' or '-') decimal int64, the whole of `text`. False when empty, when
/// anything but digits follows the sign, or on overflow.
[[nodiscard]] bool parse_integer(std::string_view text, std::int64_t& out) noexcept;

/// A RESP length: "-1" (reported as -1) or unsigned decimal digits. Digits that overflow int64
/// are rejected like any malformed length.
[[nodiscard]] bool parse_length(std::string_view text, std::int64_t& out) noexcept;

/// A RESP3 double: an optional sign, then decimal or exponent notation, "inf" or "nan" (any case,
/// as Redis writes them). False when anything is left over or the value is out of range.
[[nodiscard]] bool parse_double(std::string_view text, double& out) noexcept;

/// An optional sign followed by at least one decimal digit.
[[nodiscard]] bool is_big_number(std::string_view text) noexcept;

/// Decimal text of `value` inside `buffer`.
[[nodiscard]] std::string_view format_integer(std::int64_t value, NumberBuffer& buffer) noexcept;
[[nodiscard]] std::string_view format_unsigned(std::uint64_t value, NumberBuffer& buffer) noexcept;

/// Shortest text that parses back to exactly `value` ("1.5", "1e+300", "inf", "-inf", "nan").
[[nodiscard]] std::string_view format_double(double value, NumberBuffer& buffer) noexcept;

}  // namespace bulwark::redis::detail
