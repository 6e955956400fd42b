#pragma once
// Helpers of the config loader tests: a fake environment and the issues of a YAML text.

#include "bulwark/manager/config.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::testing {

inline Environment fake_environment(
    std::map<std::string, std::string, std::less<>> variables = {}) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

/// The issues `parse_config` reports for `yaml` (none when it parses).
inline std::vector<ConfigIssue> issues_of(std::string_view yaml,
                                          const Environment& environment = fake_environment()) {
  try {
    (void)parse_config(yaml, environment, "test.yaml");
  } catch (const ConfigError& error) {
    return error.issues();
  }
  return {};
}

/// Whether an issue has exactly `path` and a message containing `words`.
inline bool has_issue(const std::vector<ConfigIssue>& issues, std::string_view path,
                      std::string_view words) {
  for (const ConfigIssue& issue : issues) {
    if (issue.path == path && issue.message.find(words) != std::string::npos) return true;
  }
  return false;
}

/// Every issue, one a line, for failure messages.
inline std::string listing(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const ConfigIssue& issue : issues) out += issue.path + ": " + issue.message + "\n";
  return out;
}

}  // namespace bulwark::testing
