#include "bulwark/redis/client.hpp"

#include "bulwark/resilience/detail/async_sleep.hpp"
#include "redis/detail/cluster_router.hpp"
#include "redis/detail/sentinel_follower.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Commands that only read (from Redis's command table, flag "readonly", plus connection-level
// commands that change nothing). Sorted for binary search.
constexpr std::array<std::string_view, 74> read_only_commands = {
    "BITCOUNT",      "BITFIELD_RO", "BITPOS",      "DBSIZE",
    "DUMP",          "ECHO",        "EXISTS",      "EXPIRETIME",
    "GEODIST",       "GEOHASH",     "GEOPOS",      "GEORADIUSBYMEMBER_RO",
    "GEORADIUS_RO",  "GEOSEARCH",   "GET",         "GETBIT",
    "GETRANGE",      "HEXISTS",     "HGET",        "HGETALL",
    "HKEYS",         "HLEN",        "HMGET",       "HRANDFIELD",
    "HSCAN",         "HSTRLEN",     "HVALS",       "INFO",
    "KEYS",          "LCS",         "LINDEX",      "LLEN",
    "LOLWUT",        "LPOS",        "LRANGE",      "MGET",
    "OBJECT",        "PEXPIRETIME", "PFCOUNT",     "PING",
    "PTTL",          "RANDOMKEY",   "SCAN",        "SCARD",
    "SDIFF",         "SINTER",      "SINTERCARD",  "SISMEMBER",
    "SMEMBERS",      "SMISMEMBER",  "SRANDMEMBER", "SSCAN",
    "STRLEN",        "SUBSTR",      "SUNION",      "TIME",
    "TOUCH",         "TTL",         "TYPE",        "XLEN",
    "XRANGE",        "XREVRANGE",   "ZCARD",       "ZCOUNT",
    "ZDIFF",         "ZINTER",      "ZINTERCARD",  "ZLEXCOUNT",
    "ZMSCORE",       "ZRANDMEMBER", "ZRANGE",      "ZRANGEBYLEX",
    "ZRANGEBYSCORE", "ZSCORE"};

static_assert(std::is_sorted(read_only_commands.begin(), read_only_commands.end()));

// Replies that say the server did not run the command for a reason that passes: they count as
// failures for the breaker and retry. Other error replies (WRONGTYPE, syntax) are the caller's
// business: the server is healthy.
std::error_code classify_reply(const Value& reply) {
  if (!reply.is_error()) return {};
  const std::error_code code = reply.error_code();
  if (code == errc::redis_loading || code == errc::redis_busy || code == errc::redis_tryagain ||
      code == errc::redis_masterdown) {
    return code;
  }
  return {};
}

PipelineConfig pipeline_config(const ClientConfig& config, const std::shared_ptr<Clock>& clock) {
  PipelineConfig pipeline;
  pipeline.name = config.name;
  pipeline.clock = clock;
  // The command timeout is enforced by the connection's watchdog (one timer per connection)
  // rather than by the pipeline (a timer race per command), which costs a coroutine and a timer
  // for every command.
  if (config.retry) {
    pipeline.retry = *config.retry;
    if (!pipeline.retry->retry_on) {
      // LOADING is waited out by the client itself, with its own, longer budget.
      pipeline.retry->retry_on = [](const std::error_code& ec) {
        return ec != errc::redis_loading && default_retry_predicate(ec);
      };
    }
  }
  pipeline.rate_limiter = config.rate_limiter;
  pipeline.bulkhead = config.bulkhead;
  if (config.circuit_breaker) {
    pipeline.circuit_breaker = *config.circuit_breaker;
    if (!pipeline.circuit_breaker->classify) {
      // LOADING is a healthy server warming up, and a full pool is this process's congestion:
      // neither is the server failing.
      pipeline.circuit_breaker->classify = [](const std::error_code& ec) {
        return ec == errc::redis_loading || ec == errc::pool_timeout
                   ? Verdict::ignored
                   : default_failure_classifier(ec);
      };
    }
  }
  return pipeline;
}

