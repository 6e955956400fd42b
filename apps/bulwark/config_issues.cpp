#include "config_issues.hpp"

#include <fmt/format.h>

namespace bulwark::cli {

void print_config_issues(std::FILE* out, std::string_view headline, const ConfigError& error) {
  fmt::print(out, "{}\n", headline);
  for (const ConfigIssue& issue : error.issues()) {
    // A problem with the file as a whole (unreadable, a syntax error) has no key path.
    fmt::print(out, "  {}: {}\n", issue.path.empty() ? std::string("(file)") : issue.path,
               issue.message);
  }
  std::fflush(out);
}

std::string problems_headline(std::string_view file, const ConfigError& error) {
  const std::size_t count = error.issues().size();
  return fmt::format("{}: {} problem{}", file, count, count == 1 ? "" : "s");
}

}  // namespace bulwark::cli
