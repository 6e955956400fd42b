// redis::Client against a real 3-master Redis Cluster (redis-server, joined by
// `redis-cli --cluster create`): commands land on the node that serves their slot, hash tags
// keep keys together, cross-slot commands are refused, MOVED after a slot moved, ASK and
// TRYAGAIN while it moves, and a load of GET/SET/INCR that sees no failure while slots are
// resharded under it.
#include "support/redis_cluster.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/redis/client.hpp"
#include "bulwark/redis/cluster.hpp"
#include "bulwark/redis/script.hpp"
#include "support/run.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisCluster;
using ::testing::HasSubstr;

// A field of a command's line in INFO COMMANDSTATS,
// "cmdstat_get:calls=3,usec=...,rejected_calls=1,failed_calls=0": `rejected_calls` counts the
// commands a node refused (MOVED, ASK, TRYAGAIN).
std::uint64_t stat_of(test::RedisServer& node, std::string_view command, std::string_view field) {
  const std::string stats = node.cli({"INFO", "COMMANDSTATS"});
  const std::string line_tag = "cmdstat_" + std::string(command) + ":";
  const std::size_t line = stats.find(line_tag);
  if (line == std::string::npos) return 0;
  const std::string tag = std::string(field) + "=";
  const std::size_t at = stats.find(tag, line);
  if (at == std::string::npos) return 0;
  return std::stoull(stats.substr(at + tag.size()));
}

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new RedisCluster(3); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  ClusterTest() { client = make_client(); }

  std::unique_ptr<Client> make_client(std::vector<std::string> nodes = {}) {
    ClientConfig config;
    config.name = "redis.cluster";
    config.cluster = ClusterConfig{};
    config.cluster->nodes =
        nodes.empty() ? std::vector<std::string>{cluster().addresses().at(1)} : std::move(nodes);
    config.command_timeout = 5s;
    return std::make_unique<Client>(io.get_executor(), config);
  }

  static RedisCluster& cluster() { return *cluster_; }

  template <class T>
  T run(asio::awaitable<T> work) {
    return test::run(io, std::move(work));
  }

  // Keys whose slots lie on node `node`, as many as asked.
  static std::vector<std::string> keys_on(std::size_t node, std::size_t count,
                                          std::string_view prefix) {
    const std::vector<std::size_t> owners = cluster().owners();
    std::vector<std::string> keys;
    for (int i = 0; keys.size() < count; ++i) {
      std::string key = fmt::format("{}:{}", prefix, i);
      if (owners[key_slot(key)] == node) keys.push_back(std::move(key));
    }
    return keys;
  }

  static inline RedisCluster* cluster_ = nullptr;
  asio::io_context io;
  std::unique_ptr<Client> client;
};

TEST_F(ClusterTest, SlotsOfKnownKeysMatchTheServer) {
  for (const char* key : {"foo", "bar", "hello", "{user1000}.following", "a{}b"}) {
    EXPECT_EQ(std::to_string(key_slot(key)), cluster().node(0).cli({"CLUSTER", "KEYSLOT", key}))
        << key;
  }
}

TEST_F(ClusterTest, CommandsAcrossManyKeysLandOnTheirNodes) {
  for (std::size_t i = 0; i < cluster().size(); ++i) (void)cluster().node(i).cli({"FLUSHALL"});
  constexpr int count = 600;
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < count; ++i) {
      co_await client->set(fmt::format("spread:{}", i), fmt::format("value-{}", i));
    }
  }());
  // Every key sits on the node that serves its slot, and every node got its share.
  const std::vector<std::size_t> owners = cluster().owners();
  std::vector<std::size_t> expected(cluster().size(), 0);
  for (int i = 0; i < count; ++i) ++expected[owners[key_slot(fmt::format("spread:{}", i))]];
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    EXPECT_GT(expected[node], 100U);
    EXPECT_EQ(cluster().key_count(node), expected[node]) << "node " << node;
  }
  const std::string probe = "spread:7";
  EXPECT_EQ(cluster().node(owners[key_slot(probe)]).cli({"GET", probe}), "value-7");

  const auto values = run([&]() -> asio::awaitable<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out;
    for (int i = 0; i < count; ++i)
      out.push_back(co_await client->get(fmt::format("spread:{}", i)));
    co_return out;
  }());
  for (int i = 0; i < count; ++i) EXPECT_EQ(values[i], fmt::format("value-{}", i));
  // One pool per node, each with a connection; all three counted in the client's statistics.
  EXPECT_EQ(client->stats().pool.open, cluster().size());
  EXPECT_EQ(client->stats().pool.max, cluster().size() * PoolConfig{}.max_connections);
  EXPECT_EQ(client->health(), HealthState::healthy);
}

