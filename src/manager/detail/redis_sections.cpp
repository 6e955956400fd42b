#include "manager/detail/redis_sections.hpp"

#include "manager/detail/env_expand.hpp"

#include <fmt/format.h>

#include <array>

namespace bulwark::detail {
namespace {

constexpr std::array<Named<redis::Protocol>, 2> protocols = {{
    {"resp3", redis::Protocol::resp3},
    {"resp2", redis::Protocol::resp2},
}};

// `cluster`: the seed nodes of a Redis Cluster (below, after the keys it sits among).
void read_cluster(YamlMap& section, redis::ClientConfig& client);

// The fields a URL sets: the whole endpoint, so that a database on another server inherits
// nothing of the first server's address or credentials.
constexpr std::array<std::string_view, 9> url_fields = {
    "connection.host",        "connection.port",        "connection.unix_path",
    "connection.username",    "connection.password",    "connection.database",
    "connection.tls.enabled", "connection.client_name", "connection.protocol"};

void apply_url(YamlMap& section, std::string_view url, std::string_view variable,
               redis::ConnectionConfig& connection) {
  redis::ConnectionConfig parsed;
  try {
    parsed = redis::from_url(url);
  } catch (const ConfigError& error) {
    for (const ConfigIssue& issue : error.issues()) {
      section.context().add_issue(section.path_of("url"),
                                  variable.empty()
                                      ? issue.message
                                      : fmt::format("{} (set by {})", issue.message, variable));
    }
    return;
  }
  connection.host = std::move(parsed.host);
  connection.port = parsed.port;
  connection.unix_path = std::move(parsed.unix_path);
  connection.username = std::move(parsed.username);
  connection.password = std::move(parsed.password);
  connection.database = parsed.database;
  connection.tls.enabled = parsed.tls.enabled;
  if (!parsed.client_name.empty()) connection.client_name = std::move(parsed.client_name);
  connection.protocol = parsed.protocol;
  section.context().add_secret(connection.password.reveal());
  for (const std::string_view field : url_fields) section.record("url", field);
}

void read_url(YamlMap& section, bool top_level, redis::ConnectionConfig& connection) {
  if (top_level) {
    if (const std::optional<std::string> url = section.context().variable("REDIS_URL")) {
      (void)section.has("url");
      apply_url(section, *url, "REDIS_URL", connection);
      return;
    }
  }
  if (const std::optional<ScalarValue> url = section.scalar("url")) {
    apply_url(section, url->value, "", connection);
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// `nodes`: a list of "host:port", or one string of them separated by commas (which one
// environment variable can hold: "${REDIS_SENTINELS}").
void read_sentinel_nodes(YamlMap& sentinel, std::vector<redis::Endpoint>& nodes) {
  const YAML::Node node = sentinel.get("nodes");
  if (!node.IsDefined()) return;
  sentinel.record("nodes", "sentinel.nodes");
  LoadContext& context = sentinel.context();
  const std::string path = sentinel.path_of("nodes");
  std::vector<std::pair<std::string, std::string>> items;  // path, text
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string item_path = fmt::format("{}[{}]", path, i);
      if (!node[i].IsScalar()) {
        context.add_issue(item_path,
                          fmt::format("expected \"host:port\", got {}", describe_node(node[i])));
        continue;
      }
      items.emplace_back(item_path, node[i].Scalar());
    }
  } else if (node.IsScalar()) {
    items.emplace_back(path, node.Scalar());
  } else {
    context.add_issue(path,
                      fmt::format("expected a list of \"host:port\", got {}", describe_node(node)));
    return;
  }
  std::vector<redis::Endpoint> read;
  for (const auto& [item_path, text] : items) {
    if (!context.charge(text.size() + 1)) return;
    Expansion expanded = expand_environment(text, context.environment());
    context.note_variables(expanded.used);
    if (expanded.error) {
      context.add_issue(item_path, *expanded.error);
      continue;
    }
    if (!expanded.missing.empty()) {
      context.add_issue(
          item_path, fmt::format("environment variable {} is not set", expanded.missing.front()));
      continue;
    }
    std::string_view rest = expanded.value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view piece = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      if (piece.empty()) continue;
      try {
        read.push_back(redis::parse_sentinel_node(piece, item_path));
      } catch (const ConfigError& error) {
        for (const ConfigIssue& issue : error.issues())
          context.add_issue(issue.path, issue.message);
      }
    }
  }
  nodes = std::move(read);
}

// `sentinel`: where the master is found. Absent = a fixed address.
void read_sentinel(YamlMap& section, redis::ClientConfig& client) {
  YamlMap sentinel = section.map("sentinel", "sentinel");
  if (sentinel.present()) {
    redis::SentinelConfig& config = client.sentinel ? *client.sentinel : client.sentinel.emplace();
    sentinel.string("master", config.master_name, "sentinel.master_name");
    read_sentinel_nodes(sentinel, config.nodes);
    sentinel.string("username", config.username);
    sentinel.secret("password", config.password);
    sentinel.duration("timeout", config.timeout);
    sentinel.boolean("use_replicas_for_reads", config.use_replicas_for_reads);
    YamlMap tls = sentinel.map("tls", "sentinel.tls");
    tls.boolean("enabled", config.tls.enabled);
    tls.boolean("verify", config.tls.verify_peer, "sentinel.tls.verify_peer");
    tls.string("ca_file", config.tls.ca_file);
    tls.string("cert_file", config.tls.cert_file);
    tls.string("key_file", config.tls.key_file);
    tls.string("server_name", config.tls.server_name);
    tls.finish();
  }
  sentinel.finish();
}

// Keys shared by `redis` and a database's map.
void read_client(YamlMap& section, bool top_level, redis::ClientConfig& client,
                 std::optional<SharedBreakerSettings>& shared) {
  redis::ConnectionConfig& connection = client.connection;
  read_url(section, top_level, connection);
  if (section.string("host", connection.host, "connection.host")) connection.unix_path.clear();
  section.integer("port", connection.port, "connection.port");
  if (!top_level) section.integer("db", connection.database, "connection.database");
  section.string("username", connection.username, "connection.username");
  section.secret("password", connection.password, "connection.password");
  section.string("client_name", connection.client_name, "connection.client_name");
  section.choice("protocol", connection.protocol, protocols, "connection.protocol");
  section.duration("connect_timeout", connection.connect_timeout, "connection.connect_timeout");
  section.integer("max_pending_commands", connection.max_pending_commands,
                  "connection.max_pending_commands");

  YamlMap tls = section.map("tls", "connection.tls");
  tls.boolean("enabled", connection.tls.enabled);
  tls.boolean("verify", connection.tls.verify_peer, "connection.tls.verify_peer");
  tls.string("ca_file", connection.tls.ca_file);
  tls.string("cert_file", connection.tls.cert_file);
  tls.string("key_file", connection.tls.key_file);
  tls.string("server_name", connection.tls.server_name);
  tls.finish();

  YamlMap keepalive = section.map("keepalive", "connection.keepalive");
  keepalive.boolean("enabled", connection.keepalive.enabled);
  keepalive.duration("idle", connection.keepalive.idle);
  keepalive.duration("interval", connection.keepalive.interval);
  keepalive.integer("count", connection.keepalive.count);
  keepalive.finish();

  read_sentinel(section, client);

  YamlMap pool = section.map("pool");
  pool.integer("max_connections", client.pool.max_connections);
  pool.integer("busy_threshold", client.pool.busy_threshold);
  pool.duration("acquire_timeout", client.pool.acquire_timeout);
  pool.duration("health_check_interval", client.pool.health_check_interval);
  pool.duration("max_idle_time", client.pool.max_idle_time);
  pool.finish();

  read_cluster(section, client);

  section.duration("command_timeout", client.command_timeout);
  section.duration("wait_for_loading", client.wait_for_loading);
  section.integer("failed_after", client.failed_after);
  read_policies(section, client.retry, client.circuit_breaker, client.bulkhead, client.rate_limiter,
                &shared);
}

// One entry of `cluster.nodes`: "host:port", or several separated by commas (so that one
// variable, `${REDIS_CLUSTER_NODES}`, can hold the whole list).
void read_node(YamlMap& cluster, const YAML::Node& node, std::string_view key,
               std::vector<std::string>& nodes) {
  LoadContext& context = cluster.context();
  const std::string path = cluster.path_of(key);
  if (!node.IsScalar()) {
    context.add_issue(path, fmt::format("expected host:port, got {}", describe_node(node)));
    return;
  }
  if (!context.charge(node.Scalar().size() + 1)) return;
  Expansion expansion = expand_environment(node.Scalar(), context.environment());
  context.note_variables(expansion.used);
  if (expansion.error) {
    context.add_issue(path, *expansion.error);
    return;
  }
  for (const std::string& name : expansion.missing) {
    context.add_issue(path, fmt::format("environment variable {} is not set", name));
  }
  std::string_view rest = expansion.value;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    cluster.record(fmt::format("{}", key), fmt::format("cluster.nodes[{}]", nodes.size()));
    nodes.emplace_back(item);
  }
}

