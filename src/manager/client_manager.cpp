#include "bulwark/manager/client_manager.hpp"

#include "bulwark/observe/catalogue.hpp"
#include "bulwark/observe/registry.hpp"
#include "bulwark/shared/fleet_rate_limiter.hpp"
#include "bulwark/shared/fleet_retry_budget.hpp"
#include "bulwark/shared/shared_breaker.hpp"
#include "manager/client_metrics.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <thread>

namespace bulwark {
namespace {

namespace asio = boost::asio;

// Errors shown in health reports: one line, bounded.
std::string sanitized(std::string_view text) {
  constexpr std::size_t limit = 300;
  std::string line(text.substr(0, limit));
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (text.size() > limit) line += "...";
  return line;
}

std::string names_of(const auto& entries) {
  std::string names;
  for (const auto& [name, entry] : entries) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names.empty() ? std::string("none") : names;
}

// A check must measure the service, not the state of the caller's client: no retry, no
// breaker, one connection, bounded by the health timeout.
http::ClientConfig checker_config(const HttpServiceConfig& service, const HealthConfig& health) {
  http::ClientConfig config = service.client;
  config.name = service.name + ".health";
  config.retry.reset();
  config.circuit_breaker.reset();
  config.rate_limiter.reset();
  config.bulkhead.reset();
  config.pool.max_connections = 1;
  config.pool.max_keepalive_connections = 1;
  config.timeouts.total = health.timeout;
  config.timeouts.pool = health.timeout;
  config.redirects.follow = false;
  return config;
}

redis::ClientConfig checker_config(const RedisDatabaseConfig& database,
                                   const HealthConfig& health) {
  redis::ClientConfig config = database.client;
  config.name = database.client.name + ".health";
  config.retry.reset();
  config.circuit_breaker.reset();
  config.rate_limiter.reset();
  config.bulkhead.reset();
  config.pool.max_connections = 1;
  config.pool.acquire_timeout = health.timeout;
  config.command_timeout = health.timeout;
  config.wait_for_loading = Duration::zero();
  config.connection.connect_timeout = std::min(config.connection.connect_timeout, health.timeout);
  return config;
}

// The database a shared breaker coordinates through: the one it names, or the first.
const RedisDatabaseConfig* coordination_database(const ManagerConfig& config,
                                                 const SharedBreakerSettings& settings) {
  if (!settings.database.empty()) return config.find_redis(settings.database);
  return config.redis.empty() ? nullptr : &config.redis.front();
}

template <class Client>
std::string breaker_name(const std::shared_ptr<Client>& client) {
  if (!client) return "none";
  CircuitBreaker* breaker = client->resilience().circuit_breaker();
  return breaker ? std::string(to_string(breaker->state())) : std::string("none");
}

}  // namespace

struct ClientManager::Impl {
  // The fleet-wide policies of one configured client (docs/scale-out.md), built with the manager
  // and kept across rebuilds of the client, so the shared state's view survives them.
  struct SharedLimits {
    std::shared_ptr<shared::FleetRateLimiter> limiter;
    std::shared_ptr<RetryBudget> budget;  // also when not shared: one budget per client
    std::shared_ptr<shared::FleetRetryBudget> fleet_budget;
  };

  // One configured client: created on first use, replaced when rebuilt.
  template <class Client, class Sync, class Config>
  struct Entry {
    const Config* config = nullptr;
    std::mutex mutex;
    std::shared_ptr<Client> client;
    std::shared_ptr<Sync> sync;
    std::shared_ptr<Client> checker;
    std::shared_ptr<detail::ClientMetrics> metrics;
    // Shares the client's breaker with the other instances (`circuit_breaker.shared`); null
    // when it is local. Outlives rebuilds of the client: each new breaker is attached to it.
    std::shared_ptr<shared::SharedBreaker> shared;
    // The fleet-wide rate limiter and retry budget (`shared:` under the rate limiter and the
    // retry budget); empty members when local.
    SharedLimits limits;
    // Recreation bookkeeping: the client failed since it was last built, and when it may be
    // rebuilt next.
    bool failed = false;
    Duration backoff{};
    std::chrono::steady_clock::time_point next_rebuild{};
  };
  using HttpEntry = Entry<http::Client, http::SyncClient, HttpServiceConfig>;
  using RedisEntry = Entry<redis::Client, redis::SyncClient, RedisDatabaseConfig>;

