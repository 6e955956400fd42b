#include "redis/detail/command_keys.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>

namespace bulwark::redis::detail {
namespace {

enum class Rule : std::uint8_t {
  none,     // no keys
  range,    // keys from `first` to `last` (negative: from the end, -1 = the last) by `step`
  numkeys,  // the count is at `first`, the keys follow it (EVAL, ZUNION, SINTERCARD, ...)
  store,    // a destination key at 1, then the count at 2 and the keys (ZUNIONSTORE, ...)
  streams,  // XREAD / XREADGROUP: the keys are the first half of what follows STREAMS
};

struct Spec {
  std::string_view name;
  Rule rule;
  int first = 0;
  int last = 0;
  int step = 1;
};

constexpr Spec none(std::string_view name) { return {name, Rule::none}; }
constexpr Spec one(std::string_view name) { return {name, Rule::range, 1, 1, 1}; }
constexpr Spec two(std::string_view name) { return {name, Rule::range, 1, 2, 1}; }
constexpr Spec all(std::string_view name) { return {name, Rule::range, 1, -1, 1}; }
constexpr Spec at(std::string_view name, int position) {
  return {name, Rule::range, position, position, 1};
}

// Sorted by name for binary search (checked below). Key positions follow Redis's command table.
constexpr auto specs = std::to_array<Spec>({
    one("APPEND"),
    none("ASKING"),
    none("AUTH"),
    none("BGREWRITEAOF"),
    none("BGSAVE"),
    one("BITCOUNT"),
    one("BITFIELD"),
    one("BITFIELD_RO"),
    {"BITOP", Rule::range, 2, -1, 1},
    one("BITPOS"),
    two("BLMOVE"),
    {"BLMPOP", Rule::numkeys, 2},
    {"BLPOP", Rule::range, 1, -2, 1},
    {"BRPOP", Rule::range, 1, -2, 1},
    two("BRPOPLPUSH"),
    {"BZMPOP", Rule::numkeys, 2},
    {"BZPOPMAX", Rule::range, 1, -2, 1},
    {"BZPOPMIN", Rule::range, 1, -2, 1},
    none("CLIENT"),
    none("CLUSTER"),
    none("COMMAND"),
    none("CONFIG"),
    two("COPY"),
    none("DBSIZE"),
    one("DECR"),
    one("DECRBY"),
    all("DEL"),
    none("DISCARD"),
    one("DUMP"),
    none("ECHO"),
    {"EVAL", Rule::numkeys, 2},
    {"EVALSHA", Rule::numkeys, 2},
    {"EVALSHA_RO", Rule::numkeys, 2},
    {"EVAL_RO", Rule::numkeys, 2},
    none("EXEC"),
    all("EXISTS"),
    one("EXPIRE"),
    one("EXPIREAT"),
    one("EXPIRETIME"),
    {"FCALL", Rule::numkeys, 2},
    {"FCALL_RO", Rule::numkeys, 2},
    none("FLUSHALL"),
    none("FLUSHDB"),
    none("FUNCTION"),
    one("GEOADD"),
    one("GEODIST"),
    one("GEOHASH"),
    one("GEOPOS"),
    one("GEOSEARCH"),
    two("GEOSEARCHSTORE"),
    one("GET"),
    one("GETBIT"),
    one("GETDEL"),
    one("GETEX"),
    one("GETRANGE"),
    one("GETSET"),
    one("HDEL"),
    none("HELLO"),
    one("HEXISTS"),
    one("HGET"),
    one("HGETALL"),
    one("HINCRBY"),
    one("HINCRBYFLOAT"),
    one("HKEYS"),
    one("HLEN"),
    one("HMGET"),
    one("HMSET"),
    one("HRANDFIELD"),
    one("HSCAN"),
    one("HSET"),
    one("HSETNX"),
    one("HSTRLEN"),
    one("HVALS"),
    one("INCR"),
    one("INCRBY"),
    one("INCRBYFLOAT"),
    none("INFO"),
    none("KEYS"),
    none("LASTSAVE"),
    two("LCS"),
    one("LINDEX"),
    one("LINSERT"),
    one("LLEN"),
    two("LMOVE"),
    {"LMPOP", Rule::numkeys, 1},
    one("LPOP"),
    one("LPOS"),
    one("LPUSH"),
    one("LPUSHX"),
    one("LRANGE"),
    one("LREM"),
    one("LSET"),
    one("LTRIM"),
    at("MEMORY", 2),
    all("MGET"),
    {"MSET", Rule::range, 1, -1, 2},
    {"MSETNX", Rule::range, 1, -1, 2},
    none("MULTI"),
    at("OBJECT", 2),
    one("PERSIST"),
    one("PEXPIRE"),
    one("PEXPIREAT"),
    one("PEXPIRETIME"),
    one("PFADD"),
    all("PFCOUNT"),
    all("PFMERGE"),
    none("PING"),
    one("PSETEX"),
    one("PTTL"),
    none("PUBLISH"),
    none("QUIT"),
    none("RANDOMKEY"),
    none("READONLY"),
    none("READWRITE"),
    two("RENAME"),
    two("RENAMENX"),
    one("RESTORE"),
    none("ROLE"),
    one("RPOP"),
    two("RPOPLPUSH"),
    one("RPUSH"),
    one("RPUSHX"),
    one("SADD"),
    none("SAVE"),
    none("SCAN"),
    one("SCARD"),
    none("SCRIPT"),
    all("SDIFF"),
    all("SDIFFSTORE"),
    none("SELECT"),
    one("SET"),
    one("SETBIT"),
    one("SETEX"),
    one("SETNX"),
    one("SETRANGE"),
    all("SINTER"),
    {"SINTERCARD", Rule::numkeys, 1},
    all("SINTERSTORE"),
    one("SISMEMBER"),
    one("SMEMBERS"),
    one("SMISMEMBER"),
    two("SMOVE"),
    one("SORT"),
    one("SORT_RO"),
    one("SPOP"),
    none("SPUBLISH"),
    one("SRANDMEMBER"),
    one("SREM"),
    one("SSCAN"),
    one("STRLEN"),
    one("SUBSTR"),
    all("SUNION"),
    all("SUNIONSTORE"),
    none("TIME"),
    all("TOUCH"),
    one("TTL"),
    one("TYPE"),
    all("UNLINK"),
    none("UNWATCH"),
    none("WAIT"),
    all("WATCH"),
    one("XACK"),
    one("XADD"),
    one("XAUTOCLAIM"),
    one("XCLAIM"),
    one("XDEL"),
    at("XGROUP", 2),
    at("XINFO", 2),
    one("XLEN"),
    one("XPENDING"),
    one("XRANGE"),
    {"XREAD", Rule::streams},
    {"XREADGROUP", Rule::streams},
    one("XREVRANGE"),
    one("XSETID"),
    one("XTRIM"),
    one("ZADD"),
    one("ZCARD"),
    one("ZCOUNT"),
    {"ZDIFF", Rule::numkeys, 1},
    {"ZDIFFSTORE", Rule::store},
    one("ZINCRBY"),
    {"ZINTER", Rule::numkeys, 1},
    {"ZINTERCARD", Rule::numkeys, 1},
    {"ZINTERSTORE", Rule::store},
    one("ZLEXCOUNT"),
    {"ZMPOP", Rule::numkeys, 1},
    one("ZMSCORE"),
    one("ZPOPMAX"),
    one("ZPOPMIN"),
    one("ZRANDMEMBER"),
    one("ZRANGE"),
    one("ZRANGEBYLEX"),
    one("ZRANGEBYSCORE"),
    two("ZRANGESTORE"),
    one("ZRANK"),
    one("ZREM"),
    one("ZREMRANGEBYLEX"),
    one("ZREMRANGEBYRANK"),
    one("ZREMRANGEBYSCORE"),
    one("ZREVRANGE"),
    one("ZREVRANGEBYLEX"),
    one("ZREVRANGEBYSCORE"),
    one("ZREVRANK"),
    one("ZSCAN"),
    one("ZSCORE"),
    {"ZUNION", Rule::numkeys, 1},
    {"ZUNIONSTORE", Rule::store},
});

static_assert(std::is_sorted(specs.begin(), specs.end(),
                             [](const Spec& a, const Spec& b) { return a.name < b.name; }));

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool parse_count(std::string_view text, std::size_t& count) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  return ec == std::errc{} && end == text.data() + text.size();
}

// Keys counted by the argument at `position`, starting right after it.
void counted(std::span<const std::string_view> arguments, std::size_t position,
             std::vector<std::string_view>& keys) {
  std::size_t count = 0;
  if (position >= arguments.size() || !parse_count(arguments[position], count)) return;
  for (std::size_t i = position + 1; i < arguments.size() && i <= position + count; ++i) {
    keys.push_back(arguments[i]);
  }
}

}  // namespace

