#include "bulwark/redis/config.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <charconv>

namespace bulwark::redis {
namespace {

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
  throw ConfigError("url", fmt::format("{} in \"{}\"", why, redact_url(url)));
}

int parse_int(std::string_view text, std::string_view url, std::string_view what) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    bad_url(url, fmt::format("{} \"{}\" is not a number", what, text));
  }
  return value;
}

}  // namespace

ConnectionConfig from_url(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) bad_url(url, "not a valid URL");
  const boost::urls::url_view u = *parsed;

  ConnectionConfig config;
  const std::string scheme(u.scheme());
  if (scheme == "rediss") {
    config.tls.enabled = true;
  } else if (scheme != "redis" && scheme != "unix") {
    bad_url(url, fmt::format("unknown scheme \"{}\" (use redis, rediss or unix)", scheme));
  }
  if (u.has_userinfo()) {
    config.username = u.user();
    if (u.has_password()) config.password = Secret(std::string(u.password()));
  }

  if (scheme == "unix") {
    config.unix_path = u.path();
    if (config.unix_path.empty()) bad_url(url, "missing socket path");
  } else {
    if (u.host().empty()) bad_url(url, "missing host");
    config.host = u.host_address();
    if (u.has_port()) {
      const int port = parse_int(u.port(), url, "port");
      if (port <= 0 || port > 65535) bad_url(url, fmt::format("port {} is out of range", port));
      config.port = static_cast<std::uint16_t>(port);
    }
    const std::string decoded_path = u.path();  // decoded, so returned by value
    std::string_view path = decoded_path;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (!path.empty()) config.database = parse_int(path, url, "database");
  }

  for (const auto& param : u.params()) {
    if (param.key == "db") {
      config.database = parse_int(param.value, url, "database");
    } else if (param.key == "client_name") {
      config.client_name = param.value;
    } else if (param.key == "protocol") {
      const int protocol = parse_int(param.value, url, "protocol");
      if (protocol != 2 && protocol != 3) bad_url(url, "protocol must be 2 or 3");
      config.protocol = protocol == 2 ? Protocol::resp2 : Protocol::resp3;
    } else {
      bad_url(url, fmt::format("unknown parameter \"{}\" (known: db, client_name, protocol)",
                               std::string(param.key)));
    }
  }
  return config;
}

void validate(const ConnectionConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path) {
  auto issue = [&](std::string_view field, std::string message) {
    issues.push_back({fmt::format("{}.{}", path, field), std::move(message)});
  };
  if (config.unix_path.empty() && config.host.empty()) issue("host", "must not be empty");
  if (config.unix_path.empty() && config.port == 0) issue("port", "must be 1-65535, got 0");
  if (config.database < 0) issue("database", fmt::format("must be >= 0, got {}", config.database));
  if (config.connect_timeout <= Duration::zero()) {
    issue("connect_timeout",
          fmt::format("must be > 0, got {}", format_duration(config.connect_timeout)));
  }
  if (config.max_pending_commands == 0) issue("max_pending_commands", "must be >= 1, got 0");
  if (config.keepalive.enabled) {
    if (config.keepalive.idle < std::chrono::seconds(1)) {
      issue("keepalive.idle",
            fmt::format("must be >= 1s, got {}", format_duration(config.keepalive.idle)));
    }
    if (config.keepalive.interval < std::chrono::seconds(1)) {
      issue("keepalive.interval",
            fmt::format("must be >= 1s, got {}", format_duration(config.keepalive.interval)));
    }
    if (config.keepalive.count < 1)
      issue("keepalive.count", fmt::format("must be >= 1, got {}", config.keepalive.count));
  }
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    issue("tls.key_file", "a client certificate needs both cert_file and key_file");
  }
  if (!config.unix_path.empty() && config.tls.enabled)
    issue("tls.enabled", "TLS over a unix socket is not supported");
}

std::string describe_endpoint(const ConnectionConfig& config) {
  const char* tls = config.tls.enabled ? "tls:" : "";
  if (!config.unix_path.empty()) return fmt::format("unix:{}", config.unix_path);
  return fmt::format("{}{}:{}", tls, config.host, config.port);
}

}  // namespace bulwark::redis
