#include "bulwark/shared/shared_breaker.hpp"

#include "bulwark/redis/script.hpp"
#include "bulwark/shared/breaker_message.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>

namespace bulwark::shared {

namespace asio = boost::asio;

namespace {

// KEYS: state, epoch, probe. ARGV: state, wait_ms, instance, channel. Returns the epoch.
// One script, so the key, the epoch and the message always agree.
const redis::Script publish_script(R"(
local epoch = redis.call('INCR', KEYS[2])
local message = 'v1|' .. ARGV[1] .. '|' .. epoch .. '|' .. ARGV[2] .. '|' .. ARGV[3]
if ARGV[1] == 'open' and tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], message, 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', ARGV[4], message)
return epoch
)");

// KEYS: probe. ARGV: probing instances, lease_ms. Returns 0 when a slot is granted, otherwise
// the milliseconds until the slots expire.
const redis::Script probe_script(R"(
local taken = redis.call('INCR', KEYS[1])
if taken == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if taken <= tonumber(ARGV[1]) then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return left
)");

// Set while this thread applies a received state to the breaker, so that the breaker's event
// is not published back (the listener runs on the thread that made the transition).
thread_local bool applying_remote = false;

std::string default_instance_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string name(host[0] != '\0' ? host : "host");
  for (char& c : name) {
    if (c == '|') c = '_';
  }
  std::random_device entropy;
  return fmt::format("{}-{}-{:08x}", name, ::getpid(), entropy());
}

std::int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d + std::chrono::microseconds(999))
      .count();
}

// Probe gate states.
enum class Gate : std::uint8_t { idle, requesting, granted, denied };

}  // namespace

struct SharedBreaker::Core : std::enable_shared_from_this<SharedBreaker::Core> {
  Core(std::shared_ptr<Coordinator> coordinator_in, SharedBreakerConfig config_in)
      : coordinator(std::move(coordinator_in)),
        config(std::move(config_in)),
        instance(config.instance_id.empty() ? default_instance_id() : config.instance_id),
        channel(config.channel.empty() ? config.key_prefix + "breaker:" + config.name
                                       : config.channel),
        state_key(config.key_prefix + "breaker:" + config.name),
        epoch_key(state_key + ":epoch"),
        probe_key(state_key + ":probe"),
        filter(instance) {}

  const std::shared_ptr<Coordinator> coordinator;
  const SharedBreakerConfig config;
  const std::string instance;
  const std::string channel;
  const std::string state_key;
  const std::string epoch_key;
  const std::string probe_key;
  EpochFilter filter;
  std::atomic<bool> closed{false};

  // The breaker shared, and the subscription to its events.
  mutable std::mutex mutex;
  std::shared_ptr<CircuitBreaker> breaker;
  Subscription events;
  std::int64_t lease_ms = 1000;

  // The latest local transition not yet published; one publisher at a time.
  struct Pending {
    SharedBreakerState state;
    Clock::time_point open_until;
  };
  std::optional<Pending> pending;  // guarded by `mutex`
  bool publishing = false;         // guarded by `mutex`

