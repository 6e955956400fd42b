#pragma once
/// @file
/// Redis Sentinel: finding the master of a monitored group from a list of sentinels, and the
/// configuration that makes a `Client` follow that master across failovers.
///
/// A client whose `ClientConfig::sentinel` is set never connects to a fixed address. Before it
/// opens a connection it asks the sentinels, in order, for the master's address
/// (`SENTINEL GET-MASTER-ADDR-BY-NAME`), and it checks every new connection with `ROLE`: a node
/// that says it is a replica (the sentinels' view was stale) is closed and the sentinels are
/// asked again. It listens for `+switch-master` on every sentinel; on a switch, and whenever
/// connecting to the known master fails, its pool retargets: idle connections close at once,
/// leased ones are closed when they come back, new ones go to the new master. Commands in flight
/// on the old master fail with `connection_lost` and follow the usual retry rules (only
/// read-only commands are sent again).
///
/// The sentinels' own connections use the credentials and TLS settings of `SentinelConfig`; the
/// data connections keep those of `ClientConfig::connection` (its host and port are unused).

#include "bulwark/core/duration.hpp"
#include "bulwark/core/error.hpp"
#include "bulwark/core/secret.hpp"
#include "bulwark/redis/config.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::redis {

/// A TCP address: one sentinel, or a data node the sentinels named.
struct Endpoint {
  std::string host{};
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

/// "host:port", IPv6 hosts in brackets ("[::1]:26379").
[[nodiscard]] std::string to_string(const Endpoint& endpoint);

/// Reads "host:port", "host" (port 26379, the sentinels' default), "[v6]:port". Throws
/// `ConfigError` at `path` naming what is wrong.
[[nodiscard]] Endpoint parse_sentinel_node(std::string_view text,
                                           std::string_view path = "redis.sentinel.nodes");

struct SentinelConfig {
  /// The name the sentinels monitor the group under (`sentinel monitor <name> ...`); required.
  std::string master_name{};
  /// Sentinels, asked in this order until one answers; at least one.
  std::vector<Endpoint> nodes{};
  /// ACL user of the sentinels (not of the data nodes); empty = the default user.
  std::string username{};
  /// Password of the sentinels (`requirepass` in sentinel.conf); empty = no AUTH. Never printed.
  Secret password{};
  /// TLS to the sentinels, with the same settings as the data connections'.
  TlsConfig tls{};
  /// Bound on connecting to one sentinel and getting its answer; the next one is asked after it.
  /// > 0.
  Duration timeout = std::chrono::seconds(1);
  /// Send read-only commands (`is_read_only`) to a replica the sentinels list as healthy, checked
  /// with `ROLE`; they go to the master while no replica can be reached. Replicas lag behind the
  /// master: a read may miss a write that was just acknowledged.
  bool use_replicas_for_reads = false;
};

/// Appends one issue per bad field (paths `<path>.<field>`, nodes as `<path>.nodes[i]`).
void validate(const SentinelConfig& config, std::vector<ConfigIssue>& issues,
              std::string_view path = "redis.sentinel");

/// Counters of a client that follows a master through Sentinel.
struct SentinelStats {
  /// The master the client is using ("host:port"); empty until it has found one.
  std::string master{};
  /// Times the sentinels were asked for the master's address.
  std::uint64_t discoveries = 0;
  /// Times the client moved to another master (a `+switch-master`, or a new answer).
  std::uint64_t switches = 0;
  /// New connections closed because the node was not in the expected role.
  std::uint64_t role_mismatches = 0;
  /// Sentinels that could not be reached or refused to answer.
  std::uint64_t sentinel_failures = 0;
  /// Why the last search for the master failed (each sentinel's answer, or the node that could
  /// not be reached); empty until one failed. Errors of commands carry only their code, this the
  /// story. Never holds a password.
  std::string last_error{};
};

/// Asks the sentinels in order for the address of `config.master_name`'s master: the first
/// answer wins. Throws `bulwark::Error` with `connect_failed` when no sentinel gave an address,
/// its detail listing why for each one (unreachable, refused AUTH, master name unknown) — never
/// the password.
boost::asio::awaitable<Endpoint> discover_master(boost::asio::any_io_executor executor,
                                                 SentinelConfig config);

/// Asks the sentinels in order for the replicas of `config.master_name` and returns those the
/// first answering sentinel considers healthy (not down, not disconnected, link to the master
/// up). Errors as `discover_master`.
boost::asio::awaitable<std::vector<Endpoint>> discover_replicas(
    boost::asio::any_io_executor executor, SentinelConfig config);

}  // namespace bulwark::redis
