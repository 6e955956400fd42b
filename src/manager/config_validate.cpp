// Checks of a whole ManagerConfig: each client config through its component's validators, with
// every problem reported at the YAML key that set the value, plus what only the manager knows
// (names, health checks, the admin address).

#include "bulwark/manager/config.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/resilience/rate_limiter.hpp"
#include "bulwark/resilience/retry.hpp"
#include "manager/detail/env_expand.hpp"
#include "manager/detail/field_paths.hpp"
#include "manager/detail/validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace bulwark {
namespace detail {
namespace {

// Redis servers have 16 databases unless configured otherwise.
constexpr int max_redis_database = 15;

std::string quote(std::string_view text) {
  constexpr std::size_t limit = 60;
  if (text.size() <= limit) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\"", text.substr(0, limit));
}

// Validator paths come out as "<prefix>.<field>"; HTTP's are asked for with an empty prefix, so
// they start with the '.'.
std::string_view strip_dot(std::string_view path) {
  if (!path.empty() && path.front() == '.') path.remove_prefix(1);
  return path;
}

void check_policies(const std::optional<CircuitBreakerConfig>& breaker,
                    const std::optional<BulkheadConfig>& bulkhead, std::vector<ConfigIssue>& raw) {
  if (breaker) CircuitBreaker::validate(*breaker, raw, "circuit_breaker");
  if (bulkhead) Bulkhead::validate(*bulkhead, raw, "bulkhead");
}

// The HTTP client's problems as fields ("pool.max_connections"), before they are located.
std::vector<ConfigIssue> http_client_issues(const http::ClientConfig& client) {
  std::vector<ConfigIssue> raw;
  http::validate(client, raw, "");
  for (ConfigIssue& issue : raw) issue.path = std::string(strip_dot(issue.path));
  // "max_keepalive_connections must be <= max_connections (0)" only repeats that
  // max_connections is wrong.
  const auto reported = [&](std::string_view field) {
    return std::any_of(raw.begin(), raw.end(),
                       [&](const ConfigIssue& issue) { return issue.path == field; });
  };
  if (reported("pool.max_connections")) {
    std::erase_if(raw, [](const ConfigIssue& issue) {
      return issue.path == "pool.max_keepalive_connections";
    });
  }
  check_policies(client.circuit_breaker, client.bulkhead, raw);
  return raw;
}

std::vector<ConfigIssue> redis_client_issues(const redis::ClientConfig& client) {
  std::vector<ConfigIssue> raw;
  redis::validate(client.connection, raw, "connection");
  redis::validate(client.pool, raw, "pool");
  if (client.cluster) {
    redis::validate(*client.cluster, raw, "cluster");
    if (client.connection.database != 0) {
      raw.push_back({"connection.database",
                     fmt::format("must be 0 with a cluster, got {}", client.connection.database)});
    }
    if (!client.connection.unix_path.empty()) {
      raw.push_back({"connection.unix_path", "a cluster is reached over TCP (cluster.nodes)"});
    }
  }
  if (client.connection.database > max_redis_database) {
    raw.push_back({"connection.database", fmt::format("must be 0-{}, got {}", max_redis_database,
                                                      client.connection.database)});
  }
  if (client.command_timeout < Duration::zero()) {
    raw.push_back({"command_timeout",
                   fmt::format("must be >= 0, got {}", format_duration(client.command_timeout))});
  }
  if (client.wait_for_loading < Duration::zero()) {
    raw.push_back({"wait_for_loading",
                   fmt::format("must be >= 0, got {}", format_duration(client.wait_for_loading))});
  }
  if (client.failed_after == 0) raw.push_back({"failed_after", "must be >= 1, got 0"});
  if (client.sentinel) {
    redis::validate(*client.sentinel, raw, "sentinel");
    if (!client.connection.unix_path.empty()) {
      raw.push_back({"sentinel",
                     "cannot be combined with a unix socket (the sentinels name TCP "
                     "addresses)"});
    }
  }
  if (client.retry) Retry::validate(*client.retry, raw, "retry");
  if (client.rate_limiter) RateLimiter::validate(*client.rate_limiter, raw, "rate_limiter");
  check_policies(client.circuit_breaker, client.bulkhead, raw);
  return raw;
}

void check_service(const HttpServiceConfig& service, const Origins* origins,
                   std::vector<ConfigIssue>& issues) {
  const std::string path = fmt::format("services.{}", service.name);
  if (!is_valid_name(service.name)) {
    issues.push_back({path, fmt::format("{} is not a valid service name (use letters, digits, "
                                        "'_', '-' and '.')",
                                        quote(service.name))});
  }
  if (!service.optional && !service.available) {
    issues.push_back({path + ".optional", "only an optional service may be unavailable"});
  }
  if (service.client.base_url.empty()) {
    issues.push_back({path + ".url", fmt::format("is required (in the file or as {}_URL)",
                                                 environment_stem(service.name))});
  }
  for (ConfigIssue& issue : http_client_issues(service.client)) {
    // An optional service without its secret is unavailable rather than wrong.
    if (!service.available && issue.path == "auth.token") continue;
    if (service.client.base_url.empty() && issue.path == "base_url") continue;
    issues.push_back({locate(ClientKind::http, issue.path, origins, path), issue.message});
  }
  const std::string_view health_path = service.health_path;
  if (health_path.empty() || health_path.front() != '/' ||
      health_path.find_first_of(" \t\r\n") != std::string_view::npos) {
    issues.push_back(
        {path + ".health.path",
         fmt::format("must start with '/' and contain no spaces, got {}", quote(health_path))});
  }
  if (service.expected_status < 100 || service.expected_status > 599) {
    issues.push_back({path + ".health.expected_status",
                      fmt::format("must be 100-599, got {}", service.expected_status)});
  }
}

void check_database(const RedisDatabaseConfig& database, const Origins* origins,
                    std::vector<ConfigIssue>& issues) {
  const std::string path = fmt::format("redis.databases.{}", database.name);
  if (!is_valid_name(database.name)) {
    issues.push_back({path, fmt::format("{} is not a valid database name (use letters, digits, "
                                        "'_', '-' and '.')",
                                        quote(database.name))});
  }
  for (ConfigIssue& issue : redis_client_issues(database.client)) {
    issues.push_back({locate(ClientKind::redis, issue.path, origins, path), issue.message});
  }
}

// A shared breaker needs a breaker, and a Redis database to coordinate through.
// Coordination needs one server: a cluster would split a script's keys across slots, and a
// sentinel-managed master's subscription would not follow a failover. Empty when `database` can
// carry shared state.
std::string coordination_refusal(const RedisDatabaseConfig& database) {
  if (database.client.cluster) {
    return fmt::format(
        "Redis database {} is a cluster, which cannot carry shared state (its "
        "scripts touch several keys); name a database on a single server",
        quote(database.name));
  }
  if (database.client.sentinel) {
    return fmt::format(
        "Redis database {} is reached through Sentinel, which cannot carry shared "
        "state yet (its subscription would not follow a failover); name a database "
        "on a single server",
        quote(database.name));
  }
  return {};
}

void check_shared_breaker(const std::optional<SharedBreakerSettings>& shared, bool has_breaker,
                          const std::string& client_name, const ManagerConfig& config,
                          const std::string& path, std::vector<ConfigIssue>& issues) {
  if (!shared) return;
  const std::string section = path + ".circuit_breaker";
  if (!has_breaker) {
    issues.push_back(
        {section + ".shared", "the circuit breaker is off: there is nothing to share"});
  }
  if (config.redis.empty()) {
    issues.push_back({section + ".shared",
                      "needs a Redis database to coordinate through; none is configured (add a "
                      "`redis` section)"});
  } else if (!shared->database.empty() && config.find_redis(shared->database) == nullptr) {
    std::string names;
    for (const RedisDatabaseConfig& database : config.redis) {
      if (!names.empty()) names += ", ";
      names += database.name;
    }
    issues.push_back(
        {section + ".shared.database", fmt::format("no Redis database named {} (configured: {})",
                                                   quote(shared->database), names)});
  } else {
    const RedisDatabaseConfig* database =
        shared->database.empty() ? &config.redis.front() : config.find_redis(shared->database);
    if (std::string refusal = coordination_refusal(*database); !refusal.empty()) {
      issues.push_back({section + ".shared.database", std::move(refusal)});
    }
  }
  shared::SharedBreakerConfig breaker = shared->breaker;
  breaker.name = client_name;
  shared::validate(breaker, issues, section + ".shared");
}

// Each shared breaker listens on a channel of its own: a message carries no breaker name, so two
// breakers on one channel would apply each other's transitions.
void check_shared_channels(const ManagerConfig& config, std::vector<ConfigIssue>& issues) {
  std::map<std::string, std::string> owners;  // channel -> path of the breaker using it
  const auto check = [&](const std::optional<SharedBreakerSettings>& shared,
                         const std::string& client_name, const std::string& path) {
    if (!shared) return;
    const shared::SharedBreakerConfig& breaker = shared->breaker;
    const std::string channel =
        breaker.channel.empty() ? breaker.key_prefix + "breaker:" + client_name : breaker.channel;
    const auto [owner, inserted] = owners.emplace(channel, path);
    if (!inserted) {
      issues.push_back({path + ".circuit_breaker.shared.channel",
                        fmt::format("{} is already the channel of {}'s shared breaker; each "
                                    "shared breaker needs a channel of its own",
                                    quote(channel), owner->second)});
    }
  };
  for (const HttpServiceConfig& service : config.services) {
    check(service.shared_breaker, service.client.name, fmt::format("services.{}", service.name));
  }
  for (const RedisDatabaseConfig& database : config.redis) {
    check(database.shared_breaker, database.client.name,
          fmt::format("redis.databases.{}", database.name));
  }
}

void check_health(const HealthConfig& health, std::vector<ConfigIssue>& issues) {
  if (health.interval <= Duration::zero()) {
    issues.push_back(
        {"health.interval", fmt::format("must be > 0, got {}", format_duration(health.interval))});
  }
  if (health.timeout <= Duration::zero()) {
    issues.push_back(
        {"health.timeout", fmt::format("must be > 0, got {}", format_duration(health.timeout))});
  } else if (health.interval > Duration::zero() && health.timeout > health.interval) {
    issues.push_back({"health.timeout", fmt::format("must be <= health.interval ({}), got {}",
                                                    format_duration(health.interval),
                                                    format_duration(health.timeout))});
  }
  if (health.max_consecutive_failures == 0) {
    issues.push_back({"health.max_consecutive_failures", "must be >= 1, got 0"});
  }
}

// "host:port", "[v6]:port"; port 0 lets the system choose.
bool valid_listen_address(std::string_view address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return false;  // an IPv6 address needs its brackets
  }
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) return false;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return !port.empty() && ec == std::errc{} && end == port.data() + port.size() && value <= 65535;
}