TEST_F(ClusterTest, HashTagsKeepKeysTogether) {
  const std::vector<std::pair<std::string, std::string>> entries = {
      {"{user1000}.following", "a"}, {"{user1000}.followers", "b"}, {"{user1000}.name", "c"}};
  run(client->mset(entries));
  const std::vector<std::string> keys = {"{user1000}.following", "{user1000}.followers",
                                         "{user1000}.name"};
  const auto values = run(client->mget(keys));
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"a", "b", "c"}));

  // A transaction, a WATCH and a BLPOP on one tag go to its node.
  const auto replies = run(client->transaction(
      {make_command("INCR", "{user1000}.visits"), make_command("GET", "{user1000}.name")}));
  ASSERT_EQ(replies.size(), 2U);
  EXPECT_EQ(replies[1].as_string(), "c");
  run(client->rpush("{user1000}.queue", "job"));
  const auto popped = run(client->blpop("{user1000}.queue", 1s));
  ASSERT_TRUE(popped);
  EXPECT_EQ(popped->second, "job");
  const std::vector<std::string> watched = {"{user1000}.name"};
  const auto exec =
      run(client->watch(watched, [](Connection&) -> asio::awaitable<std::vector<Command>> {
        std::vector<Command> commands;
        commands.push_back(make_command("SET", "{user1000}.name", "d"));
        co_return commands;
      }));
  ASSERT_TRUE(exec);
  EXPECT_EQ(run(client->get("{user1000}.name")), "d");
}

TEST_F(ClusterTest, CrossSlotCommandsAreRefusedBeforeSending) {
  const std::vector<std::string> keys = {"foo", "bar"};
  try {
    (void)run(client->mget(keys));
    FAIL() << "MGET across slots succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
    EXPECT_THAT(error.what(), HasSubstr("\"foo\" -> slot 12182"));
    EXPECT_THAT(error.what(), HasSubstr("\"bar\" -> slot 5061"));
  }
  try {
    (void)run(
        client->transaction({make_command("SET", "foo", "1"), make_command("SET", "bar", "2")}));
    FAIL() << "a transaction across slots ran";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::invalid_argument);
    EXPECT_THAT(error.what(), HasSubstr("12182"));
  }
  // Nothing was written.
  EXPECT_EQ(run(client->get("foo")), std::nullopt);
}

TEST_F(ClusterTest, PipelinesAreSplitByNodeAndAnsweredInOrder) {
  std::vector<Command> commands;
  for (int i = 0; i < 30; ++i)
    commands.push_back(make_command("SET", fmt::format("pipe:{}", i), i));
  commands.push_back(make_command("PING"));
  for (int i = 0; i < 30; ++i) commands.push_back(make_command("GET", fmt::format("pipe:{}", i)));
  const std::vector<Value> replies = run(client->pipeline(std::move(commands)));
  ASSERT_EQ(replies.size(), 61U);
  EXPECT_EQ(replies[30].as_string(), "PONG");
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(replies[static_cast<std::size_t>(i)].as_string(), "OK");
    EXPECT_EQ(replies[static_cast<std::size_t>(31 + i)].as_string(), std::to_string(i));
  }
}

TEST_F(ClusterTest, MovedAfterASlotMigratedRefreshesTheMap) {
  const std::string key = "moving:key";
  run(client->set(key, "before"));
  const std::uint16_t slot = key_slot(key);
  const std::size_t from = cluster().owner(slot);
  const std::size_t to = (from + 1) % cluster().size();
  const std::uint64_t rejected_before = stat_of(cluster().node(from), "get", "rejected_calls");
  ASSERT_EQ(cluster().move_slot(slot, to), from);

  // The client still routes the slot to `from`: one MOVED, then the map knows.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(run(client->get(key)), "before");
  const std::uint64_t moved =
      stat_of(cluster().node(from), "get", "rejected_calls") - rejected_before;
  EXPECT_GE(moved, 1U);
  EXPECT_LE(moved, 2U);
  run(client->set(key, "after"));
  EXPECT_EQ(cluster().node(to).cli({"GET", key}), "after");

  // A transaction sent to the old master is refused while queueing (MOVED, then EXECABORT:
  // nothing ran) and sent again, whole, to the new one.
  const std::size_t third = (to + 1) % cluster().size();
  ASSERT_EQ(cluster().move_slot(slot, third), to);
  const auto replies =
      run(client->transaction({make_command("SET", key, "in-tx"), make_command("GET", key)}));
  ASSERT_EQ(replies.size(), 2U);
  EXPECT_EQ(replies[1].as_string(), "in-tx");
  EXPECT_EQ(cluster().node(third).cli({"GET", key}), "in-tx");
}

