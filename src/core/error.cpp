#include "bulwark/core/error.hpp"

#include <fmt/format.h>

#include <cerrno>

namespace bulwark {
namespace {

struct NamedErrc {
  const char* name;
  const char* message;
};

NamedErrc describe(errc e) noexcept {
  switch (e) {
    case errc::circuit_open:
      return {"circuit_open", "circuit breaker is open"};
    case errc::bulkhead_full:
      return {"bulkhead_full", "bulkhead is full"};
    case errc::rate_limited:
      return {"rate_limited", "rate limit exceeded"};
    case errc::pool_timeout:
      return {"pool_timeout", "timed out waiting for a pooled connection"};
    case errc::timeout:
      return {"timeout", "timed out"};
    case errc::retries_exhausted:
      return {"retries_exhausted", "all retry attempts failed"};
    case errc::cancelled:
      return {"cancelled", "operation cancelled"};
    case errc::connect_failed:
      return {"connect_failed", "could not connect"};
    case errc::connection_lost:
      return {"connection_lost", "connection lost"};
    case errc::protocol_error:
      return {"protocol_error", "protocol error"};
    case errc::limit_exceeded:
      return {"limit_exceeded", "size limit exceeded"};
    case errc::tls_error:
      return {"tls_error", "TLS error"};
    case errc::server_error:
      return {"server_error", "server error"};
    case errc::http_client_error:
      return {"http_client_error", "the service refused the request"};
    case errc::redis_loading:
      return {"redis_loading", "Redis is loading the dataset in memory"};
    case errc::redis_busy:
      return {"redis_busy", "Redis is busy running a script"};
    case errc::redis_tryagain:
      return {"redis_tryagain", "Redis asked to try again"};
    case errc::redis_masterdown:
      return {"redis_masterdown", "Redis replica lost its master"};
    case errc::redis_error:
      return {"redis_error", "Redis error reply"};
    case errc::config_invalid:
      return {"config_invalid", "invalid configuration"};
    case errc::invalid_argument:
      return {"invalid_argument", "invalid argument"};
    case errc::not_found:
      return {"not_found", "not found"};
    case errc::shutting_down:
      return {"shutting_down", "shutting down"};
    case errc::exception:
      return {"exception", "the call threw an exception"};
  }
  return {"unknown", "unknown bulwark error"};
}

bool in(errc e, std::initializer_list<errc> set) noexcept {
  for (errc candidate : set) {
    if (candidate == e) return true;
  }
  return false;
}

bool in(int value, std::initializer_list<int> set) noexcept {
  for (int candidate : set) {
    if (candidate == value) return true;
  }
  return false;
}

bool errc_matches(errc e, condition c) noexcept {
  switch (c) {
    case condition::timeout:
      return in(e, {errc::timeout, errc::pool_timeout});
    case condition::rejected:
      return in(e, {errc::circuit_open, errc::bulkhead_full, errc::rate_limited});
    case condition::overload:
      return in(e, {errc::bulkhead_full, errc::rate_limited, errc::pool_timeout});
    case condition::unavailable:
      return in(
          e, {errc::circuit_open, errc::connect_failed, errc::connection_lost, errc::server_error,
              errc::redis_loading, errc::redis_masterdown, errc::tls_error});
    case condition::transient:
      return in(
          e, {errc::timeout, errc::connect_failed, errc::connection_lost, errc::server_error,
              errc::redis_loading, errc::redis_busy, errc::redis_tryagain, errc::redis_masterdown});
  }
  return false;
}

// Operating-system errors (as Asio reports them) that belong to a condition.
bool errno_matches(int value, condition c) noexcept {
  const std::initializer_list<int> refused = {ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN,
                                              ENETDOWN};
  const std::initializer_list<int> dropped = {ECONNRESET, ECONNABORTED, EPIPE, ENOTCONN, ENETRESET};
  switch (c) {
    case condition::timeout:
      return value == ETIMEDOUT;
    case condition::rejected:
    case condition::overload:
      return false;
    case condition::unavailable:
      return in(value, refused) || in(value, dropped);
    case condition::transient:
      return value == ETIMEDOUT || in(value, refused) || in(value, dropped);
  }
  return false;
}

class ErrcCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bulwark"; }
  std::string message(int value) const override {
    return describe(static_cast<errc>(value)).message;
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::timeout:
        return std::errc::timed_out;
      case errc::cancelled:
        return std::errc::operation_canceled;
      case errc::invalid_argument:
        return std::errc::invalid_argument;
      default:
        return {value, *this};
    }
  }
};

class ConditionCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bulwark.condition"; }
  std::string message(int value) const override {
    switch (static_cast<condition>(value)) {
      case condition::timeout:
        return "timeout";
      case condition::rejected:
        return "rejected by a local policy";
      case condition::overload:
        return "overload";
      case condition::unavailable:
        return "service unavailable";
      case condition::transient:
        return "transient failure";
    }
    return "unknown condition";
  }
  bool equivalent(const std::error_code& code, int value) const noexcept override {
    const auto c = static_cast<condition>(value);
    if (code.category() == bulwark::error_category())
      return errc_matches(static_cast<errc>(code.value()), c);
    if (code.category() == std::generic_category() || code.category() == std::system_category()) {
      return errno_matches(code.value(), c);
    }
    // Other categories (Asio's, Boost's wrappers): judge by their portable equivalent.
    const std::error_condition portable = code.default_error_condition();
    if (portable.category() == std::generic_category()) return errno_matches(portable.value(), c);
    return false;
  }
};

std::string format_message(const std::error_code& ec, const ErrorContext& context,
                           std::string_view detail) {
  std::string out;
  if (!context.client.empty()) fmt::format_to(std::back_inserter(out), "{}: ", context.client);
  if (!context.operation.empty()) {
    fmt::format_to(std::back_inserter(out), "{} ", context.operation);
  }
  if (context.attempt > 0)
    fmt::format_to(std::back_inserter(out), "(attempt {}) ", context.attempt);
  if (!out.empty()) {
    out.pop_back();
    out += ": ";
  }
  out += ec.message();
  if (!detail.empty()) fmt::format_to(std::back_inserter(out), ": {}", detail);
  return out;
}

std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string out;
  for (const ConfigIssue& issue : issues) {
    if (!out.empty()) out += "; ";
    out += issue.path.empty() ? issue.message : fmt::format("{}: {}", issue.path, issue.message);
  }
  return out;
}

}  // namespace

const std::error_category& error_category() noexcept {
  static const ErrcCategory instance;
  return instance;
}

const std::error_category& condition_category() noexcept {
  static const ConditionCategory instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

std::error_condition make_error_condition(condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

std::string error_name(const std::error_code& ec) {
  if (!ec) return "ok";
  if (ec.category() == error_category()) return describe(static_cast<errc>(ec.value())).name;
  return fmt::format("{}:{}", ec.category().name(), ec.value());
}

Error::Error(std::error_code ec, ErrorContext context, std::string_view detail)
    : std::system_error(ec),
      context_(std::move(context)),
      detail_(detail),
      message_(format_message(ec, context_, detail_)) {}

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : Error(errc::config_invalid, {}, join_issues(issues)), issues_(std::move(issues)) {}

ConfigError::ConfigError(std::string path, std::string message)
    : ConfigError(std::vector<ConfigIssue>{{std::move(path), std::move(message)}}) {}

void throw_error(std::error_code ec, ErrorContext context, std::string_view detail) {
  if (ec == condition::unavailable || ec == errc::retries_exhausted) {
    throw ServiceUnavailable(ec, std::move(context), detail);
  }
  throw Error(ec, std::move(context), detail);
}

}  // namespace bulwark
