#include "bulwark/core/duration.hpp"
#include "commands.hpp"

#include <fmt/format.h>

namespace bulwark::cli {

CLI::Validator duration_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        std::string why;
        if (try_parse_duration(text, &why)) return {};
        return fmt::format("{} (a duration such as 500ms, 20s or 1m)", why);
      },
      "DURATION");
}

}  // namespace bulwark::cli
