#include "bulwark/redis/pool.hpp"

#include "bulwark/resilience/timeout.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

namespace bulwark::redis {

namespace asio = boost::asio;

namespace detail {

class PoolCore : public std::enable_shared_from_this<PoolCore> {
 public:
  PoolCore(asio::any_io_executor executor, ConnectionConfig connection, PoolConfig pool,
           std::shared_ptr<Clock> clock)
      : executor_(std::move(executor)),
        connection_config_(std::move(connection)),
        config_(pool),
        health_check_timeout_(connection_config_.connect_timeout),
        clock_(clock ? std::move(clock) : steady_clock()) {}

  enum class Mode : std::uint8_t { shared, exclusive };

  asio::awaitable<Result<std::shared_ptr<Connection>>> acquire(Mode mode) {
    const Clock::time_point deadline = clock_->now() + config_.acquire_timeout;
    bool counted_wait = false;
    for (;;) {
      Decision decision = decide(mode);
      switch (decision.action) {
        case Action::fail:
          co_return decision.error;
        case Action::use: {
          if (decision.check_health && !co_await healthy(*decision.connection)) continue;
          co_return std::move(decision.connection);
        }
        case Action::open: {
          std::optional<Result<std::shared_ptr<Connection>>> opened = co_await open(mode);
          if (!opened) continue;  // it reached an address the pool has moved away from
          co_return std::move(*opened);
        }
        case Action::wait: {
          if (!counted_wait) {
            waits_.fetch_add(1, std::memory_order_relaxed);
            counted_wait = true;
          }
          const Duration left = deadline - clock_->now();
          if (left <= Duration::zero() || !co_await wait_for_change(decision.waiter, left)) {
            forget(decision.waiter);
            wait_timeouts_.fetch_add(1, std::memory_order_relaxed);
            co_return make_error_code(errc::pool_timeout);
          }
          continue;
        }
      }
    }
  }

  void give_back(const std::shared_ptr<Connection>& connection, bool reusable) noexcept {
    {
      std::lock_guard lock(mutex_);
      for (Entry& entry : entries_) {
        if (entry.connection == connection) {
          entry.leased = false;
          entry.last_used = clock_->now();
          // Opened for an address the pool has left: the node may have changed roles since.
          if (entry.generation != generation_) reusable = false;
        }
      }
    }
    if (!reusable) connection->close();
    notify_all();
  }

  void set_connector(Connector connector) {
    std::lock_guard lock(mutex_);
    connector_ = std::move(connector);
  }

  bool retarget(std::string host, std::uint16_t port) {
    {
      std::lock_guard lock(mutex_);
      if (closed_state_) return false;
      if (connection_config_.host == host && connection_config_.port == port &&
          connection_config_.unix_path.empty()) {
        return false;
      }
      connection_config_.host = std::move(host);
      connection_config_.port = port;
      connection_config_.unix_path.clear();
    }
    refresh();
    return true;
  }

  void refresh() {
    std::vector<std::shared_ptr<Connection>> doomed;
    {
      std::lock_guard lock(mutex_);
      if (closed_state_) return;
      ++generation_;
      std::erase_if(entries_, [&](Entry& entry) {
        if (entry.leased) return false;  // closed when the lease ends (give_back)
        doomed.push_back(std::move(entry.connection));
        return true;
      });
    }
    for (auto& connection : doomed) connection->close();
    closed_.fetch_add(doomed.size(), std::memory_order_relaxed);
    notify_all();
  }

  std::size_t reap() {
    std::vector<std::shared_ptr<Connection>> doomed;
    {
      std::lock_guard lock(mutex_);
      if (config_.max_idle_time <= Duration::zero()) return 0;
      const Clock::time_point now = clock_->now();
      std::erase_if(entries_, [&](Entry& entry) {
        // Only the pool holds it (handouts happen under this lock), so nobody is about to use it.
        const bool idle = !entry.leased && entry.connection.use_count() == 1 &&
                          entry.connection->pending() == 0 &&
                          now - entry.last_used > config_.max_idle_time;
        if (idle) doomed.push_back(std::move(entry.connection));
        return idle;
      });
    }
    for (auto& connection : doomed) connection->close();
    closed_.fetch_add(doomed.size(), std::memory_order_relaxed);
    if (!doomed.empty()) notify_all();
    return doomed.size();
  }

  void start_reaper() {
    if (config_.max_idle_time <= Duration::zero()) return;
    const Duration period = std::min<Duration>(config_.max_idle_time / 2, std::chrono::minutes(1));
    asio::co_spawn(
        executor_,
        [self = shared_from_this(), period]() -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor);
          while (!self->is_closed()) {
            timer.expires_after(period);
            boost::system::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
            self->reap();
          }
        },
        asio::detached);
  }