  std::atomic<Gate> gate{Gate::idle};
  std::atomic<std::int64_t> retry_probe_at_ns{0};

  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> publish_failures{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> probes_granted{0};
  std::atomic<std::uint64_t> probes_denied{0};

  std::shared_ptr<CircuitBreaker> current() const {
    std::lock_guard lock(mutex);
    return breaker;
  }

  // --- probe gate ----------------------------------------------------------------------------

  static std::int64_t steady_ns() noexcept {
    return std::chrono::steady_clock::now().time_since_epoch().count();
  }

  bool allow_probe() noexcept {
    if (closed.load(std::memory_order_acquire) || !coordinator->connected()) return true;
    Gate seen = gate.load(std::memory_order_acquire);
    if (seen == Gate::granted) return true;
    if (seen == Gate::requesting) return false;
    if (seen == Gate::denied && steady_ns() < retry_probe_at_ns.load(std::memory_order_acquire)) {
      return false;
    }
    if (gate.compare_exchange_strong(seen, Gate::requesting, std::memory_order_acq_rel)) {
      try {
        asio::co_spawn(coordinator->executor(), request_probe(shared_from_this()), asio::detached);
      } catch (...) {
        gate.store(Gate::idle, std::memory_order_release);
        return true;  // cannot ask: local rules
      }
    }
    return false;
  }

  static asio::awaitable<void> request_probe(std::shared_ptr<Core> self) {
    std::int64_t wait_ms = 100;  // after a failed request: ask again soon
    bool granted = false;
    try {
      std::int64_t lease = 0;
      {
        std::lock_guard lock(self->mutex);
        lease = self->lease_ms;
      }
      const std::string keys[] = {self->probe_key};
      const std::string args[] = {std::to_string(self->config.probing_instances),
                                  std::to_string(lease)};
      const redis::Value reply =
          co_await self->coordinator->client().eval(probe_script, keys, args);
      const std::int64_t left = reply.as_integer();
      granted = left == 0;
      if (!granted) wait_ms = left;
      (granted ? self->probes_granted : self->probes_denied)
          .fetch_add(1, std::memory_order_relaxed);
    } catch (const std::exception& error) {
      spdlog::debug("bulwark: shared breaker {}: probe request failed: {}", self->config.name,
                    error.what());
    }
    if (!granted) {
      self->retry_probe_at_ns.store(
          steady_ns() + std::chrono::nanoseconds(std::chrono::milliseconds(wait_ms)).count(),
          std::memory_order_release);
    }
    Gate expected = Gate::requesting;
    self->gate.compare_exchange_strong(expected, granted ? Gate::granted : Gate::denied,
                                       std::memory_order_acq_rel);
  }

  // --- publishing ----------------------------------------------------------------------------

  void on_event(const BreakerEvent& event, CircuitBreaker& source) {
    if (event.type != BreakerEvent::Type::state_changed) return;
    gate.store(Gate::idle, std::memory_order_release);
    if (applying_remote || closed.load(std::memory_order_acquire)) return;
    std::optional<Pending> next;
    if (event.to == BreakerState::open && event.from != BreakerState::open) {
      const Duration wait = source.remaining_open_time();
      next = Pending{SharedBreakerState::open, std::chrono::steady_clock::now() + wait};
    } else if (event.to == BreakerState::closed && event.from != BreakerState::closed &&
               event.from != BreakerState::disabled) {
      next = Pending{SharedBreakerState::closed, {}};
    }
    if (!next) return;
    bool start = false;
    {
      std::lock_guard lock(mutex);
      pending = next;
      start = !publishing;
      publishing = true;
    }
    if (!start) return;
    try {
      asio::co_spawn(coordinator->executor(), publish_loop(shared_from_this()), asio::detached);
    } catch (...) {
      std::lock_guard lock(mutex);
      publishing = false;
    }
  }

  static asio::awaitable<void> publish_loop(std::shared_ptr<Core> self) {
    for (;;) {
      Pending next{};
      {
        std::lock_guard lock(self->mutex);
        if (!self->pending || self->closed.load(std::memory_order_acquire)) {
          self->pending.reset();
          self->publishing = false;
          co_return;
        }
        next = *self->pending;
        self->pending.reset();
      }
      Duration wait = Duration::zero();
      if (next.state == SharedBreakerState::open) {
        wait = next.open_until - std::chrono::steady_clock::now();
        if (wait <= Duration::zero()) continue;  // over already: nothing left to share
      }
      co_await self->publish(next.state, wait);
    }
  }

  asio::awaitable<void> publish(SharedBreakerState state, Duration wait) {
    if (!coordinator->connected()) {
      // Known to fail; the resynchronisation after reconnecting publishes what still matters.
      publish_failures.fetch_add(1, std::memory_order_relaxed);
      co_return;
    }
    try {
      const std::string keys[] = {state_key, epoch_key, probe_key};
      const std::string args[] = {std::string(to_string(state)), std::to_string(to_ms(wait)),
                                  instance, channel};
      const redis::Value reply = co_await coordinator->client().eval(publish_script, keys, args);
      filter.published(static_cast<std::uint64_t>(reply.as_integer()));
      published.fetch_add(1, std::memory_order_relaxed);
    } catch (const std::exception& error) {
      publish_failures.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("bulwark: shared breaker {}: publishing failed: {}", config.name, error.what());
    }
  }

  // --- receiving -----------------------------------------------------------------------------

  void apply(const BreakerMessage& message, Duration wait) {
    const std::shared_ptr<CircuitBreaker> target = current();
    gate.store(Gate::idle, std::memory_order_release);
    if (!target) return;
    applying_remote = true;
    if (message.state == SharedBreakerState::open) {
      (void)target->adopt_open(wait, fmt::format("opened by {} (shared)", message.instance));
    } else {
      (void)target->adopt_closed(fmt::format("closed by {} (shared)", message.instance));
    }
    applying_remote = false;
  }

  void on_message(std::string_view payload) {
    const std::optional<BreakerMessage> message = decode_breaker_message(payload);
    if (!message || filter.admit(*message) != Admission::apply) {
      dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    received.fetch_add(1, std::memory_order_relaxed);
    apply(*message, message->wait);
  }

  // Reads what the fleet recorded: on (re)connection and when a breaker is attached.
  static asio::awaitable<void> resync(std::shared_ptr<Core> self) {
    if (self->closed.load(std::memory_order_acquire)) co_return;
    try {
      std::vector<redis::Command> commands;
      commands.push_back(redis::make_command("GET", self->state_key));
      commands.push_back(redis::make_command("PTTL", self->state_key));
      commands.push_back(redis::make_command("GET", self->epoch_key));
      const std::vector<redis::Value> replies =
          co_await self->coordinator->client().pipeline(std::move(commands));
      if (replies.size() != 3 || replies[0].is_error() || replies[1].is_error() ||
          replies[2].is_error()) {
        co_return;
      }
      std::uint64_t epoch = 0;
      if (replies[2].is_string()) {
        epoch = static_cast<std::uint64_t>(std::stoull(std::string(replies[2].as_string())));
      }
      self->filter.restart_from(epoch);
      std::optional<BreakerMessage> recorded;
      if (replies[0].is_string()) recorded = decode_breaker_message(replies[0].as_string());
      const std::int64_t left_ms = replies[1].as_integer();
      if (recorded && recorded->state == SharedBreakerState::open && left_ms > 0) {
        self->received.fetch_add(1, std::memory_order_relaxed);
        self->apply(*recorded, std::chrono::milliseconds(left_ms));
        co_return;
      }
      // Nothing recorded: share what this instance knows, if it is an outage.
      const std::shared_ptr<CircuitBreaker> target = self->current();
      if (target && target->state() == BreakerState::open) {
        const Duration wait = target->remaining_open_time();
        if (wait > Duration::zero()) co_await self->publish(SharedBreakerState::open, wait);
      }
    } catch (const std::exception& error) {
      spdlog::debug("bulwark: shared breaker {}: reading the shared state failed: {}",
                    self->config.name, error.what());
    }
  }

  void spawn_resync() {
    try {
      asio::co_spawn(coordinator->executor(), resync(shared_from_this()), asio::detached);
    } catch (...) {
      // Out of memory: the next reconnection tries again.
    }
  }
};

SharedBreaker::SharedBreaker(std::shared_ptr<Coordinator> coordinator, SharedBreakerConfig config) {
  std::vector<ConfigIssue> issues;
  shared::validate(config, issues);
  if (!issues.empty()) throw ConfigError(std::move(issues));
  if (!coordinator) {
    throw ConfigError("circuit_breaker.database", "a shared breaker needs a Redis coordinator");
  }
  core_ = std::make_shared<Core>(std::move(coordinator), std::move(config));
  std::weak_ptr<Core> weak = core_;
  core_->coordinator->listen(
      core_->channel,
      [weak](std::string_view payload) {
        if (const auto core = weak.lock()) core->on_message(payload);
      },
      [weak] {
        if (const auto core = weak.lock()) core->spawn_resync();
      });
}

SharedBreaker::~SharedBreaker() {
  core_->closed.store(true, std::memory_order_release);
  core_->coordinator->forget(core_->channel);
  // The breaker outlives its subscription: locals are destroyed in reverse order.
  std::shared_ptr<CircuitBreaker> breaker;
  Subscription events;
  {
    std::lock_guard lock(core_->mutex);
    events = std::move(core_->events);
    breaker = std::move(core_->breaker);
  }
}

std::function<bool()> SharedBreaker::probe_gate() const {
  return [weak = std::weak_ptr<Core>(core_)]() noexcept {
    const auto core = weak.lock();
    return !core || core->allow_probe();
  };
}

void SharedBreaker::attach(std::shared_ptr<CircuitBreaker> breaker) {
  if (!breaker) return;
  const Duration lease = core_->config.probe_lease > Duration::zero()
                             ? core_->config.probe_lease
                             : (breaker->config().max_half_open_duration > Duration::zero()
                                    ? breaker->config().max_half_open_duration
                                    : breaker->config().recovery_timeout);
  std::weak_ptr<Core> weak = core_;
  CircuitBreaker* source = breaker.get();
  Subscription events = breaker->on_event([weak, source](const BreakerEvent& event) {
    if (const auto core = weak.lock()) core->on_event(event, *source);
  });
  std::shared_ptr<CircuitBreaker> replaced;  // outlives `previous`, its subscription
  Subscription previous;
  {
    std::lock_guard lock(core_->mutex);
    previous = std::move(core_->events);
    replaced = std::move(core_->breaker);
    core_->events = std::move(events);
    core_->breaker = std::move(breaker);
    core_->lease_ms = std::max<std::int64_t>(to_ms(lease), 1000);
  }
  if (core_->coordinator->connected()) core_->spawn_resync();
}

bool SharedBreaker::coordinated() const noexcept {
  return !core_->closed.load(std::memory_order_acquire) && core_->coordinator->connected();
}

SharedBreakerStats SharedBreaker::stats() const noexcept {
  SharedBreakerStats s;
  s.coordinated = coordinated();
  s.published = core_->published.load(std::memory_order_relaxed);
  s.publish_failures = core_->publish_failures.load(std::memory_order_relaxed);
  s.received = core_->received.load(std::memory_order_relaxed);
  s.dropped = core_->dropped.load(std::memory_order_relaxed);
  s.probes_granted = core_->probes_granted.load(std::memory_order_relaxed);
  s.probes_denied = core_->probes_denied.load(std::memory_order_relaxed);
  return s;
}

const SharedBreakerConfig& SharedBreaker::config() const noexcept { return core_->config; }

const std::string& SharedBreaker::channel() const noexcept { return core_->channel; }

}  // namespace bulwark::shared