std::optional<std::vector<std::string_view>> command_keys(
    std::span<const std::string_view> arguments) {
  if (arguments.empty()) return std::vector<std::string_view>{};
  // Names are short: upper-case them on the stack rather than in a string.
  std::array<char, 32> buffer{};
  const std::string_view given = arguments.front();
  if (given.size() > buffer.size()) return std::nullopt;
  for (std::size_t i = 0; i < given.size(); ++i) {
    const char c = given[i];
    buffer[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string_view name(buffer.data(), given.size());
  const auto found =
      std::lower_bound(specs.begin(), specs.end(), name,
                       [](const Spec& spec, std::string_view n) { return spec.name < n; });
  if (found == specs.end() || found->name != name) return std::nullopt;
  const Spec& spec = *found;
  std::vector<std::string_view> keys;
  const auto size = static_cast<int>(arguments.size());
  switch (spec.rule) {
    case Rule::none:
      break;
    case Rule::range: {
      const int last = spec.last < 0 ? size + spec.last : spec.last;
      for (int i = spec.first; i <= last && i < size; i += spec.step) {
        keys.push_back(arguments[static_cast<std::size_t>(i)]);
      }
      break;
    }
    case Rule::numkeys:
      counted(arguments, static_cast<std::size_t>(spec.first), keys);
      break;
    case Rule::store:
      if (size > 1) keys.push_back(arguments[1]);
      counted(arguments, 2, keys);
      break;
    case Rule::streams: {
      for (std::size_t i = 1; i < arguments.size(); ++i) {
        if (upper(arguments[i]) != "STREAMS") continue;
        const std::size_t rest = arguments.size() - i - 1;
        for (std::size_t k = 0; k < rest / 2; ++k) keys.push_back(arguments[i + 1 + k]);
        break;
      }
      break;
    }
  }
  return keys;
}

}  // namespace bulwark::redis::detail
