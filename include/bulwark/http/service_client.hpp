#pragma once
/// @file
/// `ServiceClient`: the base of a typed client for one HTTP service (a vector store, an
/// embeddings API, an internal service). It adds to an `http::Client`:
///
/// - JSON calls that throw `ServiceError` for a status outside 2xx, with the service's own
///   explanation (`get_json`, `post_json`, `put_json`, `patch_json`, `delete_`, `call_json`);
/// - an optional TTL + LRU response cache for GETs, and for other calls that opt in;
/// - health checks (`health_check`, `check_health`);
/// - per-service counters: requests, errors, and the error rate over the client's lifetime and
///   over a recent sliding window (`stats`);
/// - `batch`, many calls with bounded concurrency.
///
/// A typed client derives from it and turns JSON into structs (see `JsonField`):
///
///     class Billing : public bulwark::ServiceClient {
///      public:
///       using ServiceClient::ServiceClient;
///       boost::asio::awaitable<Invoice> invoice(std::string id) {
///         const auto body = co_await get_json("/invoices/" + encode_path_segment(id));
///         const bulwark::JsonField reply(body, {name(), "invoice"});
///         co_return Invoice{reply["id"].string(), reply["total"].number()};
///       }
///     };
///
/// The HTTP client: either one `shared_ptr<http::Client>` for the ServiceClient's lifetime, or a
/// `ClientProvider` asked for the current client at every call, so that an owner (the
/// `ClientManager`) can replace a client — after its service came back, or after a
/// configuration reload — without rebuilding the typed clients built on it. A call keeps the
/// client it started with alive until it ends.
///
/// Errors: the `http::Client`'s (`bulwark::Error`: connect_failed, timeout, circuit_open as
/// `ServiceUnavailable`, ...); `ServiceError` for a response outside 2xx (`http_client_error` for
/// 4xx, `server_error` for 5xx and 429, `protocol_error` for 1xx and 3xx); `protocol_error` for a
/// body that is not JSON; `ServiceUnavailable` (`not_found`) when the provider has no client.
///
/// GCC 12: a braced temporary of a struct that has non-trivial members (a string, a vector)
/// inside a `co_await` expression is miscompiled — its members are built at the wrong address
/// and freed twice. Parameters of the coroutines here, and of typed clients written on them, are
/// therefore standard types (string, vector, JSON) or trivially copyable option structs such as
/// `RequestOptions`, which are safe to write inline.
///
/// Thread-safety: every member may be called concurrently from any thread or coroutine.
/// Lifetime: the ServiceClient must outlive its calls (including a `batch`).

#include "bulwark/cache/ttl_lru_cache.hpp"
#include "bulwark/core/batch.hpp"
#include "bulwark/core/clock.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/http/client.hpp"
#include "bulwark/http/json_field.hpp"
#include "bulwark/http/request.hpp"
#include "bulwark/http/response.hpp"
#include "bulwark/observe/collector.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace bulwark {

namespace detail {
class ErrorWindow;
}

struct ServiceClientConfig {
  /// Names the service in errors and statistics; empty = the HTTP client's name (required when
  /// the client comes from a provider).
  std::string name{};
  /// Response cache: GET responses, and those of calls made with `RequestOptions::cache_response`;
  /// absent = no cache. Only 2xx JSON responses are kept.
  std::optional<CacheConfig> cache{};
  /// `health_check()` sends `GET health_path` and expects `expected_status`.
  std::string health_path = "/";
  unsigned expected_status = 200;
  /// Bound on one health check, retries included; 0 = the HTTP client's timeouts.
  Duration health_timeout = std::chrono::seconds(2);
  /// The recent window of `ServiceStats` (the `recent_*` counters): its length, and the number of
  /// buckets it slides by (a call leaves the window between `error_window - error_window /
  /// error_window_buckets` and `error_window` after it ended). 1 to 1000 buckets, each >= 1ms.
  Duration error_window = std::chrono::seconds(60);
  std::uint32_t error_window_buckets = 60;
  /// Time of cache TTLs, latencies and the error window; null = `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Where to export the response cache's `bulwark_cache_hits_total{client}` and
  /// `bulwark_cache_misses_total{client}` (e.g. `&manager.metrics()`); null = nowhere. Must
  /// outlive this client.
  observe::Registry* metrics = nullptr;
};

