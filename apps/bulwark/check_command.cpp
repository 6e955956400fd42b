#include "bulwark/manager/client_manager.hpp"
#include "commands.hpp"
#include "config_issues.hpp"
#include "health_table.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <unistd.h>
#include <memory>

namespace bulwark::cli {
namespace {

// Every client the application cannot do without is healthy. Optional services count only
// when they are configured (their secret is set).
bool all_required_healthy(const HealthReport& report) {
  for (const ClientHealth& client : report.clients) {
    if (client.available && client.state != HealthState::healthy) return false;
  }
  return true;
}

}  // namespace

Run add_check(CLI::App& app) {
  auto* command =
      app.add_subcommand("check", "Check every configured service once, concurrently, and report");
  struct Options {
    std::string file;
    bool json = false;
  };
  auto options = std::make_shared<Options>();
  command->add_option("-c,--config", options->file, "YAML configuration file")->required();
  command->add_flag("--json", options->json, "Print the health report as JSON");
  command->footer(
      "Exit status: 0 when every configured client is healthy, 1 when one is not, 2 when the\n"
      "configuration is invalid.\n\n"
      "Examples:\n  bulwark check -c bulwark.yaml\n  bulwark check -c bulwark.yaml --json | jq "
      ".clients");
  return [command, options] {
    if (!command->parsed()) return -1;
    ManagerConfig config;
    try {
      config = load_config(options->file);
    } catch (const ConfigError& error) {
      print_config_issues(stderr, problems_headline(options->file, error), error);
      return exit_invalid_config;
    }
    ClientManager manager(std::move(config));
    const HealthReport report = manager.check_now_blocking();
    if (options->json) {
      fmt::print("{}\n", boost::json::serialize(report.to_json()));
    } else {
      fmt::print("{}", health_table(report, ::isatty(STDOUT_FILENO) != 0));
    }
    manager.stop(std::chrono::seconds(1));
    return all_required_healthy(report) ? exit_ok : exit_unhealthy;
  };
}

}  // namespace bulwark::cli
