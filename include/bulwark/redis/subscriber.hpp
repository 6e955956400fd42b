#pragma once
/// @file
/// Redis pub/sub on a connection of its own, with automatic resubscription.
///
/// A `Subscriber` keeps the *set* of channels and patterns the application asked for. It opens
/// its own connection at construction, and whenever that connection is lost (the server was
/// killed, restarted, or dropped the client) it reconnects with bounded, jittered backoff —
/// forever, until `close()` — and subscribes again to everything in the set, without any action
/// from the application. `stats()` and the optional state callback tell the application where it
/// stands.
///
/// **Delivery.** Redis pub/sub is fire-and-forget: a message published while the subscriber is
/// disconnected (or before its subscription was confirmed) is lost; nothing is replayed after a
/// reconnection. Use Redis streams where every message matters.
///
/// **RESP3 only.** Subscription confirmations and messages arrive as RESP3 push messages, which
/// is what lets one connection carry them without confusing them with replies; the subscriber
/// refuses `Protocol::resp2` with a `ConfigError`, and a server too old for RESP3 (Redis < 6)
/// counts as a failed connection attempt (`errc::protocol_error`).
///
/// **Handlers.** The message handler and the state callback run on the subscriber's strand (a
/// strand of the executor it was built with), one call at a time, messages in the order the
/// server sent them. They must not block: while the message handler runs, nothing is read from
/// the server, and a subscriber that falls far behind is disconnected by the server
/// (`client-output-buffer-limit pubsub`), after which it reconnects and resubscribes. An
/// exception thrown by the message handler is caught and counted (`handler_errors`); the
/// subscriber carries on. Handlers may call any member of the subscriber, `close()` included.
///
/// **Refusals.** A server that refuses a subscription with an error reply (an ACL without access
/// to the channel: `NOPERM`) answers outside the push stream; the connection then closes with
/// `protocol_error` and the subscriber retries with growing delays, reporting the error in
/// `stats().last_error`, until the subscription is removed or allowed.
///
/// **Dead peers.** Loss of the connection is noticed as soon as the socket reports it. A peer
/// that vanished without closing the socket is noticed by TCP keepalive
/// (`ConnectionConfig::keepalive`).
///
/// Thread-safety: every member may be called from any thread or coroutine at once.
/// Lifetime: `close()` stops everything (the destructor calls it); after `close()` returns, no
/// handler is called again — except that when `close()` is called from another thread than the
/// one running the subscriber's strand, a handler already running may finish. Pending
/// (un)subscriptions end with `errc::shutting_down`. The executor's execution context must
/// outlive the subscriber; the background work winds down on it shortly after `close()`.

#include "bulwark/core/clock.hpp"
#include "bulwark/core/result.hpp"
#include "bulwark/redis/config.hpp"
#include "bulwark/resilience/backoff.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bulwark::redis {

namespace detail {
class SubscriberCore;
}

/// One published message.
struct Message {
  /// The channel it was published to.
  std::string channel{};
  /// The pattern it matched, for subscriptions made with `psubscribe`; empty otherwise.
  std::string pattern{};
  /// The message, binary-safe.
  std::string payload{};
};

enum class SubscriberState : std::uint8_t {
  connecting,    ///< Opening the first connection.
  connected,     ///< Connected, and every subscription held at connection time is confirmed.
  reconnecting,  ///< The connection was lost (or never made it); reconnecting with backoff.
  closed,        ///< `close()` was called.
};

/// "connecting", "connected", "reconnecting", "closed".
[[nodiscard]] std::string_view to_string(SubscriberState state) noexcept;

struct SubscriberOptions {
  /// Delays between reconnection attempts. The first attempt after losing a healthy connection
  /// is immediate; each further attempt waits `backoff.delay(n)`, never more than
  /// `reconnect.max`. The count starts again once a connection is confirmed.
  BackoffConfig reconnect{.type = BackoffType::exponential,
                          .initial = std::chrono::milliseconds(100),
                          .multiplier = 2.0,
                          .max = std::chrono::seconds(5),
                          .jitter = Jitter::equal};
  /// Clock the reconnection delays are waited on; null = `steady_clock()`. With a `ManualClock`
  /// the delays advance the clock instead of waiting.
  std::shared_ptr<Clock> clock{};
};

struct SubscriberStats {
  SubscriberState state = SubscriberState::connecting;
  /// Connections made after a loss (the first connection is not counted).
  std::uint64_t reconnects = 0;
  /// Connection attempts that failed (refused, timed out, handshake refused, no RESP3).
  std::uint64_t connect_failures = 0;
  /// Messages received (`message` and `pmessage`), whether or not a handler was set.
  std::uint64_t messages = 0;
  /// Exceptions the message handler threw (caught; the message counts as delivered).
  std::uint64_t handler_errors = 0;
  /// Channels and patterns currently in the subscription set.
  std::size_t channels = 0;
  std::size_t patterns = 0;
  /// Why the last connection attempt failed or the last connection was lost; empty until then.
  std::error_code last_error{};
};

class Subscriber {
 public:
  /// Validates `config` (RESP3 required) and `options.reconnect` — throws `ConfigError` with
  /// paths `redis.<field>` and `subscriber.reconnect.<field>` — then starts connecting on a
  /// strand of `executor`. Construction never waits for the server.
  Subscriber(boost::asio::any_io_executor executor, ConnectionConfig config,
             SubscriberOptions options = {});
  /// Calls `close()`.
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  /// Called for every message received; see "Handlers" above. Messages received while no
  /// handler is set are counted and dropped. Set it before subscribing.
  void on_message(std::function<void(const Message&)> handler);
  /// Called on every change of state but `closed`, with the new state.
  void on_state_change(std::function<void(SubscriberState)> handler);

  /// Adds `channels` to the subscription set (duplicates ignored) and completes once the server
  /// confirmed each of them. While disconnected it waits for the reconnection, which subscribes
  /// to the whole set. An empty list completes at once.
  ///
  /// Cancellation (e.g. `with_timeout`) abandons the wait, not the subscription: the channels
  /// stay in the set. Errors: `shutting_down` (closed before or while waiting), `cancelled`.
  boost::asio::awaitable<Result<void>> subscribe(std::vector<std::string> channels);
  /// As `subscribe`, for glob-style patterns (`news.*`); messages carry the pattern matched.
  boost::asio::awaitable<Result<void>> psubscribe(std::vector<std::string> patterns);

  /// Removes `channels` from the set (an empty list: all of them) and completes once the server
  /// confirmed each removal; no message of those channels is delivered after completion.
  /// While disconnected it completes at once: the server forgot every subscription with the
  /// connection, and the reconnection subscribes only to what is left. Errors as `subscribe`.
  boost::asio::awaitable<Result<void>> unsubscribe(std::vector<std::string> channels = {});
  /// As `unsubscribe`, for patterns.
  boost::asio::awaitable<Result<void>> punsubscribe(std::vector<std::string> patterns = {});

  /// Stops reconnecting, closes the connection and ends pending (un)subscriptions with
  /// `shutting_down`. Idempotent; never blocks.
  void close() noexcept;

  [[nodiscard]] SubscriberState state() const noexcept;
  [[nodiscard]] SubscriberStats stats() const noexcept;

 private:
  std::shared_ptr<detail::SubscriberCore> core_;
};

}  // namespace bulwark::redis
