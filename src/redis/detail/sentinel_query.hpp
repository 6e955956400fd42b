#pragma once
// Asking sentinels: one short-lived connection per question, sentinels tried in order until one
// answers. Shared by the public discovery functions and the client's follower.

#include "bulwark/redis/sentinel.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

namespace bulwark::redis::detail {

/// The connection settings for talking to sentinel `node`.
[[nodiscard]] ConnectionConfig sentinel_connection(const SentinelConfig& config,
                                                   const Endpoint& node);

/// See `discover_master`. `config` must outlive the returned awaitable; each sentinel that
/// could not answer adds one to `*failures` when given.
boost::asio::awaitable<Endpoint> query_master(boost::asio::any_io_executor executor,
                                              const SentinelConfig& config,
                                              std::atomic<std::uint64_t>* failures = nullptr);

/// See `discover_replicas`.
boost::asio::awaitable<std::vector<Endpoint>> query_replicas(
    boost::asio::any_io_executor executor, const SentinelConfig& config,
    std::atomic<std::uint64_t>* failures = nullptr);

}  // namespace bulwark::redis::detail
