#include "bulwark/manager/health.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>

namespace bulwark {
namespace {

namespace asio = boost::asio;

HealthState derive(std::uint32_t failures, std::string_view breaker, std::uint32_t failed_after) {
  if (failures >= failed_after || breaker == "open" || breaker == "forced_open") {
    return HealthState::failed;
  }
  if (failures > 0 || breaker == "half_open") return HealthState::degraded;
  return HealthState::healthy;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One round of checks. Results arrive on the monitor's strand; the round stops waiting at the
// timeout, and results that come later are dropped.
struct Round {
  explicit Round(const asio::strand<asio::any_io_executor>& strand, std::size_t size)
      : timer(strand), results(size), latencies(size), pending(size) {}
  asio::steady_timer timer;
  std::vector<std::optional<CheckResult>> results;
  std::vector<Duration> latencies;
  std::size_t pending;
  bool closed = false;
};

}  // namespace

struct HealthMonitor::State {
  State(asio::any_io_executor executor, HealthConfig health, std::shared_ptr<Clock> time)
      : strand(asio::make_strand(std::move(executor))),
        config(health),
        clock(time ? std::move(time) : steady_clock()),
        interval_timer(strand) {}

  struct Entry {
    Target target;
    ClientHealth health;
  };

  asio::strand<asio::any_io_executor> strand;
  const HealthConfig config;
  std::shared_ptr<Clock> clock;
  asio::steady_timer interval_timer;  // Used on the strand only.

  mutable std::mutex mutex;
  std::vector<Entry> entries;
  std::vector<TransitionListener> transition_listeners;
  std::vector<CheckListener> check_listeners;
  bool running = false;
  std::uint64_t generation = 0;

