#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace bulwark::cli {
namespace {
bool level_given_ = false;
}  // namespace

bool level_was_given() noexcept { return level_given_; }

void configure_logging(const std::string& level, const std::string& format, bool level_given) {
  level_given_ = level_given;
  const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
  // from_str answers "off" for anything it does not know; only "off" itself may mean that.
  if (parsed == spdlog::level::off && level != "off") {
    throw std::invalid_argument("--log-level: unknown level '" + level +
                                "' (trace, debug, info, warn, error, critical, off)");
  }
  // Logs go to stderr so that a command's own output (a table, JSON) stays clean on stdout.
  auto logger = spdlog::stderr_color_mt("bulwark");
  logger->set_level(parsed);
  if (format == "json") {
    // Messages are the library's own words (no quotes inside); names and levels are fixed.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":"%v"})");
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  } else {
    throw std::invalid_argument("--log-format: must be text or json, got '" + format + "'");
  }
  spdlog::set_default_logger(logger);
}

}  // namespace bulwark::cli
