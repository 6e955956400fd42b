// Redis Cluster without a cluster: key slots and hash tags, which arguments are keys, the slot
// map built from CLUSTER SHARDS / CLUSTER SLOTS replies, MOVED/ASK parsing, the configuration,
// and commands refused before anything is sent.
#include "bulwark/redis/cluster.hpp"

#include "bulwark/redis/client.hpp"
#include "bulwark/redis/sentinel.hpp"
#include "redis/detail/cluster_router.hpp"
#include "redis/detail/command_keys.hpp"
#include "redis/detail/slot_map.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace bulwark::redis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(KeySlot, MatchesRedisForKnownKeys) {
  // The CRC16 check value of the XMODEM variant, and slots Redis reports (CLUSTER KEYSLOT).
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("bar"), 5061);
  EXPECT_EQ(key_slot("hello"), 866);
  EXPECT_EQ(key_slot(""), 0);
}

TEST(KeySlot, HashTagsGroupKeys) {
  EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
  EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
  // Only the first {...} counts; an empty one means the whole key is hashed.
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");
  EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % cluster_slot_count);
}

TEST(NodeAddressTest, ParsesHostAndPort) {
  EXPECT_EQ(NodeAddress::parse("127.0.0.1:7000"), (NodeAddress{"127.0.0.1", 7000}));
  EXPECT_EQ(NodeAddress::parse("[::1]:7001"), (NodeAddress{"::1", 7001}));
  EXPECT_EQ((NodeAddress{"::1", 7001}).to_string(), "[::1]:7001");
  EXPECT_EQ((NodeAddress{"redis-a", 6379}).to_string(), "redis-a:6379");
}

TEST(NodeAddressTest, RejectsWhatIsNotHostAndPort) {
  for (const char* bad :
       {"localhost", ":7000", "host:", "host:0", "host:70000", "host:7x", "::1:7000"}) {
    EXPECT_THROW((void)NodeAddress::parse(bad), ConfigError) << bad;
  }
  try {
    (void)NodeAddress::parse("redis-a", "redis.cluster.nodes[2]");
    FAIL();
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_EQ(error.issues()[0].path, "redis.cluster.nodes[2]");
    EXPECT_THAT(error.issues()[0].message, HasSubstr("redis-a"));
  }
}

TEST(ClusterConfigTest, ValidateNamesEveryBadField) {
  ClusterConfig config;
  config.nodes = {"127.0.0.1:7000", "nope"};
  config.max_redirects = 0;
  config.refresh_interval = -std::chrono::milliseconds(1);
  std::vector<ConfigIssue> issues;
  validate(config, issues, "cluster");
  std::vector<std::string> paths;
  for (const ConfigIssue& issue : issues) paths.push_back(issue.path);
  EXPECT_THAT(paths,
              ElementsAre("cluster.nodes[1]", "cluster.max_redirects", "cluster.refresh_interval"));

  issues.clear();
  validate(ClusterConfig{}, issues, "cluster");
  ASSERT_EQ(issues.size(), 1U);
  EXPECT_EQ(issues[0].path, "cluster.nodes");
}

TEST(ClusterConfigTest, ClientRefusesDatabaseOtherThanZero) {
  boost::asio::io_context io;
  ClientConfig config;
  config.cluster = ClusterConfig{};
  config.cluster->nodes = {"127.0.0.1:7000"};
  config.connection.database = 2;
  try {
    Client client(io.get_executor(), config);
    FAIL();
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_EQ(error.issues()[0].path, "redis.database");
  }
}

TEST(ClusterConfigTest, ClientRefusesSentinelAndClusterTogether) {
  boost::asio::io_context io;
  ClientConfig config;
  config.cluster = ClusterConfig{};
  config.cluster->nodes = {"127.0.0.1:7000"};
  config.sentinel = SentinelConfig{};
  config.sentinel->master_name = "mymaster";
  config.sentinel->nodes = {parse_sentinel_node("127.0.0.1:26379", "nodes[0]")};
  try {
    Client client(io.get_executor(), config);
    FAIL();
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.issues().size(), 1U);
    EXPECT_EQ(error.issues()[0].path, "redis.sentinel");
    EXPECT_THAT(error.issues()[0].message, testing::HasSubstr("cannot be combined"));
  }
}

std::optional<std::vector<std::string_view>> keys_of(std::vector<std::string_view> arguments) {
  return detail::command_keys(arguments);
}

