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
/// Error replies: `command()` throws `bulwark::Error` for them (`redis_error`, or the specific
/// code of LOADING/BUSY/TRYAGAIN/MASTERDOWN) with the server's message; `execute()` returns
/// them as values and fails only for transport, pool and resilience errors.
///
/// Thread-safety: every member may be called concurrently from any thread or coroutine.
/// Lifetime: the client must outlive its calls; `close()` stops new calls and closes the pool.

#include "bulwark/core/health.hpp"
#include "bulwark/redis/pool.hpp"
#include "bulwark/resilience/pipeline.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::redis {

struct ClientConfig {
  /// Names the client in errors, events and metrics (e.g. "redis.sessions").
  std::string name = "redis";
  ConnectionConfig connection{};
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
  /// Consecutive failed commands after which health reports `failed` even while the breaker is
  /// still closed; >= 1.
  std::uint32_t failed_after = 3;
  /// Time source for the pipeline, the pool and loading waits; null = `steady_clock()`.
  std::shared_ptr<Clock> clock{};
};

struct ClientStats {
  std::uint64_t commands = 0;  ///< Commands run to an outcome, failures included.
  std::uint64_t errors = 0;    ///< Of those, the ones that failed (transport, pool, resilience,
                               ///< or a LOADING/BUSY/TRYAGAIN/MASTERDOWN reply).
  std::uint64_t loading_waits = 0;  ///< Times a command waited for the server to finish loading.
  std::uint32_t consecutive_failures = 0;
  PoolStats pool{};
};

/// True for commands that never change data (GET, HGETALL, SCAN, PING, ...): safe to resend.
[[nodiscard]] bool is_read_only(std::string_view command_name) noexcept;

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
  [[nodiscard]] Pool& pool() noexcept { return pool_; }
  /// The resilience pipeline (breaker, retry) for stats, events and manual control.
  [[nodiscard]] bulwark::Pipeline& resilience() noexcept { return pipeline_; }
  [[nodiscard]] boost::asio::any_io_executor executor() const noexcept { return executor_; }

  /// Stops new commands (`shutting_down`) and closes every connection.
  void close() noexcept;

 private:
  boost::asio::awaitable<Result<Value>> attempt(const Command& command, CallContext& context);
  boost::asio::awaitable<Result<std::vector<Value>>> attempt_batch(
      const std::vector<Command>& commands, CallContext& context);
  void record(bool failed) noexcept;
  [[noreturn]] void throw_reply_error(const Value& reply, std::string_view operation) const;

  ClientConfig config_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<Clock> clock_;
  Pool pool_;
  bulwark::Pipeline pipeline_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> commands_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> loading_waits_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
};

}  // namespace bulwark::redis