  void close() noexcept {
    std::vector<Entry> entries;
    {
      std::lock_guard lock(mutex_);
      if (closed_state_) return;
      closed_state_ = true;
      entries.swap(entries_);
    }
    for (Entry& entry : entries) entry.connection->close();
    closed_.fetch_add(entries.size(), std::memory_order_relaxed);
    notify_all();
  }

  [[nodiscard]] bool is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_state_;
  }

  PoolStats stats() const noexcept {
    PoolStats stats;
    {
      std::lock_guard lock(mutex_);
      for (const Entry& entry : entries_) {
        if (!entry.connection->is_open()) continue;
        ++stats.open;
        if (entry.leased) {
          ++stats.leased;
        } else if (entry.connection->pending() == 0) {
          ++stats.idle;
        }
      }
    }
    stats.max = config_.max_connections;
    stats.created = created_.load(std::memory_order_relaxed);
    stats.closed = closed_.load(std::memory_order_relaxed);
    stats.connect_failures = connect_failures_.load(std::memory_order_relaxed);
    stats.waits = waits_.load(std::memory_order_relaxed);
    stats.wait_timeouts = wait_timeouts_.load(std::memory_order_relaxed);
    stats.health_check_failures = health_check_failures_.load(std::memory_order_relaxed);
    return stats;
  }

  ConnectionConfig connection_config() const {
    std::lock_guard lock(mutex_);
    return connection_config_;
  }
  const PoolConfig& config() const noexcept { return config_; }

 private:
  using Signal = asio::experimental::concurrent_channel<void(boost::system::error_code)>;

  struct Entry {
    std::shared_ptr<Connection> connection;
    bool leased = false;
    Clock::time_point last_used{};
    std::uint64_t generation = 0;  // the pool's generation when it was opened
  };

  enum class Action : std::uint8_t { use, open, wait, fail };
  struct Decision {
    Action action = Action::fail;
    std::shared_ptr<Connection> connection{};
    bool check_health = false;
    std::shared_ptr<Signal> waiter{};
    std::error_code error{};
  };

  Decision decide(Mode mode) {
    std::lock_guard lock(mutex_);
    if (closed_state_)
      return {.action = Action::fail, .error = make_error_code(errc::shutting_down)};
    drop_closed_locked();
    const Clock::time_point now = clock_->now();
    Entry* chosen = nullptr;
    for (Entry& entry : entries_) {
      if (entry.leased) continue;
      if (mode == Mode::exclusive) {
        // Leasable only when nobody outside the pool holds it: a sharer's command must never land
        // inside someone's MULTI or WATCH.
        if (entry.connection.use_count() == 1 && entry.connection->pending() == 0) {
          chosen = &entry;
          break;
        }
      } else if (chosen == nullptr || entry.connection->pending() < chosen->connection->pending()) {
        chosen = &entry;
      }
    }
    const std::size_t total = entries_.size() + opening_;
    const bool room = total < config_.max_connections;
    if (chosen != nullptr && mode == Mode::shared && room &&
        chosen->connection->pending() >= config_.busy_threshold) {
      chosen = nullptr;  // every shared connection is busy and another may be opened
    }
    if (chosen != nullptr) {
      Decision decision{.action = Action::use, .connection = chosen->connection};
      decision.check_health = config_.health_check_interval > Duration::zero() &&
                              chosen->connection->pending() == 0 &&
                              now - chosen->last_used > config_.health_check_interval;
      chosen->last_used = now;
      if (mode == Mode::exclusive) chosen->leased = true;
      return decision;
    }
    if (room) {
      ++opening_;
      return {.action = Action::open};
    }
    auto waiter = std::make_shared<Signal>(executor_, 1);
    waiters_.push_back(waiter);
    return {.action = Action::wait, .waiter = std::move(waiter)};
  }

  void drop_closed_locked() {
    const std::size_t before = entries_.size();
    std::erase_if(entries_, [](const Entry& entry) { return !entry.connection->is_open(); });
    closed_.fetch_add(before - entries_.size(), std::memory_order_relaxed);
  }

  // The new connection, or why there is none; nullopt when it was opened for an address the
  // pool has left meanwhile (the caller decides again).
  asio::awaitable<std::optional<Result<std::shared_ptr<Connection>>>> open(Mode mode) {
    ConnectionConfig config;
    Connector connector;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex_);
      config = connection_config_;
      connector = connector_;
      generation = generation_;
    }
    std::shared_ptr<Connection> connection;
    std::error_code failure;
    try {
      if (connector) {
        connection = co_await connector(executor_, std::move(config));
      } else {
        connection = co_await Connection::connect(executor_, std::move(config));
      }
    } catch (const Error& error) {
      failure = error.code();
    } catch (const boost::system::system_error& error) {
      failure = error.code();
    }
    bool stale = false;
    {
      std::lock_guard lock(mutex_);
      --opening_;
      // A connector that moved the pool while opening this connection reached the new address.
      stale = connection && generation != generation_ &&
              !(connection->config().host == connection_config_.host &&
                connection->config().port == connection_config_.port);
      if (connection && !closed_state_ && !stale) {
        entries_.push_back({connection, mode == Mode::exclusive, clock_->now(), generation_});
      }
    }
    notify_all();
    if (!connection) {
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      co_return Result<std::shared_ptr<Connection>>(failure);
    }
    if (is_closed()) {
      connection->close();
      co_return Result<std::shared_ptr<Connection>>(make_error_code(errc::shutting_down));
    }
    if (stale) {
      connection->close();
      co_return std::nullopt;
    }
    created_.fetch_add(1, std::memory_order_relaxed);
    co_return Result<std::shared_ptr<Connection>>(std::move(connection));
  }

  asio::awaitable<bool> healthy(Connection& connection) {
    bool ok = false;
    try {
      Result<Value> pong =
          co_await with_timeout(connection.execute(make_command("PING")), health_check_timeout_);
      ok = pong && !pong->is_error();
    } catch (const Error&) {
      ok = false;  // the PING timed out: the connection is poisoned and closes itself
    }
    if (!ok) {
      health_check_failures_.fetch_add(1, std::memory_order_relaxed);
      connection.close();
    }
    co_return ok;
  }

  asio::awaitable<bool> wait_for_change(const std::shared_ptr<Signal>& waiter, Duration limit) {
    try {
      co_await with_timeout(waiter->async_receive(asio::use_awaitable), limit);
      co_return true;
    } catch (const Error&) {
      co_return false;
    }
  }

  void forget(const std::shared_ptr<Signal>& waiter) {
    std::lock_guard lock(mutex_);
    std::erase(waiters_, waiter);
  }

  void notify_all() noexcept {
    std::deque<std::shared_ptr<Signal>> waiters;
    {
      std::lock_guard lock(mutex_);
      waiters.swap(waiters_);
    }
    for (auto& waiter : waiters) (void)waiter->try_send(boost::system::error_code{});
  }

  asio::any_io_executor executor_;
  ConnectionConfig connection_config_;
  PoolConfig config_;
  Duration health_check_timeout_;
  std::shared_ptr<Clock> clock_;

  mutable std::mutex mutex_;
  Connector connector_{};
  std::uint64_t generation_ = 0;
  std::vector<Entry> entries_;
  std::size_t opening_ = 0;
  bool closed_state_ = false;
  std::deque<std::shared_ptr<Signal>> waiters_;

  std::atomic<std::uint64_t> created_{0};
  std::atomic<std::uint64_t> closed_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
  std::atomic<std::uint64_t> waits_{0};
  std::atomic<std::uint64_t> wait_timeouts_{0};
  std::atomic<std::uint64_t> health_check_failures_{0};
};

}  // namespace detail

