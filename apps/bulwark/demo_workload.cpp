#include "demo_workload.hpp"

#include "demo_config.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace bulwark::cli {

namespace asio = boost::asio;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One kind of client: the client objects used so far and the recovery being timed.
struct Track {
  std::atomic<std::int64_t> mark_ns{0};
  std::atomic<std::int64_t> first_success_ns{0};

  mutable std::mutex mutex;
  // Kept alive so that their statistics can be read at the end; a few at most (one per
  // rebuild), and the manager does not close a client that someone still holds.
  std::vector<std::pair<std::shared_ptr<void>, Pipeline*>> clients;

  template <class Client>
  void remember(const std::shared_ptr<Client>& client) {
    std::lock_guard lock(mutex);
    const bool known = std::any_of(clients.begin(), clients.end(),
                                   [&](const auto& entry) { return entry.first == client; });
    if (!known) clients.emplace_back(client, &client->resilience());
  }

  void succeeded() {
    const std::int64_t mark = mark_ns.load(std::memory_order_acquire);
    if (mark == 0) return;
    std::int64_t expected = 0;
    first_success_ns.compare_exchange_strong(expected, now_ns(), std::memory_order_acq_rel);
  }
};

}  // namespace

struct Workload::State {
  State(ClientManager& manager_ref, WorkloadOptions workload_options)
      : manager(manager_ref), options(workload_options) {}

  ClientManager& manager;
  const WorkloadOptions options;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable finished;
  std::size_t running = 0;  // guarded by mutex
  Track http;
  Track redis;

  Track& track(ClientKind kind) { return kind == ClientKind::http ? http : redis; }
};

namespace {

using StatePtr = std::shared_ptr<Workload::State>;

// Waits until `next`, then moves it one period on (not behind now: a slow call does not cause a
// burst of catching up).
asio::awaitable<void> pace(asio::steady_timer& timer, std::chrono::steady_clock::time_point& next,
                           Duration period) {
  timer.expires_at(next);
  (void)co_await timer.async_wait(use_tuple);
  next = std::max(next + period, std::chrono::steady_clock::now());
}

// Workers of one kind start spread over one period rather than all at once.
Duration stagger(Duration period, std::size_t index, std::size_t workers) {
  return period * static_cast<std::int64_t>(index) / static_cast<std::int64_t>(workers);
}

void leave(const StatePtr& state) {
  std::lock_guard lock(state->mutex);
  --state->running;
  state->finished.notify_all();
}

asio::awaitable<void> http_worker(StatePtr state, std::size_t index, Duration period) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::chrono::steady_clock::time_point next =
      std::chrono::steady_clock::now() + stagger(period, index, state->options.http_workers);
  std::shared_ptr<http::Client> previous;
  for (std::uint64_t n = index; !state->stopping.load(); n += state->options.http_workers) {
    co_await pace(timer, next, period);
    if (state->stopping.load()) break;
    std::shared_ptr<http::Client> client;
    try {
      client = state->manager.http(demo_http_client);
    } catch (const std::exception&) {
      break;  // the manager is stopping
    }
    if (client != previous) {
      state->http.remember(client);
      previous = client;
    }
    http::Request request = http::Request::get(fmt::format("/items/{}", n % 50));
    const Result<http::Response> result = co_await client->execute(std::move(request));
    if (result && result->status < 400) state->http.succeeded();
  }
  leave(state);
}

asio::awaitable<void> redis_worker(StatePtr state, std::size_t index, Duration period) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::chrono::steady_clock::time_point next =
      std::chrono::steady_clock::now() + stagger(period, index, state->options.redis_workers);
  std::shared_ptr<redis::Client> previous;
  for (std::uint64_t n = index; !state->stopping.load(); n += state->options.redis_workers) {
    co_await pace(timer, next, period);
    if (state->stopping.load()) break;
    std::shared_ptr<redis::Client> client;
    try {
      client = state->manager.redis(demo_redis_client);
    } catch (const std::exception&) {
      break;
    }
    if (client != previous) {
      state->redis.remember(client);
      previous = client;
    }
    // Half writes, half reads, over a few keys.
    const std::string key = fmt::format("demo:item:{}", n % 32);
    redis::Command command = n % 2 == 0 ? redis::make_command("SET", key, fmt::format("v{}", n))
                                        : redis::make_command("GET", key);
    const Result<redis::Value> result = co_await client->execute(std::move(command));
    if (result && !result->is_error()) state->redis.succeeded();
  }
  leave(state);
}

}  // namespace

Workload::Workload(ClientManager& manager, WorkloadOptions options)
    : state_(std::make_shared<State>(manager, options)) {}

Workload::~Workload() { stop(); }

void Workload::start() {
  const auto period = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(1.0 / state_->options.calls_per_second));
  const auto executor = state_->manager.executor();
  {
    std::lock_guard lock(state_->mutex);
    state_->running += state_->options.http_workers + state_->options.redis_workers;
  }
  for (std::size_t i = 0; i < state_->options.http_workers; ++i) {
    asio::co_spawn(executor, http_worker(state_, i, period), asio::detached);
  }
  for (std::size_t i = 0; i < state_->options.redis_workers; ++i) {
    asio::co_spawn(executor, redis_worker(state_, i, period), asio::detached);
  }
}

void Workload::stop(Duration limit) {
  state_->stopping.store(true);
  std::unique_lock lock(state_->mutex);
  // Each worker ends within one pace period plus one call, which the client's timeouts bound.
  (void)state_->finished.wait_for(lock, limit, [this] { return state_->running == 0; });
}

void Workload::mark(ClientKind kind) {
  Track& track = state_->track(kind);
  track.first_success_ns.store(0, std::memory_order_release);
  track.mark_ns.store(now_ns(), std::memory_order_release);
}

std::optional<Duration> Workload::recovered_after(ClientKind kind) const {
  const Track& track = state_->track(kind);
  const std::int64_t mark = track.mark_ns.load(std::memory_order_acquire);
  const std::int64_t success = track.first_success_ns.load(std::memory_order_acquire);
  if (mark == 0 || success == 0) return std::nullopt;
  return std::chrono::nanoseconds(success - mark);
}

RetryTotals Workload::retry_totals(ClientKind kind) const {
  const Track& track = state_->track(kind);
  RetryTotals totals;
  std::lock_guard lock(track.mutex);
  for (const auto& [client, pipeline] : track.clients) {
    if (const Retry* retry = pipeline->retry()) {
      const RetryStats stats = retry->stats();
      totals.retries += stats.retries;
      totals.succeeded_after_retry += stats.succeeded_after_retry;
      totals.failed_after_retry += stats.failed_after_retry;
    }
  }
  return totals;
}

std::string Workload::breaker_state(ClientKind kind) const {
  const Track& track = state_->track(kind);
  std::lock_guard lock(track.mutex);
  if (track.clients.empty()) return "none";
  const CircuitBreaker* breaker = track.clients.back().second->circuit_breaker();
  return breaker == nullptr ? std::string("none") : std::string(to_string(breaker->state()));
}

}  // namespace bulwark::cli
