#pragma once
/// @file
/// Durations as people write them in configuration: `250ms`, `10s`, `1.5m`, `2h`, `1h30m`.
///
/// Units: `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`, `d`. A number needs a unit (`0` alone is
/// accepted). Fractions are allowed; the result is rounded to whole nanoseconds. Negative values,
/// missing units, unknown units, and values beyond about 292 years are errors.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark {

using Duration = std::chrono::nanoseconds;

/// Parses `text`; on failure returns `std::nullopt` and, when `error` is given, stores a sentence
/// that says what was wrong (`unknown unit "sec" in "10sec" (use ns, us, ms, s, m, h or d)`).
[[nodiscard]] std::optional<Duration> try_parse_duration(std::string_view text,
                                                         std::string* error = nullptr);

/// Parses `text` or throws `ConfigError` whose message says what was wrong.
[[nodiscard]] Duration parse_duration(std::string_view text);

/// The shortest exact spelling in the largest fitting unit: `250ms`, `10s`, `1m30s`, `1.5ms`
/// is `1500us`. `parse_duration(format_duration(d)) == d` for every non-negative `d`.
[[nodiscard]] std::string format_duration(Duration d);

}  // namespace bulwark