TEST_F(ClusterTest, AskWhileASlotIsHalfMigrated) {
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(fmt::format("{{asked}}:{}", i));
  for (const std::string& key : keys) run(client->set(key, key + "-value"));
  const std::uint16_t slot = key_slot(keys.front());
  const std::size_t from = cluster().owner(slot);
  const std::size_t to = (from + 2) % cluster().size();
  cluster().begin_migration(slot, from, to);
  ASSERT_EQ(cluster().migrate_keys(slot, from, to, 5), 5U);

  // Half the keys answer on the source, the others through ASK on the target.
  for (const std::string& key : keys) EXPECT_EQ(run(client->get(key)), key + "-value");
  // A new key of a migrating slot is created on the target (the source does not have it).
  run(client->set("{asked}:new", "fresh"));
  EXPECT_EQ(run(client->get("{asked}:new")), "fresh");
  EXPECT_EQ(cluster().node(to).cli({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}), "6");
  // ASK changes no map: the source still gets asked first.
  EXPECT_GE(stat_of(cluster().node(to), "asking", "calls"), 6U);
  // In a pipeline, the commands the source redirects are sent again on their own.
  std::vector<Command> gets;
  for (const std::string& key : keys) gets.push_back(make_command("GET", key));
  const std::vector<Value> piped = run(client->pipeline(std::move(gets)));
  ASSERT_EQ(piped.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(piped[i].as_string(), keys[i] + "-value");

  // A multi-key command over keys on both sides is TRYAGAIN until the migration ends.
  std::thread finisher([&] {
    std::this_thread::sleep_for(300ms);
    cluster().migrate_keys(slot, from, to);
    cluster().finish_migration(slot, to);
  });
  const auto values = run(client->mget(keys));
  finisher.join();
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(values[i], keys[i] + "-value");
  EXPECT_GE(stat_of(cluster().node(from), "mget", "rejected_calls") +
                stat_of(cluster().node(to), "mget", "rejected_calls"),
            1U);
}

TEST_F(ClusterTest, ClusterDownIsRetriedUntilTheSlotIsServedAgain) {
  const std::string key = "down:key";
  run(client->set(key, "kept"));
  const std::uint16_t slot = key_slot(key);
  const std::size_t owner = cluster().owner(slot);
  const std::uint64_t rejected_before = stat_of(cluster().node(owner), "get", "rejected_calls");
  // The owner stops serving the slot (its keys stay): "CLUSTERDOWN Hash slot not served".
  ASSERT_EQ(cluster().node(owner).cli({"CLUSTER", "DELSLOTS", std::to_string(slot)}), "OK");
  std::thread restorer([&] {
    std::this_thread::sleep_for(500ms);
    (void)cluster().node(owner).cli({"CLUSTER", "ADDSLOTS", std::to_string(slot)});
  });
  std::optional<std::string> value;
  try {
    value = run(client->get(key));
  } catch (...) {
    restorer.join();
    throw;
  }
  restorer.join();
  EXPECT_EQ(value, "kept");
  EXPECT_GE(stat_of(cluster().node(owner), "get", "rejected_calls") - rejected_before, 1U);
}

TEST_F(ClusterTest, ScriptsAreRoutedByTheirFirstKey) {
  static const Script increment(R"(return redis.call("INCRBY", KEYS[1], ARGV[1]))");
  run(client->load(increment));  // cached on every master
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    EXPECT_EQ(cluster().node(node).cli({"SCRIPT", "EXISTS", increment.sha1()}), "1");
  }
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    const std::vector<std::string> keys = keys_on(node, 1, "script");
    const std::vector<std::string> args = {"5"};
    EXPECT_EQ(run(client->eval(increment, keys, args)).as_integer(), 5);
    EXPECT_EQ(cluster().node(node).cli({"GET", keys.front()}), "5");
  }
  const std::vector<std::string> split = {"foo", "bar"};
  const std::vector<std::string> args = {"1"};
  EXPECT_THROW((void)run(client->eval(increment, split, args)), Error);
}

