#pragma once
/// @file
/// `AdminServer`: the HTTP endpoint that shows a `ClientManager` to operators and probes —
/// `/health`, `/health/live`, `/health/ready`, `/metrics` and a `/status` page for people.
///
///     bulwark::ClientManager manager(bulwark::load_config("bulwark.yaml"));
///     manager.start();
///     bulwark::AdminServer admin(manager, {.listen = "127.0.0.1:9090"});
///     admin.start();                  // serves on the manager's executor
///     ...
///     admin.stop();                   // before the manager stops
///
/// Routes (GET and HEAD; any other method is answered 405 with `Allow: GET, HEAD`; unknown paths
/// 404):
///   - `/health`       the health report's JSON; 200 when every available client is HEALTHY,
///                     503 otherwise (an optional service whose secret is absent does not count);
///   - `/health/live`  200 `{"status":"alive"}` whenever the server answers; never needs the
///                     token;
///   - `/health/ready` 200 when the manager is started and no available, non-optional client is
///                     FAILED (DEGRADED is still ready), 503 otherwise;
///   - `/metrics`      `manager.metrics().expose()`, in Prometheus text format 0.0.4;
///   - `/status`       an HTML page: one row per client with its state, breaker, pool, call and
///                     error rates, last error and sparklines of the last minutes. It reloads
///                     itself and needs nothing outside itself (no scripts, no external assets).
///
/// Security: loopback by default; with `bearer_token` set, every route but `/health/live`
/// requires `Authorization: Bearer <token>` (compared in constant time; 401 with
/// `WWW-Authenticate: Bearer` otherwise); the token never appears in logs or responses. Every
/// response carries `X-Content-Type-Options: nosniff`, `Cache-Control: no-store` and a
/// `Content-Security-Policy` that forbids scripts and every outside resource.
///
/// Bounds: a request whose header exceeds `max_request_bytes` is answered 431, one whose header
/// and body together exceed it 413, and its connection closed; connections beyond
/// `max_connections` are closed as soon as they are accepted; requests beyond
/// `max_requests_per_second` (one token bucket for the whole server) are answered 429 with
/// `Retry-After`; a request that takes longer than `read_timeout` to arrive, or a connection
/// idle for `idle_timeout`, is closed.
///
/// Thread-safety: every member may be called from any thread. The server runs on a
/// multi-threaded executor safely (each connection on a strand of its own).
/// Lifetime: the manager must outlive the server (or be replaced with `use_manager` first).
/// `stop()` (also run by the destructor) blocks until the connections are closed, so it must not
/// be called from a thread that runs the server's executor; that executor must keep running
/// until `stop()` returns.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/secret.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class ClientManager;

struct AdminOptions {
  /// "host:port" to listen on; "[::1]:9090" for an IPv6 address. Port 0 picks a free port
  /// (`AdminServer::port()` tells which). The host must be an IP address: 127.0.0.1 keeps the
  /// endpoint on this machine, 0.0.0.0 exposes it to the network.
  std::string listen = "127.0.0.1:9090";
  /// Required as `Authorization: Bearer <token>` on every route but `/health/live`; absent or
  /// empty = no authentication.
  std::optional<Secret> bearer_token{};
  /// Largest request accepted, header and body together, in bytes; larger ones get 431 (header)
  /// or 413 (body) and their connection is closed. Must be >= 1024.
  std::size_t max_request_bytes = 8 * 1024;
  /// Requests answered per second by the whole server (a token bucket holding one second's
  /// worth); more get 429 with `Retry-After`. 0 = no limit.
  double max_requests_per_second = 50.0;
  /// Connections served at once; further ones are closed as soon as they are accepted. Must be
  /// >= 1.
  std::size_t max_connections = 64;
  /// Longest time a request may take to arrive once its first byte did, and a response to be
  /// written. Must be > 0.
  Duration read_timeout = std::chrono::seconds(10);
  /// Longest wait for a request on an open connection (the first, or the next one on a
  /// keep-alive connection). Must be > 0.
  Duration idle_timeout = std::chrono::seconds(10);
  /// How often the /status page reloads itself. Must be >= 1 s.
  Duration status_refresh = std::chrono::seconds(5);
  /// How often the server samples call counts and health for the /status page's rates and
  /// sparklines. Must be > 0.
  Duration sample_interval = std::chrono::seconds(5);
  /// How far back the sparklines reach: `history / sample_interval` samples are kept (at least
  /// 2).
  Duration history = std::chrono::minutes(10);
};

class AdminServer {
 public:
  /// Serves on the manager's executor. Validates `options` (throws `ConfigError` naming each bad
  /// field as `admin.<field>`); does not listen yet.
  explicit AdminServer(ClientManager& manager, AdminOptions options = {});
  /// Serves on `executor`, which must run while the server does.
  AdminServer(ClientManager& manager, AdminOptions options, boost::asio::any_io_executor executor);
  /// Runs `stop()`.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  /// Binds and starts serving. Throws `Error`: `invalid_argument` for an unusable `listen`
  /// (the message names it), or the system's error when the address cannot be bound (e.g.
  /// address in use). Call once; a stopped server cannot be started again (`shutting_down`).
  void start();
  /// Stops accepting, lets requests being answered finish, closes every connection and stops
  /// sampling; returns when all of that is done or `deadline` has passed (connections still
  /// open then are cut). Idempotent. Blocks: see the class comment.
  void stop(Duration deadline = std::chrono::seconds(5));

  /// Serves `manager` from now on instead of the one given so far, without closing the port: a
  /// program that reloads its configuration builds a new manager and moves the endpoint onto it.
  /// Requests being answered finish with the previous manager; returns once none reads it any
  /// more, so the caller may then stop and destroy it. The /status page's history starts again
  /// (the new manager's call counts start from zero). A server whose manager will be replaced
  /// must run on an executor of its own (the three-argument constructor), not on the manager's.
  void use_manager(ClientManager& manager);

  /// The port listened on (the chosen one when `listen` asked for port 0); 0 before `start()`.
  [[nodiscard]] std::uint16_t port() const noexcept;
  /// The options, as given.
  [[nodiscard]] const AdminOptions& options() const noexcept;

  /// Appends one issue per bad field of `options`, with paths `<path>.<field>` (for loaders of
  /// configuration files; the constructor runs it too).
  static void validate(const AdminOptions& options, std::vector<ConfigIssue>& issues,
                       std::string_view path = "admin");

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bulwark
