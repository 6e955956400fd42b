#pragma once
// Prometheus' own checker for the text exposition format: `promtool check metrics` parses it as
// the server does and lints names, types, units and HELP texts. From the Debian package
// `prometheus`.

#include <filesystem>
#include <string>

namespace bulwark::test {

/// The promtool executable; empty when it is not installed.
[[nodiscard]] std::filesystem::path find_promtool();

struct PromtoolResult {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together: the problems it found.
};

/// Runs `promtool check metrics < file` on `text`.
[[nodiscard]] PromtoolResult check_metrics(const std::filesystem::path& promtool,
                                           const std::string& text);

}  // namespace bulwark::test
