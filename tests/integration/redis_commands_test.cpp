// The typed commands of redis::Client against a real redis-server: every helper over RESP3, the
// ones whose replies change shape between protocols over RESP2 as well, error replies, replies
// of an unexpected type, and BLPOP on its own connection.
#include "bulwark/redis/client.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <future>
#include <limits>
#include <set>
#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using StringPairs = std::vector<std::pair<std::string, std::string>>;
using Strings = std::vector<std::string>;

using test::run;
using test::run_until;

ClientConfig config_for(const RedisServer& server, Protocol protocol) {
  ClientConfig config;
  config.name = "redis.test";
  config.connection.port = server.port();
  config.connection.connect_timeout = 2s;
  config.connection.protocol = protocol;
  return config;
}

// Runs `work` and returns the `Error` it throws (failing the test when it does not).
template <class T>
Error error_of(asio::io_context& io, asio::awaitable<T> work) {
  try {
    run(io, std::move(work));
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no exception";
  return Error(make_error_code(errc::exception));
}

class CommandsTest : public ::testing::Test {
 protected:
  explicit CommandsTest(Protocol protocol = Protocol::resp3) : protocol_(protocol) {}

  template <class T>
  T run(asio::awaitable<T> work) {
    return redis::run(io, std::move(work));
  }
  template <class T>
  Error error_of(asio::awaitable<T> work) {
    return redis::error_of(io, std::move(work));
  }

  Protocol protocol_;
  RedisServer server;
  asio::io_context io;
  Client client{io.get_executor(), config_for(server, protocol_)};
};

// The same tests over RESP2, for replies whose shape differs: maps as flat arrays, doubles as
// text, sets as arrays.
class Resp2CommandsTest : public CommandsTest {
 protected:
  Resp2CommandsTest() : CommandsTest(Protocol::resp2) {}
};

TEST_F(CommandsTest, GetSetAndTheirConditions) {
  EXPECT_EQ(run(client.get("k")), std::nullopt);
  EXPECT_TRUE(run(client.set("k", "v")));
  EXPECT_THAT(run(client.get("k")), Optional(std::string("v")));
  // NX on an existing key, XX on a missing one: not written, and said so.
  EXPECT_FALSE(run(client.set("k", "other", {.condition = SetCondition::if_absent})));
  EXPECT_FALSE(run(client.set("missing", "x", {.condition = SetCondition::if_present})));
  EXPECT_EQ(run(client.get("missing")), std::nullopt);
  EXPECT_TRUE(run(client.set("k", "w", {.condition = SetCondition::if_present})));
  EXPECT_TRUE(run(client.set("new", "n", {.condition = SetCondition::if_absent})));
  EXPECT_THAT(run(client.get("k")), Optional(std::string("w")));
  // Binary-safe values.
  const std::string binary("a\r\nb\0c", 6);
  EXPECT_TRUE(run(client.set("bin", binary)));
  EXPECT_THAT(run(client.get("bin")), Optional(binary));
}

TEST_F(CommandsTest, SetWithTtlAndKeepTtl) {
  EXPECT_TRUE(run(client.set("k", "v", {.ttl = 100s})));
  Ttl ttl = run(client.ttl("k"));
  EXPECT_EQ(ttl.state, Ttl::State::expires);
  EXPECT_GT(ttl.remaining, 90s);
  EXPECT_LE(ttl.remaining, 100s);
  // A plain SET clears the expiry; KEEPTTL keeps it.
  EXPECT_TRUE(run(client.set("k", "v2", {.keep_ttl = true})));
  EXPECT_TRUE(run(client.ttl("k")).expires());
  EXPECT_TRUE(run(client.set("k", "v3")));
  EXPECT_EQ(run(client.ttl("k")).state, Ttl::State::no_expiry);
  // A sub-millisecond ttl is rounded up, not sent as 0 (which the server refuses).
  EXPECT_TRUE(run(client.set("short", "v", {.ttl = 1us})));
  // Arguments that cannot be right are refused before anything is sent.
  EXPECT_EQ(error_of(client.set("k", "v", {.ttl = -1s})).code(), errc::invalid_argument);
  EXPECT_EQ(error_of(client.set("k", "v", {.ttl = 1s, .keep_ttl = true})).code(),
            errc::invalid_argument);
}

TEST_F(CommandsTest, GetdelMgetMset) {
  const StringPairs entries{{"a", "1"}, {"b", "2"}};
  run(client.mset(entries));
  const Strings keys{"a", "missing", "b"};
  EXPECT_THAT(run(client.mget(keys)),
              ElementsAre(Optional(std::string("1")), std::nullopt, Optional(std::string("2"))));
  EXPECT_THAT(run(client.getdel("a")), Optional(std::string("1")));
  EXPECT_EQ(run(client.getdel("a")), std::nullopt);
  EXPECT_FALSE(run(client.exists("a")));
  // Empty inputs need no round trip.
  EXPECT_TRUE(run(client.mget({})).empty());
  run(client.mset({}));
}

TEST_F(CommandsTest, Counters) {
  EXPECT_EQ(run(client.incr("n")), 1);
  EXPECT_EQ(run(client.incr("n", 10)), 11);
  EXPECT_EQ(run(client.decr("n")), 10);
  EXPECT_EQ(run(client.decr("n", 15)), -5);
  EXPECT_DOUBLE_EQ(run(client.incrbyfloat("f", 1.5)), 1.5);
  EXPECT_DOUBLE_EQ(run(client.incrbyfloat("f", -0.25)), 1.25);
  EXPECT_EQ(run(client.append("s", "ab")), 2);
  EXPECT_EQ(run(client.append("s", "cde")), 5);
  EXPECT_EQ(run(client.strlen("s")), 5);
  EXPECT_EQ(run(client.strlen("missing")), 0);
}

TEST_F(CommandsTest, ErrorRepliesCarryTheServersMessage) {
  run(client.set("text", "abc"));
  const Error not_integer = error_of(client.incr("text"));
  EXPECT_EQ(not_integer.code(), errc::redis_error);
  EXPECT_THAT(not_integer.what(), HasSubstr("ERR value is not an integer"));
  EXPECT_EQ(not_integer.operation(), "INCRBY");
  EXPECT_EQ(not_integer.client(), "redis.test");

  const Error wrong_type = error_of(client.lpush("text", "x"));
  EXPECT_EQ(wrong_type.code(), errc::redis_error);
  EXPECT_THAT(wrong_type.what(), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(error_of(client.hget("text", "f")).code(), errc::redis_error);
  EXPECT_EQ(error_of(client.rename("missing", "x")).code(), errc::redis_error);
  // Error replies are the caller's business: the client stays healthy.
  EXPECT_EQ(client.health(), HealthState::healthy);
}

TEST_F(CommandsTest, KeysAndExpiry) {
  run(client.set("a", "1"));
  run(client.set("b", "2"));
  run(client.set("c", "3"));
  EXPECT_TRUE(run(client.exists("a")));
  EXPECT_EQ(run(client.del("a")), 1);
  EXPECT_EQ(run(client.del("a")), 0);
  const Strings keys{"b", "c", "missing"};
  EXPECT_EQ(run(client.del(keys)), 2);
  EXPECT_EQ(run(client.del(Strings{})), 0);

  run(client.set("u", "1"));
  EXPECT_EQ(run(client.unlink("u")), 1);
  run(client.set("u1", "1"));
  run(client.set("u2", "1"));
  const Strings unlinked{"u1", "u2"};
  EXPECT_EQ(run(client.unlink(unlinked)), 2);

  EXPECT_EQ(run(client.ttl("missing")), (Ttl{Ttl::State::no_key, 0s}));
  EXPECT_FALSE(run(client.ttl("missing")).exists());
  run(client.set("k", "v"));
  EXPECT_EQ(run(client.ttl("k")), (Ttl{Ttl::State::no_expiry, 0s}));
  EXPECT_FALSE(run(client.expire("missing", 10s)));
  EXPECT_TRUE(run(client.expire("k", 10s)));
  const Ttl ttl = run(client.ttl("k"));
  EXPECT_EQ(ttl.state, Ttl::State::expires);
  EXPECT_GT(ttl.remaining, 9s);
  EXPECT_TRUE(run(client.persist("k")));
  EXPECT_FALSE(run(client.persist("k")));
  EXPECT_FALSE(run(client.ttl("k")).expires());
  EXPECT_EQ(error_of(client.expire("k", 0s)).code(), errc::invalid_argument);

  EXPECT_EQ(run(client.type("k")), "string");
  EXPECT_EQ(run(client.type("missing")), "none");
  run(client.rename("k", "k2"));
  EXPECT_FALSE(run(client.exists("k")));
  EXPECT_THAT(run(client.get("k2")), Optional(std::string("v")));
}

TEST_F(CommandsTest, ShortExpiryExpires) {
  run(client.set("k", "v"));
  EXPECT_TRUE(run(client.expire("k", 50ms)));
  std::this_thread::sleep_for(150ms);
  EXPECT_FALSE(run(client.exists("k")));
}

TEST_F(CommandsTest, Hashes) {
  EXPECT_TRUE(run(client.hset("h", "f1", "v1")));
  EXPECT_FALSE(run(client.hset("h", "f1", "v1b")));  // updated, not created
  const StringPairs fields{{"f2", "v2"}, {"f3", "3"}, {"f1", "v1c"}};
  EXPECT_EQ(run(client.hset("h", fields)), 2);
  EXPECT_EQ(run(client.hset("h", StringPairs{})), 0);
  EXPECT_THAT(run(client.hget("h", "f1")), Optional(std::string("v1c")));
  EXPECT_EQ(run(client.hget("h", "nope")), std::nullopt);
  EXPECT_EQ(run(client.hget("missing", "f")), std::nullopt);
  const Strings asked{"f2", "nope", "f1"};
  EXPECT_THAT(run(client.hmget("h", asked)),
              ElementsAre(Optional(std::string("v2")), std::nullopt, Optional(std::string("v1c"))));
  EXPECT_EQ(run(client.hlen("h")), 3);
  EXPECT_TRUE(run(client.hexists("h", "f2")));
  EXPECT_FALSE(run(client.hexists("h", "nope")));
  EXPECT_EQ(run(client.hincrby("h", "f3", 4)), 7);
  EXPECT_THAT(run(client.hkeys("h")), UnorderedElementsAre("f1", "f2", "f3"));
  EXPECT_THAT(run(client.hvals("h")), UnorderedElementsAre("v1c", "v2", "7"));
  EXPECT_TRUE(run(client.hdel("h", "f1")));
  EXPECT_FALSE(run(client.hdel("h", "f1")));
  const Strings removed{"f2", "nope"};
  EXPECT_EQ(run(client.hdel("h", removed)), 1);
  EXPECT_THAT(run(client.hgetall("h")), ElementsAre(Pair("f3", "7")));
}

TEST_F(CommandsTest, HgetallOfAMissingKeyIsEmpty) {
  EXPECT_TRUE(run(client.hgetall("missing")).empty());
  EXPECT_TRUE(run(client.hkeys("missing")).empty());
}

TEST_F(CommandsTest, Lists) {
  EXPECT_EQ(run(client.rpush("l", "b")), 1);
  EXPECT_EQ(run(client.lpush("l", "a")), 2);
  const Strings tail{"c", "d", "c"};
  EXPECT_EQ(run(client.rpush("l", tail)), 5);
  const Strings head{"y", "z"};
  EXPECT_EQ(run(client.lpush("l", head)), 7);  // pushed one by one: z ends up first
  EXPECT_THAT(run(client.lrange("l", 0, -1)), ElementsAre("z", "y", "a", "b", "c", "d", "c"));
  EXPECT_EQ(run(client.llen("l")), 7);
  EXPECT_EQ(run(client.lrem("l", 0, "c")), 2);
  EXPECT_THAT(run(client.lpop("l")), Optional(std::string("z")));
  EXPECT_THAT(run(client.rpop("l")), Optional(std::string("d")));
  run(client.ltrim("l", 1, -1));
  EXPECT_THAT(run(client.lrange("l", 0, -1)), ElementsAre("a", "b"));
  EXPECT_EQ(run(client.lpop("missing")), std::nullopt);
  EXPECT_EQ(run(client.rpop("missing")), std::nullopt);
  EXPECT_TRUE(run(client.lrange("missing", 0, -1)).empty());
  EXPECT_EQ(error_of(client.rpush("l", Strings{})).code(), errc::invalid_argument);
}

TEST_F(CommandsTest, BlpopReturnsAnElementThatIsAlreadyThere) {
  run(client.rpush("q2", "x"));
  const Strings queues{"q1", "q2"};
  EXPECT_THAT(run(client.blpop(queues, 1s)), Optional(Pair("q2", "x")));
  EXPECT_EQ(run(client.llen("q2")), 0);
}

TEST_F(CommandsTest, BlpopTimesOutWithNothing) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run(client.blpop("q", 100ms)), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  // The connection answered in time, so it went back to the pool.
  EXPECT_EQ(client.stats().pool.leased, 0u);
  EXPECT_EQ(client.stats().pool.closed, 0u);
}

TEST_F(CommandsTest, BlpopWaitsOnItsOwnConnectionWhileOthersCarryOn) {
  std::optional<std::pair<std::string, std::string>> popped;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        popped = co_await client.blpop("jobs", 5s);
        done = true;
      },
      asio::detached);
  run_until(io, [&] { return client.stats().pool.leased == 1; });
  // Commands on the shared connection are not queued behind the waiting BLPOP.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(run(client.get("other")), std::nullopt);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_FALSE(done);
  EXPECT_EQ(run(client.rpush("jobs", "job-1")), 1);
  run_until(io, [&] { return done; });
  EXPECT_THAT(popped, Optional(Pair("jobs", "job-1")));
  EXPECT_EQ(client.stats().pool.leased, 0u);
}

