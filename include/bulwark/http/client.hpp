#pragma once
/// @file
/// `http::Client`: one HTTP service, over a keep-alive connection pool per origin, behind its own
/// resilience pipeline (retry → circuit breaker → rate limiter → bulkhead).
///
///     bulwark::http::Client qdrant(io.get_executor(), {.name = "qdrant",
///                                                      .base_url = "http://qdrant:6333"});
///     auto reply = co_await qdrant.send(Request::get("/collections"));
///     auto collections = reply.raise_for_status().json();
///
/// Pools: one per origin (scheme, host, port), with at most `pool.max_connections` connections.
/// Idle connections are reused most recently used first; one the server closed while it was
/// idle, or idle longer than `keepalive_expiry`, is dropped on checkout without the caller
/// noticing. A connection returns to the pool only after its response was read to the end and
/// neither side asked to close it.
///
/// Stale connections: a reused connection can have been closed by the server just as the
/// request was written. When a reused connection fails before any byte of the response
/// arrived, a replayable request (`Request::is_replayable`) is sent once more on a new
/// connection. A request on a new connection, or a POST without `Idempotency-Key`, never is.
///
/// Errors: `send()` returns every response, whatever its status (see `Response::raise_for_status`),
/// and throws `bulwark::Error` for what kept a response from arriving: `connect_failed`,
/// `tls_error`, `timeout`, `pool_timeout`, `connection_lost`, `protocol_error` (a malformed
/// response, too many redirects), `limit_exceeded` (headers or body over the limits),
/// `invalid_argument` (a bad URL, CR/LF in a header), `circuit_open` and the other rejections
/// (`ServiceUnavailable` when the service is unavailable). `execute()` returns those errors.
/// Error details name the method and the URL without its query or credentials.
///
/// Thread-safety: every member may be called concurrently from any thread or coroutine.
/// Lifetime: the client must outlive its calls; `close()` stops new calls and closes the pools.

#include "bulwark/core/health.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/http/config.hpp"
#include "bulwark/http/request.hpp"
#include "bulwark/http/response.hpp"
#include "bulwark/resilience/pipeline.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bulwark::http {

/// Counters of one origin's pool.
struct PoolStats {
  std::size_t active = 0;                ///< Connections carrying a request now.
  std::size_t idle = 0;                  ///< Connections kept for reuse.
  std::uint64_t created = 0;             ///< Connections opened.
  std::uint64_t closed = 0;              ///< Connections closed (by either side, expired, evicted).
  std::uint64_t reused = 0;              ///< Requests sent on a connection that had served another.
  std::uint64_t requests = 0;            ///< Requests sent (each attempt counts).
  std::uint64_t pool_wait_timeouts = 0;  ///< Requests that found no free connection in time.
  std::uint64_t connect_errors = 0;      ///< Connections that could not be opened.
  std::uint64_t stale_retries = 0;       ///< Requests re-sent after a stale reused connection.

  PoolStats& operator+=(const PoolStats& other) noexcept;
};

struct OriginStats {
  std::string origin;  ///< "https://host:443".
  PoolStats pool;
};

struct ClientStats {
  std::uint64_t requests = 0;  ///< Calls of `send`/`execute` that ended, failures included.
  std::uint64_t failures = 0;  ///< Of those: errors, and responses the classifier judged failures.
  std::uint32_t consecutive_failures = 0;
  PoolStats pool{};                    ///< Sum over every origin.
  std::vector<OriginStats> origins{};  ///< Per origin, in order of first use.
};

namespace detail {
class Engine;
}

class Client {
 public:
  /// Validates the whole config (throws `ConfigError` listing every problem); connects lazily.
  Client(boost::asio::any_io_executor executor, ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Sends `request` through the pipeline and returns the response, whatever its status.
  boost::asio::awaitable<Response> send(Request request);
  /// Like `send`, but failures come back as the error of the `Result`.
  boost::asio::awaitable<Result<Response>> execute(Request request);

  boost::asio::awaitable<Response> get(std::string url) {
    return send(Request::get(std::move(url)));
  }
  boost::asio::awaitable<Response> del(std::string url) {
    return send(Request::del(std::move(url)));
  }
  boost::asio::awaitable<Response> post_json(std::string url, const boost::json::value& body) {
    return send(Request::post(std::move(url)).json(body));
  }
  boost::asio::awaitable<Response> put_json(std::string url, const boost::json::value& body) {
    return send(Request::put(std::move(url)).json(body));
  }
  /// Sends `request`, throws for a status outside 2xx (`Response::raise_for_status`), and parses
  /// the body as JSON.
  boost::asio::awaitable<boost::json::value> json(Request request);

  /// healthy, degraded (half-open breaker, or recent failures) or failed (open breaker, or
  /// `failed_after` consecutive failures).
  [[nodiscard]] HealthState health() const noexcept;
  [[nodiscard]] ClientStats stats() const;
  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }
  [[nodiscard]] const ClientConfig& config() const noexcept { return config_; }
  /// The resilience pipeline (breaker, retry, ...) for stats, events and manual control.
  [[nodiscard]] bulwark::Pipeline& resilience() noexcept { return *pipeline_; }
  [[nodiscard]] boost::asio::any_io_executor executor() const noexcept { return executor_; }

  /// Closes idle connections past their expiry in every pool; returns how many.
  std::size_t prune_idle();
  /// Stops new requests (`shutting_down`) and closes every connection.
  void close() noexcept;

 private:
  void record(const std::error_code& error, std::chrono::steady_clock::time_point started) noexcept;

  ClientConfig config_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<Clock> clock_;
  std::unique_ptr<detail::Engine> engine_;
  std::unique_ptr<bulwark::Pipeline> pipeline_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
};

}  // namespace bulwark::http