  ManagerConfig config;
  std::shared_ptr<observe::Registry> registry = std::make_shared<observe::Registry>();
  std::unique_ptr<Runtime> runtime;  // Own runtime, when no executor was given.
  asio::any_io_executor executor;
  std::mutex sync_runtime_mutex;
  std::unique_ptr<Runtime> sync_runtime;  // Hosts blocking waits when the executor is external.
  // Shared with the health monitor's targets: a round of checks that is still finishing when the
  // manager is destroyed reads the entries' breakers and pools, so they must outlive it.
  std::map<std::string, std::shared_ptr<HttpEntry>, std::less<>> http;
  std::map<std::string, std::shared_ptr<RedisEntry>, std::less<>> redis;
  // The Redis connections of shared state, one per database that carries some, by name.
  std::map<std::string, std::shared_ptr<shared::Coordinator>, std::less<>> coordinators;
  std::unique_ptr<HealthMonitor> monitor;
  // Connections that carry fleet-wide state: one client per Redis database and timeout.
  std::map<std::string, std::shared_ptr<redis::Client>, std::less<>> coordination;
  std::atomic<bool> stopped{false};
  std::atomic<bool> started{false};
  // The monitor's listeners may run after this object is gone (a round finishing late); they
  // check this first.
  struct Liveness {
    std::mutex mutex;
    bool alive = true;
  };
  std::shared_ptr<Liveness> liveness = std::make_shared<Liveness>();
  observe::CollectorHandle gauges;

  Impl(ManagerConfig manager_config, std::unique_ptr<Runtime> own, asio::any_io_executor exec)
      : config(std::move(manager_config)), runtime(std::move(own)), executor(std::move(exec)) {
    std::vector<ConfigIssue> issues;
    validate(config, issues);
    if (!issues.empty()) throw ConfigError(std::move(issues));
    for (const HttpServiceConfig& service : config.services) {
      auto entry = std::make_shared<HttpEntry>();
      entry->config = &service;
      entry->backoff = config.health.interval;
      entry->metrics = std::make_shared<detail::ClientMetrics>(registry, service.name);
      entry->shared = share_breaker(service.shared_breaker, service.client.name);
      http.emplace(service.name, std::move(entry));
    }
    for (const RedisDatabaseConfig& database : config.redis) {
      auto entry = std::make_shared<RedisEntry>();
      entry->config = &database;
      entry->backoff = config.health.interval;
      entry->metrics = std::make_shared<detail::ClientMetrics>(registry, database.name);
      entry->shared = share_breaker(database.shared_breaker, database.client.name);
      redis.emplace(database.name, std::move(entry));
    }
    for (auto& [name, entry] : http)
      entry->limits = make_shared_limits(name, entry->config->client);
    for (auto& [name, entry] : redis) {
      entry->limits = make_shared_limits(name, entry->config->client);
    }
    monitor = std::make_unique<HealthMonitor>(executor, config.health);
    add_checks();
    register_gauges();
    monitor->on_transition([this, live = liveness](const std::string& name, HealthState,
                                                   HealthState to, const std::string&) {
      std::lock_guard lock(live->mutex);
      if (live->alive && to == HealthState::failed) mark_failed(name);
    });
    monitor->on_check([this, live = liveness](const std::string& name, HealthState state,
                                              const CheckResult& result) {
      std::lock_guard lock(live->mutex);
      if (live->alive && result.ok) maybe_rebuild(name, state);
    });
    // Last, so that nothing above can throw with a publication loop already running.
    for (auto& [name, entry] : http) {
      if (entry->limits.fleet_budget) entry->limits.fleet_budget->start(executor);
    }
    for (auto& [name, entry] : redis) {
      if (entry->limits.fleet_budget) entry->limits.fleet_budget->start(executor);
    }
  }

