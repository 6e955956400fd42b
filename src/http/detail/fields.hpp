#pragma once
// Checks of header names and values before they go on the wire: a CR or LF in a value would let
// a caller's input inject headers or a second request (request smuggling).

#include <string_view>

namespace bulwark::http::detail {

// An HTTP token (RFC 9110 §5.6.2): method names and field names.
[[nodiscard]] bool is_token(std::string_view text) noexcept;
// No CR, LF or NUL (RFC 9110 §5.5).
[[nodiscard]] bool is_field_value(std::string_view text) noexcept;

}  // namespace bulwark::http::detail