ClientConfig validated(ClientConfig config) {
  std::vector<ConfigIssue> issues;
  validate(config.connection, issues, "redis");
  validate(config.pool, issues, "redis.pool");
  if (config.cluster) {
    validate(*config.cluster, issues, "redis.cluster");
    // A cluster serves database 0 only, over TCP.
    if (config.connection.database != 0) {
      issues.push_back({"redis.database", fmt::format("must be 0 with a cluster, got {}",
                                                      config.connection.database)});
    }
    if (!config.connection.unix_path.empty()) {
      issues.push_back({"redis.unix_path", "a cluster is reached over TCP (cluster.nodes)"});
    }
  }
  if (config.command_timeout < Duration::zero()) {
    issues.push_back(
        {"redis.command_timeout",
         fmt::format("must be >= 0, got {}", format_duration(config.command_timeout))});
  }
  if (config.wait_for_loading < Duration::zero()) {
    issues.push_back(
        {"redis.wait_for_loading",
         fmt::format("must be >= 0, got {}", format_duration(config.wait_for_loading))});
  }
  if (config.failed_after == 0) issues.push_back({"redis.failed_after", "must be >= 1, got 0"});
  if (config.sentinel) {
    validate(*config.sentinel, issues, "redis.sentinel");
    if (!config.connection.unix_path.empty()) {
      issues.push_back({"redis.unix_path", "a unix socket cannot be combined with sentinel"});
    }
    if (config.cluster) {
      issues.push_back({"redis.sentinel",
                        "sentinel and cluster cannot be combined: a cluster fails over by itself"});
    }
  }
  if (!issues.empty()) throw ConfigError(std::move(issues));
  return config;
}

bool all_read_only(const std::vector<Command>& commands) {
  return std::all_of(commands.begin(), commands.end(),
                     [](const Command& command) { return is_read_only(command.name()); });
}

}  // namespace

bool is_read_only(std::string_view command_name) noexcept {
  return std::binary_search(read_only_commands.begin(), read_only_commands.end(), command_name);
}

Client::Client(asio::any_io_executor executor, ClientConfig config)
    : config_(validated(std::move(config))),
      executor_(std::move(executor)),
      clock_(config_.clock ? config_.clock : steady_clock()),
      pool_(executor_, config_.connection, config_.pool, clock_),
      cluster_(config_.cluster ? std::make_unique<detail::ClusterRouter>(
                                     executor_, config_.connection, config_.pool, *config_.cluster,
                                     clock_, config_.command_timeout, config_.name)
                               : nullptr),
      pipeline_(pipeline_config(config_, clock_)) {
  if (config_.sentinel) follow_sentinel();
  pool_.start_reaper();
}

Client::~Client() { close(); }

void Client::close() noexcept {
  closed_.store(true, std::memory_order_release);
  if (sentinel_) sentinel_->close();
  if (replica_pool_) replica_pool_->close();
  pool_.close();
  if (cluster_) cluster_->close();
}

asio::awaitable<Result<Value>> Client::attempt(const Command& command, CallContext& context) {
  Result<std::shared_ptr<Connection>> connection = co_await shared_connection(command.name());
  if (!connection) co_return connection.error();  // nothing was sent
  context.mark_sent();
  Result<Value> reply = co_await (*connection)->execute(command, config_.command_timeout);
  if (sentinel_) inspect_reply(reply, **connection);
  co_return reply;
}

asio::awaitable<Result<Value>> Client::execute(Command command) {
  if (closed_.load(std::memory_order_acquire)) co_return make_error_code(errc::shutting_down);
  // An open breaker answers before the command is looked at.
  if (const std::error_code rejected = pipeline_.reject_if_open()) {
    record(rejected, std::chrono::steady_clock::now());
    co_return rejected;
  }
  CallOptions<Value> options;
  options.operation = command.name();
  options.idempotency =
      is_read_only(command.name()) ? Idempotency::idempotent : Idempotency::non_idempotent;
  options.classify_result = classify_reply;
  const auto started = std::chrono::steady_clock::now();
  Slot slot;
  if (cluster_) slot = co_await cluster_->slot_of(command, command.name());

  // LOADING means the server did not run the command, so even a write may be sent again.
  const Clock::time_point give_up = clock_->now() + config_.wait_for_loading;
  Duration pause = 50ms;
  for (;;) {
    Result<Value> reply = co_await pipeline_.try_execute_async(
        [&](CallContext& context) {
          return cluster_ ? cluster_->execute(command, slot, &context) : attempt(command, context);
        },
        options);
    const bool loading = reply && reply->is_error() && reply->error_code() == errc::redis_loading;
    if (loading && clock_->now() + pause < give_up) {
      loading_waits_.fetch_add(1, std::memory_order_relaxed);
      if (co_await bulwark::detail::async_sleep(*clock_, pause))
        co_return make_error_code(errc::cancelled);
      pause = std::min<Duration>(pause * 2, 1s);
      continue;
    }
    record(reply ? classify_reply(*reply) : reply.error(), started);
    co_return reply;
  }
}

