#pragma once
/// @file
/// The syntax Prometheus accepts for metric and label names. A `Registry` checks these, and on
/// top of them the naming conventions listed in docs/metrics.md (snake_case, base units, `_total`
/// on counters only, ...), so that everything it exposes passes `promtool check metrics`.

#include <string_view>

namespace bulwark::observe {

/// True when `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
[[nodiscard]] bool is_valid_metric_name(std::string_view name) noexcept;

/// True when `name` matches `[a-zA-Z_][a-zA-Z0-9_]*` and does not start with `__`, which
/// Prometheus reserves for its own labels.
[[nodiscard]] bool is_valid_label_name(std::string_view name) noexcept;

}  // namespace bulwark::observe
