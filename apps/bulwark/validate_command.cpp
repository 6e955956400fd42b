#include "bulwark/manager/config.hpp"
#include "commands.hpp"
#include "config_issues.hpp"

#include <fmt/format.h>

#include <memory>

namespace bulwark::cli {

Run add_validate(CLI::App& app) {
  auto* command = app.add_subcommand("validate", "Check a configuration file and list every error");
  auto file = std::make_shared<std::string>();
  command->add_option("-c,--config", *file, "YAML configuration file")->required();
  command->footer(
      "Exit status: 0 when the file is valid, 2 when it is not (every problem is printed with\n"
      "its path, e.g. services.qdrant.pool.max_connections: must be >= 1, got 0).\n\n"
      "Example:\n  bulwark validate -c bulwark.yaml");
  return [command, file] {
    if (!command->parsed()) return -1;
    try {
      const ManagerConfig config = load_config(*file);
      fmt::print("{}: valid ({} HTTP service{}, {} Redis database{})\n", *file,
                 config.services.size(), config.services.size() == 1 ? "" : "s",
                 config.redis.size(), config.redis.size() == 1 ? "" : "s");
      return exit_ok;
    } catch (const ConfigError& error) {
      print_config_issues(stderr, problems_headline(*file, error), error);
      return exit_invalid_config;
    }
  };
}

}  // namespace bulwark::cli
