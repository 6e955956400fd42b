// The typed commands of `redis::Client`: each builds its command, runs it through
// `Client::command()` and converts the reply, refusing reply types the command never answers with.
#include "bulwark/redis/client.hpp"

#include "bulwark/resilience/timeout.hpp"
#include "redis/detail/numbers.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <chrono>
#include <unordered_set>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;

// Converts replies, naming the client and the command in the error when a reply has a type the
// command never answers with: that is a server (or proxy) speaking another dialect, reported as
// `protocol_error` rather than guessed around.
class Expect {
 public:
  Expect(const std::string& client, std::string_view operation) noexcept
      : client_(client), operation_(operation) {}

  [[noreturn]] void mismatch(const Value& reply, std::string_view expected) const {
    throw Error(make_error_code(errc::protocol_error), {client_, std::string(operation_), 0},
                fmt::format("expected {}, got {} {}", expected, type_name(reply.type()),
                            reply.to_string(80)));
  }

  [[nodiscard]] std::string string(const Value& reply) const {
    if (!reply.is_string()) mismatch(reply, "a string");
    return std::string(reply.as_string());
  }

  [[nodiscard]] std::optional<std::string> optional_string(const Value& reply) const {
    if (reply.is_null()) return std::nullopt;
    return string(reply);
  }

  [[nodiscard]] std::int64_t integer(const Value& reply) const {
    if (reply.type() != Type::integer) mismatch(reply, "an integer");
    return reply.as_integer();
  }

  // Yes/no answers come as `:1`/`:0` even over RESP3; a RESP3 boolean is accepted too.
  [[nodiscard]] bool boolean(const Value& reply) const {
    if (reply.type() != Type::integer && reply.type() != Type::boolean) {
      mismatch(reply, "an integer or a boolean");
    }
    return reply.as_bool();
  }

  // Scores and float increments: a RESP3 double, or its text over RESP2 (and for INCRBYFLOAT,
  // over RESP3 as well).
  [[nodiscard]] double number(const Value& reply) const {
    if (reply.type() == Type::double_number || reply.type() == Type::integer) {
      return reply.as_double();
    }
    if (reply.type() == Type::bulk_string || reply.type() == Type::simple_string) {
      double number = 0.0;
      if (detail::parse_double(reply.as_string(), number)) return number;
    }
    mismatch(reply, "a double");
  }

  [[nodiscard]] std::optional<double> optional_number(const Value& reply) const {
    if (reply.is_null()) return std::nullopt;
    return number(reply);
  }

  void ok(const Value& reply) const {
    if (reply.type() != Type::simple_string || reply.as_string() != "OK") mismatch(reply, "OK");
  }

  // An array or set (RESP3 SMEMBERS) of strings; a null array counts as empty.
  [[nodiscard]] std::span<const Value> aggregate(const Value& reply) const {
    if (!reply.is_null() && reply.type() != Type::array && reply.type() != Type::set) {
      mismatch(reply, "an array");
    }
    return reply.elements();
  }

  [[nodiscard]] std::vector<std::string> strings(const Value& reply) const {
    std::vector<std::string> out;
    const std::span<const Value> elements = aggregate(reply);
    out.reserve(elements.size());
    for (const Value& element : elements) out.push_back(string(element));
    return out;
  }

  [[nodiscard]] std::vector<std::optional<std::string>> optional_strings(const Value& reply) const {
    std::vector<std::optional<std::string>> out;
    const std::span<const Value> elements = aggregate(reply);
    out.reserve(elements.size());
    for (const Value& element : elements) out.push_back(optional_string(element));
    return out;
  }