TEST_F(CommandsTest, BlpopOnAWrongTypeIsAnError) {
  run(client.set("s", "v"));
  const Error error = error_of(client.blpop("s", 1s));
  EXPECT_EQ(error.code(), errc::redis_error);
  EXPECT_THAT(error.what(), HasSubstr("WRONGTYPE"));
  EXPECT_EQ(error_of(client.blpop(Strings{}, 1s)).code(), errc::invalid_argument);
  EXPECT_EQ(error_of(client.blpop("s", -1s)).code(), errc::invalid_argument);
}

TEST_F(CommandsTest, Sets) {
  EXPECT_TRUE(run(client.sadd("s", "a")));
  EXPECT_FALSE(run(client.sadd("s", "a")));
  const Strings more{"b", "c", "a"};
  EXPECT_EQ(run(client.sadd("s", more)), 2);
  EXPECT_EQ(run(client.scard("s")), 3);
  EXPECT_TRUE(run(client.sismember("s", "b")));
  EXPECT_FALSE(run(client.sismember("s", "z")));
  EXPECT_THAT(run(client.smembers("s")), UnorderedElementsAre("a", "b", "c"));
  EXPECT_TRUE(run(client.srem("s", "a")));
  EXPECT_FALSE(run(client.srem("s", "a")));
  const Strings gone{"b", "z"};
  EXPECT_EQ(run(client.srem("s", gone)), 1);
  EXPECT_THAT(run(client.smembers("s")), ElementsAre("c"));
  EXPECT_TRUE(run(client.smembers("missing")).empty());
}

