// bulwark: validate a configuration, check the services it names, serve their health, or run
// the demo.
#include "commands.hpp"
#include "logging.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app("bulwark: resilient clients for the services an application depends on", "bulwark");
  app.require_subcommand(1);
  app.set_version_flag("--version", "bulwark 0.1.0");
  std::string log_level = "warn";
  std::string log_format = "text";
  auto* level_option = app.add_option(
      "--log-level", log_level, "trace, debug, info, warn, error, critical or off (default warn)");
  app.add_option("--log-format", log_format, "text or json (default text)");
  app.footer(
      "Examples:\n"
      "  bulwark validate -c bulwark.yaml      list every problem in a configuration\n"
      "  bulwark check -c bulwark.yaml         check every service once (exit 1 if one is down)\n"
      "  bulwark check -c bulwark.yaml --json  the same, as the health JSON\n"
      "  bulwark serve -c bulwark.yaml         health, metrics and a status page on :9090\n"
      "  bulwark demo                          a one-minute tour against real Redis and HTTP");

  std::vector<bulwark::cli::Run> commands = {
      bulwark::cli::add_validate(app), bulwark::cli::add_check(app), bulwark::cli::add_serve(app),
      bulwark::cli::add_demo(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    bulwark::cli::configure_logging(log_level, log_format, level_option->count() > 0);
    for (const auto& run : commands) {
      const int code = run();
      if (code >= 0) return code;
    }
  } catch (const std::exception& error) {
    fmt::print(stderr, "bulwark: {}\n", error.what());
    return 1;
  }
  return 1;
}
