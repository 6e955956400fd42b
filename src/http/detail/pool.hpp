#pragma once
// The connections of one origin: at most `max_connections` open (busy and idle together), idle
// ones reused most recently used first, expired or peer-closed ones dropped on checkout.
//
// A busy connection is owned by its `Lease`; the slot it occupies is a bulkhead permit, so
// waiting for a free connection is the bulkhead's FIFO queue with its timeout and cancellation.

#include "bulwark/http/client.hpp"
#include "bulwark/resilience/bulkhead.hpp"
#include "http/detail/connection.hpp"
#include "http/detail/tls.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace bulwark::http::detail {

class Pool;

// A connection checked out of its pool. Give it back with `Pool::release`; a lease destroyed
// without that (an exception) closes its connection and frees the slot.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& other) noexcept
      : pool_(std::exchange(other.pool_, nullptr)),
        connection_(std::move(other.connection_)),
        permit_(std::move(other.permit_)),
        reused_(other.reused_) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  [[nodiscard]] Connection& connection() const noexcept { return *connection_; }
  [[nodiscard]] bool reused() const noexcept { return reused_; }

 private:
  friend class Pool;
  Pool* pool_ = nullptr;
  std::unique_ptr<Connection> connection_;
  Bulkhead::Permit permit_;
  bool reused_ = false;
};

class Pool {
 public:
  // `config` is the client's and outlives the pool.
  Pool(boost::asio::any_io_executor executor, Origin origin, const ClientConfig& config);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // An idle connection (unless `fresh`), or a new one. Throws `Error`: pool_timeout,
  // shutting_down, cancelled, and the errors of `Connection::open`.
  boost::asio::awaitable<Lease> acquire(bool fresh, Deadline deadline);
  // Keeps the connection for reuse when `reusable` and there is room; closes it otherwise.
  void release(Lease& lease, bool reusable) noexcept;

  void count_stale_retry() noexcept { stale_retries_.fetch_add(1, std::memory_order_relaxed); }
  // Closes idle connections past their expiry; returns how many.
  std::size_t prune() noexcept;
  void close() noexcept;
  [[nodiscard]] PoolStats stats() const noexcept;
  [[nodiscard]] const Origin& origin() const noexcept { return origin_; }
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  std::unique_ptr<Connection> take_idle();
  [[nodiscard]] bool expired(const Connection& connection,
                             std::chrono::steady_clock::time_point now) const noexcept;
  void closed(std::size_t count) noexcept { closed_.fetch_add(count, std::memory_order_relaxed); }

  boost::asio::any_io_executor executor_;
  Origin origin_;
  std::string key_;
  const ClientConfig& config_;
  Bulkhead slots_;
  TlsSessions sessions_;
  std::shared_ptr<boost::asio::ssl::context> tls_;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // Most recently used last.
  bool closing_ = false;

  std::atomic<std::size_t> active_{0};
  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> closed_{0};
  std::atomic<std::uint64_t> reused_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> wait_timeouts_{0};
  std::atomic<std::uint64_t> connect_errors_{0};
  std::atomic<std::uint64_t> stale_retries_{0};
};

}  // namespace bulwark::http::detail
