#pragma once
/// @file
/// bulwark's error vocabulary: `errc` codes in their own `std::error_category`, error
/// conditions that group them (timeout, rejected, unavailable, transient), and the exception
/// types applications catch.
///
/// Thread-safety: everything here is immutable after construction and safe to share.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bulwark {

/// Every failure bulwark reports. Values are stable: they appear in logs and metrics.
enum class errc : int {
  // Local rejections: the protected service was never called.
  circuit_open = 1,  ///< The circuit breaker is open (or forced open) and rejected the call.
  bulkhead_full,     ///< No concurrency slot and no room (or no time) to wait for one.
  rate_limited,      ///< The rate limiter had no token within the allowed wait.
  pool_timeout,      ///< No pooled connection became free within the pool timeout.
  // Outcomes of calls that were attempted.
  timeout,            ///< An attempt or the whole call exceeded its deadline.
  retries_exhausted,  ///< Every permitted attempt failed (or the retry budget ran out).
  cancelled,          ///< The caller cancelled the operation.
  connect_failed,     ///< The connection could not be established (refused, unreachable, DNS).
  connection_lost,    ///< The peer went away while a request was in flight.
  protocol_error,     ///< The peer sent bytes that violate the protocol; the connection is closed.
  limit_exceeded,     ///< A configured size limit (body, header, reply depth, queue) was exceeded.
  tls_error,          ///< TLS handshake or certificate verification failed.
  server_error,       ///< The service answered with a failure status (HTTP 5xx, 429).
  http_client_error,  ///< The service refused the request (HTTP 4xx other than 429).
  redis_loading,      ///< Redis is loading its dataset (LOADING).
  redis_busy,         ///< Redis is busy running a script (BUSY).
  redis_tryagain,     ///< Redis asked to try again (TRYAGAIN).
  redis_masterdown,   ///< The replica lost its master (MASTERDOWN).
  redis_error,        ///< Redis answered a command with an error reply.
  // Usage and configuration.
  config_invalid,    ///< The configuration failed validation.
  invalid_argument,  ///< An argument to a bulwark function was invalid.
  not_found,         ///< A named client, service or database is not configured.
  shutting_down,     ///< The component is stopping and accepts no new work.
  exception,         ///< The protected call threw something that is not a std::system_error.
};

/// Groups of `errc` (and of system errors such as ECONNRESET) that callers test with `==`:
/// `if (ec == bulwark::condition::transient) ...`.
enum class condition : int {
  timeout = 1,  ///< timeout, pool_timeout, ETIMEDOUT.
  rejected,     ///< A local policy refused the call: circuit_open, bulkhead_full, rate_limited.
  overload,     ///< The caller is sending too much: bulkhead_full, rate_limited, pool_timeout.
  unavailable,  ///< The service cannot be reached or is not serving (includes circuit_open).
  transient,    ///< Failures a later attempt may not see; the default retry predicate.
};

/// The category of `errc`; its name is "bulwark".
[[nodiscard]] const std::error_category& error_category() noexcept;
/// The category of `condition`; its name is "bulwark.condition".
[[nodiscard]] const std::error_category& condition_category() noexcept;

[[nodiscard]] std::error_code make_error_code(errc e) noexcept;
[[nodiscard]] std::error_condition make_error_condition(condition c) noexcept;

/// Short stable name of a code ("circuit_open"), for metric labels and JSON. Codes of other
/// categories are named "<category>:<value>".
[[nodiscard]] std::string error_name(const std::error_code& ec);

/// Where an error happened: which client, which operation, which attempt (1-based; 0 when the
/// call was rejected before any attempt).
struct ErrorContext {
  std::string client{};
  std::string operation{};
  int attempt = 0;
};

/// Base of every exception bulwark throws. The message reads
/// `client: operation (attempt N): <reason>[: detail]` and never contains a secret.
class Error : public std::system_error {
 public:
  Error(std::error_code ec, ErrorContext context = {}, std::string_view detail = {});

  [[nodiscard]] const std::string& client() const noexcept { return context_.client; }
  [[nodiscard]] const std::string& operation() const noexcept { return context_.operation; }
  [[nodiscard]] int attempt() const noexcept { return context_.attempt; }
  [[nodiscard]] const ErrorContext& context() const noexcept { return context_; }
  /// What the code alone does not say (the endpoint, the limit that was hit); may be empty.
  [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorContext context_;
  std::string detail_{};
  std::string message_{};
};

/// The service cannot be used right now: the breaker is open, or every retry failed with an
/// `unavailable` error. The exception applications most often catch to degrade gracefully.
class ServiceUnavailable : public Error {
 public:
  using Error::Error;
};

/// One problem found while validating configuration: the key's path and what is wrong with it.
struct ConfigIssue {
  std::string path{};     ///< e.g. "services.qdrant.pool.max_connections"
  std::string message{};  ///< e.g. "must be >= 1, got 0"
};

/// Configuration was rejected. `issues()` lists every problem found, not just the first.
class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  ConfigError(std::string path, std::string message);

  [[nodiscard]] const std::vector<ConfigIssue>& issues() const noexcept { return issues_; }

 private:
  std::vector<ConfigIssue> issues_{};
};

/// Throws the exception that fits `ec`: `ServiceUnavailable` for codes equivalent to
/// `condition::unavailable` or `errc::retries_exhausted`, `Error` otherwise.
[[noreturn]] void throw_error(std::error_code ec, ErrorContext context = {},
                              std::string_view detail = {});

}  // namespace bulwark

template <>
struct std::is_error_code_enum<bulwark::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<bulwark::condition> : std::true_type {};
