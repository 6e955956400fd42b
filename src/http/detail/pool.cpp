#include "http/detail/pool.hpp"

#include "bulwark/core/error.hpp"

#include <fmt/format.h>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace bulwark::http::detail {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

BulkheadConfig slot_config(const std::string& key, const ClientConfig& config) {
  BulkheadConfig slots;
  slots.name = key;
  slots.max_concurrent =
      static_cast<std::uint32_t>(std::min<std::size_t>(config.pool.max_connections, UINT32_MAX));
  const bool may_wait = config.timeouts.pool > Duration::zero();
  slots.max_queue = may_wait ? config.pool.max_waiting : 0;
  if (may_wait) slots.max_wait = config.timeouts.pool;
  return slots;
}

bool keeps_alive(const ClientConfig& config) {
  return config.pool.keepalive_expiry > Duration::zero() &&
         config.pool.max_keepalive_connections > 0;
}

}  // namespace

Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(*this, false);
}

Pool::Pool(asio::any_io_executor executor, Origin origin, const ClientConfig& config)
    : executor_(std::move(executor)),
      origin_(std::move(origin)),
      key_(origin_.key()),
      config_(config),
      slots_(slot_config(key_, config)) {
  if (origin_.tls)
    tls_ = TlsSessions::make_context(config.tls,
                                     config.tls.session_resumption ? &sessions_ : nullptr, key_);
}

Pool::~Pool() { close(); }

bool Pool::expired(const Connection& connection, SteadyClock::time_point now) const noexcept {
  return now - connection.idle_since() >=
         std::chrono::duration_cast<SteadyClock::duration>(config_.pool.keepalive_expiry);
}

std::unique_ptr<Connection> Pool::take_idle() {
  std::vector<std::unique_ptr<Connection>> dropped;
  std::unique_ptr<Connection> found;
  {
    std::lock_guard lock(mutex_);
    const auto now = SteadyClock::now();
    while (!idle_.empty()) {
      std::unique_ptr<Connection> candidate = std::move(idle_.back());
      idle_.pop_back();
      if (expired(*candidate, now)) {
        // The most recent one has expired, so every older one has too.
        dropped.push_back(std::move(candidate));
        for (auto& older : idle_) dropped.push_back(std::move(older));
        idle_.clear();
        break;
      }
      if (candidate->closed_by_peer()) {
        dropped.push_back(std::move(candidate));
        continue;
      }
      found = std::move(candidate);
      break;
    }
  }
  closed(dropped.size());
  return found;  // `dropped` closes its connections on the way out, outside the lock.
}

asio::awaitable<Lease> Pool::acquire(bool fresh, Deadline deadline) {
  Lease lease;
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      throw Error(make_error_code(errc::shutting_down), {}, fmt::format("{}: pool closed", key_));
    }
  }
  Result<Bulkhead::Permit> permit = slots_.try_acquire();
  if (!permit) permit = co_await slots_.async_acquire();
  if (!permit) {
    if (permit.error() == errc::cancelled) throw Error(permit.error());
    wait_timeouts_.fetch_add(1, std::memory_order_relaxed);
    throw Error(make_error_code(errc::pool_timeout), {},
                fmt::format("{}: no connection free within timeouts.pool ({}); all {} in use", key_,
                            format_duration(config_.timeouts.pool), config_.pool.max_connections));
  }
  lease.permit_ = std::move(*permit);
  lease.pool_ = this;
  active_.fetch_add(1, std::memory_order_relaxed);
  requests_.fetch_add(1, std::memory_order_relaxed);

  if (!fresh) lease.connection_ = take_idle();
  if (lease.connection_) {
    lease.reused_ = true;
    reused_.fetch_add(1, std::memory_order_relaxed);
    co_return lease;
  }
  if (fresh) {
    // The slot is ours, but idle connections count against max_connections too: make room.
    std::unique_ptr<Connection> oldest;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty() &&
          active_.load(std::memory_order_relaxed) + idle_.size() > config_.pool.max_connections) {
        oldest = std::move(idle_.front());
        idle_.erase(idle_.begin());
      }
    }
    if (oldest) closed(1);
  }
  try {
    lease.connection_ = co_await Connection::open(executor_, origin_, config_, tls_.get(),
                                                  tls_ ? &sessions_ : nullptr, deadline);
  } catch (...) {
    connect_errors_.fetch_add(1, std::memory_order_relaxed);
    throw;  // `lease` frees the slot.
  }
  created_.fetch_add(1, std::memory_order_relaxed);
  co_return lease;
}

void Pool::release(Lease& lease, bool reusable) noexcept {
  if (lease.pool_ == nullptr) return;
  lease.pool_ = nullptr;
  std::unique_ptr<Connection> connection = std::move(lease.connection_);
  if (connection) {
    bool kept = false;
    if (reusable && keeps_alive(config_)) {
      std::lock_guard lock(mutex_);
      if (!closing_ && idle_.size() < config_.pool.max_keepalive_connections) {
        connection->mark_idle();
        idle_.push_back(std::move(connection));
        kept = true;
      }
    }
    if (!kept) {
      connection.reset();
      closed(1);
    }
  }
  active_.fetch_sub(1, std::memory_order_relaxed);
  // Last, so that a waiter handed this slot finds the connection among the idle ones.
  lease.permit_.release();
}

std::size_t Pool::prune() noexcept {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(mutex_);
    const auto now = SteadyClock::now();
    auto keep = std::stable_partition(idle_.begin(), idle_.end(), [&](const auto& connection) {
      return !expired(*connection, now) && !connection->closed_by_peer();
    });
    std::move(keep, idle_.end(), std::back_inserter(dropped));
    idle_.erase(keep, idle_.end());
  }
  closed(dropped.size());
  return dropped.size();
}

void Pool::close() noexcept {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    dropped.swap(idle_);
  }
  closed(dropped.size());
}

PoolStats Pool::stats() const noexcept {
  PoolStats stats;
  stats.active = active_.load(std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    stats.idle = idle_.size();
  }
  stats.created = created_.load(std::memory_order_relaxed);
  stats.closed = closed_.load(std::memory_order_relaxed);
  stats.reused = reused_.load(std::memory_order_relaxed);
  stats.requests = requests_.load(std::memory_order_relaxed);
  stats.pool_wait_timeouts = wait_timeouts_.load(std::memory_order_relaxed);
  stats.connect_errors = connect_errors_.load(std::memory_order_relaxed);
  stats.stale_retries = stale_retries_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace bulwark::http::detail
