#pragma once
// Checks a family definition against Prometheus' syntax and bulwark's naming conventions before
// the registry accepts it, so that a bad name fails at startup rather than at the first scrape.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bulwark/observe/family.hpp"

namespace bulwark::observe::detail {

/// Throws `Error(invalid_argument)` with `detail` as its detail.
[[noreturn]] void throw_invalid_argument(const std::string& detail);

/// Throws `Error(invalid_argument)` naming the first rule `definition` breaks: the syntax of
/// metric and label names, or a convention listed in registry.hpp. Bounds are checked by
/// `checked_bounds`, not here.
void check_definition(const FamilyDefinition& definition);

/// Throws `Error(invalid_argument)` unless every label value is valid UTF-8, as Prometheus
/// requires. Checked when a series is created, so the exposition never needs to.
void check_label_values(const FamilyDefinition& definition,
                        std::span<const std::string_view> values);
void check_label_values(const FamilyDefinition& definition, std::span<const std::string> values);

/// `bounds` as a histogram uses them: empty becomes the default latency buckets, a trailing +Inf
/// is removed. Throws `Error(invalid_argument)` unless the rest is finite and strictly ascending.
[[nodiscard]] std::vector<double> checked_bounds(std::vector<double> bounds);

}  // namespace bulwark::observe::detail