/// Appends one issue per bad field (paths `<path>.<field>`).
void validate(const ServiceClientConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "service");

/// Query parameters, in order; values are percent-encoded when sent.
using Query = std::vector<std::pair<std::string, std::string>>;

/// Per-call options: `co_await api.get_json("/items", {}, {.bypass_cache = true})`.
///
/// Trivially copyable on purpose, so that it can be written inline as above: GCC 12 miscompiles
/// a braced temporary of a struct with non-trivial members (a string, a vector) inside a
/// `co_await` expression — the members are built at the wrong address and freed twice. Header
/// fields for one call therefore go on an `http::Request` passed to `call_json`.
struct RequestOptions {
  /// Neither read nor fill the response cache for this call: it always reaches the service.
  bool bypass_cache = false;
  /// Cache this call's response even though it is not a GET, for calls whose answer depends
  /// only on what they send (an embeddings POST, a search). Ignored without a cache.
  bool cache_response = false;
  /// How long this response stays cached; absent = the cache config's TTL; 0 = until evicted.
  std::optional<Duration> cache_ttl{};
  /// Bound on this call, retries included; absent = the HTTP client's `timeouts.total`.
  std::optional<Duration> timeout{};
};
static_assert(std::is_trivially_copyable_v<RequestOptions>,
              "RequestOptions is written inline in co_await expressions; see its comment");

/// The outcome of one health check.
struct HealthCheckResult {
  bool ok = false;      ///< The service answered the expected status.
  unsigned status = 0;  ///< The status it answered; 0 when no response arrived.
  Duration latency{};   ///< From sending to the end of the response (or the error).
  std::string error{};  ///< Why it is not ok; empty when ok.
};

/// Counters of one `ServiceClient` (see `ServiceClient::stats`).
struct ServiceStats {
  std::string name{};
  /// Calls that were sent to the service. Cache hits, health checks and calls their caller
  /// cancelled are not counted.
  std::uint64_t requests = 0;
  /// Of those, calls that failed: no response, or a status outside 2xx.
  std::uint64_t errors = 0;
  /// `errors / requests` since construction; 0 without requests.
  double error_rate = 0.0;
  /// The same over the last `window` only.
  std::uint64_t recent_requests = 0;
  std::uint64_t recent_errors = 0;
  double recent_error_rate = 0.0;
  Duration window{};
  /// The response cache's counters; absent without a cache.
  std::optional<CacheStats> cache{};
};

/// A response outside 2xx. `what()` reads like
/// `qdrant: GET /collections/docs (attempt 1): the service refused the request: HTTP 404 Not
/// Found: Not found: Collection `docs` doesn't exist!`.
class ServiceError : public Error {
 public:
  /// `reason` is the response's reason phrase (may be empty).
  ServiceError(std::error_code ec, ErrorContext context, unsigned status, std::string_view reason,
               std::string service_message);

  /// The HTTP status.
  [[nodiscard]] unsigned status() const noexcept { return status_; }
  /// The service's explanation (see `ServiceClient::error_message`).
  [[nodiscard]] const std::string& service_message() const noexcept { return service_message_; }

 private:
  unsigned status_;
  std::string service_message_;
};

/// Returns the HTTP client to use now; null when there is none (the call then fails with
/// `ServiceUnavailable`). Called once per call, from the calling thread.
using ClientProvider = std::function<std::shared_ptr<http::Client>()>;

class ServiceClient {
 public:
  /// Uses `client` for every call. Throws `ConfigError` for an invalid config or a null client.
  explicit ServiceClient(std::shared_ptr<http::Client> client, ServiceClientConfig config = {});
  /// Asks `provider` for the client at every call; `config.name` is required.
  /// Throws `ConfigError` for an invalid config.
  ServiceClient(ClientProvider provider, ServiceClientConfig config);
  virtual ~ServiceClient();
  ServiceClient(const ServiceClient&) = delete;
  ServiceClient& operator=(const ServiceClient&) = delete;

