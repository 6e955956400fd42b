#pragma once
/// @file
/// `redis::Client`: one logical database of a Redis server, behind its own resilience pipeline.
///
/// Every command goes through the pipeline (retry → circuit breaker → timeout) to a pooled,
/// automatically pipelined connection. Retries happen only where they are safe: when no
/// connection could be had (nothing was sent), and for read-only commands whose connection was
/// lost. A write that may have reached the server is never sent twice. A server that is loading
/// its dataset (`LOADING`) is waited out, polling with backoff for up to `wait_for_loading`;
/// such replies do not count against the circuit breaker.
///
/// With `ClientConfig::cluster` set, the client talks to a Redis Cluster: each command goes to
/// the master that serves its keys' slot, over that node's own pool, and MOVED, ASK, TRYAGAIN
/// and CLUSTERDOWN are handled inside one attempt (see bulwark/redis/cluster.hpp). A command
/// whose keys span slots is refused before anything is sent: `command()`, `execute()`,
/// `pipeline()`, `transaction()`, `watch()`, `blpop()` and `eval()` throw
/// `Error(invalid_argument)` naming each key's slot.
///
/// Error replies: `command()` throws `bulwark::Error` for them (`redis_error`, or the specific
/// code of LOADING/BUSY/TRYAGAIN/MASTERDOWN) with the server's message; `execute()` returns
/// them as values and fails only for transport, pool and resilience errors.
///
/// Thread-safety: every member may be called concurrently from any thread or coroutine.
/// Lifetime: the client must outlive its calls; `close()` stops new calls and closes the pool.

#include "bulwark/core/call_observer.hpp"
#include "bulwark/core/health.hpp"
#include "bulwark/redis/cluster.hpp"
#include "bulwark/redis/pool.hpp"
#include "bulwark/redis/script.hpp"
#include "bulwark/redis/sentinel.hpp"
#include "bulwark/resilience/pipeline.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::redis {

namespace detail {
class SentinelFollower;
}

struct ClientConfig {
  /// Names the client in errors, events and metrics (e.g. "redis.sessions").
  std::string name = "redis";
  ConnectionConfig connection{};
  /// Find the server through Redis Sentinel and follow its failovers (see sentinel.hpp); absent
  /// = `connection`'s address. With it, `connection` still gives credentials, TLS, database and
  /// limits of the data connections, but not their address.
  std::optional<SentinelConfig> sentinel{};
  PoolConfig pool{};
  /// Limit of each attempt of a command; 0 = none. A command that times out poisons its
  /// connection (see `Connection`).
  Duration command_timeout = std::chrono::seconds(5);
  /// How long commands keep waiting while the server loads its dataset; 0 = fail at once with
  /// `redis_loading`.
  Duration wait_for_loading = std::chrono::seconds(30);
  /// Retries (only where safe, see above); absent = no retry. `retry_on` defaults to transient
  /// failures other than LOADING, which `wait_for_loading` handles.
  std::optional<RetryConfig> retry = RetryConfig{};
  /// The database's circuit breaker; absent = none. `classify` defaults to ignoring LOADING.
  std::optional<CircuitBreakerConfig> circuit_breaker = CircuitBreakerConfig{};
  /// Bounds on command rate and concurrency; absent = none.
  std::optional<RateLimiterConfig> rate_limiter{};
  std::optional<BulkheadConfig> bulkhead{};
  /// Consecutive failed commands after which health reports `failed` even while the breaker is
  /// still closed; >= 1.
  std::uint32_t failed_after = 3;
  /// Set to talk to a Redis Cluster (see bulwark/redis/cluster.hpp): `connection` then gives the
  /// settings every node shares (credentials, TLS, timeouts; its host and port are not used, its
  /// `database` must be 0), and `pool` the limits of each node's pool. Absent = one server.
  std::optional<ClusterConfig> cluster{};
  /// Time source for the pipeline, the pool and loading waits; null = `steady_clock()`.
  std::shared_ptr<Clock> clock{};
  /// Told of every completed command, pipeline and transaction (metrics); empty = nothing is
  /// measured.
  CallObserver on_call{};
};

