#pragma once
/// @file
/// `redis::SyncClient`: the blocking face of `redis::Client`, for code that is not written as
/// coroutines.
///
/// It owns a `Client` whose executor is the runtime's; every operation runs the client's
/// coroutine on the runtime with `Runtime::block_on` and waits for it. Semantics, arguments and
/// errors are exactly those of the `Client` member of the same name (see client.hpp): results
/// are returned, and the `bulwark::Error` the coroutine throws comes out of the blocking call.
///
/// Thread-safety: every member may be called from any number of threads at once — concurrent
/// callers share the pooled connections, so their commands are pipelined — except from one of
/// the runtime's own threads: waiting there would block the thread that has to do the work, so
/// those calls throw `Error(errc::invalid_argument)` instead of deadlocking. Code already on the
/// runtime uses `async()` and `co_await`.
///
/// Lifetime: the runtime must outlive the `SyncClient`. Destroying it closes the client's
/// connections; no call may still be running then. Views passed in (keys, values) need only
/// live for the duration of the call.

#include "bulwark/core/runtime.hpp"
#include "bulwark/redis/client.hpp"

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

class SyncClient {
 public:
  /// Validates `config` (throws `ConfigError`); connects lazily, on the first command.
  SyncClient(Runtime& runtime, ClientConfig config);
  /// Blocking calls over an existing client (e.g. one a `ClientManager` owns), which may run on
  /// another executor; the runtime only hosts the waiting.
  SyncClient(Runtime& runtime, std::shared_ptr<Client> client);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  /// The asynchronous client underneath, for coroutines running on the runtime.
  [[nodiscard]] Client& async() noexcept { return *client_; }
  [[nodiscard]] Runtime& runtime() noexcept { return runtime_; }

  // Generic commands.

  Value command(Command command);
  template <class... Args>
  Value command(std::string_view name, const Args&... args) {
    return command(make_command(name, args...));
  }
  Result<Value> execute(Command command);
  std::vector<Value> pipeline(std::vector<Command> commands);
  std::vector<Value> transaction(std::vector<Command> commands);
  /// `build` runs on the runtime, as a coroutine (see `Client::watch`).
  std::optional<std::vector<Value>> watch(
      std::vector<std::string> keys,
      std::function<boost::asio::awaitable<std::vector<Command>>(Connection&)> build);

  // Strings and counters.

  std::optional<std::string> get(std::string_view key);
  bool set(std::string_view key, std::string_view value, SetOptions options = {});
  std::optional<std::string> getdel(std::string_view key);
  std::vector<std::optional<std::string>> mget(std::span<const std::string> keys);
  void mset(std::span<const std::pair<std::string, std::string>> entries);
  std::int64_t incr(std::string_view key, std::int64_t by = 1);
  std::int64_t decr(std::string_view key, std::int64_t by = 1);
  double incrbyfloat(std::string_view key, double by);
  std::int64_t append(std::string_view key, std::string_view value);
  std::int64_t strlen(std::string_view key);

  // Keys and expiry.

  std::int64_t del(std::string_view key);
  std::int64_t del(std::span<const std::string> keys);
  std::int64_t unlink(std::string_view key);
  std::int64_t unlink(std::span<const std::string> keys);
  bool exists(std::string_view key);
  bool expire(std::string_view key, Duration ttl);
  bool persist(std::string_view key);
  Ttl ttl(std::string_view key);
  std::string type(std::string_view key);
  void rename(std::string_view key, std::string_view new_key);

  // Hashes.

  bool hset(std::string_view key, std::string_view field, std::string_view value);
  std::int64_t hset(std::string_view key,
                    std::span<const std::pair<std::string, std::string>> fields);
  std::optional<std::string> hget(std::string_view key, std::string_view field);
  std::vector<std::optional<std::string>> hmget(std::string_view key,
                                                std::span<const std::string> fields);
  std::vector<std::pair<std::string, std::string>> hgetall(std::string_view key);
  bool hdel(std::string_view key, std::string_view field);
  std::int64_t hdel(std::string_view key, std::span<const std::string> fields);
  bool hexists(std::string_view key, std::string_view field);
  std::int64_t hincrby(std::string_view key, std::string_view field, std::int64_t by);
  std::int64_t hlen(std::string_view key);
  std::vector<std::string> hkeys(std::string_view key);
  std::vector<std::string> hvals(std::string_view key);

  // Lists.

  std::int64_t lpush(std::string_view key, std::string_view value);
  std::int64_t lpush(std::string_view key, std::span<const std::string> values);
  std::int64_t rpush(std::string_view key, std::string_view value);
  std::int64_t rpush(std::string_view key, std::span<const std::string> values);
  std::optional<std::string> lpop(std::string_view key);
  std::optional<std::string> rpop(std::string_view key);
  std::vector<std::string> lrange(std::string_view key, std::int64_t start, std::int64_t stop);
  std::int64_t llen(std::string_view key);
  std::int64_t lrem(std::string_view key, std::int64_t count, std::string_view value);
  void ltrim(std::string_view key, std::int64_t start, std::int64_t stop);
  /// Blocks the calling thread (not the runtime) for up to `timeout`; 0 = without limit.
  std::optional<std::pair<std::string, std::string>> blpop(std::span<const std::string> keys,
                                                           Duration timeout);
  std::optional<std::pair<std::string, std::string>> blpop(std::string_view key, Duration timeout);

  // Sets.

  bool sadd(std::string_view key, std::string_view member);
  std::int64_t sadd(std::string_view key, std::span<const std::string> members);
  bool srem(std::string_view key, std::string_view member);
  std::int64_t srem(std::string_view key, std::span<const std::string> members);
  std::vector<std::string> smembers(std::string_view key);
  bool sismember(std::string_view key, std::string_view member);
  std::int64_t scard(std::string_view key);

  // Sorted sets.

  bool zadd(std::string_view key, double score, std::string_view member);
  std::int64_t zadd(std::string_view key, std::span<const std::pair<double, std::string>> members);
  bool zrem(std::string_view key, std::string_view member);
  std::int64_t zrem(std::string_view key, std::span<const std::string> members);
  std::optional<double> zscore(std::string_view key, std::string_view member);
  double zincrby(std::string_view key, double by, std::string_view member);
  std::int64_t zcard(std::string_view key);
  std::vector<std::string> zrange(std::string_view key, std::int64_t start, std::int64_t stop);
  std::vector<std::pair<std::string, double>> zrange_with_scores(std::string_view key,
                                                                 std::int64_t start,
                                                                 std::int64_t stop);
  std::vector<std::string> zrangebyscore(std::string_view key, double min, double max);

  // Iteration.

  ScanPage scan(std::uint64_t cursor, ScanOptions options = {});
  std::vector<std::string> scan_all(ScanOptions options = {});

  // Scripts.

  Value eval(const Script& script, std::span<const std::string> keys = {},
             std::span<const std::string> args = {});
  void load(const Script& script);

  // State. These do not block and may be called from any thread, the runtime's included.

  [[nodiscard]] HealthState health() const noexcept { return client_->health(); }
  [[nodiscard]] ClientStats stats() const noexcept { return client_->stats(); }
  [[nodiscard]] const std::string& name() const noexcept { return client_->name(); }
  /// Stops new commands (`shutting_down`) and closes every connection.
  void close() noexcept { client_->close(); }

 private:
  template <class T>
  T run(boost::asio::awaitable<T> work) {
    return runtime_.block_on(std::move(work));
  }

  Runtime& runtime_;
  std::shared_ptr<Client> client_;
};

}  // namespace bulwark::redis