  // A RESP3 map, or RESP2's flat array of alternating keys and values.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> string_pairs(
      const Value& reply) const {
    if (!reply.is_null() && reply.type() != Type::map && reply.type() != Type::array) {
      mismatch(reply, "a map");
    }
    const std::span<const Value> flat = reply.elements();
    if (flat.size() % 2 != 0) mismatch(reply, "an even number of elements");
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(flat.size() / 2);
    for (std::size_t i = 0; i < flat.size(); i += 2) {
      out.emplace_back(string(flat[i]), string(flat[i + 1]));
    }
    return out;
  }

  // RESP3 sends member/score pairs as two-element arrays with a double; RESP2 flat, with the
  // score as text.
  [[nodiscard]] std::vector<std::pair<std::string, double>> scored_members(
      const Value& reply) const {
    const std::span<const Value> elements = aggregate(reply);
    std::vector<std::pair<std::string, double>> out;
    const bool nested = !elements.empty() && elements.front().type() == Type::array;
    if (nested) {
      out.reserve(elements.size());
      for (const Value& pair : elements) {
        if (pair.type() != Type::array || pair.size() != 2) {
          mismatch(reply, "[member, score] pairs");
        }
        out.emplace_back(string(pair.at(0)), number(pair.at(1)));
      }
      return out;
    }
    if (elements.size() % 2 != 0) mismatch(reply, "an even number of elements");
    out.reserve(elements.size() / 2);
    for (std::size_t i = 0; i < elements.size(); i += 2) {
      out.emplace_back(string(elements[i]), number(elements[i + 1]));
    }
    return out;
  }

  [[nodiscard]] std::uint64_t cursor(const Value& reply) const {
    const std::string text = string(reply);
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) mismatch(reply, "a cursor");
    return value;
  }

 private:
  const std::string& client_;
  std::string_view operation_;
};

[[noreturn]] void invalid(const std::string& client, std::string_view operation,
                          std::string_view why) {
  throw Error(make_error_code(errc::invalid_argument), {client, std::string(operation), 0}, why);
}

// Milliseconds, rounded up: a positive duration below 1ms must not become 0, which Redis reads
// as "expire now" (or, for BLPOP, "wait forever").
std::int64_t milliseconds_up(Duration duration) {
  return std::chrono::ceil<std::chrono::milliseconds>(duration).count();
}

Command with_pairs(std::string_view name, std::string_view key,
                   std::span<const std::pair<std::string, std::string>> pairs) {
  Command command(name);
  command.arg(key);
  for (const auto& [first, second] : pairs) command.arg(first).arg(second);
  return command;
}

Command scan_command(std::uint64_t cursor, const ScanOptions& options) {
  Command cmd("SCAN");
  cmd.arg(cursor);
  if (!options.match.empty()) cmd.arg("MATCH").arg(options.match);
  if (options.count != 0) cmd.arg("COUNT").arg(options.count);
  if (!options.type.empty()) cmd.arg("TYPE").arg(options.type);
  return cmd;
}

ScanPage scan_page(const std::string& client, const Value& reply) {
  const Expect expect(client, "SCAN");
  if (reply.type() != Type::array || reply.size() != 2) expect.mismatch(reply, "[cursor, keys]");
  return ScanPage{expect.cursor(reply.at(0)), expect.strings(reply.at(1))};
}

}  // namespace

// Strings and counters.

asio::awaitable<std::optional<std::string>> Client::get(std::string_view key) {
  const Value reply = co_await command(make_command("GET", key));
  co_return Expect(config_.name, "GET").optional_string(reply);
}

asio::awaitable<bool> Client::set(std::string_view key, std::string_view value,
                                  SetOptions options) {
  if (options.ttl < Duration::zero()) invalid(config_.name, "SET", "ttl must not be negative");
  if (options.keep_ttl && options.ttl > Duration::zero()) {
    invalid(config_.name, "SET", "keep_ttl and a ttl exclude each other");
  }
  Command cmd("SET");
  cmd.arg(key).arg(value);
  if (options.ttl > Duration::zero()) cmd.arg("PX").arg(milliseconds_up(options.ttl));
  if (options.keep_ttl) cmd.arg("KEEPTTL");
  if (options.condition == SetCondition::if_absent) cmd.arg("NX");
  if (options.condition == SetCondition::if_present) cmd.arg("XX");
  const Value reply = co_await command(std::move(cmd));
  // NX/XX that prevented the write answer nil.
  if (reply.is_null()) co_return false;
  Expect(config_.name, "SET").ok(reply);
  co_return true;
}

