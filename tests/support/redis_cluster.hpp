#pragma once
// A real Redis Cluster for integration tests: N redis-server processes with `cluster-enabled yes`
// on free loopback ports, each in its own temporary directory, joined by
// `redis-cli --cluster create ... --cluster-replicas 0`, ready once every node reports
// `cluster_state:ok` and agrees on who serves every slot. The destructor stops them all.
//
// Slots can be moved by hand, step by step (to see ASK while a migration is half done) or at
// once (`move_slot`), the way `redis-cli --cluster reshard` does it.

#include "support/redis_server.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace bulwark::test {

class RedisCluster {
 public:
  /// Starts and joins `masters` nodes (>= 3, as redis-cli requires). Throws with the nodes' logs
  /// when the cluster does not come up.
  explicit RedisCluster(std::size_t masters = 3);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  [[nodiscard]] RedisServer& node(std::size_t index) { return *nodes_.at(index); }
  /// "127.0.0.1:port" of every node.
  [[nodiscard]] std::vector<std::string> addresses() const;
  /// The node id (`CLUSTER MYID`) of node `index`.
  [[nodiscard]] const std::string& id(std::size_t index) const { return ids_.at(index); }
  /// The node that serves `slot`, as node `asked` sees it.
  [[nodiscard]] std::size_t owner(std::uint16_t slot, std::size_t asked = 0) const;
  /// The node that serves each of the 16384 slots, as node `asked` sees it.
  [[nodiscard]] std::vector<std::size_t> owners(std::size_t asked = 0) const;
  /// Keys stored on node `index` (DBSIZE).
  [[nodiscard]] std::size_t key_count(std::size_t index) const;

  // Moving a slot: `begin_migration` (target IMPORTING, source MIGRATING), `migrate_keys`
  // (MIGRATE every key of the slot, in batches), `finish_migration` (SETSLOT NODE on the target
  // first, then everywhere), as the Redis Cluster specification orders it.
  void begin_migration(std::uint16_t slot, std::size_t from, std::size_t to);
  /// Moves up to `limit` keys (0 = all); returns how many moved.
  std::size_t migrate_keys(std::uint16_t slot, std::size_t from, std::size_t to,
                           std::size_t limit = 0);
  void finish_migration(std::uint16_t slot, std::size_t to);
  /// The three steps at once; returns the node it moved from.
  std::size_t move_slot(std::uint16_t slot, std::size_t to);

 private:
  void wait_until_ready();
  [[nodiscard]] std::string logs() const;

  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::string> ids_;
};

}  // namespace bulwark::test