  ~Impl() {
    {
      std::lock_guard lock(liveness->mutex);
      liveness->alive = false;
    }
    gauges.reset();
    monitor->stop();
  }

  std::shared_ptr<shared::SharedBreaker> share_breaker(
      const std::optional<SharedBreakerSettings>& settings, const std::string& client_name) {
    if (!settings) return nullptr;
    const RedisDatabaseConfig* database = coordination_database(config, *settings);
    if (database == nullptr) return nullptr;  // validation reported it
    auto& coordinator = coordinators[database->name];
    if (!coordinator) {
      coordinator = std::make_shared<shared::Coordinator>(executor, database->client);
    }
    shared::SharedBreakerConfig breaker = settings->breaker;
    breaker.name = client_name;
    return std::make_shared<shared::SharedBreaker>(coordinator, std::move(breaker));
  }

  // The client's breaker follows the fleet's probe gate; once built, it is shared.
  template <class ClientConfig>
  static void gate(const std::shared_ptr<shared::SharedBreaker>& shared, ClientConfig& config) {
    if (shared && config.circuit_breaker) config.circuit_breaker->probe_gate = shared->probe_gate();
  }

  template <class Client>
  static void share(const std::shared_ptr<shared::SharedBreaker>& shared,
                    const std::shared_ptr<Client>& client) {
    if (!shared) return;
    if (CircuitBreaker* breaker = client->resilience().circuit_breaker()) {
      // Shares the client's ownership: the breaker lives inside the client.
      shared->attach(std::shared_ptr<CircuitBreaker>(client, breaker));
    }
  }

  // The client that carries shared state through the database `database` names (the only database
  // when empty). Its own: no retry, breaker or limits, since a late answer is worth no more than
  // the local one the caller falls back to, and calls must not queue behind the application's.
  // One per database and `timeout`: the timeout is the client's, and policies asking for
  // different ones must each get theirs.
  std::shared_ptr<redis::Client> coordination_client(const SharedStateConfig& settings) {
    const std::string name =
        settings.database.empty() ? config.redis.front().name : settings.database;
    std::shared_ptr<redis::Client>& client =
        coordination[fmt::format("{}/{}", name, format_duration(settings.timeout))];
    if (!client) {
      redis::ClientConfig client_config = config.find_redis(name)->client;
      client_config.name += ".coordination";
      client_config.retry.reset();
      client_config.circuit_breaker.reset();
      client_config.rate_limiter.reset();
      client_config.bulkhead.reset();
      client_config.wait_for_loading = Duration::zero();
      client_config.command_timeout = settings.timeout;
      client_config.pool.acquire_timeout = settings.timeout;
      client_config.on_call = {};
      client = std::make_shared<redis::Client>(executor, std::move(client_config));
    }
    return client;
  }

  template <class ClientConfig>
  SharedLimits make_shared_limits(const std::string& name, const ClientConfig& client) {
    SharedLimits limits;
    if (client.rate_limiter && client.rate_limiter->shared) {
      const SharedStateConfig& settings = *client.rate_limiter->shared;
      shared::FleetRateLimiterConfig limiter;
      limiter.key = fmt::format("{}rate_limit:{}", settings.key_prefix, name);
      limiter.rate = client.rate_limiter->rate;
      limiter.burst = client.rate_limiter->burst;
      limiter.timeout = settings.timeout;
      limits.limiter =
          std::make_shared<shared::FleetRateLimiter>(coordination_client(settings), limiter);
    }
    if (client.retry && client.retry->budget_config) {
      const RetryBudgetConfig& budget = *client.retry->budget_config;
      limits.budget = std::make_shared<RetryBudget>(budget, client.retry->clock);
      if (budget.shared) {
        shared::FleetRetryBudgetConfig fleet;
        fleet.key = fmt::format("{}retry_budget:{}", budget.shared->key_prefix, name);
        fleet.timeout = budget.shared->timeout;
        fleet.sync_interval = budget.shared->sync_interval;
        limits.fleet_budget = std::make_shared<shared::FleetRetryBudget>(
            coordination_client(*budget.shared), limits.budget, fleet);
      }
    }
    return limits;
  }