TEST(CommandKeys, KnowsTheTypedCommands) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(keys_of({"GET", "a"}), V{"a"});
  EXPECT_EQ(keys_of({"set", "a", "1", "PX", "100"}), V{"a"});
  EXPECT_EQ(keys_of({"MGET", "a", "b", "c"}), (V{"a", "b", "c"}));
  EXPECT_EQ(keys_of({"MSET", "a", "1", "b", "2"}), (V{"a", "b"}));
  EXPECT_EQ(keys_of({"DEL", "a", "b"}), (V{"a", "b"}));
  EXPECT_EQ(keys_of({"RENAME", "a", "b"}), (V{"a", "b"}));
  EXPECT_EQ(keys_of({"HSET", "h", "f", "v"}), V{"h"});
  EXPECT_EQ(keys_of({"BLPOP", "a", "b", "0.5"}), (V{"a", "b"}));
  EXPECT_EQ(keys_of({"EVALSHA", "sha", "2", "k1", "k2", "arg"}), (V{"k1", "k2"}));
  EXPECT_EQ(keys_of({"EVAL", "return 1", "0"}), V{});
  EXPECT_EQ(keys_of({"ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (V{"dst", "a", "b"}));
  EXPECT_EQ(keys_of({"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}), (V{"s1", "s2"}));
  EXPECT_EQ(keys_of({"OBJECT", "ENCODING", "k"}), V{"k"});
  EXPECT_EQ(keys_of({"PING"}), V{});
  EXPECT_EQ(keys_of({"SCAN", "0"}), V{});
  EXPECT_EQ(keys_of({"NOTACOMMAND", "x"}), std::nullopt);
}

TEST(CommandKeys, CommandArgumentsRoundTrip) {
  Command command("SET");
  command.arg("key with\r\nbytes").arg(42).arg(std::string("\0x", 2));
  EXPECT_THAT(command.arguments(),
              ElementsAre("SET", "key with\r\nbytes", "42", std::string_view("\0x", 2)));
}

TEST(Redirects, ParsesMovedAndAsk) {
  const auto moved = detail::parse_redirect(Value::simple_error("MOVED 3999 127.0.0.1:6381"), "h");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, detail::Redirect::Kind::moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node, (NodeAddress{"127.0.0.1", 6381}));

  const auto ask = detail::parse_redirect(Value::simple_error("ASK 12 :7002"), "10.0.0.5");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, detail::Redirect::Kind::ask);
  EXPECT_EQ(ask->node, (NodeAddress{"10.0.0.5", 7002}));

  // Redis names IPv6 nodes without brackets.
  const auto v6 = detail::parse_redirect(Value::simple_error("MOVED 3999 2001:db8::1:7000"), "h");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->node, (NodeAddress{"2001:db8::1", 7000}));

  EXPECT_FALSE(detail::parse_redirect(Value::simple_error("MOVED 1 h:0"), "h"));
  EXPECT_FALSE(detail::parse_redirect(Value::simple_error("MOVED 1 h:port"), "h"));
  EXPECT_FALSE(detail::parse_redirect(Value::simple_error("ERR wrong"), "h"));
  EXPECT_FALSE(detail::parse_redirect(Value::simple_error("MOVED 99999 h:1"), "h"));
  EXPECT_FALSE(detail::parse_redirect(Value::simple_error("MOVED 1"), "h"));
  EXPECT_FALSE(detail::parse_redirect(Value::bulk_string("MOVED 1 h:1"), "h"));
}

Value node_record(std::string ip, std::int64_t port, std::string role, std::string health) {
  std::vector<std::pair<Value, Value>> fields;
  fields.emplace_back(Value::bulk_string("id"), Value::bulk_string("abc"));
  fields.emplace_back(Value::bulk_string("port"), Value::integer(port));
  fields.emplace_back(Value::bulk_string("ip"), Value::bulk_string(std::move(ip)));
  fields.emplace_back(Value::bulk_string("endpoint"), Value::bulk_string("?"));
  fields.emplace_back(Value::bulk_string("role"), Value::bulk_string(std::move(role)));
  fields.emplace_back(Value::bulk_string("health"), Value::bulk_string(std::move(health)));
  return Value::map(std::move(fields));
}

Value shard(std::vector<std::int64_t> ranges, std::vector<Value> nodes) {
  std::vector<Value> slots;
  for (const std::int64_t slot : ranges) slots.push_back(Value::integer(slot));
  std::vector<std::pair<Value, Value>> fields;
  fields.emplace_back(Value::bulk_string("slots"), Value::array(std::move(slots)));
  fields.emplace_back(Value::bulk_string("nodes"), Value::array(std::move(nodes)));
  return Value::map(std::move(fields));
}

TEST(SlotMapTest, ReadsClusterShards) {
  std::vector<Value> shards;
  shards.push_back(
      shard({0, 5460, 10923, 10999}, {node_record("10.0.0.1", 7000, "master", "online"),
                                      node_record("10.0.0.9", 7009, "replica", "online")}));
  shards.push_back(shard({5461, 10922}, {node_record("10.0.0.8", 7008, "replica", "online"),
                                         node_record("", 7001, "master", "online")}));
  // A shard whose master failed serves nothing.
  shards.push_back(shard({11000, 16383}, {node_record("10.0.0.3", 7003, "master", "failed")}));
  const Result<detail::SlotMap> map =
      detail::SlotMap::from_shards(Value::array(std::move(shards)), "asked", false);
  ASSERT_TRUE(map);
  EXPECT_EQ(*map->owner(0), (NodeAddress{"10.0.0.1", 7000}));
  EXPECT_EQ(*map->owner(10999), (NodeAddress{"10.0.0.1", 7000}));
  EXPECT_EQ(*map->owner(5461), (NodeAddress{"asked", 7001}));
  EXPECT_EQ(map->owner(11000), nullptr);
  EXPECT_EQ(map->covered(), 11000U);
  EXPECT_EQ(map->nodes().size(), 2U);
}

TEST(SlotMapTest, ReadsClusterShardsAsFlatArraysOverResp2) {
  std::vector<Value> node = {Value::bulk_string("port"),   Value::integer(7000),
                             Value::bulk_string("ip"),     Value::bulk_string("10.0.0.1"),
                             Value::bulk_string("role"),   Value::bulk_string("master"),
                             Value::bulk_string("health"), Value::bulk_string("online")};
  std::vector<Value> nodes;
  nodes.push_back(Value::array(std::move(node)));
  std::vector<Value> record = {Value::bulk_string("slots"),
                               Value::array({Value::integer(0), Value::integer(16383)}),
                               Value::bulk_string("nodes"), Value::array(std::move(nodes))};
  std::vector<Value> shards;
  shards.push_back(Value::array(std::move(record)));
  const Result<detail::SlotMap> map =
      detail::SlotMap::from_shards(Value::array(std::move(shards)), "asked", false);
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered(), 16384U);
}

TEST(SlotMapTest, ReadsClusterSlotsAndTakesMoved) {
  auto range = [](std::int64_t first, std::int64_t last, std::string host, std::int64_t port) {
    std::vector<Value> master = {Value::bulk_string(std::move(host)), Value::integer(port),
                                 Value::bulk_string("id")};
    std::vector<Value> out = {Value::integer(first), Value::integer(last),
                              Value::array(std::move(master))};
    return Value::array(std::move(out));
  };
  std::vector<Value> ranges = {range(0, 8191, "10.0.0.1", 7000), range(8192, 16383, "", 7001)};
  Result<detail::SlotMap> map = detail::SlotMap::from_slots(Value::array(std::move(ranges)), "me");
  ASSERT_TRUE(map);
  EXPECT_EQ(map->covered(), 16384U);
  EXPECT_EQ(*map->owner(9000), (NodeAddress{"me", 7001}));
  map->assign(9000, NodeAddress{"10.0.0.1", 7000});
  EXPECT_EQ(*map->owner(9000), (NodeAddress{"10.0.0.1", 7000}));
  EXPECT_EQ(*map->owner(9001), (NodeAddress{"me", 7001}));
}

TEST(SlotMapTest, RefusesMalformedReplies) {
  EXPECT_FALSE(detail::SlotMap::from_slots(Value::integer(1), "h"));
  std::vector<Value> bad = {
      Value::array({Value::integer(5), Value::integer(1),
                    Value::array({Value::bulk_string("h"), Value::integer(1)})})};
  EXPECT_FALSE(detail::SlotMap::from_slots(Value::array(std::move(bad)), "h"));
  std::vector<Value> no_nodes = {Value::map({})};
  EXPECT_FALSE(detail::SlotMap::from_shards(Value::array(std::move(no_nodes)), "h", false));
}

// Commands whose keys span slots are refused before anything is sent: no server is running, so
// anything sent would fail with connect_failed instead.
TEST(ClusterClient, RefusesCrossSlotCommandsBeforeSending) {
  boost::asio::io_context io;
  ClientConfig config;
  config.cluster = ClusterConfig{};
  config.cluster->nodes = {"127.0.0.1:1"};
  config.retry.reset();
  Client client(io.get_executor(), config);
  const std::vector<std::string> keys = {"foo", "bar"};
  auto future = boost::asio::co_spawn(io, client.mget(keys), boost::asio::use_future);
  // Refused without waiting for anything: the handlers ready now are enough (the pool's reaper
  // keeps a timer, so `run()` would not return).
  for (int i = 0; i < 100 && future.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
       ++i) {
    io.poll();
  }
  ASSERT_EQ(future.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  try {
    (void)future.get();
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
    EXPECT_THAT(error.what(), HasSubstr("\"foo\" -> slot 12182"));
    EXPECT_THAT(error.what(), HasSubstr("\"bar\" -> slot 5061"));
    EXPECT_THAT(error.what(), HasSubstr("hash tag"));
  }
  EXPECT_EQ(client.stats().pool.created, 0U);
  EXPECT_EQ(client.stats().pool.connect_failures, 0U);
}

}  // namespace
}  // namespace bulwark::redis