TEST_F(CommandsTest, SortedSets) {
  EXPECT_TRUE(run(client.zadd("z", 2.5, "b")));
  EXPECT_FALSE(run(client.zadd("z", 2.0, "b")));  // score updated
  const std::vector<std::pair<double, std::string>> members{{1, "a"}, {3, "c"}, {-0.5, "m"}};
  EXPECT_EQ(run(client.zadd("z", members)), 3);
  EXPECT_EQ(run(client.zcard("z")), 4);
  EXPECT_THAT(run(client.zscore("z", "b")), Optional(2.0));
  EXPECT_EQ(run(client.zscore("z", "nope")), std::nullopt);
  EXPECT_DOUBLE_EQ(run(client.zincrby("z", 0.25, "a")), 1.25);
  EXPECT_THAT(run(client.zrange("z", 0, -1)), ElementsAre("m", "a", "b", "c"));
  EXPECT_THAT(run(client.zrange("z", -2, -1)), ElementsAre("b", "c"));
  EXPECT_THAT(run(client.zrange_with_scores("z", 0, 1)),
              ElementsAre(Pair("m", -0.5), Pair("a", 1.25)));
  EXPECT_THAT(run(client.zrangebyscore("z", 1, 2)), ElementsAre("a", "b"));
  constexpr double inf = std::numeric_limits<double>::infinity();
  EXPECT_THAT(run(client.zrangebyscore("z", -inf, 0)), ElementsAre("m"));
  EXPECT_THAT(run(client.zrangebyscore("z", 2, inf)), ElementsAre("b", "c"));
  EXPECT_TRUE(run(client.zrem("z", "m")));
  EXPECT_FALSE(run(client.zrem("z", "m")));
  const Strings gone{"a", "b", "nope"};
  EXPECT_EQ(run(client.zrem("z", gone)), 2);
  EXPECT_THAT(run(client.zrange_with_scores("z", 0, -1)), ElementsAre(Pair("c", 3.0)));
  EXPECT_TRUE(run(client.zrange_with_scores("missing", 0, -1)).empty());
}

