#pragma once
// The slot map of a Redis Cluster, without I/O: built from a `CLUSTER SHARDS` or `CLUSTER SLOTS`
// reply, asked which master serves a slot, corrected one slot at a time by MOVED replies. The
// parsers of those replies and of MOVED/ASK errors live here too, so that they are tested
// without a cluster.
//
// Thread-safety: a plain value type; `ClusterRouter` guards its own with a mutex.

#include "bulwark/core/result.hpp"
#include "bulwark/redis/cluster.hpp"
#include "bulwark/redis/value.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::redis::detail {

/// A MOVED or ASK error reply.
struct Redirect {
  enum class Kind : std::uint8_t { moved, ask };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  NodeAddress node{};
};

/// The redirection an error reply asks for, or nothing when it is another reply. An empty host
/// ("MOVED 3999 :6380", sent by nodes that do not know their address) means `asked_host`.
[[nodiscard]] std::optional<Redirect> parse_redirect(const Value& reply,
                                                     std::string_view asked_host);

class SlotMap {
 public:
  /// Reads a `CLUSTER SHARDS` reply (Redis >= 7; RESP3 maps or RESP2 flat arrays): each shard's
  /// slot ranges go to its master that is online. With `tls`, a node's `tls-port` is used when
  /// it has one. Hosts the node does not know ("?" or empty) become `asked_host`.
  /// Error: `protocol_error` when the reply does not have that shape.
  [[nodiscard]] static Result<SlotMap> from_shards(const Value& reply, std::string_view asked_host,
                                                   bool tls);
  /// Reads a `CLUSTER SLOTS` reply: [[first, last, [host, port, ...], replicas...], ...].
  [[nodiscard]] static Result<SlotMap> from_slots(const Value& reply, std::string_view asked_host);

  /// The master serving `slot`, or nullptr when no node does.
  [[nodiscard]] const NodeAddress* owner(std::uint16_t slot) const noexcept;
  /// Records `node` as the master of `slot` (after a MOVED).
  void assign(std::uint16_t slot, const NodeAddress& node);
  /// Every master in the map, each once.
  [[nodiscard]] const std::vector<NodeAddress>& nodes() const noexcept { return nodes_; }
  /// Slots that have a master.
  [[nodiscard]] std::size_t covered() const noexcept;

 private:
  static constexpr std::uint16_t unowned = 0xFFFF;
  void assign_range(std::uint16_t first, std::uint16_t last, const NodeAddress& node);
  std::uint16_t index_of(const NodeAddress& node);

  std::vector<NodeAddress> nodes_{};
  std::vector<std::uint16_t> owners_ = std::vector<std::uint16_t>(cluster_slot_count, unowned);
};

}  // namespace bulwark::redis::detail