  /// `GET path?query` and its JSON body (from the cache when configured and fresh).
  boost::asio::awaitable<boost::json::value> get_json(std::string path, Query query = {},
                                                      RequestOptions options = {});
  /// `POST path` with a JSON body, and the JSON reply (null for an empty body, e.g. 204).
  boost::asio::awaitable<boost::json::value> post_json(std::string path, boost::json::value body,
                                                       RequestOptions options = {});
  boost::asio::awaitable<boost::json::value> put_json(std::string path, boost::json::value body,
                                                      RequestOptions options = {});
  boost::asio::awaitable<boost::json::value> patch_json(std::string path, boost::json::value body,
                                                        RequestOptions options = {});
  /// `DELETE path`, and the JSON reply (null for an empty body).
  boost::asio::awaitable<boost::json::value> delete_(std::string path, RequestOptions options = {});
  /// Any request; the JSON calls above are this with a request built for you.
  boost::asio::awaitable<boost::json::value> call_json(http::Request request,
                                                       RequestOptions options = {});
  /// Sends `request` and returns the response whatever its status, for calls that are not
  /// JSON. Counted in the statistics (a status outside 2xx is an error); never cached.
  boost::asio::awaitable<http::Response> send(http::Request request, RequestOptions options = {});

  /// `check_health(config.health_path, config.expected_status).ok`.
  boost::asio::awaitable<bool> health_check();
  /// Sends `GET path` (bounded by `health_timeout`) and reports whether the service answered
  /// `expected_status`. Never throws for the service's failures: they are in the result.
  /// Not counted in `stats()`, so that monitoring does not dilute the error rate.
  boost::asio::awaitable<HealthCheckResult> check_health(std::string path,
                                                         unsigned expected_status = 200);

  /// Runs `fn(item)` for every item with at most `max_concurrency` calls at once and returns
  /// one `Result` per item, in order; see `bulwark::batch` (core/batch.hpp).
  template <class Item, class Fn>
  auto batch(std::vector<Item> items, Fn fn, std::size_t max_concurrency) {
    return bulwark::batch(std::move(items), std::move(fn), max_concurrency);
  }

  /// Empties the response cache (no-op without one).
  void clear_cache();
  /// The cache's counters; absent without a cache.
  [[nodiscard]] std::optional<CacheStats> cache_stats() const;
  [[nodiscard]] ServiceStats stats() const;

  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }
  [[nodiscard]] const ServiceClientConfig& config() const noexcept { return config_; }
  /// The client calls use now (the provider's current one). Throws `ServiceUnavailable`
  /// (`not_found`) when the provider has none.
  [[nodiscard]] std::shared_ptr<http::Client> client() const;

  /// Percent-encodes `segment` for use as one path segment (`a/b c` → `a%2Fb%20c`).
  [[nodiscard]] static std::string encode_path_segment(std::string_view segment);

 protected:
  /// The service's explanation in an error response, for `ServiceError`. The default looks for
  /// the common JSON shapes (`{"error": {"message": ...}}`, `{"error": "..."}`,
  /// `{"status": {"error": ...}}`, `{"message": ...}`, `{"detail": ...}`) and falls back to the
  /// start of the body. Typed clients override it for other shapes. Must not throw.
  [[nodiscard]] virtual std::string error_message(const http::Response& response) const;

 private:
  using ResponseCache = TtlLruCache<std::string, std::shared_ptr<const boost::json::value>>;

  ServiceClient(std::shared_ptr<http::Client> client, ClientProvider provider,
                ServiceClientConfig config);
  // A JSON call's request: the per-call timeout, and `Accept: application/json`.
  static http::Request prepare(http::Request request, const RequestOptions& options);
  // Sends through the current client; records calls that got no response.
  boost::asio::awaitable<http::Response> exchange(http::Request request);
  [[nodiscard]] bool cacheable(const http::Request& request, const RequestOptions& options) const;
  void record(bool failed) noexcept;
  [[noreturn]] void raise(const http::Response& response, std::string operation) const;

  std::shared_ptr<http::Client> fixed_client_;
  ClientProvider provider_;
  ServiceClientConfig config_;
  std::shared_ptr<Clock> clock_;
  std::unique_ptr<ResponseCache> cache_;
  std::unique_ptr<detail::ErrorWindow> window_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  // Last: unregistered before the cache it reads goes away.
  observe::CollectorHandle cache_metrics_;
};

}  // namespace bulwark
