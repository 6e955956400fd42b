#pragma once
// Quoting of arbitrary bytes for error details and debug renderings: replies are binary, and a
// message with raw CR, LF or NUL in it would garble the log line that carries it.

#include <cstddef>
#include <string>
#include <string_view>

namespace bulwark::redis::detail {

/// Appends `text` in double quotes, escaping quotes, backslashes, CR, LF, tab and every other
/// byte outside printable ASCII as \xHH. Only the first `max_bytes` bytes of `text` are shown,
/// followed by "..." when there were more.
void append_quoted(std::string& out, std::string_view text, std::size_t max_bytes);

[[nodiscard]] std::string quote(std::string_view text, std::size_t max_bytes);

}  // namespace bulwark::redis::detail