struct ClientStats {
  std::uint64_t commands = 0;  ///< Commands run to an outcome, failures included.
  std::uint64_t errors = 0;    ///< Of those, the ones that failed (transport, pool, resilience,
                               ///< or a LOADING/BUSY/TRYAGAIN/MASTERDOWN reply).
  std::uint64_t loading_waits = 0;  ///< Times a command waited for the server to finish loading.
  std::uint32_t consecutive_failures = 0;
  /// On a cluster, every node's pool added up.
  PoolStats pool{};
  /// With `ClientConfig::sentinel`: the master followed and the failovers seen.
  std::optional<SentinelStats> sentinel{};
};

// ---------------------------------------------------------------------------------------------
// Options and results of the typed commands (see "Typed commands" in `Client`).
// ---------------------------------------------------------------------------------------------

/// When `SET` writes.
enum class SetCondition : std::uint8_t {
  always,      ///< Unconditionally.
  if_absent,   ///< Only when the key does not exist (`NX`).
  if_present,  ///< Only when the key exists (`XX`).
};

struct SetOptions {
  /// Expiry of the key; 0 = none (any existing expiry is cleared, unless `keep_ttl`). Sent as
  /// `PX`, rounded up to whole milliseconds. Must not be negative.
  Duration ttl = Duration::zero();
  SetCondition condition = SetCondition::always;
  /// Keep the key's current expiry (`KEEPTTL`); must not be combined with a `ttl`.
  bool keep_ttl = false;
};

/// The answer of `Client::ttl`: whether the key exists, whether it expires, and when.
struct Ttl {
  enum class State : std::uint8_t {
    no_key,     ///< The key does not exist (PTTL -2).
    no_expiry,  ///< The key exists and never expires (PTTL -1).
    expires,    ///< The key expires after `remaining`.
  };
  State state = State::no_key;
  /// Time left, to the millisecond; 0 unless `state == expires`.
  Duration remaining = Duration::zero();

  [[nodiscard]] bool exists() const noexcept { return state != State::no_key; }
  [[nodiscard]] bool expires() const noexcept { return state == State::expires; }
  friend bool operator==(const Ttl&, const Ttl&) = default;
};

struct ScanOptions {
  /// Glob pattern keys must match (`MATCH`); empty = every key.
  std::string match{};
  /// Hint of how many keys the server examines per call (`COUNT`); 0 = the server's default (10).
  std::size_t count = 0;
  /// Only keys of this type (`TYPE`: "string", "hash", "list", ...); empty = any type.
  std::string type{};
};

/// One page of `SCAN`: the cursor to continue from (0 = the iteration is complete) and the keys
/// of this page (possibly none, even when the iteration is not complete).
struct ScanPage {
  std::uint64_t cursor = 0;
  std::vector<std::string> keys{};
};

/// True for commands that never change data (GET, HGETALL, SCAN, PING, ...): safe to resend.
[[nodiscard]] bool is_read_only(std::string_view command_name) noexcept;

namespace detail {
class ClusterRouter;
}

