#pragma once
// Log output of the program: level and format (human-readable text, or one JSON object per
// line for log collectors), set from the common flags.

#include <string>

namespace bulwark::cli {

/// Throws `std::invalid_argument` naming the bad value.
void configure_logging(const std::string& level, const std::string& format);

}  // namespace bulwark::cli
