#pragma once
/// @file
/// How an `http::Client` reaches its service: base URL, default headers and authentication,
/// connection pool limits and timeouts in the vocabulary of httpx, size limits, TLS, redirects
/// and the resilience pipeline. Plain aggregates with documented defaults.

#include "bulwark/core/call_observer.hpp"
#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/http/headers.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "bulwark/resilience/circuit_breaker.hpp"
#include "bulwark/resilience/rate_limiter.hpp"
#include "bulwark/resilience/retry.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bulwark::http {

struct Response;

/// Connection pool of each origin (scheme, host, port).
struct PoolLimits {
  /// Connections open at once, busy and idle; a request that finds none free waits up to
  /// `Timeouts::pool`. >= 1.
  std::size_t max_connections = 100;
  /// Idle connections kept for reuse; more are closed when returned. <= max_connections.
  std::size_t max_keepalive_connections = 20;
  /// An idle connection older than this is closed instead of reused; 0 = no keep-alive at all
  /// (a new connection for every request).
  Duration keepalive_expiry = std::chrono::seconds(5);
  /// Requests that may wait at once for a connection of one origin; one more fails at once with
  /// `errc::pool_timeout`, so a stalled service cannot make the queue grow without bound.
  std::uint32_t max_waiting = 10000;
};

struct Timeouts {
  /// Resolving, connecting and the TLS handshake.
  Duration connect = std::chrono::seconds(5);
  /// Longest wait for the next bytes of the response (headers, then each piece of the body).
  Duration read = std::chrono::seconds(30);
  /// Longest time to write the request.
  Duration write = std::chrono::seconds(30);
  /// Longest wait for a connection from a full pool (`errc::pool_timeout`); 0 = do not wait.
  Duration pool = std::chrono::seconds(5);
  /// Bound on a whole request, retries and redirects included; 0 = none.
  Duration total = Duration::zero();
};

struct Limits {
  /// Status line and header fields of a response, in bytes.
  std::uint32_t max_header_bytes = 64 * 1024;
  /// Body kept in `Response::body`, in bytes (after chunked decoding). Streamed bodies are not
  /// limited.
  std::uint64_t max_body_bytes = 64ULL * 1024 * 1024;
};

struct TlsConfig {
  /// Verify the server's certificate chain and host name. Turn off only for a test server.
  bool verify_peer = true;
  /// PEM file of trusted CAs; empty = the system's default store.
  std::string ca_file{};
  /// Client certificate and key (PEM), for servers that require one; both or neither.
  std::string cert_file{};
  std::string key_file{};
  /// Name sent as SNI and checked against the certificate; empty = the URL's host.
  std::string server_name{};
  /// Resume TLS sessions on new connections to the same origin (saves a round trip and the
  /// key exchange).
  bool session_resumption = true;
};

struct RedirectPolicy {
  /// Follow 301, 302, 303, 307 and 308. Off by default: a redirect is returned as a response.
  bool follow = false;
  /// Redirects followed at most for one request; one more fails with `protocol_error`.
  int max_redirects = 5;
};

enum class AuthScheme : std::uint8_t {
  none,
  bearer,  ///< `Authorization: Bearer <token>`.
  header,  ///< `<header_name>: <token>` (e.g. `api-key`, `X-API-Key`).
};

struct Auth {
  AuthScheme scheme = AuthScheme::none;
  /// The header that carries the token for `AuthScheme::header`.
  std::string header_name{};
  /// Never printed (see `Secret`). Not sent to another origin after a redirect.
  Secret token{};
};

/// The default judgement of a response for the circuit breaker and retry: 5xx and 429 are
/// `errc::server_error` (failures, retryable); anything else is a success for the service,
/// 4xx included.
[[nodiscard]] std::error_code default_response_classifier(const Response& response);

struct ClientConfig {
  /// Names the client in errors, events and metrics (e.g. "qdrant").
  std::string name = "http";
  /// Prefix of relative request URLs ("https://qdrant:6333", "https://api.openai.com/v1");
  /// empty = requests must carry absolute URLs.
  std::string base_url{};
  /// Sent with every request unless the request sets the same name.
  Headers headers{};
  /// `User-Agent`; empty = none.
  std::string user_agent = "bulwark-http/1";
  Auth auth{};
  /// Header carrying the correlation ID on every attempt; empty = none is sent.
  std::string correlation_header = "X-Correlation-ID";
  PoolLimits pool{};
  Timeouts timeouts{};
  Limits limits{};
  TlsConfig tls{};
  RedirectPolicy redirects{};
  /// Retries: only requests that are safe to send again (see `Request::is_replayable`), plus any
  /// request that was never sent (no connection). Absent = no retry. 429 and 503 honour
  /// `Retry-After`.
  std::optional<RetryConfig> retry = RetryConfig{};
  std::optional<CircuitBreakerConfig> circuit_breaker = CircuitBreakerConfig{};
  std::optional<RateLimiterConfig> rate_limiter{};
  std::optional<BulkheadConfig> bulkhead{};
  /// Judges responses for the breaker and retry; empty = `default_response_classifier`.
  std::function<std::error_code(const Response&)> classify_response{};
  /// Consecutive failed requests after which health reports `failed` while the breaker is still
  /// closed; >= 1.
  std::uint32_t failed_after = 3;
  /// Time source of the pipeline and the pools; null = `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Told of every completed `send`/`execute` (metrics); empty = nothing is measured.
  CallObserver on_call{};
};

/// Appends one issue per bad field (paths `<path>.<field>`): base URL, header names and values,
/// auth, limits, timeouts, and the resilience sections.
void validate(const ClientConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "http");

}  // namespace bulwark::http
