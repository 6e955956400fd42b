#include "manager/detail/http_sections.hpp"

#include "manager/detail/env_expand.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace bulwark::detail {
namespace {

constexpr std::array<Named<http::AuthScheme>, 3> auth_schemes = {{
    {"none", http::AuthScheme::none},
    {"bearer", http::AuthScheme::bearer},
    {"header", http::AuthScheme::header},
}};

// The keys of `http_pool`, also those of a service's `pool`: httpx's vocabulary, where the
// timeouts of a connection sit beside the pool's limits.
void read_pool(YamlMap& pool, http::ClientConfig& client) {
  pool.integer("max_connections", client.pool.max_connections);
  pool.integer("max_keepalive_connections", client.pool.max_keepalive_connections);
  pool.duration("keepalive_expiry", client.pool.keepalive_expiry);
  pool.integer("max_waiting", client.pool.max_waiting);
  pool.duration("connect_timeout", client.timeouts.connect, "timeouts.connect");
  pool.duration("read_timeout", client.timeouts.read, "timeouts.read");
  pool.duration("write_timeout", client.timeouts.write, "timeouts.write");
  pool.duration("pool_timeout", client.timeouts.pool, "timeouts.pool");
}

void read_url(YamlMap& service, const std::string& stem, http::ClientConfig& client) {
  const std::string variable = stem + "_URL";
  if (std::optional<std::string> url = service.context().variable(variable)) {
    (void)service.has("url");
    service.record("url", "base_url");
    client.base_url = std::move(*url);
    return;
  }
  service.string("url", client.base_url, "base_url");
}

void read_auth(YamlMap& service, const std::string& stem, HttpServiceConfig& config) {
  http::Auth& auth = config.client.auth;
  YamlMap section = service.map("auth");
  const bool scheme_given = section.choice("scheme", auth.scheme, auth_schemes);
  section.string("header", auth.header_name, "auth.header_name");
  if (std::optional<std::string> key = service.context().variable(stem + "_API_KEY")) {
    // The environment wins; the file's token is not even expanded, so that a reference to an
    // unset variable there is no error.
    (void)section.has("token");
    section.record("token", "auth.token");
    service.context().add_secret(*key);
    auth.token = Secret(std::move(*key));
    if (!scheme_given && auth.scheme == http::AuthScheme::none) {
      auth.scheme = http::AuthScheme::bearer;
    }
  } else if (const std::optional<ScalarValue> token =
                 section.scalar("token", "auth.token", !config.optional)) {
    service.context().add_secret(token->value);
    if (token->missing.empty()) auth.token = Secret(token->value);
  }
  section.finish();
  // An optional service runs without its secret by not running at all.
  if (config.optional && auth.scheme != http::AuthScheme::none && auth.token.empty()) {
    config.available = false;
  }
}

void read_headers(YamlMap& service, http::ClientConfig& client) {
  YamlMap headers = service.map("headers");
  for (const auto& [name, value] : headers.entries()) {
    std::string text;
    if (headers.string(name, text, fmt::format("headers.{}", name))) {
      client.headers.add(name, std::move(text));
    }
  }
}

void read_details(YamlMap& service, HttpServiceConfig& config) {
  http::ClientConfig& client = config.client;
  service.string("user_agent", client.user_agent);
  service.string("correlation_header", client.correlation_header);
  service.integer("failed_after", client.failed_after);
  service.duration("timeout", client.timeouts.total, "timeouts.total");

  YamlMap health = service.map("health");
  health.string("path", config.health_path);
  health.integer("expected_status", config.expected_status);
  health.finish();

  YamlMap pool = service.map("pool");
  read_pool(pool, client);
  pool.finish();

  YamlMap tls = service.map("tls");
  tls.boolean("verify", client.tls.verify_peer, "tls.verify_peer");
  tls.string("ca_file", client.tls.ca_file);
  tls.string("cert_file", client.tls.cert_file);
  tls.string("key_file", client.tls.key_file);
  tls.string("server_name", client.tls.server_name);
  tls.boolean("session_resumption", client.tls.session_resumption);
  tls.finish();

  YamlMap redirects = service.map("redirects");
  redirects.boolean("follow", client.redirects.follow);
  redirects.integer("max", client.redirects.max_redirects, "redirects.max_redirects");
  redirects.finish();

  YamlMap limits = service.map("limits");
  limits.bytes("max_header_bytes", client.limits.max_header_bytes);
  limits.bytes("max_body_bytes", client.limits.max_body_bytes);
  limits.finish();
}

// The library's 20 idle connections suit its 100 connections; a file that lowers
// max_connections without saying how many may idle means "no more than that".
void fit_keepalive(http::ClientConfig& client, const Origins& origins) {
  if (origins.contains("pool.max_keepalive_connections")) return;
  client.pool.max_keepalive_connections =
      std::min(http::PoolLimits{}.max_keepalive_connections, client.pool.max_connections);
}

// False when the service is of a kind this version does not know (reported; not loaded).
bool read_service(LoadContext& context, const std::string& name, const YAML::Node& node,
                  HttpServiceConfig& config, Origins& origins) {
  const std::string path = fmt::format("services.{}", name);
  YamlMap service(context, node, path, &origins);
  if (!node.IsMap() && !node.IsNull()) return false;  // reported by YamlMap

  if (const std::optional<ScalarValue> kind = service.scalar("kind")) {
    if (kind->value != "http") {
      context.add_issue(service.path_of("kind"),
                        fmt::format("unknown kind {} (the only kind is http)", kind->shown));
      return false;
    }
  }
  const std::string stem = environment_stem(name);
  config.name = name;
  config.client.name = name;
  service.boolean("optional", config.optional);
  read_url(service, stem, config.client);
  read_auth(service, stem, config);
  read_headers(service, config.client);
  read_details(service, config);
  read_policies(service, config.client.retry, config.client.circuit_breaker, config.client.bulkhead,
                config.client.rate_limiter, &config.shared_breaker);
  service.finish();
  fit_keepalive(config.client, origins);
  name_policies(config.client);
  return true;
}

}  // namespace

HttpBase read_http_base(LoadContext& context, const Policies& policies,
                        const YAML::Node& http_pool) {
  HttpBase base;
  http::ClientConfig& client = base.client;
  client.retry = policies.retry;
  client.circuit_breaker = policies.circuit_breaker;
  client.bulkhead = policies.bulkhead;
  client.rate_limiter = policies.rate_limiter;
  if (policies.timeout) client.timeouts.total = *policies.timeout;
  for (const auto& [field, path] : policies.origins) {
    base.origins[field == "timeout" ? "timeouts.total" : field] = path;
  }
  YamlMap pool(context, http_pool, "http_pool", &base.origins, "pool");
  read_pool(pool, client);
  pool.finish();
  fit_keepalive(client, base.origins);
  return base;
}

void read_services(LoadContext& context, const YAML::Node& services, const HttpBase& base,
                   std::vector<HttpServiceConfig>& out, std::vector<Origins>& origins) {
  YamlMap section(context, services, "services");
  for (const auto& [name, node] : section.entries()) {
    HttpServiceConfig config;
    config.client = base.client;
    Origins recorded = base.origins;
    if (read_service(context, name, node, config, recorded)) {
      out.push_back(std::move(config));
      origins.push_back(std::move(recorded));
    }
  }
}

}  // namespace bulwark::detail