void check_names(const ManagerConfig& config, std::vector<ConfigIssue>& issues) {
  // Names of clients label metrics and health reports, so they must be unique across kinds.
  std::map<std::string, std::string, std::less<>> clients;  // client name -> where
  std::map<std::string, std::string, std::less<>> stems;    // env stem -> service name
  std::map<std::string, bool, std::less<>> services;
  std::map<std::string, bool, std::less<>> databases;
  const auto claim_client = [&](const std::string& name, const std::string& where) {
    const auto [found, inserted] = clients.emplace(name, where);
    if (!inserted) {
      issues.push_back(
          {where, fmt::format("client name {} is also used by {}", quote(name), found->second)});
    }
  };
  for (const HttpServiceConfig& service : config.services) {
    const std::string path = fmt::format("services.{}", service.name);
    if (!services.emplace(service.name, true).second) {
      issues.push_back({path, "duplicate service name"});
      continue;
    }
    const std::string stem = environment_stem(service.name);
    const auto [other, inserted] = stems.emplace(stem, service.name);
    if (!inserted) {
      issues.push_back({path, fmt::format("its environment variables ({0}_URL, {0}_API_KEY) are "
                                          "also those of service {1}",
                                          stem, quote(other->second))});
    }
    claim_client(service.client.name, path);
  }
  for (const RedisDatabaseConfig& database : config.redis) {
    const std::string path = fmt::format("redis.databases.{}", database.name);
    if (!databases.emplace(database.name, true).second) {
      issues.push_back({path, "duplicate database name"});
      continue;
    }
    claim_client(database.client.name, path);
  }
}