TEST_F(ClusterTest, CommandsOutsideTheKeyTableAreRoutedThroughCommandGetkeys) {
  // GEORADIUS is not in the client's table: a node says which argument is the key.
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    const std::string key = keys_on(node, 1, "geo").front();
    run(client->command("GEOADD", key, "13.361389", "38.115556", "Palermo"));
    const Value found = run(client->command("GEORADIUS", key, "15", "37", "200", "km"));
    ASSERT_EQ(found.size(), 1U) << found;
    EXPECT_EQ(found.at(0).as_string(), "Palermo");
    EXPECT_GE(stat_of(cluster().node(node), "georadius", "calls"), 1U);
  }
  std::uint64_t getkeys = 0;
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    getkeys += stat_of(cluster().node(node), "command|getkeys", "calls");
  }
  EXPECT_GE(getkeys, cluster().size());
}

TEST_F(ClusterTest, WorksOverResp2) {
  ClientConfig config;
  config.cluster = ClusterConfig{};
  config.cluster->nodes = {cluster().addresses().at(0)};
  config.connection.protocol = Protocol::resp2;
  Client resp2(io.get_executor(), config);
  for (std::size_t node = 0; node < cluster().size(); ++node) {
    const std::string key = keys_on(node, 1, "resp2").front();
    EXPECT_TRUE(run(resp2.set(key, "two")));
    EXPECT_EQ(cluster().node(node).cli({"GET", key}), "two");
  }
}

TEST_F(ClusterTest, ScanAllCoversEveryMaster) {
  for (std::size_t i = 0; i < cluster().size(); ++i) (void)cluster().node(i).cli({"FLUSHALL"});
  for (int i = 0; i < 90; ++i) run(client->set(fmt::format("scan:{}", i), "x"));
  ScanOptions options;
  options.match = "scan:*";
  EXPECT_EQ(run(client->scan_all(options)).size(), 90U);
}

TEST_F(ClusterTest, UnreachableClusterIsFailed) {
  auto lost = make_client({fmt::format("127.0.0.1:{}", test::free_port())});
  try {
    (void)run(lost->get("key"));
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::connect_failed);
  }
  EXPECT_EQ(lost->health(), HealthState::failed);
  // A good seed after a dead one is enough.
  auto second =
      make_client({fmt::format("127.0.0.1:{}", test::free_port()), cluster().addresses().at(2)});
  EXPECT_TRUE(run(second->set("seeded", "1")));
  EXPECT_EQ(second->health(), HealthState::healthy);
}

TEST_F(ClusterTest, ManagerBuildsAClusterDatabaseFromYaml) {
  const std::vector<std::string> addresses = cluster().addresses();
  const std::string yaml = fmt::format(R"(
health: {{timeout: 2s}}
redis:
  databases:
    sessions:
      cluster: {{nodes: ["{}", "{}"]}}
    lost:
      cluster: {{nodes: ["127.0.0.1:{}"]}}
)",
                                       addresses[0], addresses[2], test::free_port());
  ClientManager manager(parse_config(yaml, [](std::string_view) { return std::nullopt; }));
  auto sessions = manager.redis_sync("sessions");
  EXPECT_TRUE(sessions->set("{s}:1", "one"));
  EXPECT_EQ(sessions->get("{s}:1"), "one");
  const HealthReport report = manager.check_now_blocking();
  ASSERT_NE(report.find("sessions"), nullptr);
  EXPECT_EQ(report.find("sessions")->state, HealthState::healthy);
  // The health check's PING could not fetch a slot map.
  ASSERT_NE(report.find("lost"), nullptr);
  EXPECT_NE(report.find("lost")->state, HealthState::healthy);
  EXPECT_THAT(report.find("lost")->last_error, HasSubstr("connect"));
}

// A load of GET/SET/INCR from `workers` coroutines on keys of `tags` hash tags, running until
// `background` (on a thread of its own) returns, and at least 300 commands per coroutine.
struct LoadFigures {
  std::size_t commands = 0;
  double seconds = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;
  std::uint64_t failures = 0;
  std::string first_failure{};
  std::vector<std::int64_t> increments{};