class Client {
 public:
  /// Validates the whole config (throws `ConfigError` listing every problem); connects lazily.
  Client(boost::asio::any_io_executor executor, ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Runs `command`; the reply, or throws `bulwark::Error` (error replies included, with the
  /// server's message).
  boost::asio::awaitable<Value> command(Command command);
  template <class... Args>
  boost::asio::awaitable<Value> command(std::string_view name, const Args&... args) {
    return command(make_command(name, args...));
  }

  /// Runs `command`; error replies come back as values. Fails only with transport, pool and
  /// resilience errors (`connection_lost`, `pool_timeout`, `circuit_open`, `timeout`, ...).
  boost::asio::awaitable<Result<Value>> execute(Command command);

  /// Sends `commands` back to back on one connection and returns every reply in order (error
  /// replies as values). Retried as a whole only when every command in it is read-only.
  boost::asio::awaitable<std::vector<Value>> pipeline(std::vector<Command> commands);

  /// `MULTI`, `commands`, `EXEC` on one connection. Returns EXEC's replies; throws when a command
  /// was rejected while queueing (EXECABORT). Never retried once sent.
  boost::asio::awaitable<std::vector<Value>> transaction(std::vector<Command> commands);

  /// Optimistic transaction: `WATCH keys` on a connection of its own, then `build` (which may
  /// read through the given connection and returns the commands to run), then MULTI/EXEC.
  /// Returns the replies, or nothing when a watched key changed meanwhile (the caller decides
  /// whether to try again).
  boost::asio::awaitable<std::optional<std::vector<Value>>> watch(
      std::vector<std::string> keys,
      std::function<boost::asio::awaitable<std::vector<Command>>(Connection&)> build);

  /// healthy, degraded (half-open breaker, or recent failures) or failed (open breaker, or
  /// `failed_after` consecutive failures).
  [[nodiscard]] HealthState health() const noexcept;
  [[nodiscard]] ClientStats stats() const noexcept;
  [[nodiscard]] const std::string& name() const noexcept { return config_.name; }
  [[nodiscard]] const ClientConfig& config() const noexcept { return config_; }
  /// The pool of a single server. On a cluster each node has its own pool (see `stats().pool`)
  /// and this one is never used.
  [[nodiscard]] Pool& pool() noexcept { return pool_; }
  /// True when the client talks to a Redis Cluster (`config().cluster`).
  [[nodiscard]] bool is_cluster() const noexcept { return cluster_ != nullptr; }
  /// The resilience pipeline (breaker, retry) for stats, events and manual control.
  [[nodiscard]] bulwark::Pipeline& resilience() noexcept { return pipeline_; }
  [[nodiscard]] boost::asio::any_io_executor executor() const noexcept { return executor_; }

  /// Stops new commands (`shutting_down`) and closes every connection.
  void close() noexcept;

  // -------------------------------------------------------------------------------------------
  // Typed commands (src/redis/client_commands.cpp).
  //
  // Each builds one command, runs it through `command()` — so through the same retry, breaker,
  // timeout and loading wait — and converts the reply. They throw what `command()` throws
  // (`bulwark::Error` with `redis_error` and the server's message for error replies such as
  // WRONGTYPE), plus `errc::protocol_error` when a reply has a type the command never answers
  // with, and `errc::invalid_argument`, before anything is sent, for arguments that cannot be
  // right (a negative duration, an empty list where the command needs one).
  //
  // Arguments are views: they must stay valid until the returned awaitable completes, which
  // they do when it is `co_await`ed in the same expression (`co_await client.get(key)`).
  //
  // Nil replies become `std::nullopt`. Durations are sent as milliseconds, rounded up so that a
  // small positive duration never becomes 0 (which Redis reads as "expire now"). Replies are
  // accepted in both their RESP3 and RESP2 shapes (maps or flat arrays, doubles or their text).
  //
  // Functions taking a span: an empty span sends nothing and returns the empty answer (0, no
  // values) where that answer is known without asking the server; `lpush`, `rpush` and `blpop`,
  // whose answers are not, throw `invalid_argument`.
  // -------------------------------------------------------------------------------------------

  // Strings and counters.

  boost::asio::awaitable<std::optional<std::string>> get(std::string_view key);
  /// True when written; false when `options.condition` prevented it.
  boost::asio::awaitable<bool> set(std::string_view key, std::string_view value,
                                   SetOptions options = {});
  /// GET and DEL in one step (Redis >= 6.2).
  boost::asio::awaitable<std::optional<std::string>> getdel(std::string_view key);
  /// One entry per key, in order; nullopt for missing keys and keys that hold no string.
  boost::asio::awaitable<std::vector<std::optional<std::string>>> mget(
      std::span<const std::string> keys);
  boost::asio::awaitable<void> mset(std::span<const std::pair<std::string, std::string>> entries);
  /// INCRBY; the new value. A value that is not an integer is an error reply
  /// ("ERR value is not an integer or out of range").
  boost::asio::awaitable<std::int64_t> incr(std::string_view key, std::int64_t by = 1);
  /// DECRBY; the new value.
  boost::asio::awaitable<std::int64_t> decr(std::string_view key, std::int64_t by = 1);
  /// INCRBYFLOAT; the new value.
  boost::asio::awaitable<double> incrbyfloat(std::string_view key, double by);
  /// The new length of the string.
  boost::asio::awaitable<std::int64_t> append(std::string_view key, std::string_view value);
  /// 0 for a missing key.
  boost::asio::awaitable<std::int64_t> strlen(std::string_view key);

  // Keys and expiry.

  /// Keys removed (0 or 1).
  boost::asio::awaitable<std::int64_t> del(std::string_view key);
  boost::asio::awaitable<std::int64_t> del(std::span<const std::string> keys);
  /// Like `del`, but the memory is reclaimed in the background.
  boost::asio::awaitable<std::int64_t> unlink(std::string_view key);
  boost::asio::awaitable<std::int64_t> unlink(std::span<const std::string> keys);
  boost::asio::awaitable<bool> exists(std::string_view key);
  /// PEXPIRE; false when the key does not exist. `ttl` must be > 0.
  boost::asio::awaitable<bool> expire(std::string_view key, Duration ttl);
  /// Removes the expiry; false when the key does not exist or had none.
  boost::asio::awaitable<bool> persist(std::string_view key);
  /// PTTL, as a `Ttl` that tells a missing key from a key without expiry.
  boost::asio::awaitable<Ttl> ttl(std::string_view key);
  /// "string", "list", "set", "zset", "hash", "stream", or "none" for a missing key.
  boost::asio::awaitable<std::string> type(std::string_view key);
  /// Renames `key` (overwriting `new_key`); a missing `key` is an error reply ("ERR no such key").
  boost::asio::awaitable<void> rename(std::string_view key, std::string_view new_key);

  // Hashes.

  /// True when `field` was created, false when it was updated.
  boost::asio::awaitable<bool> hset(std::string_view key, std::string_view field,
                                    std::string_view value);
  /// Fields created (not updated).
  boost::asio::awaitable<std::int64_t> hset(
      std::string_view key, std::span<const std::pair<std::string, std::string>> fields);
  boost::asio::awaitable<std::optional<std::string>> hget(std::string_view key,
                                                          std::string_view field);
  boost::asio::awaitable<std::vector<std::optional<std::string>>> hmget(
      std::string_view key, std::span<const std::string> fields);
  /// Field/value pairs in the server's order; empty for a missing key.
  boost::asio::awaitable<std::vector<std::pair<std::string, std::string>>> hgetall(
      std::string_view key);
  /// True when the field existed.
  boost::asio::awaitable<bool> hdel(std::string_view key, std::string_view field);
  /// Fields removed.
  boost::asio::awaitable<std::int64_t> hdel(std::string_view key,
                                            std::span<const std::string> fields);
  boost::asio::awaitable<bool> hexists(std::string_view key, std::string_view field);
  /// HINCRBY; the new value.
  boost::asio::awaitable<std::int64_t> hincrby(std::string_view key, std::string_view field,
                                               std::int64_t by);
  boost::asio::awaitable<std::int64_t> hlen(std::string_view key);
  boost::asio::awaitable<std::vector<std::string>> hkeys(std::string_view key);
  boost::asio::awaitable<std::vector<std::string>> hvals(std::string_view key);

  // Lists.

  /// The list's length afterwards.
  boost::asio::awaitable<std::int64_t> lpush(std::string_view key, std::string_view value);
  boost::asio::awaitable<std::int64_t> lpush(std::string_view key,
                                             std::span<const std::string> values);
  boost::asio::awaitable<std::int64_t> rpush(std::string_view key, std::string_view value);
  boost::asio::awaitable<std::int64_t> rpush(std::string_view key,
                                             std::span<const std::string> values);
  /// nullopt when the list is empty or missing.
  boost::asio::awaitable<std::optional<std::string>> lpop(std::string_view key);
  boost::asio::awaitable<std::optional<std::string>> rpop(std::string_view key);
  /// Elements `start` to `stop`, both inclusive; negative indexes count from the end (-1 last).
  boost::asio::awaitable<std::vector<std::string>> lrange(std::string_view key, std::int64_t start,
                                                          std::int64_t stop);
  boost::asio::awaitable<std::int64_t> llen(std::string_view key);
  /// Removes up to |count| elements equal to `value` (from the head when count > 0, the tail
  /// when < 0, all when 0); how many were removed.
  boost::asio::awaitable<std::int64_t> lrem(std::string_view key, std::int64_t count,
                                            std::string_view value);
  /// Keeps only elements `start` to `stop` (inclusive).
  boost::asio::awaitable<void> ltrim(std::string_view key, std::int64_t start, std::int64_t stop);
  /// BLPOP: pops from the first of `keys` that is not empty, waiting up to `timeout` (0 = without
  /// limit, >= 0, sent in seconds with millisecond precision) for one to be pushed to. Returns
  /// the key and the element, or nullopt when the time ran out.
  ///
  /// Runs on an exclusive connection (`pool().exclusive()`), so that other commands are not
  /// queued behind the wait, and bypasses the resilience pipeline: it is never retried (it pops)
  /// and `command_timeout` is added to `timeout` instead of bounding it. Cancelling or timing
  /// out closes the connection, so an element popped too late is never handed to anybody.
  boost::asio::awaitable<std::optional<std::pair<std::string, std::string>>> blpop(
      std::span<const std::string> keys, Duration timeout);
  boost::asio::awaitable<std::optional<std::pair<std::string, std::string>>> blpop(
      std::string_view key, Duration timeout);

  // Sets.

  /// True when `member` was added (it was not there).
  boost::asio::awaitable<bool> sadd(std::string_view key, std::string_view member);
  /// Members added.
  boost::asio::awaitable<std::int64_t> sadd(std::string_view key,
                                            std::span<const std::string> members);
  /// True when `member` was removed.
  boost::asio::awaitable<bool> srem(std::string_view key, std::string_view member);
  boost::asio::awaitable<std::int64_t> srem(std::string_view key,
                                            std::span<const std::string> members);
  /// Every member, in no particular order.
  boost::asio::awaitable<std::vector<std::string>> smembers(std::string_view key);
  boost::asio::awaitable<bool> sismember(std::string_view key, std::string_view member);
  boost::asio::awaitable<std::int64_t> scard(std::string_view key);

  // Sorted sets.

  /// True when `member` was added, false when its score was updated.
  boost::asio::awaitable<bool> zadd(std::string_view key, double score, std::string_view member);
  /// Members added (not updated).
  boost::asio::awaitable<std::int64_t> zadd(
      std::string_view key, std::span<const std::pair<double, std::string>> members);
  boost::asio::awaitable<bool> zrem(std::string_view key, std::string_view member);
  boost::asio::awaitable<std::int64_t> zrem(std::string_view key,
                                            std::span<const std::string> members);
  /// nullopt when the member (or the key) does not exist.
  boost::asio::awaitable<std::optional<double>> zscore(std::string_view key,
                                                       std::string_view member);
  /// ZINCRBY; the new score.
  boost::asio::awaitable<double> zincrby(std::string_view key, double by, std::string_view member);
  boost::asio::awaitable<std::int64_t> zcard(std::string_view key);
  /// Members by rank, `start` to `stop` inclusive (negative from the end), lowest score first.
  boost::asio::awaitable<std::vector<std::string>> zrange(std::string_view key, std::int64_t start,
                                                          std::int64_t stop);
  /// Like `zrange`, with each member's score.
  boost::asio::awaitable<std::vector<std::pair<std::string, double>>> zrange_with_scores(
      std::string_view key, std::int64_t start, std::int64_t stop);
  /// Members whose score is in [min, max] (infinities allowed), lowest first.
  boost::asio::awaitable<std::vector<std::string>> zrangebyscore(std::string_view key, double min,
                                                                 double max);

  // Iteration.

  /// One SCAN step from `cursor` (0 starts an iteration).
  boost::asio::awaitable<ScanPage> scan(std::uint64_t cursor, ScanOptions options = {});
  /// Every key matching `options`, scanning until the cursor comes back to 0. Each key appears
  /// once (SCAN itself may return a key twice); keys added or removed meanwhile may or may not
  /// be included. Holds every key in memory: on a large keyspace, page with `scan` instead.
  boost::asio::awaitable<std::vector<std::string>> scan_all(ScanOptions options = {});

  // Scripts (src/redis/client_commands.cpp).

  /// Runs `script` with `EVALSHA`. When the server does not know the script (NOSCRIPT: never
  /// loaded, or flushed since), sends it once with `EVAL`, which also caches it for the next
  /// call. The script's reply as a value; an error raised by the script, or any other error
  /// reply, throws `Error(redis_error)` with the server's message. Not retried after a lost
  /// connection (a script may write).
  boost::asio::awaitable<Value> eval(const Script& script, std::span<const std::string> keys = {},
                                     std::span<const std::string> args = {});
  /// SCRIPT LOAD: caches `script` on the server ahead of its first `eval`.
  boost::asio::awaitable<void> load(const Script& script);

 private:
  boost::asio::awaitable<Result<Value>> attempt(const Command& command, CallContext& context);
  boost::asio::awaitable<Result<std::vector<Value>>> attempt_batch(
      const std::vector<Command>& commands, CallContext& context);
  // Sentinel (src/redis/client_sentinel.cpp): the pool a command goes to, and what a reply says
  // about the master.
  void follow_sentinel();
  boost::asio::awaitable<Result<std::shared_ptr<Connection>>> shared_connection(
      std::string_view command_name);
  void inspect_reply(const Result<Value>& reply, const Connection& connection);
  void record(const std::error_code& error, std::chrono::steady_clock::time_point started) noexcept;
  [[noreturn]] void throw_reply_error(const Value& reply, std::string_view operation) const;

  // Redis Cluster (src/redis/client.cpp, detail/cluster_router.hpp).
  using Slot = std::optional<std::uint16_t>;
  // The pool to lease a connection for `keys` from: the server's, or on a cluster the pool of
  // the master of their slot (throws `invalid_argument` when they span slots).
  boost::asio::awaitable<Pool*> pool_for_keys(std::span<const std::string> keys,
                                              std::string_view operation);
  // Cluster only: every master's pool, and one command on a given pool (no redirections, no
  // pipeline), for what runs on every master (SCAN of the whole keyspace, SCRIPT LOAD).
  boost::asio::awaitable<std::vector<Pool*>> master_pools(std::string_view operation);
  boost::asio::awaitable<Value> on_pool(Pool& pool, Command command, std::string_view operation);

  ClientConfig config_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<Clock> clock_;
  Pool pool_;
  std::unique_ptr<detail::ClusterRouter> cluster_;
  bulwark::Pipeline pipeline_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> loading_waits_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::unique_ptr<Pool> replica_pool_;                  // Sentinel with replicas for reads
  std::shared_ptr<detail::SentinelFollower> sentinel_;  // with ClientConfig::sentinel
};

}  // namespace bulwark::redis