  ClientHealth refreshed(const Entry& entry) const {
    ClientHealth health = entry.health;
    if (entry.target.breaker_state) health.circuit_breaker_state = entry.target.breaker_state();
    if (entry.target.coordination) health.coordination = entry.target.coordination();
    if (entry.target.pool) health.pool = entry.target.pool();
    health.state = derive(health.consecutive_failures, health.circuit_breaker_state,
                          config.max_consecutive_failures);
    return health;
  }
};

namespace {

using State = HealthMonitor::State;

asio::awaitable<void> run_one(std::shared_ptr<State> state, std::shared_ptr<Round> round,
                              std::size_t index,
                              std::function<asio::awaitable<CheckResult>()> check) {
  const auto started = state->clock->now();
  CheckResult result;
  try {
    result = co_await check();
  } catch (const std::exception& error) {
    result = {false, error.what()};
  }
  if (round->closed || round->results[index]) co_return;
  round->results[index] = std::move(result);
  round->latencies[index] = state->clock->now() - started;
  if (--round->pending == 0) round->timer.cancel();
}

// Runs on the strand.
asio::awaitable<void> check_round(std::shared_ptr<State> state) {
  std::vector<std::size_t> indexes;
  std::vector<std::function<asio::awaitable<CheckResult>()>> checks;
  {
    std::lock_guard lock(state->mutex);
    for (std::size_t i = 0; i < state->entries.size(); ++i) {
      if (!state->entries[i].target.available) continue;
      indexes.push_back(i);
      checks.push_back(state->entries[i].target.check);
    }
  }
  auto round = std::make_shared<Round>(state->strand, checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    asio::co_spawn(state->strand, run_one(state, round, i, std::move(checks[i])), asio::detached);
  }
  if (round->pending > 0) {
    round->timer.expires_after(state->config.timeout);
    boost::system::error_code ignored;
    co_await round->timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  round->closed = true;

  struct Change {
    std::string name;
    HealthState from;
    HealthState to;
    CheckResult result;
    std::string reason;  // why it is not healthy
  };
  std::vector<Change> changes;
  std::vector<HealthMonitor::TransitionListener> transition_listeners;
  std::vector<HealthMonitor::CheckListener> check_listeners;
  {
    std::lock_guard lock(state->mutex);
    const std::int64_t now = unix_now();
    for (std::size_t i = 0; i < indexes.size(); ++i) {
      auto& entry = state->entries[indexes[i]];
      CheckResult result = round->results[i].value_or(CheckResult{
          false, fmt::format("check timed out after {}", format_duration(state->config.timeout))});
      const HealthState before = entry.health.state;
      entry.health.last_check = now;
      entry.health.latency = round->results[i] ? round->latencies[i] : state->config.timeout;
      if (result.ok) {
        entry.health.consecutive_failures = 0;
        entry.health.last_error.clear();
      } else {
        ++entry.health.consecutive_failures;
        entry.health.last_error = result.error;
      }
      const ClientHealth health = state->refreshed(entry);
      entry.health.state = health.state;
      // A passing check leaves a client short of healthy only through its breaker: say so.
      std::string reason = !result.ok ? result.error
                           : health.state == HealthState::healthy
                               ? std::string()
                               : fmt::format("the check passed, but the circuit breaker is {}",
                                             health.circuit_breaker_state);
      changes.push_back(
          {entry.target.name, before, entry.health.state, std::move(result), std::move(reason)});
    }
    transition_listeners = state->transition_listeners;
    check_listeners = state->check_listeners;
  }
  for (const Change& change : changes) {
    if (change.from != change.to) {
      // Once per transition, not once per interval.
      if (change.to == HealthState::healthy) {
        spdlog::info("bulwark: {} is {} (was {})", change.name, to_string(change.to),
                     to_string(change.from));
      } else {
        spdlog::warn("bulwark: {} is {} (was {}): {}", change.name, to_string(change.to),
                     to_string(change.from), change.reason);
      }
      for (const auto& listener : transition_listeners) {
        listener(change.name, change.from, change.to, change.reason);
      }
    }
    for (const auto& listener : check_listeners) listener(change.name, change.to, change.result);
  }
}

asio::awaitable<void> check_loop(std::shared_ptr<State> state, std::uint64_t generation) {
  for (;;) {
    {
      std::lock_guard lock(state->mutex);
      if (!state->running || state->generation != generation) co_return;
    }
    co_await check_round(state);
    state->interval_timer.expires_after(state->config.interval);
    boost::system::error_code ec;
    co_await state->interval_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

HealthReport report_of(const State& state) {
  HealthReport report;
  std::lock_guard lock(state.mutex);
  for (const auto& entry : state.entries) {
    ClientHealth health = state.refreshed(entry);
    if (health.available && static_cast<int>(health.state) > static_cast<int>(report.state)) {
      report.state = health.state;
    }
    report.clients.push_back(std::move(health));
  }
  return report;
}

// A round run now. It holds the state, not the monitor: the monitor may be destroyed while the
// round is still running, and the round must then touch nothing of it.
asio::awaitable<HealthReport> check_now_on(std::shared_ptr<State> state) {
  co_await asio::co_spawn(state->strand, check_round(state), asio::use_awaitable);
  co_return report_of(*state);
}

}  // namespace

const ClientHealth* HealthReport::find(std::string_view name) const noexcept {
  for (const ClientHealth& client : clients) {
    if (client.name == name) return &client;
  }
  return nullptr;
}

HealthMonitor::HealthMonitor(asio::any_io_executor executor, HealthConfig config,
                             std::shared_ptr<Clock> clock)
    : state_(std::make_shared<State>(std::move(executor), config, std::move(clock))) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::add(Target target) {
  ClientHealth health;
  health.name = target.name;
  health.kind = target.kind;
  health.available = target.available;
  health.optional = target.optional;
  std::lock_guard lock(state_->mutex);
  state_->entries.push_back({std::move(target), std::move(health)});
}

void HealthMonitor::on_transition(TransitionListener listener) {
  std::lock_guard lock(state_->mutex);
  state_->transition_listeners.push_back(std::move(listener));
}

void HealthMonitor::on_check(CheckListener listener) {
  std::lock_guard lock(state_->mutex);
  state_->check_listeners.push_back(std::move(listener));
}

void HealthMonitor::count_recreation(const std::string& name) {
  std::lock_guard lock(state_->mutex);
  for (auto& entry : state_->entries) {
    if (entry.target.name == name) ++entry.health.recreations;
  }
}

void HealthMonitor::start() {
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->running) return;
    state_->running = true;
    generation = ++state_->generation;
  }
  asio::co_spawn(state_->strand, check_loop(state_, generation), asio::detached);
}

void HealthMonitor::stop() noexcept {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->running) return;
    state_->running = false;
  }
  asio::post(state_->strand, [state = state_] { state->interval_timer.cancel(); });
}

asio::awaitable<HealthReport> HealthMonitor::check_now() { return check_now_on(state_); }

HealthReport HealthMonitor::report() const { return report_of(*state_); }

const HealthConfig& HealthMonitor::config() const noexcept { return state_->config; }

}  // namespace bulwark
