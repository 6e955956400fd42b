// YAML text -> ManagerConfig: bounds checks, yaml-cpp, the sections in order (defaults first, as
// everything inherits from them), then validation of the result; every problem found on the
// way is collected and thrown at the end in one ConfigError.

#include "bulwark/manager/config.hpp"
#include "manager/detail/http_sections.hpp"
#include "manager/detail/policy_sections.hpp"
#include "manager/detail/redis_sections.hpp"
#include "manager/detail/validation.hpp"
#include "manager/detail/yaml_document.hpp"
#include "manager/detail/yaml_limits.hpp"
#include "manager/detail/yaml_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

namespace bulwark {
namespace {

std::string location(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return fmt::format(" at line {}, column {}", mark.line + 1, mark.column + 1);
}

// Reads the sections of a parsed document into `config`.
void read_document(detail::LoadContext& context, const YAML::Node& document,
                   std::string_view source, ManagerConfig& config) {
  if (document.IsNull() || !document.IsDefined()) return;  // an empty file: nothing to manage
  if (!document.IsMap()) {
    context.add_issue(std::string(source),
                      fmt::format("expected a map of sections (defaults, health, http_pool, "
                                  "services, redis, admin), got {}",
                                  detail::describe_node(document)));
    return;
  }
  detail::YamlMap root(context, document, "");
  const detail::Policies policies = detail::read_defaults(context, root.get("defaults"));

  detail::YamlMap health = root.map("health");
  health.duration("interval", config.health.interval);
  health.duration("timeout", config.health.timeout);
  health.integer("max_consecutive_failures", config.health.max_consecutive_failures);
  health.finish();

  const detail::HttpBase http = detail::read_http_base(context, policies, root.get("http_pool"));
  detail::ConfigOrigins origins;
  detail::read_services(context, root.get("services"), http, config.services, origins.services);
  detail::read_redis(context, root.get("redis"), policies, config.redis, origins.redis);

  detail::YamlMap admin = root.map("admin");
  admin.string("listen", config.admin.listen);
  if (Secret token; admin.secret("token", token)) config.admin.token = std::move(token);
  admin.finish();
  root.ignore_prefixed("x-");
  root.finish();

  // A value that could not be read has been reported at its key; what the validators then say
  // about the same key (usually about the default left in its place) would only add noise.
  std::set<std::string, std::less<>> reported;
  for (const ConfigIssue& issue : context.issues()) reported.insert(issue.path);
  std::vector<ConfigIssue> found;
  detail::validate_http_defaults(http.client, http.origins, found);
  detail::validate_config(config, found, &origins);
  for (ConfigIssue& issue : found) {
    if (!reported.contains(issue.path)) {
      context.add_issue(std::move(issue.path), std::move(issue.message));
    }
  }
}

}  // namespace

const HttpServiceConfig* ManagerConfig::find_service(std::string_view name) const noexcept {
  const auto found = std::find_if(services.begin(), services.end(),
                                  [&](const HttpServiceConfig& s) { return s.name == name; });
  return found == services.end() ? nullptr : &*found;
}

const RedisDatabaseConfig* ManagerConfig::find_redis(std::string_view name) const noexcept {
  const auto found = std::find_if(redis.begin(), redis.end(),
                                  [&](const RedisDatabaseConfig& r) { return r.name == name; });
  return found == redis.end() ? nullptr : &*found;
}

Environment process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

ManagerConfig parse_config(std::string_view yaml, const Environment& environment,
                           std::string_view source) {
  detail::LoadContext context(environment);
  std::vector<ConfigIssue> limits;
  if (!detail::check_yaml_limits(yaml, source, limits)) throw ConfigError(std::move(limits));

  detail::LoadedDocument loaded;
  try {
    loaded = detail::load_document(std::string(yaml));
  } catch (const YAML::Exception& error) {
    throw ConfigError(std::string(source),
                      fmt::format("YAML syntax error{}: {}", location(error.mark), error.msg));
  }
  if (loaded.documents > 1) {
    throw ConfigError(std::string(source),
                      "holds more than one YAML document (or text after the end of the first); "
                      "a configuration is one document");
  }

  ManagerConfig config;
  try {
    read_document(context, loaded.root, source, config);
  } catch (const YAML::Exception& error) {
    // The reader only asks nodes what they are, which does not throw; should yaml-cpp disagree,
    // the problem is still the file's, and is reported as one.
    context.add_issue(std::string(source),
                      fmt::format("cannot read the YAML{}: {}", location(error.mark), error.msg));
  }
  std::vector<ConfigIssue> issues = context.take_issues();
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return config;
}

ManagerConfig load_config(const std::filesystem::path& path, const Environment& environment) {
  // A directory opens and reads as empty on Linux: that would be an empty configuration.
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw ConfigError(path.string(), "is a directory, not a configuration file");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw ConfigError(path.string(), fmt::format("cannot be opened: {}", std::strerror(errno)));
  }
  // One byte more than the limit is enough for parse_config to say the file is too large.
  std::string text(detail::max_config_bytes + 1, '\0');
  file.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (file.bad()) {
    throw ConfigError(path.string(), fmt::format("cannot be read: {}", std::strerror(errno)));
  }
  text.resize(static_cast<std::size_t>(file.gcount()));
  return parse_config(text, environment, path.string());
}

}  // namespace bulwark
