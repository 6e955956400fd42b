#pragma once
// What makes a Client follow a Sentinel-managed master: connectors for its pools that ask the
// sentinels where the master (or a replica) is and check each new connection with ROLE, and one
// subscriber per sentinel listening for +switch-master, which retargets the pools.
//
// Locking: `mutex_` guards the known master, the pools and the closed flag; it is held while a
// pool is retargeted (the pool never calls back into the follower under its own lock), never
// across a suspension.
// Lifetime: held by the client and by the connectors it installs (shared_ptr); the pools are the
// client's, and `close()` (before the client's pools go) makes the follower forget them.

#include "bulwark/redis/pool.hpp"
#include "bulwark/redis/sentinel.hpp"
#include "bulwark/redis/subscriber.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::redis::detail {

class SentinelFollower : public std::enable_shared_from_this<SentinelFollower> {
 public:
  SentinelFollower(boost::asio::any_io_executor executor, SentinelConfig config);

  /// Installs the connectors into `master` (and `replicas`, may be null) and subscribes to
  /// +switch-master on every sentinel.
  void attach(Pool& master, Pool* replicas);

  /// The connection to `endpoint` answered READONLY: the master known may be stale.
  void suspect(const Endpoint& endpoint);

  /// Stops listening and forgets the pools. Idempotent.
  void close() noexcept;

  [[nodiscard]] SentinelStats stats() const;

 private:
  enum class Role : std::uint8_t { master, replica };

  boost::asio::awaitable<std::shared_ptr<Connection>> connect_master(
      boost::asio::any_io_executor executor, ConnectionConfig config);
  boost::asio::awaitable<std::shared_ptr<Connection>> connect_replica(
      boost::asio::any_io_executor executor, ConnectionConfig config);
  // Connects to `target` and checks its role; null when the node is in another role.
  boost::asio::awaitable<std::shared_ptr<Connection>> connect_checked(
      boost::asio::any_io_executor executor, ConnectionConfig config, Endpoint target,
      Role expected);
  boost::asio::awaitable<Endpoint> discover();
  void on_message(const Message& message);
  // Makes `master` the master: the pools move to it when it is new.
  void adopt(const Endpoint& master);
  // Forgets `master` if it is still the one known, so the next connection asks the sentinels.
  void forget(const Endpoint& master);
  [[nodiscard]] std::optional<Endpoint> known() const;
  void note_failure(std::string why);

  boost::asio::any_io_executor executor_;
  const SentinelConfig config_;

  mutable std::mutex mutex_;
  bool closed_ = false;
  std::optional<Endpoint> master_{};
  // The master known failed (unreachable, wrong role, READONLY): ask the sentinels again.
  bool stale_ = false;
  Pool* master_pool_ = nullptr;
  Pool* replica_pool_ = nullptr;
  std::vector<std::unique_ptr<Subscriber>> subscribers_{};
  // Replicas are not asked for again before this, after none could be reached.
  std::chrono::steady_clock::time_point no_replica_until_{};
  std::size_t next_replica_ = 0;
  std::string last_error_{};

  std::atomic<std::uint64_t> discoveries_{0};
  std::atomic<std::uint64_t> switches_{0};
  std::atomic<std::uint64_t> role_mismatches_{0};
  std::atomic<std::uint64_t> sentinel_failures_{0};
};

}  // namespace bulwark::redis::detail