asio::awaitable<Value> Client::command(Command command) {
  const std::string operation(command.name());
  Result<Value> reply = co_await execute(std::move(command));
  if (!reply) throw_error(reply.error(), {config_.name, operation, 0});
  if (reply->is_error()) throw_reply_error(*reply, operation);
  co_return std::move(*reply);
}

asio::awaitable<Result<std::vector<Value>>> Client::attempt_batch(
    const std::vector<Command>& commands, CallContext& context) {
  Result<std::shared_ptr<Connection>> connection = co_await pool_.shared();
  if (!connection) co_return connection.error();
  context.mark_sent();
  co_return co_await (*connection)->execute_batch(commands, config_.command_timeout);
}

asio::awaitable<std::vector<Value>> Client::pipeline(std::vector<Command> commands) {
  if (closed_.load(std::memory_order_acquire))
    throw Error(errc::shutting_down, {config_.name, "pipeline", 0});
  CallOptions<std::vector<Value>> options;
  options.operation = "pipeline";
  options.idempotency =
      all_read_only(commands) ? Idempotency::idempotent : Idempotency::non_idempotent;
  const auto started = std::chrono::steady_clock::now();
  std::vector<Slot> slots(commands.size());
  if (cluster_) {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      slots[i] = co_await cluster_->slot_of(commands[i], "pipeline");
    }
  }
  std::vector<Value> replies;
  try {
    replies = co_await pipeline_.execute_async(
        [&](CallContext& context) {
          return cluster_ ? cluster_->execute_batch(commands, slots, context)
                          : attempt_batch(commands, context);
        },
        options);
  } catch (const std::system_error& error) {
    record(error.code(), started);
    throw;
  }
  record({}, started);
  co_return replies;
}

asio::awaitable<std::vector<Value>> Client::transaction(std::vector<Command> commands) {
  // On a cluster every command must go to the same slot.
  Slot slot;
  if (cluster_) slot = co_await cluster_->common_slot(commands, "MULTI");
  std::vector<Command> batch;
  batch.reserve(commands.size() + 2);
  batch.push_back(make_command("MULTI"));
  for (Command& command : commands) batch.push_back(std::move(command));
  batch.push_back(make_command("EXEC"));
  CallOptions<std::vector<Value>> options;
  options.operation = "MULTI";
  options.idempotency = Idempotency::non_idempotent;
  const auto started = std::chrono::steady_clock::now();
  std::vector<Value> replies;
  try {
    replies = co_await pipeline_.execute_async(
        [&](CallContext& context) {
          // On a cluster the transaction goes, whole, to the master of its slot.
          return cluster_ ? cluster_->execute_transaction(batch, slot, context)
                          : attempt_batch(batch, context);
        },
        options);
  } catch (const std::system_error& error) {
    record(error.code(), started);
    throw;
  }
  // The server answered: whatever EXEC says, the call reached a healthy server.
  record({}, started);
  const Value& exec = replies.back();
  if (exec.is_error()) {
    // EXECABORT: a command was refused while queueing; report the first refusal.
    for (const Value& reply : replies) {
      if (reply.is_error() && &reply != &exec) throw_reply_error(reply, "EXEC");
    }
    throw_reply_error(exec, "EXEC");
  }
  co_return std::vector<Value>(exec.elements().begin(), exec.elements().end());
}