asio::awaitable<std::optional<std::string>> Client::getdel(std::string_view key) {
  const Value reply = co_await command(make_command("GETDEL", key));
  co_return Expect(config_.name, "GETDEL").optional_string(reply);
}

asio::awaitable<std::vector<std::optional<std::string>>> Client::mget(
    std::span<const std::string> keys) {
  if (keys.empty()) co_return std::vector<std::optional<std::string>>{};
  const Value reply = co_await command(make_command("MGET", keys));
  co_return Expect(config_.name, "MGET").optional_strings(reply);
}

asio::awaitable<void> Client::mset(std::span<const std::pair<std::string, std::string>> entries) {
  if (entries.empty()) co_return;
  Command cmd("MSET");
  for (const auto& [key, value] : entries) cmd.arg(key).arg(value);
  const Value reply = co_await command(std::move(cmd));
  Expect(config_.name, "MSET").ok(reply);
}

asio::awaitable<std::int64_t> Client::incr(std::string_view key, std::int64_t by) {
  const Value reply = co_await command(make_command("INCRBY", key, by));
  co_return Expect(config_.name, "INCRBY").integer(reply);
}

asio::awaitable<std::int64_t> Client::decr(std::string_view key, std::int64_t by) {
  const Value reply = co_await command(make_command("DECRBY", key, by));
  co_return Expect(config_.name, "DECRBY").integer(reply);
}

asio::awaitable<double> Client::incrbyfloat(std::string_view key, double by) {
  const Value reply = co_await command(make_command("INCRBYFLOAT", key, by));
  co_return Expect(config_.name, "INCRBYFLOAT").number(reply);
}

asio::awaitable<std::int64_t> Client::append(std::string_view key, std::string_view value) {
  const Value reply = co_await command(make_command("APPEND", key, value));
  co_return Expect(config_.name, "APPEND").integer(reply);
}

asio::awaitable<std::int64_t> Client::strlen(std::string_view key) {
  const Value reply = co_await command(make_command("STRLEN", key));
  co_return Expect(config_.name, "STRLEN").integer(reply);
}

// Keys and expiry.

asio::awaitable<std::int64_t> Client::del(std::string_view key) {
  const Value reply = co_await command(make_command("DEL", key));
  co_return Expect(config_.name, "DEL").integer(reply);
}

asio::awaitable<std::int64_t> Client::del(std::span<const std::string> keys) {
  if (keys.empty()) co_return 0;
  const Value reply = co_await command(make_command("DEL", keys));
  co_return Expect(config_.name, "DEL").integer(reply);
}

asio::awaitable<std::int64_t> Client::unlink(std::string_view key) {
  const Value reply = co_await command(make_command("UNLINK", key));
  co_return Expect(config_.name, "UNLINK").integer(reply);
}

asio::awaitable<std::int64_t> Client::unlink(std::span<const std::string> keys) {
  if (keys.empty()) co_return 0;
  const Value reply = co_await command(make_command("UNLINK", keys));
  co_return Expect(config_.name, "UNLINK").integer(reply);
}

asio::awaitable<bool> Client::exists(std::string_view key) {
  const Value reply = co_await command(make_command("EXISTS", key));
  co_return Expect(config_.name, "EXISTS").integer(reply) > 0;
}

asio::awaitable<bool> Client::expire(std::string_view key, Duration ttl) {
  if (ttl <= Duration::zero()) invalid(config_.name, "PEXPIRE", "ttl must be > 0 (use del)");
  const Value reply = co_await command(make_command("PEXPIRE", key, milliseconds_up(ttl)));
  co_return Expect(config_.name, "PEXPIRE").boolean(reply);
}

asio::awaitable<bool> Client::persist(std::string_view key) {
  const Value reply = co_await command(make_command("PERSIST", key));
  co_return Expect(config_.name, "PERSIST").boolean(reply);
}

asio::awaitable<Ttl> Client::ttl(std::string_view key) {
  const Value reply = co_await command(make_command("PTTL", key));
  const std::int64_t milliseconds = Expect(config_.name, "PTTL").integer(reply);
  if (milliseconds == -2) co_return Ttl{Ttl::State::no_key, Duration::zero()};
  if (milliseconds < 0) co_return Ttl{Ttl::State::no_expiry, Duration::zero()};
  co_return Ttl{Ttl::State::expires, std::chrono::milliseconds(milliseconds)};
}

