#pragma once
/// @file
/// Redis Cluster: which slot a key lives in, and how a `redis::Client` reaches a cluster.
///
/// A cluster splits the keyspace into 16384 slots, each served by one master. The client learns
/// which master serves which slot from `CLUSTER SHARDS` (Redis >= 7, `CLUSTER SLOTS` before),
/// sends each command to the master of its keys' slot over that node's own pool (automatically
/// pipelined like any other), and follows the cluster's redirections:
/// - `MOVED <slot> <host:port>`: the slot lives elsewhere for good. The client records the new
///   owner, refreshes its whole map (at most once per `refresh_interval`) and sends the command
///   there.
/// - `ASK <slot> <host:port>`: the slot is being migrated and this key already moved. The client
///   sends `ASKING` and the command to that node, once, and keeps its map.
/// - `TRYAGAIN` (a multi-key command during a migration) and `CLUSTERDOWN` (the cluster lost a
///   slot's master): sent again with backoff until the command's deadline.
/// None of these replies means the command ran, so a write is resent as safely as a read.
///
/// Every key of one command (and of one transaction) must hash to one slot: a command whose keys
/// do not is refused before anything is sent, with `errc::invalid_argument` naming each key's
/// slot. Hash tags group keys: only the part between the first `{` and the next `}` is hashed
/// when it is not empty, so `{user1000}.following` and `{user1000}.followers` share a slot.
///
/// Thread-safety: the functions are reentrant; `ClusterConfig` is a plain aggregate.

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::redis {

/// Slots of a Redis Cluster; a key's slot is below this.
inline constexpr std::uint16_t cluster_slot_count = 16384;

/// The part of `key` that is hashed: the text between the first `{` and the first `}` after it
/// when that text is not empty, otherwise the whole key.
[[nodiscard]] std::string_view hash_tag(std::string_view key) noexcept;

/// CRC16 (XMODEM: polynomial 0x1021, initial value 0) of `bytes`, as Redis Cluster uses it.
[[nodiscard]] std::uint16_t crc16(std::string_view bytes) noexcept;

/// The slot of `key`: `crc16(hash_tag(key)) % 16384`. The slot of "foo" is 12182.
[[nodiscard]] std::uint16_t key_slot(std::string_view key) noexcept;

struct ClusterConfig {
  /// Seed nodes, "host:port" (IPv6 as "[::1]:7000"): where the client first asks for the slot
  /// map. Any reachable node of the cluster will do; the rest are learned from it. The
  /// connection settings (password, TLS, timeouts, protocol) of the client apply to every node.
  std::vector<std::string> nodes{};
  /// MOVED and ASK redirections one command follows before its last redirection is reported as
  /// the command's error reply; >= 1.
  std::uint32_t max_redirects = 5;
  /// Shortest time between two refreshes of the slot map caused by MOVED or CLUSTERDOWN replies,
  /// so that a migration seen by thousands of commands costs a handful of `CLUSTER SHARDS`;
  /// >= 0 (0 = refresh on every such reply).
  Duration refresh_interval = std::chrono::milliseconds(100);
  /// Longest a command keeps resending after TRYAGAIN and CLUSTERDOWN replies, with backoff from
  /// 10ms doubling to 200ms. 0 = the client's `command_timeout` (and 5s when that is 0 too).
  Duration retry_window = Duration::zero();
};

/// Appends one issue per bad field (paths `<path>.<field>`, a node as `<path>.nodes[i]`).
void validate(const ClusterConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "redis.cluster");

/// A node's address, "host:port" split. Throws `ConfigError` (at `path`) when `text` is not one.
struct NodeAddress {
  std::string host{};
  std::uint16_t port = 0;

  /// Parses "host:port" or "[v6]:port".
  [[nodiscard]] static NodeAddress parse(std::string_view text, std::string_view path = "node");
  /// "host:port" ("[v6]:port" for IPv6 hosts).
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

}  // namespace bulwark::redis
