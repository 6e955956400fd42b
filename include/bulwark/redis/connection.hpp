#pragma once
/// @file
/// One connection to a Redis server, shared by many concurrent callers.
///
/// **Automatic pipelining.** Commands that callers issue while earlier ones are still being
/// written or answered are queued and written together in one system call; replies are matched to
/// callers in order. A hundred coroutines issuing GETs on one connection therefore cost the server
/// a handful of reads instead of a hundred round trips, and the caller does nothing special.
///
/// **Failure.** When the peer goes away, a write fails, or a reply violates the protocol, the
/// connection closes and every command queued or in flight on it fails with
/// `errc::connection_lost` (or `protocol_error`); a closed connection never reopens — the pool
/// makes a new one. A caller that gives up on a command whose request was already written
/// (a timeout cancels it) *poisons* the connection: it is closed, so a late reply can never be
/// handed to the wrong caller.
///
/// **Replies.** `execute` completes with the reply `Value`, error replies included (`-ERR ...` is
/// a value of type error, see `Value::error_code()`); the `Result` error is reserved for
/// transport and protocol failures.
///
/// Thread-safety: `execute`, `execute_batch`, `close` and the observers may be called from any
/// thread or coroutine concurrently. Completions are posted to the caller's executor.
///
/// Lifetime: held by `std::shared_ptr`; the read and write loops keep it alive until it closes.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/redis/config.hpp"
#include "bulwark/redis/resp.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace bulwark::redis {

namespace detail {
class ConnectionCore;
}

struct ConnectionStats {
  std::uint64_t commands = 0;  ///< Commands completed (with any reply).
  std::uint64_t writes = 0;    ///< Write system calls; commands / writes is the pipelining factor.
  std::size_t pending = 0;     ///< Commands queued or awaiting their reply right now.
};

class Connection {
 public:
  /// Connects, then runs the handshake: `HELLO 3` (with AUTH and SETNAME) or, on RESP2 servers
  /// and when `protocol` is resp2, `AUTH` and `CLIENT SETNAME`; then `SELECT` when `database`
  /// is not 0. Bounded by `config.connect_timeout`.
  ///
  /// Throws `bulwark::Error`: `connect_failed`, `tls_error`, `timeout`, `redis_loading` (the
  /// server is loading its dataset), or `redis_error` when the server refused the handshake
  /// (wrong password, unknown database) — with the server's words, never the password.
  static boost::asio::awaitable<std::shared_ptr<Connection>> connect(
      boost::asio::any_io_executor executor, ConnectionConfig config);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Sends `command` (pipelined with whatever else is queued) and completes with its reply.
  /// Errors: `connection_lost`, `protocol_error`, `limit_exceeded` (the pending queue is full),
  /// `cancelled` (the caller cancelled; if the command was already written the connection is
  /// poisoned and closed).
  ///
  /// With a `timeout` (> 0), a reply that has not arrived that long after the call closes the
  /// connection: this command fails with `errc::timeout`, everything else pending on it with
  /// `connection_lost`. One timer per connection watches every deadline, so a timeout costs
  /// nothing per command.
  boost::asio::awaitable<Result<Value>> execute(Command command,
                                                Duration timeout = Duration::zero());

  /// Sends `commands` back to back (nothing else is written between them) and completes with
  /// all their replies, in order. Used for explicit pipelines and MULTI ... EXEC.
  boost::asio::awaitable<Result<std::vector<Value>>> execute_batch(
      std::vector<Command> commands, Duration timeout = Duration::zero());

  /// Writes `command`, pipelined like the others, and completes once it is written, without
  /// waiting for a reply. It is for commands the server answers with push messages only —
  /// SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE and PUNSUBSCRIBE over RESP3, whose confirmations arrive
  /// through `on_push` — so the command never joins the queue of commands awaiting replies.
  /// A command that does get a regular reply (any other command, or a refusal such as an ACL
  /// `NOPERM`) would put that queue out of step: its reply goes to the next caller in line, or,
  /// with nobody waiting, closes the connection with `protocol_error`. Use it on a connection
  /// of its own, as `Subscriber` does.
  /// Errors: `invalid_argument` on a RESP2 connection (where nothing arrives as a push),
  /// `connection_lost`, `limit_exceeded`, `cancelled` (the caller cancelled; the connection stays
  /// open, since no reply can go astray).
  boost::asio::awaitable<Result<void>> send(Command command);

  /// Closes the connection; everything pending fails with `errc::connection_lost`. Idempotent.
  void close() noexcept;

  [[nodiscard]] bool is_open() const noexcept;
  /// The protocol the handshake settled on.
  [[nodiscard]] Protocol protocol() const noexcept;
  /// Why the connection closed (empty while open).
  [[nodiscard]] std::error_code close_reason() const noexcept;
  [[nodiscard]] ConnectionStats stats() const noexcept;
  /// Commands queued or awaiting a reply: the load a pool balances.
  [[nodiscard]] std::size_t pending() const noexcept;
  [[nodiscard]] const ConnectionConfig& config() const noexcept;

  /// Receives RESP3 push messages (pub/sub messages, client-side caching invalidations) on the
  /// connection's executor. Set it before issuing the commands that cause pushes.
  void on_push(std::function<void(Value)> handler);

  /// Called once, on the connection's executor, when the connection closes for any reason
  /// (peer lost, protocol error, `close()`, the destructor), with `close_reason()`. Set on a
  /// connection that is already closed, it is called at once (posted). Lets a long-lived user of
  /// one connection — a subscriber, which otherwise only listens — notice the loss at once.
  void on_close(std::function<void(std::error_code)> handler);

 private:
  explicit Connection(std::shared_ptr<detail::ConnectionCore> core) noexcept;
  std::shared_ptr<detail::ConnectionCore> core_;
};

}  // namespace bulwark::redis