TEST_F(CommandsTest, ScanPagesAndScanAll) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 120; ++i) entries.emplace_back("user:" + std::to_string(i), "x");
  entries.emplace_back("other", "y");
  run(client.mset(entries));
  run(client.hset("user:hash", "f", "v"));

  // Page by page: the cursor comes back to 0 exactly once, and every key shows up.
  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int pages = 0;
  do {
    ScanPage page = run(client.scan(cursor, {.match = "user:*", .count = 20}));
    seen.insert(page.keys.begin(), page.keys.end());
    cursor = page.cursor;
    ++pages;
  } while (cursor != 0 && pages < 1000);
  EXPECT_EQ(seen.size(), 121u);
  EXPECT_GT(pages, 1);

  const Strings all = run(client.scan_all({.match = "user:*", .count = 7}));
  EXPECT_EQ(all.size(), 121u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), seen);
  EXPECT_EQ(run(client.scan_all()).size(), 122u);
  EXPECT_THAT(run(client.scan_all({.type = "hash"})), ElementsAre("user:hash"));
  EXPECT_TRUE(run(client.scan_all({.match = "nothing:*"})).empty());
}

TEST_F(CommandsTest, CommandsGoThroughTheClientsPipelineAndStats) {
  const std::uint64_t before = client.stats().commands;
  run(client.set("k", "v"));
  run(client.get("k"));
  (void)error_of(client.incr("k"));
  EXPECT_EQ(client.stats().commands, before + 3);
  EXPECT_EQ(client.stats().errors, 0u);  // a WRONGTYPE-style reply is not a failure
}

