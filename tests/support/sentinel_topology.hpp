#pragma once
// A real Sentinel deployment for integration tests: one master and one replica (redis-server on
// free loopback ports) and three sentinels (`redis-server --sentinel`) monitoring them with
// quorum 2, tuned to notice a dead master within a second. The constructor returns once the
// replica is in sync and every sentinel knows the replica and the two other sentinels, so a
// failover can start at once; the destructor kills every process and removes the directories.

#include "bulwark/redis/sentinel.hpp"
#include "support/redis_server.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

namespace bulwark::test {

struct SentinelTopologyOptions {
  /// The name the sentinels monitor the group under.
  std::string master_name = "mymaster";
  /// `requirepass` (and `masterauth`) of the data nodes, given to the sentinels as `auth-pass`;
  /// empty = none.
  std::string data_password{};
  /// `requirepass` of the sentinels; empty = none.
  std::string sentinel_password{};
  /// `down-after-milliseconds`: how long a master may be silent before it is thought down.
  std::chrono::milliseconds down_after{1000};
  /// `failover-timeout`.
  std::chrono::milliseconds failover_timeout{5000};
};

class SentinelTopology {
 public:
  explicit SentinelTopology(SentinelTopologyOptions options = {});
  ~SentinelTopology();
  SentinelTopology(const SentinelTopology&) = delete;
  SentinelTopology& operator=(const SentinelTopology&) = delete;

  static constexpr std::size_t sentinel_count = 3;

  /// The data node first started as master, and the one first started as its replica. Their
  /// roles change with a failover; `node_on(port)` finds a node by the port a sentinel names.
  [[nodiscard]] RedisServer& first_master() noexcept { return *nodes_[0]; }
  [[nodiscard]] RedisServer& first_replica() noexcept { return *nodes_[1]; }
  [[nodiscard]] RedisServer& node_on(std::uint16_t port);

  [[nodiscard]] std::uint16_t sentinel_port(std::size_t i) const { return sentinel_ports_.at(i); }
  [[nodiscard]] const SentinelTopologyOptions& options() const noexcept { return options_; }

  /// A client-side configuration naming the three sentinels (with their password, if any).
  [[nodiscard]] redis::SentinelConfig client_config() const;

  /// Runs redis-cli against sentinel `i`; its standard output, trimmed.
  std::string sentinel_cli(std::size_t i, const std::vector<std::string>& args) const;
  /// The master's port according to sentinel `i` (0 when it does not answer).
  [[nodiscard]] std::uint16_t master_port(std::size_t i = 0) const;
  /// Waits until every sentinel names a master other than `old_port`; returns its port. Throws
  /// after `limit`.
  std::uint16_t wait_for_new_master(std::uint16_t old_port, std::chrono::seconds limit);

  /// Stops sentinel `i` (SIGKILL).
  void kill_sentinel(std::size_t i);

 private:
  void start_sentinel(std::size_t i);
  void wait_until_ready();
  [[nodiscard]] std::string logs() const;

  SentinelTopologyOptions options_;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::uint16_t> sentinel_ports_;
  std::vector<pid_t> sentinel_pids_;
};

}  // namespace bulwark::test