asio::awaitable<std::string> Client::type(std::string_view key) {
  const Value reply = co_await command(make_command("TYPE", key));
  co_return Expect(config_.name, "TYPE").string(reply);
}

asio::awaitable<void> Client::rename(std::string_view key, std::string_view new_key) {
  const Value reply = co_await command(make_command("RENAME", key, new_key));
  Expect(config_.name, "RENAME").ok(reply);
}

// Hashes.

asio::awaitable<bool> Client::hset(std::string_view key, std::string_view field,
                                   std::string_view value) {
  const Value reply = co_await command(make_command("HSET", key, field, value));
  co_return Expect(config_.name, "HSET").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::hset(
    std::string_view key, std::span<const std::pair<std::string, std::string>> fields) {
  if (fields.empty()) co_return 0;
  const Value reply = co_await command(with_pairs("HSET", key, fields));
  co_return Expect(config_.name, "HSET").integer(reply);
}

asio::awaitable<std::optional<std::string>> Client::hget(std::string_view key,
                                                         std::string_view field) {
  const Value reply = co_await command(make_command("HGET", key, field));
  co_return Expect(config_.name, "HGET").optional_string(reply);
}

asio::awaitable<std::vector<std::optional<std::string>>> Client::hmget(
    std::string_view key, std::span<const std::string> fields) {
  if (fields.empty()) co_return std::vector<std::optional<std::string>>{};
  const Value reply = co_await command(make_command("HMGET", key, fields));
  co_return Expect(config_.name, "HMGET").optional_strings(reply);
}

asio::awaitable<std::vector<std::pair<std::string, std::string>>> Client::hgetall(
    std::string_view key) {
  const Value reply = co_await command(make_command("HGETALL", key));
  co_return Expect(config_.name, "HGETALL").string_pairs(reply);
}

asio::awaitable<bool> Client::hdel(std::string_view key, std::string_view field) {
  const Value reply = co_await command(make_command("HDEL", key, field));
  co_return Expect(config_.name, "HDEL").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::hdel(std::string_view key,
                                           std::span<const std::string> fields) {
  if (fields.empty()) co_return 0;
  const Value reply = co_await command(make_command("HDEL", key, fields));
  co_return Expect(config_.name, "HDEL").integer(reply);
}

asio::awaitable<bool> Client::hexists(std::string_view key, std::string_view field) {
  const Value reply = co_await command(make_command("HEXISTS", key, field));
  co_return Expect(config_.name, "HEXISTS").boolean(reply);
}

asio::awaitable<std::int64_t> Client::hincrby(std::string_view key, std::string_view field,
                                              std::int64_t by) {
  const Value reply = co_await command(make_command("HINCRBY", key, field, by));
  co_return Expect(config_.name, "HINCRBY").integer(reply);
}

asio::awaitable<std::int64_t> Client::hlen(std::string_view key) {
  const Value reply = co_await command(make_command("HLEN", key));
  co_return Expect(config_.name, "HLEN").integer(reply);
}

asio::awaitable<std::vector<std::string>> Client::hkeys(std::string_view key) {
  const Value reply = co_await command(make_command("HKEYS", key));
  co_return Expect(config_.name, "HKEYS").strings(reply);
}

asio::awaitable<std::vector<std::string>> Client::hvals(std::string_view key) {
  const Value reply = co_await command(make_command("HVALS", key));
  co_return Expect(config_.name, "HVALS").strings(reply);
}

// Lists.

asio::awaitable<std::int64_t> Client::lpush(std::string_view key, std::string_view value) {
  const Value reply = co_await command(make_command("LPUSH", key, value));
  co_return Expect(config_.name, "LPUSH").integer(reply);
}

asio::awaitable<std::int64_t> Client::lpush(std::string_view key,
                                            std::span<const std::string> values) {
  if (values.empty()) invalid(config_.name, "LPUSH", "no values to push");
  const Value reply = co_await command(make_command("LPUSH", key, values));
  co_return Expect(config_.name, "LPUSH").integer(reply);
}

asio::awaitable<std::int64_t> Client::rpush(std::string_view key, std::string_view value) {
  const Value reply = co_await command(make_command("RPUSH", key, value));
  co_return Expect(config_.name, "RPUSH").integer(reply);
}

asio::awaitable<std::int64_t> Client::rpush(std::string_view key,
                                            std::span<const std::string> values) {
  if (values.empty()) invalid(config_.name, "RPUSH", "no values to push");
  const Value reply = co_await command(make_command("RPUSH", key, values));
  co_return Expect(config_.name, "RPUSH").integer(reply);
}

asio::awaitable<std::optional<std::string>> Client::lpop(std::string_view key) {
  const Value reply = co_await command(make_command("LPOP", key));
  co_return Expect(config_.name, "LPOP").optional_string(reply);
}

asio::awaitable<std::optional<std::string>> Client::rpop(std::string_view key) {
  const Value reply = co_await command(make_command("RPOP", key));
  co_return Expect(config_.name, "RPOP").optional_string(reply);
}

asio::awaitable<std::vector<std::string>> Client::lrange(std::string_view key, std::int64_t start,
                                                         std::int64_t stop) {
  const Value reply = co_await command(make_command("LRANGE", key, start, stop));
  co_return Expect(config_.name, "LRANGE").strings(reply);
}

asio::awaitable<std::int64_t> Client::llen(std::string_view key) {
  const Value reply = co_await command(make_command("LLEN", key));
  co_return Expect(config_.name, "LLEN").integer(reply);
}

asio::awaitable<std::int64_t> Client::lrem(std::string_view key, std::int64_t count,
                                           std::string_view value) {
  const Value reply = co_await command(make_command("LREM", key, count, value));
  co_return Expect(config_.name, "LREM").integer(reply);
}

asio::awaitable<void> Client::ltrim(std::string_view key, std::int64_t start, std::int64_t stop) {
  const Value reply = co_await command(make_command("LTRIM", key, start, stop));
  Expect(config_.name, "LTRIM").ok(reply);
}

asio::awaitable<std::optional<std::pair<std::string, std::string>>> Client::blpop(
    std::span<const std::string> keys, Duration timeout) {
  constexpr std::string_view operation = "BLPOP";
  if (keys.empty()) invalid(config_.name, operation, "no keys to wait on");
  if (timeout < Duration::zero()) invalid(config_.name, operation, "timeout must not be negative");
  if (closed_.load(std::memory_order_acquire)) {
    throw Error(make_error_code(errc::shutting_down), {config_.name, std::string(operation), 0});
  }
  Command cmd("BLPOP");
  // Seconds with a fraction (Redis >= 6): 1500us waits 0.002s, never 0 (forever).
  cmd.arg(keys).arg(static_cast<double>(milliseconds_up(timeout)) / 1000.0);

  const auto started = std::chrono::steady_clock::now();
  Pool* pool = co_await pool_for_keys(keys, operation);
  Result<Lease> lease = co_await pool->exclusive();
  if (!lease) {
    record(lease.error(), started);
    throw_error(lease.error(), {config_.name, std::string(operation), 0});
  }
  // Only a connection that answered is in step; after a timeout, a cancellation or a lost
  // connection it is closed (the connection poisons itself) and must not be reused.
  bool reusable = false;
  struct Release {
    Lease& lease;
    bool& reusable;
    ~Release() { lease.release(reusable); }
  } release{*lease, reusable};

  // The server answers by itself once `timeout` has passed; `command_timeout` on top of it only
  // bounds a server that stopped answering. No bound at all when either is "forever".
  const Duration limit = timeout == Duration::zero() || config_.command_timeout == Duration::zero()
                             ? Duration::zero()
                             : timeout + config_.command_timeout;
  Result<Value> reply = make_error_code(errc::cancelled);
  try {
    reply = co_await with_timeout(lease->connection().execute(std::move(cmd)), limit);
  } catch (const Error& error) {
    record(error.code(), started);
    throw;
  }
  record(reply ? std::error_code() : reply.error(), started);
  if (!reply) throw_error(reply.error(), {config_.name, std::string(operation), 1});
  reusable = true;
  if (reply->is_error()) throw_reply_error(*reply, operation);
  if (reply->is_null()) co_return std::nullopt;  // timed out
  const Expect expect(config_.name, operation);
  if (reply->type() != Type::array || reply->size() != 2) expect.mismatch(*reply, "[key, element]");
  co_return std::pair<std::string, std::string>(expect.string(reply->at(0)),
                                                expect.string(reply->at(1)));
}

asio::awaitable<std::optional<std::pair<std::string, std::string>>> Client::blpop(
    std::string_view key, Duration timeout) {
  const std::array<std::string, 1> keys{std::string(key)};
  co_return co_await blpop(std::span<const std::string>(keys), timeout);
}

// Sets.

asio::awaitable<bool> Client::sadd(std::string_view key, std::string_view member) {
  const Value reply = co_await command(make_command("SADD", key, member));
  co_return Expect(config_.name, "SADD").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::sadd(std::string_view key,
                                           std::span<const std::string> members) {
  if (members.empty()) co_return 0;
  const Value reply = co_await command(make_command("SADD", key, members));
  co_return Expect(config_.name, "SADD").integer(reply);
}

asio::awaitable<bool> Client::srem(std::string_view key, std::string_view member) {
  const Value reply = co_await command(make_command("SREM", key, member));
  co_return Expect(config_.name, "SREM").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::srem(std::string_view key,
                                           std::span<const std::string> members) {
  if (members.empty()) co_return 0;
  const Value reply = co_await command(make_command("SREM", key, members));
  co_return Expect(config_.name, "SREM").integer(reply);
}

asio::awaitable<std::vector<std::string>> Client::smembers(std::string_view key) {
  const Value reply = co_await command(make_command("SMEMBERS", key));
  co_return Expect(config_.name, "SMEMBERS").strings(reply);
}

asio::awaitable<bool> Client::sismember(std::string_view key, std::string_view member) {
  const Value reply = co_await command(make_command("SISMEMBER", key, member));
  co_return Expect(config_.name, "SISMEMBER").boolean(reply);
}

asio::awaitable<std::int64_t> Client::scard(std::string_view key) {
  const Value reply = co_await command(make_command("SCARD", key));
  co_return Expect(config_.name, "SCARD").integer(reply);
}

// Sorted sets.

asio::awaitable<bool> Client::zadd(std::string_view key, double score, std::string_view member) {
  const Value reply = co_await command(make_command("ZADD", key, score, member));
  co_return Expect(config_.name, "ZADD").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::zadd(
    std::string_view key, std::span<const std::pair<double, std::string>> members) {
  if (members.empty()) co_return 0;
  Command cmd("ZADD");
  cmd.arg(key);
  for (const auto& [score, member] : members) cmd.arg(score).arg(member);
  const Value reply = co_await command(std::move(cmd));
  co_return Expect(config_.name, "ZADD").integer(reply);
}

asio::awaitable<bool> Client::zrem(std::string_view key, std::string_view member) {
  const Value reply = co_await command(make_command("ZREM", key, member));
  co_return Expect(config_.name, "ZREM").integer(reply) > 0;
}

asio::awaitable<std::int64_t> Client::zrem(std::string_view key,
                                           std::span<const std::string> members) {
  if (members.empty()) co_return 0;
  const Value reply = co_await command(make_command("ZREM", key, members));
  co_return Expect(config_.name, "ZREM").integer(reply);
}

asio::awaitable<std::optional<double>> Client::zscore(std::string_view key,
                                                      std::string_view member) {
  const Value reply = co_await command(make_command("ZSCORE", key, member));
  co_return Expect(config_.name, "ZSCORE").optional_number(reply);
}

asio::awaitable<double> Client::zincrby(std::string_view key, double by, std::string_view member) {
  const Value reply = co_await command(make_command("ZINCRBY", key, by, member));
  co_return Expect(config_.name, "ZINCRBY").number(reply);
}

asio::awaitable<std::int64_t> Client::zcard(std::string_view key) {
  const Value reply = co_await command(make_command("ZCARD", key));
  co_return Expect(config_.name, "ZCARD").integer(reply);
}

asio::awaitable<std::vector<std::string>> Client::zrange(std::string_view key, std::int64_t start,
                                                         std::int64_t stop) {
  const Value reply = co_await command(make_command("ZRANGE", key, start, stop));
  co_return Expect(config_.name, "ZRANGE").strings(reply);
}

asio::awaitable<std::vector<std::pair<std::string, double>>> Client::zrange_with_scores(
    std::string_view key, std::int64_t start, std::int64_t stop) {
  const Value reply = co_await command(make_command("ZRANGE", key, start, stop, "WITHSCORES"));
  co_return Expect(config_.name, "ZRANGE").scored_members(reply);
}

asio::awaitable<std::vector<std::string>> Client::zrangebyscore(std::string_view key, double min,
                                                                double max) {
  // Doubles are written as "inf"/"-inf" for the infinities, which the server's strtod accepts.
  const Value reply = co_await command(make_command("ZRANGEBYSCORE", key, min, max));
  co_return Expect(config_.name, "ZRANGEBYSCORE").strings(reply);
}

// Iteration.

asio::awaitable<ScanPage> Client::scan(std::uint64_t cursor, ScanOptions options) {
  const Value reply = co_await command(scan_command(cursor, options));
  co_return scan_page(config_.name, reply);
}

asio::awaitable<std::vector<std::string>> Client::scan_all(ScanOptions options) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  if (cluster_) {
    // Each master holds its own keys: scan them all, one after the other.
    for (Pool* pool : co_await master_pools("SCAN")) {
      std::uint64_t cursor = 0;
      do {
        const Value reply = co_await on_pool(*pool, scan_command(cursor, options), "SCAN");
        ScanPage page = scan_page(config_.name, reply);
        for (std::string& key : page.keys) {
          if (seen.insert(key).second) keys.push_back(std::move(key));
        }
        cursor = page.cursor;
      } while (cursor != 0);
    }
    co_return keys;
  }
  std::uint64_t cursor = 0;
  do {
    ScanPage page = co_await scan(cursor, options);
    for (std::string& key : page.keys) {
      if (seen.insert(key).second) keys.push_back(std::move(key));
    }
    cursor = page.cursor;
  } while (cursor != 0);
  co_return keys;
}

// Scripts.

asio::awaitable<Value> Client::eval(const Script& script, std::span<const std::string> keys,
                                    std::span<const std::string> args) {
  const auto build = [&](std::string_view name, std::string_view body) {
    Command cmd(name);
    cmd.arg(body).arg(keys.size()).arg(keys).arg(args);
    return cmd;
  };
  std::string_view operation = "EVALSHA";
  Result<Value> reply = co_await execute(build("EVALSHA", script.sha1()));
  if (reply && reply->is_error() && reply->error_prefix() == "NOSCRIPT") {
    // Not cached (never sent, or flushed, or a new server behind the same address): EVAL both
    // runs and caches it. Once: a second NOSCRIPT is impossible, and another error is real.
    operation = "EVAL";
    reply = co_await execute(build("EVAL", script.source()));
  }
  if (!reply) throw_error(reply.error(), {config_.name, std::string(operation), 0});
  if (reply->is_error()) throw_reply_error(*reply, operation);
  co_return std::move(*reply);
}

asio::awaitable<void> Client::load(const Script& script) {
  const auto check = [&](const Value& reply) {
    const std::string sha1 = Expect(config_.name, "SCRIPT").string(reply);
    if (sha1 != script.sha1()) {
      Expect(config_.name, "SCRIPT").mismatch(reply, fmt::format("the SHA1 {}", script.sha1()));
    }
  };
  if (cluster_) {
    // Every master caches its own scripts.
    for (Pool* pool : co_await master_pools("SCRIPT")) {
      check(co_await on_pool(*pool, make_command("SCRIPT", "LOAD", script.source()), "SCRIPT"));
    }
    co_return;
  }
  check(co_await command(make_command("SCRIPT", "LOAD", script.source())));
}

}  // namespace bulwark::redis