// `database` of a shared rate limit or retry budget must name a configured Redis database; empty
// stands for the only one.
void check_database_of(const ManagerConfig& config, ClientKind kind, const std::string& path,
                       const std::optional<SharedStateConfig>& shared, std::string_view field,
                       const Origins* origins, std::vector<ConfigIssue>& issues) {
  if (!shared) return;
  std::string names;
  for (const RedisDatabaseConfig& database : config.redis) {
    if (!names.empty()) names += ", ";
    names += database.name;
  }
  const std::string where = locate(kind, fmt::format("{}.database", field), origins, path);
  if (shared->database.empty()) {
    if (config.redis.size() == 1) {
      if (std::string refusal = coordination_refusal(config.redis.front()); !refusal.empty()) {
        issues.push_back({where, std::move(refusal)});
      }
      return;
    }
    issues.push_back(
        {where, config.redis.empty()
                    ? std::string("a shared policy needs a Redis database to keep its state, and "
                                  "none is configured (add a redis section)")
                    : fmt::format("must name the Redis database that keeps the shared state "
                                  "(one of: {})",
                                  names)});
    return;
  }
  const RedisDatabaseConfig* database = config.find_redis(shared->database);
  if (database == nullptr) {
    issues.push_back({where, fmt::format("no Redis database named {} is configured (configured: "
                                         "{})",
                                         quote(shared->database), names.empty() ? "none" : names)});
  } else if (std::string refusal = coordination_refusal(*database); !refusal.empty()) {
    issues.push_back({where, std::move(refusal)});
  }
}

