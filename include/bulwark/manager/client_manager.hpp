#pragma once
/// @file
/// `ClientManager`: owns every client an application uses to reach other services, built from
/// one `ManagerConfig` (usually `load_config("bulwark.yaml")`).
///
///     bulwark::ClientManager manager(bulwark::load_config("bulwark.yaml"));
///     manager.start();                                    // background health checks
///     auto qdrant = manager.http("qdrant");               // std::shared_ptr<http::Client>
///     auto knowledge = manager.redis("knowledge");        // std::shared_ptr<redis::Client>
///     if (auto openai = manager.try_http("openai")) ...   // null when its key is absent
///
/// Clients are created on first use, once, even when many threads ask at once, each with the
/// resilience pipeline its configuration describes. Unknown names throw `Error(not_found)`;
/// `http()` on an optional service whose secret is absent throws `ServiceUnavailable`.
///
/// Health: `start()` runs a `HealthMonitor` over every configured client (HTTP: GET of the
/// service's health path, expecting its status; Redis: PING), on connections of its own so a
/// check measures the service, not the caller's breaker or pool. `health()` is the latest
/// report.
///
/// Recreation: a client that is FAILED is rebuilt (new pools, new connections, a closed
/// breaker) once its checks pass again, at most once per backoff period (one health interval,
/// doubling up to 32 intervals while it keeps failing). Lookups return the new client; callers
/// still holding the old one keep a working client until they let it go.
///
/// Lifecycle: `stop(deadline)` (also run by the destructor) stops monitoring, waits up to
/// `deadline` for calls in flight to finish, then closes every pool. It blocks: call it from a
/// thread that does not run the manager's executor.
///
/// Threads: built without an executor, the manager runs its clients on a `Runtime` of its own
/// (`threads` threads); built with one, it uses it and never blocks it. Every member may be
/// called from any thread.

#include "bulwark/core/runtime.hpp"
#include "bulwark/http/client.hpp"
#include "bulwark/http/sync_client.hpp"
#include "bulwark/manager/config.hpp"
#include "bulwark/manager/health.hpp"
#include "bulwark/redis/client.hpp"
#include "bulwark/redis/sync_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

namespace observe {
class Registry;
}

/// Calls completed through one configured client since the manager was built, across rebuilds
/// of the client (the calls `bulwark_client_calls_total` counts). Both counts only grow: sample
/// them twice and divide by the time between for rates.
struct ClientCallStats {
  std::string name;
  std::uint64_t calls = 0;   ///< Every completed call, whatever its outcome.
  std::uint64_t errors = 0;  ///< Calls that ended in an error, local rejections included.
};

class ClientManager {
 public:
  /// Validates `config` (throws `ConfigError`) and starts a runtime of `threads` threads.
  explicit ClientManager(ManagerConfig config, std::size_t threads = 2);
  /// Runs every client on `executor`, which must be running while the manager is used.
  ClientManager(ManagerConfig config, boost::asio::any_io_executor executor);
  ~ClientManager();
  ClientManager(const ClientManager&) = delete;
  ClientManager& operator=(const ClientManager&) = delete;

  /// The async client of an HTTP service / a Redis database.
  [[nodiscard]] std::shared_ptr<http::Client> http(std::string_view name);
  [[nodiscard]] std::shared_ptr<redis::Client> redis(std::string_view name);
  /// Null for an optional service whose secret is absent; `not_found` for an unknown name.
  [[nodiscard]] std::shared_ptr<http::Client> try_http(std::string_view name);
  /// Blocking counterparts, over the same clients (and pools) as `http()` / `redis()`.
  [[nodiscard]] std::shared_ptr<http::SyncClient> http_sync(std::string_view name);
  [[nodiscard]] std::shared_ptr<redis::SyncClient> redis_sync(std::string_view name);

  /// Starts background health monitoring. Idempotent.
  void start();
  /// True between `start()` and `stop()`: health is being monitored.
  [[nodiscard]] bool started() const noexcept;
  /// Stops monitoring, drains calls in flight up to `deadline`, closes every client. Idempotent;
  /// later lookups throw `shutting_down`.
  void stop(Duration deadline = std::chrono::seconds(5));

  /// The latest health report (clients never checked show `last_check == 0`).
  [[nodiscard]] HealthReport health() const;
  /// Runs one round of checks now, concurrently, and returns the report.
  boost::asio::awaitable<HealthReport> check_now();
  /// `check_now()` for code that is not a coroutine (not from the manager's executor).
  HealthReport check_now_blocking();

  /// Call counts of every configured client, services first, each in configuration order
  /// (unavailable optional services included, with zero calls). Cheap: reads counters.
  [[nodiscard]] std::vector<ClientCallStats> call_stats() const;
  /// The metrics of every client (calls, breaker, pools, health), in Prometheus form.
  [[nodiscard]] observe::Registry& metrics() noexcept;
  [[nodiscard]] const ManagerConfig& config() const noexcept;
  [[nodiscard]] boost::asio::any_io_executor executor() const noexcept;

  /// A process-wide instance, for programs that want one; the library never uses it itself.
  /// `install` replaces (and stops) any previous one.
  static ClientManager& install(ManagerConfig config);
  /// The installed instance; throws `Error(not_found)` when there is none.
  static ClientManager& global();
  /// Stops and destroys the installed instance, if any.
  static void uninstall();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulwark
