#include "bulwark/http/config.hpp"

#include "bulwark/http/response.hpp"
#include "http/detail/fields.hpp"
#include "http/detail/url.hpp"

#include <fmt/format.h>

namespace bulwark::http {
namespace {

void positive(Duration value, std::string_view path, std::string_view field,
              std::vector<ConfigIssue>& issues) {
  if (value <= Duration::zero()) {
    issues.push_back({fmt::format("{}.{}", path, field),
                      fmt::format("must be > 0, got {}", format_duration(value))});
  }
}

void not_negative(Duration value, std::string_view path, std::string_view field,
                  std::vector<ConfigIssue>& issues) {
  if (value < Duration::zero()) {
    issues.push_back({fmt::format("{}.{}", path, field),
                      fmt::format("must be >= 0, got {}", format_duration(value))});
  }
}

void check_header(std::string_view name, std::string_view value, std::string_view path,
                  std::vector<ConfigIssue>& issues) {
  if (!detail::is_token(name)) {
    issues.push_back({std::string(path), fmt::format("'{}' is not a valid header name", name)});
  } else if (!detail::is_field_value(value)) {
    // The value is not shown: it may be a credential.
    issues.push_back({fmt::format("{}.{}", path, name), "value contains CR, LF or NUL"});
  }
}

}  // namespace

std::error_code default_response_classifier(const Response& response) {
  if (response.status >= 500 || response.status == 429) return make_error_code(errc::server_error);
  return {};
}

void validate(const ClientConfig& config, std::vector<ConfigIssue>& issues, std::string_view path) {
  const auto at = [&](std::string_view field) { return fmt::format("{}.{}", path, field); };
  if (config.name.empty()) issues.push_back({at("name"), "must not be empty"});
  if (!config.base_url.empty()) {
    try {
      (void)detail::resolve_target(config.base_url, "/", {});
    } catch (const Error& error) {
      issues.push_back({at("base_url"), error.detail()});
    }
  }
  for (const auto& [name, value] : config.headers) check_header(name, value, at("headers"), issues);
  if (!detail::is_field_value(config.user_agent)) {
    issues.push_back({at("user_agent"), "contains CR, LF or NUL"});
  }
  if (!config.correlation_header.empty() && !detail::is_token(config.correlation_header)) {
    issues.push_back({at("correlation_header"),
                      fmt::format("'{}' is not a valid header name", config.correlation_header)});
  }
  if (config.auth.scheme != AuthScheme::none) {
    if (config.auth.token.reveal().empty()) {
      issues.push_back({at("auth.token"), "is required by the auth scheme but empty"});
    } else if (!detail::is_field_value(config.auth.token.reveal())) {
      issues.push_back({at("auth.token"), "contains CR, LF or NUL"});
    }
    if (config.auth.scheme == AuthScheme::header && !detail::is_token(config.auth.header_name)) {
      issues.push_back(
          {at("auth.header_name"),
           config.auth.header_name.empty()
               ? std::string("is required for the header scheme (e.g. api-key)")
               : fmt::format("'{}' is not a valid header name", config.auth.header_name)});
    }
  }

  const std::string pool = at("pool");
  if (config.pool.max_connections == 0) {
    issues.push_back({pool + ".max_connections", "must be >= 1, got 0"});
  }
  if (config.pool.max_keepalive_connections > config.pool.max_connections) {
    issues.push_back(
        {pool + ".max_keepalive_connections",
         fmt::format("must be <= max_connections ({}), got {}", config.pool.max_connections,
                     config.pool.max_keepalive_connections)});
  }
  not_negative(config.pool.keepalive_expiry, pool, "keepalive_expiry", issues);

  const std::string timeouts = at("timeouts");
  positive(config.timeouts.connect, timeouts, "connect", issues);
  positive(config.timeouts.read, timeouts, "read", issues);
  positive(config.timeouts.write, timeouts, "write", issues);
  not_negative(config.timeouts.pool, timeouts, "pool", issues);
  not_negative(config.timeouts.total, timeouts, "total", issues);

  if (config.limits.max_header_bytes < 1024) {
    issues.push_back({at("limits.max_header_bytes"),
                      fmt::format("must be >= 1024, got {}", config.limits.max_header_bytes)});
  }
  if (config.limits.max_body_bytes == 0) {
    issues.push_back({at("limits.max_body_bytes"), "must be >= 1, got 0"});
  }
  if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
    issues.push_back({at("tls"), "cert_file and key_file go together: set both or neither"});
  }
  if (config.redirects.max_redirects < 0 || config.redirects.max_redirects > 50) {
    issues.push_back({at("redirects.max_redirects"),
                      fmt::format("must be 0-50, got {}", config.redirects.max_redirects)});
  }
  if (config.failed_after == 0) issues.push_back({at("failed_after"), "must be >= 1, got 0"});
  if (config.retry) Retry::validate(*config.retry, issues, at("retry"));
  if (config.rate_limiter) RateLimiter::validate(*config.rate_limiter, issues, at("rate_limiter"));
}

}  // namespace bulwark::http