template <class Client>
void check_shared(const ManagerConfig& config, ClientKind kind, const std::string& path,
                  const Client& client, const Origins* origins, std::vector<ConfigIssue>& issues) {
  if (client.rate_limiter) {
    check_database_of(config, kind, path, client.rate_limiter->shared, "rate_limiter.shared",
                      origins, issues);
  }
  if (client.retry && client.retry->budget_config) {
    check_database_of(config, kind, path, client.retry->budget_config->shared,
                      "retry.budget.shared", origins, issues);
  }
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

void validate_config(const ManagerConfig& config, std::vector<ConfigIssue>& issues,
                     const ConfigOrigins* origins) {
  check_health(config.health, issues);
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const Origins* recorded =
        origins != nullptr && i < origins->services.size() ? &origins->services[i] : nullptr;
    check_service(config.services[i], recorded, issues);
  }
  for (std::size_t i = 0; i < config.redis.size(); ++i) {
    const Origins* recorded =
        origins != nullptr && i < origins->redis.size() ? &origins->redis[i] : nullptr;
    check_database(config.redis[i], recorded, issues);
  }
  for (const HttpServiceConfig& service : config.services) {
    check_shared_breaker(service.shared_breaker, service.client.circuit_breaker.has_value(),
                         service.client.name, config, fmt::format("services.{}", service.name),
                         issues);
  }
  for (const RedisDatabaseConfig& database : config.redis) {
    check_shared_breaker(database.shared_breaker, database.client.circuit_breaker.has_value(),
                         database.client.name, config,
                         fmt::format("redis.databases.{}", database.name), issues);
  }
  for (std::size_t i = 0; i < config.services.size(); ++i) {
    const Origins* recorded =
        origins != nullptr && i < origins->services.size() ? &origins->services[i] : nullptr;
    check_shared(config, ClientKind::http, fmt::format("services.{}", config.services[i].name),
                 config.services[i].client, recorded, issues);
  }
  for (std::size_t i = 0; i < config.redis.size(); ++i) {
    const Origins* recorded =
        origins != nullptr && i < origins->redis.size() ? &origins->redis[i] : nullptr;
    check_shared(config, ClientKind::redis, fmt::format("redis.databases.{}", config.redis[i].name),
                 config.redis[i].client, recorded, issues);
  }
  check_shared_channels(config, issues);
  check_names(config, issues);
  if (!config.admin.listen.empty() && !valid_listen_address(config.admin.listen)) {
    issues.push_back({"admin.listen", fmt::format("must be \"host:port\" (e.g. 127.0.0.1:9090), "
                                                  "got {}",
                                                  quote(config.admin.listen))});
  }
  if (config.admin.token && config.admin.token->reveal().empty()) {
    issues.push_back({"admin.token", "must not be empty (omit the key for no token)"});
  }
}

void validate_http_defaults(const http::ClientConfig& client, const Origins& origins,
                            std::vector<ConfigIssue>& issues) {
  for (ConfigIssue& issue : http_client_issues(client)) {
    if (const auto found = origins.find(issue.path); found != origins.end()) {
      issues.push_back({found->second, std::move(issue.message)});
    }
  }
}

}  // namespace detail

void validate(const ManagerConfig& config, std::vector<ConfigIssue>& issues) {
  detail::validate_config(config, issues, nullptr);
}

}  // namespace bulwark
