#pragma once
// How `redis::Client` reaches a Redis Cluster: the slot map (fetched lazily, refreshed on MOVED,
// rate-limited), one `Pool` per node, and the redirection loop (MOVED, ASK, TRYAGAIN,
// CLUSTERDOWN) around each command. The client keeps its resilience pipeline around all of it:
// one call of `execute` is one attempt of the pipeline.
//
// Thread-safety: every member may be called from any thread or coroutine at once.
// Lifetime: owned by the client; pools are created on first use of a node and live as long as
// the router (a `Pool*` it hands out stays valid until it is destroyed).

#include "bulwark/core/clock.hpp"
#include "bulwark/redis/cluster.hpp"
#include "bulwark/redis/pool.hpp"
#include "bulwark/resilience/call_context.hpp"
#include "redis/detail/slot_map.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::redis::detail {

/// The slot a command goes to; nothing for commands without keys (any node will do).
using Slot = std::optional<std::uint16_t>;

class ClusterRouter {
 public:
  ClusterRouter(boost::asio::any_io_executor executor, ConnectionConfig connection, PoolConfig pool,
                ClusterConfig cluster, std::shared_ptr<Clock> clock, Duration command_timeout,
                std::string client_name);
  ~ClusterRouter();
  ClusterRouter(const ClusterRouter&) = delete;
  ClusterRouter& operator=(const ClusterRouter&) = delete;

  /// The slot of `command`'s keys: from the key table, or for a command the table does not know,
  /// from `COMMAND GETKEYS` on a node (when that fails too, nothing: a MOVED will correct the
  /// guess). Throws `Error(invalid_argument)` naming each key's slot when they differ.
  boost::asio::awaitable<Slot> slot_of(const Command& command, std::string_view operation);
  /// The one slot of several commands (a transaction): throws as above when they differ.
  boost::asio::awaitable<Slot> common_slot(const std::vector<Command>& commands,
                                           std::string_view operation);
  /// The slot of `keys`; throws as above when they differ.
  [[nodiscard]] Slot slot_of_keys(std::span<const std::string_view> keys,
                                  std::string_view operation) const;

  /// One attempt of `command`: sent to the master of `slot`, following redirections.
  /// `context` (optional) is told once anything was written.
  boost::asio::awaitable<Result<Value>> execute(const Command& command, Slot slot,
                                                CallContext* context);
  /// A pipeline: the commands are grouped by node, each group sent as one batch, and the replies
  /// put back in the order of `commands`; a command answered with a redirection is then run
  /// again on its own (so it may run after commands that followed it).
  boost::asio::awaitable<Result<std::vector<Value>>> execute_batch(
      const std::vector<Command>& commands, const std::vector<Slot>& slots, CallContext& context);
  /// MULTI ... EXEC (`batch` holds them) on the master of `slot`; sent again to the new master
  /// when it was refused because the slot moved.
  boost::asio::awaitable<Result<std::vector<Value>>> execute_transaction(
      const std::vector<Command>& batch, Slot slot, CallContext& context);

  /// The pool of the master of `slot` (of any master when there is none), fetching the map
  /// first if there is none yet.
  boost::asio::awaitable<Result<Pool*>> pool_for(Slot slot);
  /// The node a redirection named when there is one, else the owner of `slot`.
  boost::asio::awaitable<Result<Pool*>> pool_for(Slot slot,
                                                 const std::optional<NodeAddress>& target);
  /// The pool of every master in the map (fetching it first if needed).
  boost::asio::awaitable<Result<std::vector<Pool*>>> master_pools();

  /// Every node's pool statistics, added up (`max` too).
  [[nodiscard]] PoolStats stats() const;
  /// True after the last attempt to fetch the map failed on every node.
  [[nodiscard]] bool map_failed() const noexcept {
    return map_failed_.load(std::memory_order_relaxed);
  }
  /// Map refreshes that succeeded.
  [[nodiscard]] std::uint64_t refreshes() const noexcept {
    return refreshes_.load(std::memory_order_relaxed);
  }
  /// Closes every pool; later calls fail with `shutting_down`.
  void close() noexcept;

 private:
  using Signal = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  Pool& pool_of(const NodeAddress& node);
  Pool& pool_of_locked(const NodeAddress& node);  // with `mutex_` held
  Pool* route(Slot slot);                         // once there is a map
  boost::asio::awaitable<Result<void>> ensure_map();
  // Refreshes the map unless one is under way or the last was less than `refresh_interval` ago;
  // `first` (the node that just claimed a slot) is asked before the others.
  boost::asio::awaitable<void> refresh(const NodeAddress* first);
  boost::asio::awaitable<Result<void>> fetch(const NodeAddress* first);
  boost::asio::awaitable<Result<SlotMap>> fetch_from(const NodeAddress& node);
  void finish_fetch(Result<SlotMap> map);
  // Follows redirections from `reply` (the answer to `command` from the node whose host is
  // `asked_host`); with no reply yet, starts by sending the command.
  boost::asio::awaitable<Result<Value>> follow(const Command& command, Slot slot,
                                               CallContext* context, std::optional<Value> reply,
                                               std::string asked_host);
  [[nodiscard]] bool retryable(const Value& reply) const noexcept;

  boost::asio::any_io_executor executor_;
  ConnectionConfig connection_;
  PoolConfig pool_config_;
  ClusterConfig config_;
  std::shared_ptr<Clock> clock_;
  Duration command_timeout_;
  Duration retry_window_;
  std::string client_name_;
  std::vector<NodeAddress> seeds_;

  mutable std::mutex mutex_;
  std::optional<SlotMap> map_;
  bool fetching_ = false;
  bool closed_ = false;
  std::uint64_t generation_ = 0;  // fetches finished, successful or not
  std::error_code last_error_{};
  Clock::time_point last_refresh_{};
  std::deque<std::shared_ptr<Signal>> waiters_;
  struct NodeOrder {
    bool operator()(const NodeAddress& a, const NodeAddress& b) const noexcept {
      return a.port != b.port ? a.port < b.port : a.host < b.host;
    }
  };
  std::map<NodeAddress, std::unique_ptr<Pool>, NodeOrder> pools_;

  std::atomic<bool> map_failed_{false};
  std::atomic<std::uint64_t> refreshes_{0};
  std::atomic<std::size_t> next_node_{0};
};

}  // namespace bulwark::redis::detail