TEST_F(CommandsTest, AClosedClientRefusesTypedCommands) {
  client.close();
  EXPECT_EQ(error_of(client.get("k")).code(), errc::shutting_down);
  EXPECT_EQ(error_of(client.blpop("k", 1s)).code(), errc::shutting_down);
}

// --- RESP2 -------------------------------------------------------------------------------------

TEST_F(Resp2CommandsTest, HgetallFromAFlatArray) {
  const StringPairs fields{{"a", "1"}, {"b", "2"}};
  run(client.hset("h", fields));
  EXPECT_THAT(run(client.hgetall("h")), UnorderedElementsAre(Pair("a", "1"), Pair("b", "2")));
  EXPECT_TRUE(run(client.hgetall("missing")).empty());
}

TEST_F(Resp2CommandsTest, ScoresAsText) {
  const std::vector<std::pair<double, std::string>> members{{1.5, "a"}, {-2, "b"}};
  run(client.zadd("z", members));
  EXPECT_THAT(run(client.zrange_with_scores("z", 0, -1)),
              ElementsAre(Pair("b", -2.0), Pair("a", 1.5)));
  EXPECT_THAT(run(client.zscore("z", "a")), Optional(1.5));
  EXPECT_EQ(run(client.zscore("z", "nope")), std::nullopt);
  EXPECT_DOUBLE_EQ(run(client.zincrby("z", 1, "a")), 2.5);
  EXPECT_DOUBLE_EQ(run(client.incrbyfloat("f", 0.5)), 0.5);
}

TEST_F(Resp2CommandsTest, MgetScanSmembersAndBlpop) {
  const StringPairs entries{{"k1", "1"}, {"k2", "2"}};
  run(client.mset(entries));
  const Strings keys{"k1", "nope", "k2"};
  EXPECT_THAT(run(client.mget(keys)),
              ElementsAre(Optional(std::string("1")), std::nullopt, Optional(std::string("2"))));
  EXPECT_THAT(run(client.scan_all({.match = "k*"})), UnorderedElementsAre("k1", "k2"));
  const ScanPage page = run(client.scan(0, {.count = 1000}));
  EXPECT_EQ(page.cursor, 0u);
  EXPECT_THAT(page.keys, UnorderedElementsAre("k1", "k2"));
  const Strings members{"x", "y"};
  run(client.sadd("s", members));
  EXPECT_THAT(run(client.smembers("s")), UnorderedElementsAre("x", "y"));
  EXPECT_EQ(run(client.blpop("q", 50ms)), std::nullopt);  // RESP2's null array
  run(client.rpush("q", "v"));
  EXPECT_THAT(run(client.blpop("q", 1s)), Optional(Pair("q", "v")));
  EXPECT_EQ(run(client.ttl("k1")).state, Ttl::State::no_expiry);
}

// --- Replies of an unexpected type --------------------------------------------------------------

TEST(CommandsReplyTypeTest, AReplyOfTheWrongTypeIsAProtocolError) {
  // GET answers with STRLEN's integer: a server speaking another dialect.
  RedisServer server(
      {.extra_args = {"--rename-command", "GET", "REALGET", "--rename-command", "STRLEN", "GET"}});
  asio::io_context io;
  Client client(io.get_executor(), config_for(server, Protocol::resp3));
  const Error error = error_of(io, client.get("k"));
  EXPECT_EQ(error.code(), errc::protocol_error);
  EXPECT_EQ(error.operation(), "GET");
  EXPECT_THAT(error.what(), HasSubstr("expected a string, got integer"));
}

}  // namespace
}  // namespace bulwark::redis
