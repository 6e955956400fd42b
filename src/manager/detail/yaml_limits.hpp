#pragma once
// Bounds checked before YAML text reaches yaml-cpp, whose parser recurses once per level of
// nesting: deep enough input would overflow the stack of the thread that loads the file
// (yaml-cpp's own guard allows far more levels than a small thread stack holds). A config
// file is small and shallow, so the bounds cost nothing real.

#include "bulwark/core/error.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace bulwark::detail {

/// Largest configuration accepted, in bytes.
inline constexpr std::size_t max_config_bytes = std::size_t{1} << 20;
/// Deepest nesting accepted: block levels (by indentation, and `- ` items on one line) plus
/// flow levels (`[` and `{`). Real files use fewer than ten.
inline constexpr std::size_t max_config_depth = 64;

/// Appends an issue (path `source`) and returns false when `text` is too large or too deep.
/// The depth is estimated generously (brackets inside plain scalars count too); it never
/// under-counts what yaml-cpp will recurse on by more than the bracket pairs that quoted
/// strings hide.
[[nodiscard]] bool check_yaml_limits(std::string_view text, std::string_view source,
                                     std::vector<ConfigIssue>& issues);

}  // namespace bulwark::detail
