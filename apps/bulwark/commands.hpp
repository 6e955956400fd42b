#pragma once
// The subcommands of the `bulwark` program. Each registers its options on the CLI11 app and
// returns the function that runs it; the function returns the process's exit code.

#include <CLI/App.hpp>
#include <CLI/Validators.hpp>

#include <functional>
#include <string>

namespace bulwark::cli {

using Run = std::function<int()>;

/// Exit codes shared by the subcommands.
inline constexpr int exit_ok = 0;
inline constexpr int exit_unhealthy = 1;
inline constexpr int exit_invalid_config = 2;

Run add_validate(CLI::App& app);
Run add_check(CLI::App& app);
Run add_serve(CLI::App& app);
Run add_demo(CLI::App& app);

/// Accepts a duration as the configuration writes them (`500ms`, `20s`, `1m`).
[[nodiscard]] CLI::Validator duration_validator();

}  // namespace bulwark::cli