asio::awaitable<std::optional<std::vector<Value>>> Client::watch(
    std::vector<std::string> keys,
    std::function<asio::awaitable<std::vector<Command>>(Connection&)> build) {
  if (closed_.load(std::memory_order_acquire))
    throw Error(errc::shutting_down, {config_.name, "WATCH", 0});
  const auto started = std::chrono::steady_clock::now();
  Pool* pool = co_await pool_for_keys(keys, "WATCH");
  Result<Lease> lease = co_await pool->exclusive();
  if (!lease) throw_error(lease.error(), {config_.name, "WATCH", 0});
  Connection& connection = lease->connection();
  // The connection is WATCHing or inside MULTI until EXEC/UNWATCH; if anything goes wrong it must
  // not go back to the pool in that state.
  bool clean = false;
  struct Release {
    Lease& lease;
    bool& clean;
    ~Release() { lease.release(clean); }
  } release{*lease, clean};

  Command watch_command("WATCH");
  watch_command.arg(keys);
  Result<Value> watched = co_await connection.execute(std::move(watch_command));
  if (!watched) throw_error(watched.error(), {config_.name, "WATCH", 1});
  if (watched->is_error()) throw_reply_error(*watched, "WATCH");

  std::vector<Command> commands = co_await build(connection);
  std::vector<Command> batch;
  batch.reserve(commands.size() + 2);
  batch.push_back(make_command("MULTI"));
  for (Command& command : commands) batch.push_back(std::move(command));
  batch.push_back(make_command("EXEC"));
  Result<std::vector<Value>> replies = co_await connection.execute_batch(std::move(batch));
  if (!replies) throw_error(replies.error(), {config_.name, "EXEC", 1});
  const Value& exec = replies->back();
  if (exec.is_error()) throw_reply_error(exec, "EXEC");
  clean = true;  // EXEC ended the WATCH and the transaction either way
  record({}, started);
  if (exec.is_null()) co_return std::nullopt;  // a watched key changed
  co_return std::vector<Value>(exec.elements().begin(), exec.elements().end());
}

asio::awaitable<Pool*> Client::pool_for_keys(std::span<const std::string> keys,
                                             std::string_view operation) {
  if (!cluster_) co_return &pool_;
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  const Slot slot = cluster_->slot_of_keys(views, operation);
  Result<Pool*> pool = co_await cluster_->pool_for(slot);
  if (!pool) throw_error(pool.error(), {config_.name, std::string(operation), 0});
  co_return *pool;
}

asio::awaitable<std::vector<Pool*>> Client::master_pools(std::string_view operation) {
  Result<std::vector<Pool*>> pools = co_await cluster_->master_pools();
  if (!pools) throw_error(pools.error(), {config_.name, std::string(operation), 0});
  co_return std::move(*pools);
}

asio::awaitable<Value> Client::on_pool(Pool& pool, Command command, std::string_view operation) {
  if (closed_.load(std::memory_order_acquire)) {
    throw Error(errc::shutting_down, {config_.name, std::string(operation), 0});
  }
  const auto started = std::chrono::steady_clock::now();
  Result<std::shared_ptr<Connection>> connection = co_await pool.shared();
  Result<Value> reply = make_error_code(errc::cancelled);
  if (connection) {
    reply = co_await (*connection)->execute(std::move(command), config_.command_timeout);
  } else {
    reply = connection.error();
  }
  record(reply ? std::error_code() : reply.error(), started);
  if (!reply) throw_error(reply.error(), {config_.name, std::string(operation), 1});
  if (reply->is_error()) throw_reply_error(*reply, operation);
  co_return std::move(*reply);
}

void Client::record(const std::error_code& error,
                    std::chrono::steady_clock::time_point started) noexcept {
  commands_.fetch_add(1, std::memory_order_relaxed);
  if (config_.on_call) {
    config_.on_call({config_.name, error, std::chrono::steady_clock::now() - started});
  }
  if (error) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    consecutive_failures_.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (consecutive_failures_.load(std::memory_order_relaxed) != 0) {
      consecutive_failures_.store(0, std::memory_order_relaxed);
    }
  }
}

void Client::throw_reply_error(const Value& reply, std::string_view operation) const {
  throw Error(reply.error_code(), {config_.name, std::string(operation), 0}, reply.error_message());
}

HealthState Client::health() const noexcept {
  const std::uint32_t failures = consecutive_failures_.load(std::memory_order_relaxed);
  if (CircuitBreaker* breaker = pipeline_.circuit_breaker()) {
    const HealthState breaker_health = to_health(breaker->state());
    if (breaker_health != HealthState::healthy) return breaker_health;
  }
  if (failures >= config_.failed_after) return HealthState::failed;
  // A cluster whose slot map cannot be fetched cannot route a single command.
  if (cluster_ && cluster_->map_failed()) return HealthState::failed;
  if (failures > 0) return HealthState::degraded;
  return HealthState::healthy;
}

ClientStats Client::stats() const noexcept {
  ClientStats stats{commands_.load(std::memory_order_relaxed),
                    errors_.load(std::memory_order_relaxed),
                    loading_waits_.load(std::memory_order_relaxed),
                    consecutive_failures_.load(std::memory_order_relaxed),
                    cluster_ ? cluster_->stats() : pool_.stats()};
  if (sentinel_) stats.sentinel = sentinel_->stats();
  return stats;
}

}  // namespace bulwark::redis