Lease::Lease(std::shared_ptr<detail::PoolCore> pool,
             std::shared_ptr<Connection> connection) noexcept
    : pool_(std::move(pool)), connection_(std::move(connection)) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::move(other.pool_)), connection_(std::move(other.connection_)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

Lease::~Lease() { release(); }

void Lease::release(bool reusable) noexcept {
  if (!connection_) return;
  std::shared_ptr<Connection> connection = std::move(connection_);
  if (pool_) pool_->give_back(connection, reusable);
  pool_.reset();
}

Pool::Pool(asio::any_io_executor executor, ConnectionConfig connection, PoolConfig pool,
           std::shared_ptr<Clock> clock) {
  std::vector<ConfigIssue> issues;
  validate(connection, issues);
  validate(pool, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  core_ = std::make_shared<detail::PoolCore>(std::move(executor), std::move(connection), pool,
                                             std::move(clock));
}

Pool::~Pool() { core_->close(); }

asio::awaitable<Result<std::shared_ptr<Connection>>> Pool::shared() {
  return core_->acquire(detail::PoolCore::Mode::shared);
}

asio::awaitable<Result<Lease>> Pool::exclusive() {
  Result<std::shared_ptr<Connection>> connection =
      co_await core_->acquire(detail::PoolCore::Mode::exclusive);
  if (!connection) co_return connection.error();
  co_return Lease(core_, std::move(*connection));
}

std::size_t Pool::reap() { return core_->reap(); }
void Pool::start_reaper() { core_->start_reaper(); }
void Pool::close() noexcept { core_->close(); }
PoolStats Pool::stats() const noexcept { return core_->stats(); }
ConnectionConfig Pool::connection_config() const { return core_->connection_config(); }
void Pool::set_connector(Connector connector) { core_->set_connector(std::move(connector)); }
bool Pool::retarget(std::string host, std::uint16_t port) {
  return core_->retarget(std::move(host), port);
}
void Pool::refresh() { core_->refresh(); }
const PoolConfig& Pool::config() const noexcept { return core_->config(); }

}  // namespace bulwark::redis