  template <class ClientConfig>
  static void apply(const SharedLimits& limits, ClientConfig& client) {
    if (limits.limiter && client.rate_limiter) {
      client.rate_limiter->coordinator = limits.limiter;
      // The coordinator holds the fleet's rate; the local bucket only decides when Redis does
      // not answer, at the rate the configuration gives for that case.
      const double fallback_rate = client.rate_limiter->shared->fallback_rate;
      if (fallback_rate > 0.0) client.rate_limiter->rate = fallback_rate;
    }
    if (limits.budget && client.retry) client.retry->budget = limits.budget;
  }

  template <class Sink, class Family>
  static void add_shared_samples(Sink& sink, Family& coordinated, Family& fallbacks,
                                 const std::string& client, const SharedLimits& limits) {
    if (limits.limiter) {
      const shared::FleetStats stats = limits.limiter->stats();
      sink.add(coordinated, {client, "rate_limiter"}, stats.coordinated ? 1.0 : 0.0);
      sink.add(fallbacks, {client, "rate_limiter"}, static_cast<double>(stats.local_decisions));
    }
    if (limits.fleet_budget) {
      const shared::FleetStats stats = limits.fleet_budget->stats();
      sink.add(coordinated, {client, "retry_budget"}, stats.coordinated ? 1.0 : 0.0);
      sink.add(fallbacks, {client, "retry_budget"}, static_cast<double>(stats.failures));
    }
  }

