#pragma once
// "did you mean ...?" for misspelt keys and values.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bulwark::detail {

/// Edit distance (insertions, deletions, substitutions and transpositions of neighbours, case
/// ignored) between `a` and `b`, or `limit + 1` when it exceeds `limit`.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

/// The candidate closest to `word` if it is close enough to be a likely misspelling (at most one
/// edit in three characters, at least one edit allowed); ties go to the earlier candidate.
[[nodiscard]] std::optional<std::string> closest_match(std::string_view word,
                                                       std::span<const std::string> candidates);

}  // namespace bulwark::detail
