#pragma once
/// @file
/// `shared::Coordinator`: the Redis connections through which the instances of a fleet share
/// resilience state — a client for the scripts that record and publish state, and a
/// `redis::Subscriber` that receives what the other instances publish.
///
/// One coordinator serves every shared mechanism that uses the same Redis database (a
/// `ClientManager` keeps one per database named by `circuit_breaker.database`). Mechanisms
/// `listen` to their channel; the coordinator routes each message to the listener of its
/// channel, and tells every listener when the subscription is (re)established, which is when a
/// listener reads the state recorded while it was away.
///
/// Coordination never blocks the calls it coordinates: its client has no retry, no breaker and
/// short timeouts of its own, and `connected()` is a load. While the subscription is down
/// (Redis unreachable), `connected()` is false and the mechanisms fall back to local state.
///
/// Thread-safety: every member may be called from any thread. Handlers run on the subscriber's
/// strand, one at a time. Lifetime: `close()` (or the destructor) stops delivering; the
/// executor's context must outlive the coordinator.

#include "bulwark/redis/client.hpp"
#include "bulwark/redis/subscriber.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bulwark::shared {

struct CoordinatorStats {
  /// The subscription is established: messages of the other instances arrive.
  bool connected = false;
  /// Reconnections of the subscription after a loss.
  std::uint64_t reconnects = 0;
  /// Why the last connection attempt failed or the connection was lost; empty until then.
  std::error_code last_error{};
};

class Coordinator {
 public:
  using MessageHandler = std::function<void(std::string_view payload)>;
  using ConnectedHandler = std::function<void()>;

  /// `database`: the Redis database that carries the coordination. Its retry, breaker, rate
  /// limiter and bulkhead are dropped, its pool kept small and its timeouts capped at one
  /// second, so that an unreachable Redis is noticed quickly and never holds anything up.
  /// Throws `ConfigError` for a bad `database`.
  Coordinator(boost::asio::any_io_executor executor, redis::ClientConfig database);
  /// Calls `close()`.
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  /// Subscribes to `channel` (in the background) and routes its messages to `on_message`.
  /// `on_connected` runs once the subscription to `channel` is confirmed, and again after each
  /// reconnection. One listener per channel; a second `listen` on a channel replaces the first.
  void listen(const std::string& channel, MessageHandler on_message, ConnectedHandler on_connected);
  /// Stops routing `channel` (its handlers are not called once this returns, except one that
  /// is running on another thread).
  void forget(const std::string& channel);

  /// True while the subscription is established. Cheap.
  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] CoordinatorStats stats() const noexcept;

  /// The client that runs the coordination's scripts.
  [[nodiscard]] redis::Client& client() noexcept;
  [[nodiscard]] boost::asio::any_io_executor executor() const noexcept;

  /// Closes the subscription and the client. Idempotent; never blocks.
  void close() noexcept;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bulwark::shared