  // Values that live in the clients and the monitor, read at each scrape.
  void register_gauges() {
    auto& breaker_state = registry->collected_gauge(observe::catalogue::circuit_breaker_state());
    auto& pool_connections = registry->collected_gauge(observe::catalogue::pool_connections());
    auto& health_state = registry->collected_gauge(observe::catalogue::health_state());
    auto& coordinated = registry->collected_gauge(observe::catalogue::shared_state_coordinated());
    auto& fallbacks = registry->collected_counter(observe::catalogue::shared_state_fallbacks());
    auto& shared_messages =
        registry->collected_counter(observe::catalogue::shared_breaker_messages());
    gauges = registry->add_collector([this, &breaker_state, &pool_connections, &health_state,
                                      &coordinated, &shared_messages,
                                      &fallbacks](observe::CollectorSink& sink) {
      const auto add_shared = [&](const std::string& name, const auto& entry) {
        if (!entry->shared) return;
        const shared::SharedBreakerStats stats = entry->shared->stats();
        sink.add(coordinated, {name, "circuit_breaker"}, stats.coordinated ? 1.0 : 0.0);
        sink.add(shared_messages, {name, "published"}, static_cast<double>(stats.published));
        sink.add(shared_messages, {name, "publish_failed"},
                 static_cast<double>(stats.publish_failures));
        sink.add(shared_messages, {name, "received"}, static_cast<double>(stats.received));
        sink.add(shared_messages, {name, "dropped"}, static_cast<double>(stats.dropped));
      };
      for (const auto& [name, entry] : http) add_shared(name, entry);
      for (const auto& [name, entry] : redis) add_shared(name, entry);
      // Fixed after construction: read without the entries' locks.
      for (const auto& [name, entry] : http) {
        add_shared_samples(sink, coordinated, fallbacks, name, entry->limits);
      }
      for (const auto& [name, entry] : redis) {
        add_shared_samples(sink, coordinated, fallbacks, name, entry->limits);
      }
      static constexpr std::array<std::string_view, 5> breaker_states = {
          "closed", "open", "half_open", "disabled", "forced_open"};
      static constexpr std::array<std::string_view, 3> health_states = {"healthy", "degraded",
                                                                        "failed"};
      const HealthReport report = monitor->report();
      for (const ClientHealth& client : report.clients) {
        if (!client.available) continue;
        if (client.circuit_breaker_state != "none") {
          for (std::string_view state : breaker_states) {
            sink.add(breaker_state, {client.name, state},
                     client.circuit_breaker_state == state ? 1.0 : 0.0);
          }
        }
        sink.add(pool_connections, {client.name, "active"},
                 static_cast<double>(client.pool.active));
        sink.add(pool_connections, {client.name, "idle"}, static_cast<double>(client.pool.idle));
        for (std::string_view state : health_states) {
          sink.add(health_state, {client.name, state},
                   to_string(client.state) == state ? 1.0 : 0.0);
        }
      }
    });
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void check_open() const {
    if (stopped.load(std::memory_order_acquire)) {
      throw Error(make_error_code(errc::shutting_down), {}, "the client manager is stopped");
    }
  }

  HttpEntry& http_entry(std::string_view name) {
    auto found = http.find(name);
    if (found == http.end()) {
      throw Error(make_error_code(errc::not_found), {},
                  fmt::format("no HTTP service named '{}' is configured (configured: {})", name,
                              names_of(http)));
    }
    return *found->second;
  }

  RedisEntry& redis_entry(std::string_view name) {
    auto found = redis.find(name);
    if (found == redis.end()) {
      throw Error(make_error_code(errc::not_found), {},
                  fmt::format("no Redis database named '{}' is configured (configured: {})", name,
                              names_of(redis)));
    }
    return *found->second;
  }

  // A new client with the entry's configuration, measured by the entry's metrics.
  std::shared_ptr<http::Client> build(HttpEntry& entry) {
    http::ClientConfig client_config = entry.config->client;
    client_config.on_call = entry.metrics->observer();
    gate(entry.shared, client_config);
    apply(entry.limits, client_config);
    auto client = std::make_shared<http::Client>(executor, std::move(client_config));
    entry.metrics->watch(client->resilience());
    share(entry.shared, client);
    return client;
  }

  std::shared_ptr<redis::Client> build(RedisEntry& entry) {
    redis::ClientConfig client_config = entry.config->client;
    client_config.on_call = entry.metrics->observer();
    gate(entry.shared, client_config);
    apply(entry.limits, client_config);
    auto client = std::make_shared<redis::Client>(executor, std::move(client_config));
    entry.metrics->watch(client->resilience());
    share(entry.shared, client);
    return client;
  }

  std::shared_ptr<http::Client> http_client(HttpEntry& entry) {
    check_open();
    std::lock_guard lock(entry.mutex);
    if (!entry.client) entry.client = build(entry);
    return entry.client;
  }

  std::shared_ptr<redis::Client> redis_client(RedisEntry& entry) {
    check_open();
    std::lock_guard lock(entry.mutex);
    if (!entry.client) entry.client = build(entry);
    return entry.client;
  }

  Runtime& blocking_runtime() {
    if (runtime) return *runtime;
    std::lock_guard lock(sync_runtime_mutex);
    if (!sync_runtime) sync_runtime = std::make_unique<Runtime>(RuntimeOptions{.threads = 1});
    return *sync_runtime;
  }

  // "shared" or "local" for a shared breaker; nothing for a local one.
  template <class E>
  static std::function<std::string()> coordination_of(const std::shared_ptr<E>& entry) {
    if (!entry->shared) return {};
    return [shared = entry->shared] {
      return std::string(shared->coordinated() ? "shared" : "local");
    };
  }

  void add_checks() {
    for (auto& [name, entry_ptr] : http) {
      const std::shared_ptr<HttpEntry> entry = entry_ptr;
      const HttpServiceConfig& service = *entry->config;
      HealthMonitor::Target target;
      target.name = name;
      target.kind = "http";
      target.available = service.available;
      target.optional = service.optional;
      if (service.available) {
        entry->checker =
            std::make_shared<http::Client>(executor, checker_config(service, config.health));
        target.check = [checker = entry->checker, path = service.health_path,
                        expected = service.expected_status]() -> asio::awaitable<CheckResult> {
          http::Response reply;
          try {
            reply = co_await checker->send(http::Request::get(path));
          } catch (const std::exception& error) {
            co_return CheckResult{false, sanitized(error.what())};
          }
          if (reply.status != expected) {
            co_return CheckResult{false, fmt::format("GET {} answered {}, expected {}", path,
                                                     reply.status, expected)};
          }
          co_return CheckResult{true, {}};
        };
      }
      target.breaker_state = [entry] {
        std::lock_guard lock(entry->mutex);
        return breaker_name(entry->client);
      };
      target.coordination = coordination_of(entry);
      target.pool = [entry, max = service.client.pool.max_connections] {
        std::shared_ptr<http::Client> client;
        {
          std::lock_guard lock(entry->mutex);
          client = entry->client;
        }
        PoolSummary summary;
        summary.max = max;
        if (client) {
          const http::PoolStats pool = client->stats().pool;
          summary.active = pool.active;
          summary.idle = pool.idle;
          summary.wait_timeouts = pool.pool_wait_timeouts;
        }
        return summary;
      };
      monitor->add(std::move(target));
    }
    for (auto& [name, entry_ptr] : redis) {
      const std::shared_ptr<RedisEntry> entry = entry_ptr;
      const RedisDatabaseConfig& database = *entry->config;
      HealthMonitor::Target target;
      target.name = name;
      target.kind = "redis";
      entry->checker =
          std::make_shared<redis::Client>(executor, checker_config(database, config.health));
      target.check = [checker = entry->checker]() -> asio::awaitable<CheckResult> {
        try {
          (void)co_await checker->command(redis::make_command("PING"));
        } catch (const std::exception& error) {
          co_return CheckResult{false, sanitized(error.what())};
        }
        co_return CheckResult{true, {}};
      };
      target.breaker_state = [entry] {
        std::lock_guard lock(entry->mutex);
        return breaker_name(entry->client);
      };
      target.coordination = coordination_of(entry);
      target.pool = [entry, max = database.client.pool.max_connections] {
        std::shared_ptr<redis::Client> client;
        {
          std::lock_guard lock(entry->mutex);
          client = entry->client;
        }
        PoolSummary summary;
        summary.max = max;
        if (client) {
          const redis::PoolStats pool = client->stats().pool;
          summary.idle = pool.idle;
          summary.active = pool.open - std::min(pool.open, pool.idle);
          summary.wait_timeouts = pool.wait_timeouts;
        }
        return summary;
      };
      monitor->add(std::move(target));
    }
  }

  template <class E>
  static void mark(E& entry) {
    std::lock_guard lock(entry.mutex);
    entry.failed = true;
  }

  void mark_failed(const std::string& name) {
    if (auto found = http.find(name); found != http.end()) mark(*found->second);
    if (auto found = redis.find(name); found != redis.end()) mark(*found->second);
  }

  // A check passed. A client that failed since it was built is rebuilt: new pools and
  // connections, a closed breaker. At most once per backoff period, which doubles (up to 32
  // intervals) while the rebuilt client keeps failing.
  template <class E, class Make>
  bool rebuild(E& entry, HealthState state, Make make) {
    std::lock_guard lock(entry.mutex);
    const auto now = std::chrono::steady_clock::now();
    const bool breaker_open = breaker_name(entry.client) == "open";
    if (!entry.failed && !breaker_open) {
      if (state == HealthState::healthy) entry.backoff = config.health.interval;
      return false;
    }
    if (!entry.client) {
      entry.failed = false;  // Nothing built yet: the next lookup builds a fresh client.
      return false;
    }
    if (now < entry.next_rebuild || stopped.load(std::memory_order_acquire)) return false;
    entry.client = make();
    entry.sync.reset();
    entry.failed = false;
    entry.next_rebuild =
        now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(entry.backoff);
    entry.backoff = std::min<Duration>(entry.backoff * 2, config.health.interval * 32);
    return true;
  }

  void maybe_rebuild(const std::string& name, HealthState state) {
    bool rebuilt = false;
    if (auto found = http.find(name); found != http.end()) {
      HttpEntry& entry = *found->second;
      rebuilt = rebuild(entry, state, [&] { return build(entry); });
    } else if (auto found_redis = redis.find(name); found_redis != redis.end()) {
      RedisEntry& entry = *found_redis->second;
      rebuilt = rebuild(entry, state, [&] { return build(entry); });
    }
    if (rebuilt) {
      monitor->count_recreation(name);
      spdlog::info("bulwark: {} rebuilt after its service came back", name);
    }
  }

  // Calls in flight over every client built so far.
  std::size_t in_flight() {
    std::size_t busy = 0;
    for (auto& [name, entry] : http) {
      std::lock_guard lock(entry->mutex);
      if (entry->client) busy += entry->client->stats().pool.active;
    }
    for (auto& [name, entry] : redis) {
      std::lock_guard lock(entry->mutex);
      if (entry->client) {
        const redis::PoolStats pool = entry->client->stats().pool;
        busy += pool.open - std::min(pool.open, pool.idle);
      }
    }
    return busy;
  }

  void stop(Duration deadline) {
    if (stopped.exchange(true, std::memory_order_acq_rel)) return;
    monitor->stop();
    for (auto& [name, entry] : http) {
      if (entry->limits.fleet_budget) entry->limits.fleet_budget->stop();
    }
    for (auto& [name, entry] : redis) {
      if (entry->limits.fleet_budget) entry->limits.fleet_budget->stop();
    }
    const auto give_up = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline);
    // Drain: the callers' calls finish on their own; this only waits for them.
    while (in_flight() > 0 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& [name, entry] : http) {
      std::lock_guard lock(entry->mutex);
      if (entry->client) entry->client->close();
      if (entry->checker) entry->checker->close();
    }
    for (auto& [name, entry] : redis) {
      std::lock_guard lock(entry->mutex);
      if (entry->client) entry->client->close();
      if (entry->checker) entry->checker->close();
    }
    for (auto& [name, coordinator] : coordinators) coordinator->close();
    for (auto& [name, client] : coordination) client->close();
    // A publication in flight fails at once on the closed client; let it finish while the
    // executor still runs, so that nothing of it is left for the executor's destruction.
    const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    const auto publishing = [&] {
      const auto busy = [](const auto& entry) {
        return entry.second->limits.fleet_budget && entry.second->limits.fleet_budget->publishing();
      };
      return std::any_of(http.begin(), http.end(), busy) ||
             std::any_of(redis.begin(), redis.end(), busy);
    };
    while (publishing() && std::chrono::steady_clock::now() < settle) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
};

ClientManager::ClientManager(ManagerConfig config, std::size_t threads) {
  auto runtime = std::make_unique<Runtime>(RuntimeOptions{.threads = threads});
  auto executor = runtime->executor();
  impl_ = std::make_unique<Impl>(std::move(config), std::move(runtime), std::move(executor));
}

ClientManager::ClientManager(ManagerConfig config, asio::any_io_executor executor)
    : impl_(std::make_unique<Impl>(std::move(config), nullptr, std::move(executor))) {}

ClientManager::~ClientManager() {
  if (impl_) impl_->stop(std::chrono::seconds(5));
}

std::shared_ptr<http::Client> ClientManager::http(std::string_view name) {
  auto& entry = impl_->http_entry(name);
  if (!entry.config->available) {
    throw ServiceUnavailable(make_error_code(errc::not_found), {},
                             fmt::format("optional service '{}' is not available: its secret is "
                                         "not configured",
                                         name));
  }
  return impl_->http_client(entry);
}

std::shared_ptr<http::Client> ClientManager::try_http(std::string_view name) {
  auto& entry = impl_->http_entry(name);
  if (!entry.config->available) return nullptr;
  return impl_->http_client(entry);
}

std::shared_ptr<redis::Client> ClientManager::redis(std::string_view name) {
  return impl_->redis_client(impl_->redis_entry(name));
}

std::shared_ptr<http::SyncClient> ClientManager::http_sync(std::string_view name) {
  std::shared_ptr<http::Client> client = http(name);
  auto& entry = impl_->http_entry(name);
  Runtime& runtime = impl_->blocking_runtime();
  std::lock_guard lock(entry.mutex);
  if (!entry.sync || &entry.sync->async() != client.get()) {
    entry.sync = std::make_shared<http::SyncClient>(runtime, client);
  }
  return entry.sync;
}

std::shared_ptr<redis::SyncClient> ClientManager::redis_sync(std::string_view name) {
  std::shared_ptr<redis::Client> client = redis(name);
  auto& entry = impl_->redis_entry(name);
  Runtime& runtime = impl_->blocking_runtime();
  std::lock_guard lock(entry.mutex);
  if (!entry.sync || &entry.sync->async() != client.get()) {
    entry.sync = std::make_shared<redis::SyncClient>(runtime, client);
  }
  return entry.sync;
}

void ClientManager::start() {
  impl_->check_open();
  impl_->monitor->start();
  impl_->started.store(true, std::memory_order_release);
}

bool ClientManager::started() const noexcept {
  return impl_->started.load(std::memory_order_acquire) &&
         !impl_->stopped.load(std::memory_order_acquire);
}

void ClientManager::stop(Duration deadline) { impl_->stop(deadline); }

HealthReport ClientManager::health() const { return impl_->monitor->report(); }

asio::awaitable<HealthReport> ClientManager::check_now() { return impl_->monitor->check_now(); }

HealthReport ClientManager::check_now_blocking() {
  if (impl_->runtime) return impl_->runtime->block_on(check_now());
  return bulwark::detail::block_on(impl_->executor, check_now());
}

const ManagerConfig& ClientManager::config() const noexcept { return impl_->config; }

std::vector<ClientCallStats> ClientManager::call_stats() const {
  std::vector<ClientCallStats> stats;
  stats.reserve(impl_->http.size() + impl_->redis.size());
  const auto add = [&](const std::string& name, const detail::ClientMetrics& metrics) {
    stats.push_back(ClientCallStats{name, metrics.calls(), metrics.errors()});
  };
  for (const HttpServiceConfig& service : impl_->config.services) {
    add(service.name, *impl_->http.find(service.name)->second->metrics);
  }
  for (const RedisDatabaseConfig& database : impl_->config.redis) {
    add(database.name, *impl_->redis.find(database.name)->second->metrics);
  }
  return stats;
}

observe::Registry& ClientManager::metrics() noexcept { return *impl_->registry; }

asio::any_io_executor ClientManager::executor() const noexcept { return impl_->executor; }

namespace {

std::mutex global_mutex;
std::unique_ptr<ClientManager> global_instance;

}  // namespace

ClientManager& ClientManager::install(ManagerConfig config) {
  auto replacement = std::make_unique<ClientManager>(std::move(config));
  std::unique_ptr<ClientManager> previous;
  std::lock_guard lock(global_mutex);
  previous = std::move(global_instance);
  global_instance = std::move(replacement);
  return *global_instance;
}

ClientManager& ClientManager::global() {
  std::lock_guard lock(global_mutex);
  if (!global_instance) {
    throw Error(make_error_code(errc::not_found), {},
                "no ClientManager is installed (call ClientManager::install first)");
  }
  return *global_instance;
}

void ClientManager::uninstall() {
  std::unique_ptr<ClientManager> previous;
  std::lock_guard lock(global_mutex);
  previous = std::move(global_instance);
}

}  // namespace bulwark