void read_cluster(YamlMap& section, redis::ClientConfig& client) {
  YamlMap cluster = section.map("cluster");
  if (cluster.present()) {
    redis::ClusterConfig& config = client.cluster ? *client.cluster : client.cluster.emplace();
    const YAML::Node nodes = cluster.get("nodes");
    if (nodes.IsDefined()) {
      config.nodes.clear();
      if (nodes.IsSequence()) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
          read_node(cluster, nodes[i], fmt::format("nodes[{}]", i), config.nodes);
        }
      } else {
        read_node(cluster, nodes, "nodes", config.nodes);
      }
    }
    cluster.integer("max_redirects", config.max_redirects);
    cluster.duration("refresh_interval", config.refresh_interval);
    cluster.duration("retry_window", config.retry_window);
  }
  cluster.finish();
}

void add_database(const std::string& name, redis::ClientConfig client, Origins recorded,
                  std::optional<SharedBreakerSettings> shared,
                  std::vector<RedisDatabaseConfig>& out, std::vector<Origins>& origins) {
  client.name = fmt::format("redis.{}", name);
  name_policies(client);
  out.push_back({name, std::move(client), std::move(shared)});
  origins.push_back(std::move(recorded));
}

}  // namespace

void read_redis(LoadContext& context, const YAML::Node& redis, const Policies& policies,
                std::vector<RedisDatabaseConfig>& out, std::vector<Origins>& origins) {
  if (!redis.IsDefined()) return;
  redis::ClientConfig base;
  base.retry = policies.retry;
  base.circuit_breaker = policies.circuit_breaker;
  base.bulkhead = policies.bulkhead;
  base.rate_limiter = policies.rate_limiter;
  if (policies.timeout) base.command_timeout = *policies.timeout;
  Origins base_origins;
  for (const auto& [field, path] : policies.origins) {
    base_origins[field == "timeout" ? "command_timeout" : field] = path;
  }

  YamlMap section(context, redis, "redis", &base_origins);
  std::optional<SharedBreakerSettings> base_shared;
  read_client(section, true, base, base_shared);
  const YAML::Node databases_node = section.get("databases");
  YamlMap databases(context, databases_node, "redis.databases");
  section.finish();
  if (!databases_node.IsDefined()) {
    add_database("default", std::move(base), std::move(base_origins), std::move(base_shared), out,
                 origins);
    return;
  }
  for (const auto& [name, node] : databases.entries()) {
    redis::ClientConfig client = base;
    Origins recorded = base_origins;
    std::optional<SharedBreakerSettings> shared = base_shared;
    const std::string path = databases.path_of(name);
    if (node.IsScalar()) {
      databases.integer(name, client.connection.database, "connection.database");
      recorded["connection.database"] = path;
    } else if (node.IsMap() || node.IsNull()) {
      YamlMap block(context, node, path, &recorded);
      read_client(block, false, client, shared);
      block.finish();
    } else {
      context.add_issue(path, fmt::format("expected a database number (0-15) or a map, got {}",
                                          describe_node(node)));
      continue;
    }
    add_database(name, std::move(client), std::move(recorded), std::move(shared), out, origins);
  }
}

}  // namespace bulwark::detail
