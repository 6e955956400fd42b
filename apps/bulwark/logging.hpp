#pragma once
// Log output of the program: level and format (human-readable text, or one JSON object per
// line for log collectors), set from the common flags.

#include <string>

namespace bulwark::cli {

/// Throws `std::invalid_argument` naming the bad value. `level_given`: the user chose the level
/// (see `level_was_given`).
void configure_logging(const std::string& level, const std::string& format,
                       bool level_given = false);

/// True when the level came from --log-level rather than the default. The demo silences the
/// library's log when it did not: its own view shows what the log would say, and log lines would
/// tear the view apart.
[[nodiscard]] bool level_was_given() noexcept;

}  // namespace bulwark::cli
