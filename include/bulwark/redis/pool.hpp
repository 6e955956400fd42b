#pragma once
/// @file
/// Connections to one logical database of one server.
///
/// Most commands share connections: `shared()` hands out the least loaded open connection, and
/// many callers pipeline on it automatically. When every shared connection is busy (at least
/// `busy_threshold` commands pending) and there is room, the pool opens another. Commands that
/// change a connection's state for a while — WATCH/MULTI, blocking pops, SUBSCRIBE — need a
/// connection of their own: `exclusive()` leases one, returned to the pool when the lease ends.
///
/// Health: a connection that has been idle longer than `health_check_interval` answers a PING
/// before it is handed out; one that fails it, or that closed while idle, is dropped without the
/// caller noticing. `reap()` (run periodically by `start_reaper`) closes connections idle longer
/// than `max_idle_time`.
///
/// Endpoint: by default connections go to `ConnectionConfig`'s address. A pool whose server is
/// found at run time (Sentinel) is given a `Connector` that finds it, and `retarget()`ed when it
/// moves: from then on, every connection opened for the previous address is dropped (idle ones
/// at once, leased ones when they come back).
///
/// Thread-safety: every member may be called from any thread or coroutine at once.
/// Lifetime: the pool must outlive its leases; `close()` before destroying it when calls may
/// still be running.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/redis/config.hpp"
#include "bulwark/redis/connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace bulwark::redis {

struct PoolConfig {
  /// Connections at most, shared and leased together; >= 1.
  std::size_t max_connections = 8;
  /// Pending commands at which a shared connection counts as busy, so that another is opened
  /// (while below `max_connections`) instead of queueing more on it; >= 1.
  std::size_t busy_threshold = 128;
  /// Longest a caller waits for a connection (opening one, or for a lease to come back) before
  /// `errc::pool_timeout`; > 0.
  Duration acquire_timeout = std::chrono::seconds(5);
  /// A connection idle longer than this is PINGed before it is handed out; 0 = never.
  Duration health_check_interval = std::chrono::seconds(30);
  /// `reap()` closes connections idle longer than this; 0 = never.
  Duration max_idle_time = std::chrono::minutes(5);
};

/// Appends one issue per bad field (paths `<path>.<field>`).
void validate(const PoolConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "redis.pool");

struct PoolStats {
  std::size_t max = 0;                 ///< `max_connections`.
  std::size_t open = 0;                ///< Open connections, shared and leased.
  std::size_t leased = 0;              ///< Connections in use by an exclusive lease.
  std::size_t idle = 0;                ///< Shared connections with nothing pending.
  std::uint64_t created = 0;           ///< Connections opened.
  std::uint64_t closed = 0;            ///< Connections dropped (peer lost, failed check, reaped).
  std::uint64_t connect_failures = 0;  ///< Attempts to open a connection that failed.
  std::uint64_t waits = 0;             ///< Callers that had to wait for a connection.
  std::uint64_t wait_timeouts = 0;     ///< Callers that gave up waiting (`pool_timeout`).
  std::uint64_t health_check_failures = 0;  ///< Idle connections that failed their PING.
};

namespace detail {
class PoolCore;
}

class Pool;

/// An exclusive connection; returned to the pool when destroyed. Move-only.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  [[nodiscard]] Connection& connection() const noexcept { return *connection_; }
  [[nodiscard]] Connection* operator->() const noexcept { return connection_.get(); }
  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(connection_); }

  /// Returns the connection now. With `reusable == false` (it is left in a state other callers
  /// must not see: subscribed, inside MULTI, WATCHing) the pool closes it instead.
  void release(bool reusable = true) noexcept;

 private:
  friend class Pool;
  friend class detail::PoolCore;
  Lease(std::shared_ptr<detail::PoolCore> pool, std::shared_ptr<Connection> connection) noexcept;
  std::shared_ptr<detail::PoolCore> pool_;
  std::shared_ptr<Connection> connection_;
};

/// Opens one connection for a pool from the pool's current `ConnectionConfig`; throws as
/// `Connection::connect` does. A connector may connect elsewhere than `config` says (where a
/// sentinel points) and check the node before handing it over.
using Connector = std::function<boost::asio::awaitable<std::shared_ptr<Connection>>(
    boost::asio::any_io_executor executor, ConnectionConfig config)>;

class Pool {
 public:
  /// Validates both configs (throws `ConfigError`); opens nothing until first use.
  Pool(boost::asio::any_io_executor executor, ConnectionConfig connection, PoolConfig pool,
       std::shared_ptr<Clock> clock = nullptr);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// A connection to pipeline commands on. Errors: `connect_failed` and the other errors of
  /// `Connection::connect` (when a connection had to be opened and could not be),
  /// `pool_timeout`, `shutting_down`.
  boost::asio::awaitable<Result<std::shared_ptr<Connection>>> shared();

  /// A connection for this caller alone until the lease ends. Errors as for `shared()`.
  boost::asio::awaitable<Result<Lease>> exclusive();

  /// Replaces `Connection::connect` as the way connections are opened. Call before first use.
  void set_connector(Connector connector);

  /// New connections go to `host:port`. When that differs from the current address, every
  /// connection opened before is dropped: the ones not leased are closed now (commands pending
  /// on them fail with `connection_lost`), leased ones when their lease ends; a connection still
  /// being opened is discarded unless it reached the new address. Returns whether the address
  /// changed.
  bool retarget(std::string host, std::uint16_t port);
  /// Drops every connection as `retarget` does, keeping the address (the nodes behind it
  /// changed roles).
  void refresh();

  /// Closes connections idle longer than `max_idle_time`; returns how many.
  std::size_t reap();
  /// Runs `reap()` every `max_idle_time / 2` (at most every minute) until `close()`.
  void start_reaper();

  /// Closes every connection; later calls fail with `shutting_down`. Idempotent.
  void close() noexcept;

  [[nodiscard]] PoolStats stats() const noexcept;
  /// The configuration new connections are opened with (its address as last `retarget`ed).
  [[nodiscard]] ConnectionConfig connection_config() const;
  [[nodiscard]] const PoolConfig& config() const noexcept;

 private:
  std::shared_ptr<detail::PoolCore> core_;
};

}  // namespace bulwark::redis