  void print(const char* what) const {
    std::printf(
        "[cluster load] %s: %zu commands (GET/SET/INCR) in %.2fs: %.0f commands/s, latency p50 "
        "%.0fus p99 %.0fus max %.0fus, %llu failures\n",
        what, commands, seconds, static_cast<double>(commands) / seconds, p50_us, p99_us, max_us,
        static_cast<unsigned long long>(failures));
  }
};

constexpr int load_workers = 16;
constexpr int load_tags = 8;

std::string counter_key(int id) { return fmt::format("{{load{}}}:counter:{}", id % load_tags, id); }

LoadFigures run_load(asio::io_context& io, Client& client,
                     const std::function<void()>& background) {
  LoadFigures figures;
  figures.increments.assign(load_workers, 0);
  std::vector<std::vector<double>> latencies(load_workers);
  std::atomic<bool> running{true};
  int done = 0;
  const auto worker = [&](int id) -> asio::awaitable<void> {
    const std::string counter = counter_key(id);
    for (std::uint64_t op = 0; running.load() || op < 300; ++op) {
      const std::string key = fmt::format("{{load{}}}:value:{}", (id + op) % load_tags, op % 50);
      const auto started = std::chrono::steady_clock::now();
      try {
        switch (op % 3) {
          case 0:
            co_await client.set(key, fmt::format("v{}", op));
            break;
          case 1:
            (void)co_await client.get(key);
            break;
          default:
            (void)co_await client.incr(counter);
            ++figures.increments[static_cast<std::size_t>(id)];
            break;
        }
      } catch (const std::exception& error) {
        if (figures.failures++ == 0) figures.first_failure = error.what();
      }
      latencies[static_cast<std::size_t>(id)].push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started)
              .count());
    }
    ++done;
  };
  std::thread side([&] {
    background();
    running = false;
  });
  const auto started = std::chrono::steady_clock::now();
  for (int id = 0; id < load_workers; ++id) asio::co_spawn(io, worker(id), asio::detached);
  test::run_until(
      io, [&] { return done == load_workers; }, std::chrono::seconds(120));
  figures.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  side.join();

  std::vector<double> all;
  for (const auto& list : latencies) all.insert(all.end(), list.begin(), list.end());
  std::sort(all.begin(), all.end());
  const auto percentile = [&](double p) {
    return all[std::min(all.size() - 1,
                        static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  figures.commands = all.size();
  figures.p50_us = percentile(0.50);
  figures.p99_us = percentile(0.99);
  figures.max_us = all.back();
  return figures;
}

// The issue's scenario: slots move while coroutines run GET/SET/INCR; no command may fail, and
// every acknowledged INCR must be counted exactly once. A run without moves comes first, for
// comparison.
TEST_F(ClusterTest, ReshardingUnderLoadFailsNoCommand) {
  for (int id = 0; id < load_workers; ++id) run(client->del(counter_key(id)));
  const LoadFigures steady = run_load(io, *client, [] { std::this_thread::sleep_for(2s); });
  EXPECT_EQ(steady.failures, 0U) << steady.first_failure;
  steady.print("steady, 16 coroutines");
  for (int id = 0; id < load_workers; ++id) run(client->del(counter_key(id)));

  // Every tag's slot moves to the next node, twice over, while the workers run.
  std::vector<std::uint16_t> slots;
  for (int t = 0; t < load_tags; ++t) slots.push_back(key_slot(fmt::format("load{}", t)));
  int moved = 0;
  std::string mover_error;
  const LoadFigures resharding = run_load(io, *client, [&] {
    try {
      std::this_thread::sleep_for(100ms);
      for (int round = 0; round < 2; ++round) {
        for (const std::uint16_t slot : slots) {
          cluster().move_slot(slot, (cluster().owner(slot) + 1) % cluster().size());
          ++moved;
        }
      }
    } catch (const std::exception& error) {
      mover_error = error.what();
    }
  });
  ASSERT_EQ(mover_error, "");
  EXPECT_EQ(moved, 2 * load_tags);
  EXPECT_EQ(resharding.failures, 0U) << "first failure: " << resharding.first_failure;
  for (int id = 0; id < load_workers; ++id) {
    EXPECT_EQ(run(client->get(counter_key(id))).value_or("0"),
              std::to_string(resharding.increments[static_cast<std::size_t>(id)]))
        << counter_key(id);
  }
  resharding.print(fmt::format("resharding, 16 coroutines, {} slot moves", moved).c_str());
}

}  // namespace
}  // namespace bulwark::redis
