// redis::Client behind Redis Sentinel, against a real deployment (one master, one replica, three
// sentinels, quorum 2): discovery, AUTH on the sentinels, failovers by SENTINEL FAILOVER and by
// killing the master under a write load, and reads from the replica.
//
// What replication can lose, and what these tests therefore assert: Redis replicates
// asynchronously, so a write the master acknowledged but had not yet sent to the replica when it
// died (or when the replica was promoted) is gone after the failover; no client can prevent that.
// A write followed by `WAIT 1 0` that returned 1 was on the replica before it was acknowledged to
// the writer: those must all survive (strict zero loss). Writes without WAIT are counted and
// their loss is reported, not asserted. Writes the new master acknowledged must all be there.
#include "bulwark/core/runtime.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/redis/client.hpp"
#include "bulwark/redis/sentinel.hpp"
#include "bulwark/redis/sync_client.hpp"
#include "support/chaos.hpp"
#include "support/sentinel_topology.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::SentinelTopology;
using test::SentinelTopologyOptions;
using Clock = std::chrono::steady_clock;

// An io_context run by a thread of its own, so that the test's thread may block on redis-cli
// and on the processes while the client works.
class Loop {
 public:
  Loop() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~Loop() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  asio::any_io_executor executor() { return io_.get_executor(); }
  template <class T>
  T run(asio::awaitable<T> work) {
    // Not std::future: ThreadSanitizer cannot see libstdc++'s exception_ptr reference count, and
    // reports a failed discovery's exception as released on two threads at once.
    return bulwark::detail::block_on(io_.get_executor(), std::move(work));
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

ClientConfig sentinel_client(const SentinelTopology& topology) {
  ClientConfig config;
  config.name = "redis.sentinel";
  config.sentinel = topology.client_config();
  config.connection.password = Secret(topology.options().data_password);
  config.connection.connect_timeout = 500ms;
  config.command_timeout = 1s;
  config.retry->backoff = {.type = BackoffType::constant, .initial = 50ms, .jitter = Jitter::none};
  // The breaker would keep rejecting for its recovery timeout after the failover is over; these
  // tests measure how fast the client itself follows the master.
  config.circuit_breaker.reset();
  return config;
}

asio::awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

// Waits on the test's thread until `done()`; false after `limit`.
template <class Done>
bool eventually(Done done, std::chrono::seconds limit = 30s) {
  const auto give_up = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

std::uint16_t port_of(const Value& config_get) {
  // CONFIG GET port: a map over RESP3, a flat list over RESP2.
  const Value* value = config_get.type() == Type::map ? config_get.find("port")
                       : config_get.size() == 2       ? &config_get.at(1)
                                                      : nullptr;
  if (value == nullptr || !value->is_string()) return 0;
  return static_cast<std::uint16_t>(std::stoi(std::string(value->as_string())));
}

// A writer: SET <prefix>:<i> <i>, then (with `wait`) WAIT 1 0, one pipeline after another,
// noting which node acknowledged each write and when.
struct Writer {
  struct Ack {
    int index = 0;
    std::uint16_t port = 0;  // the node that acknowledged it
    bool confirmed = false;  // WAIT 1 0 answered 1: the replica had it
    Clock::time_point at{};
  };

  Writer(std::string key_prefix, bool with_wait) : prefix(std::move(key_prefix)), wait(with_wait) {}

  std::string prefix;
  bool wait = false;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  mutable std::mutex mutex;
  std::vector<Ack> acks;

  std::size_t acked() const {
    std::lock_guard lock(mutex);
    return acks.size();
  }
  std::size_t acked_by(std::uint16_t port) const {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(
        std::count_if(acks.begin(), acks.end(), [&](const Ack& a) { return a.port == port; }));
  }
  std::optional<Clock::time_point> first_ack_by(std::uint16_t port) const {
    std::lock_guard lock(mutex);
    for (const Ack& ack : acks) {
      if (ack.port == port) return ack.at;
    }
    return std::nullopt;
  }

  asio::awaitable<void> run(Client& client) {
    for (int i = 0; !stop.load(); ++i) {
      std::vector<Command> batch;
      batch.push_back(make_command("SET", fmt::format("{}:{}", prefix, i), i));
      batch.push_back(make_command("CONFIG", "GET", "port"));
      if (wait) batch.push_back(make_command("WAIT", 1, 0));
      bool ok = false;
      try {
        std::vector<Value> replies = co_await client.pipeline(std::move(batch));
        if (!replies[0].is_error()) {
          Ack ack{.index = i, .port = port_of(replies[1]), .confirmed = false, .at = Clock::now()};
          ack.confirmed =
              wait && replies[2].type() == Type::integer && replies[2].as_integer() >= 1;
          std::lock_guard lock(mutex);
          acks.push_back(ack);
          ok = true;
        }
      } catch (const std::exception&) {
        // The outcome of this write is unknown: not counted as acknowledged.
      }
      if (!ok) {
        failures.fetch_add(1);
        co_await pause(10ms);
      }
    }
    done.store(true);
  }
};

// Writes that must be on `port` and are not: reads them back over a plain connection.
asio::awaitable<std::vector<int>> missing_on(std::uint16_t port, std::string password,
                                             std::string prefix, std::vector<int> indices) {
  ClientConfig config;
  config.connection.port = port;
  config.connection.password = Secret(std::move(password));
  Client reader(co_await asio::this_coro::executor, config);
  std::vector<int> missing;
  for (std::size_t start = 0; start < indices.size(); start += 500) {
    std::vector<std::string> keys;
    for (std::size_t k = start; k < std::min(indices.size(), start + 500); ++k) {
      keys.push_back(fmt::format("{}:{}", prefix, indices[k]));
    }
    const std::vector<std::optional<std::string>> values = co_await reader.mget(keys);
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (values[k] != std::to_string(indices[start + k])) missing.push_back(indices[start + k]);
    }
  }
  reader.close();
  co_return missing;
}

struct SentinelTest : ::testing::Test {};

TEST_F(SentinelTest, DiscoversTheMasterAndItsReplica) {
  SentinelTopology topology;
  Loop loop;
  const Endpoint master = loop.run(discover_master(loop.executor(), topology.client_config()));
  EXPECT_EQ(master, (Endpoint{"127.0.0.1", topology.first_master().port()}));
  const std::vector<Endpoint> replicas =
      loop.run(discover_replicas(loop.executor(), topology.client_config()));
  ASSERT_EQ(replicas.size(), 1u);
  EXPECT_EQ(replicas[0].port, topology.first_replica().port());

  // The first sentinel listed is down: the next ones answer.
  topology.kill_sentinel(0);
  const Endpoint again = loop.run(discover_master(loop.executor(), topology.client_config()));
  EXPECT_EQ(again.port, topology.first_master().port());

  Client client(loop.executor(), sentinel_client(topology));
  loop.run(client.command("SET", "where", "master"));
  EXPECT_EQ(topology.first_master().cli({"GET", "where"}), "master");
  const ClientStats stats = client.stats();
  ASSERT_TRUE(stats.sentinel);
  EXPECT_EQ(stats.sentinel->master, fmt::format("127.0.0.1:{}", topology.first_master().port()));
  EXPECT_GE(stats.sentinel->discoveries, 1u);
  EXPECT_GE(stats.sentinel->sentinel_failures, 1u);  // the dead sentinel, asked first
  EXPECT_EQ(stats.sentinel->switches, 0u);
  client.close();
}

TEST_F(SentinelTest, AuthenticatesToSentinelsAndDataNodes) {
  SentinelTopologyOptions options;
  options.sentinel_password = "sentinel-secret";
  options.data_password = "data-secret";
  SentinelTopology topology(options);
  Loop loop;

  Client client(loop.executor(), sentinel_client(topology));
  loop.run(client.command("SET", "k", "v"));
  EXPECT_EQ(loop.run(client.command("GET", "k")).as_string(), "v");
  client.close();

  // A wrong sentinel password: every sentinel refuses, and the error says so without the password.
  ClientConfig wrong = sentinel_client(topology);
  wrong.sentinel->password = Secret("not-the-password");
  wrong.retry.reset();
  Client refused(loop.executor(), wrong);
  try {
    loop.run(refused.command("GET", "k"));
    FAIL() << "a client with the wrong sentinel password got an answer";
  } catch (const Error& error) {
    const std::string what = error.what();
    EXPECT_EQ(error.code(), errc::connect_failed) << what;
    EXPECT_EQ(what.find("not-the-password"), std::string::npos) << what;
  }
  // The story is in the statistics: each sentinel's refusal.
  const std::string why = refused.stats().sentinel->last_error;
  EXPECT_NE(why.find("WRONGPASS"), std::string::npos) << why;
  EXPECT_NE(why.find(fmt::format("sentinel 127.0.0.1:{}", topology.sentinel_port(2))),
            std::string::npos)
      << why;
  EXPECT_EQ(why.find("not-the-password"), std::string::npos) << why;
  EXPECT_EQ(why.find("sentinel-secret"), std::string::npos) << why;
  refused.close();

  // No password at all.
  ClientConfig none = sentinel_client(topology);
  none.sentinel->password = Secret();
  EXPECT_THROW((void)loop.run(discover_master(loop.executor(), *none.sentinel)), Error);
}

TEST_F(SentinelTest, UnknownMasterNameIsAClearError) {
  SentinelTopology topology;
  Loop loop;
  SentinelConfig config = topology.client_config();
  config.master_name = "no-such-group";
  try {
    (void)loop.run(discover_master(loop.executor(), config));
    FAIL() << "discovered a master the sentinels do not monitor";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::connect_failed);
    EXPECT_NE(std::string(error.what()).find("does not monitor a master named \"no-such-group\""),
              std::string::npos)
        << error.what();
  }
}

// Runs a writer with WAIT and one without through a failover caused by `fail_over`, and checks
// what the issue asks: the client follows, writes continue, and nothing is lost beyond what
// asynchronous replication loses.
void failover_under_load(SentinelTopology& topology, std::string_view scenario,
                         const std::function<void()>& fail_over, bool new_master_has_replica) {
  Loop loop;
  Client client(loop.executor(), sentinel_client(topology));
  Writer waited("waited", /*with_wait=*/true);
  Writer unwaited("plain", /*with_wait=*/false);
  asio::co_spawn(loop.executor(), waited.run(client), asio::detached);
  asio::co_spawn(loop.executor(), unwaited.run(client), asio::detached);

  const std::uint16_t old_port = topology.first_master().port();
  ASSERT_TRUE(eventually([&] { return waited.acked() >= 200 && unwaited.acked() >= 200; }))
      << "the writers did not get going";

  const Clock::time_point started = Clock::now();
  fail_over();
  const std::uint16_t new_port = topology.wait_for_new_master(old_port, 60s);
  ASSERT_NE(new_port, old_port);
  const Clock::time_point promoted = Clock::now();

  // The client follows: writes are acknowledged by the new master.
  ASSERT_TRUE(eventually([&] { return unwaited.acked_by(new_port) >= 200; }, 60s))
      << "writes did not resume on the new master";
  if (new_master_has_replica) {
    ASSERT_TRUE(eventually([&] { return waited.acked_by(new_port) >= 50; }, 60s))
        << "WAITed writes did not resume on the new master";
  }
  waited.stop = true;
  unwaited.stop = true;
  ASSERT_TRUE(eventually([&] { return waited.done.load() && unwaited.done.load(); }));

  const ClientStats stats = client.stats();
  ASSERT_TRUE(stats.sentinel);
  EXPECT_EQ(stats.sentinel->master, fmt::format("127.0.0.1:{}", new_port));
  EXPECT_GE(stats.sentinel->switches, 1u);

  // Strict: WAIT-confirmed writes, and every write the new master acknowledged, are there.
  std::vector<int> must_survive_waited;
  std::vector<int> must_survive_plain;
  std::vector<int> may_be_lost;  // acknowledged by the old master without WAIT
  std::size_t confirmed = 0;
  for (const Writer::Ack& ack : waited.acks) {
    if (ack.confirmed || ack.port == new_port) must_survive_waited.push_back(ack.index);
    confirmed += ack.confirmed ? 1 : 0;
  }
  for (const Writer::Ack& ack : unwaited.acks) {
    (ack.port == new_port ? must_survive_plain : may_be_lost).push_back(ack.index);
  }
  const std::string password = topology.options().data_password;
  const std::vector<int> lost_waited =
      loop.run(missing_on(new_port, password, "waited", must_survive_waited));
  const std::vector<int> lost_plain =
      loop.run(missing_on(new_port, password, "plain", must_survive_plain));
  const std::vector<int> lost_unconfirmed =
      loop.run(missing_on(new_port, password, "plain", may_be_lost));
  EXPECT_TRUE(lost_waited.empty()) << lost_waited.size() << " WAIT-confirmed writes were lost";
  EXPECT_TRUE(lost_plain.empty()) << lost_plain.size()
                                  << " writes acknowledged by the new master were lost";

  const auto first_write = unwaited.first_ack_by(new_port);
  ASSERT_TRUE(first_write);
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  test::Figures(std::string(scenario))
      .add("promotion_ms", ms(promoted - started))
      .add("first_write_on_new_master_ms", ms(*first_write - started))
      .add("acked_waited", waited.acks.size())
      .add("confirmed", confirmed)
      .add("acked_plain", unwaited.acks.size())
      .add("plain_on_old_master", may_be_lost.size())
      .add("plain_lost", lost_unconfirmed.size())
      .add("failed_writes", waited.failures.load() + unwaited.failures.load())
      .add("switches", stats.sentinel->switches)
      .add("role_mismatches", stats.sentinel->role_mismatches)
      .add("discoveries", stats.sentinel->discoveries)
      .print();
  client.close();
}

TEST_F(SentinelTest, FollowsSentinelFailoverUnderWriteLoad) {
  SentinelTopology topology;
  failover_under_load(
      topology, "redis.sentinel.failover_command",
      [&] {
        ASSERT_EQ(topology.sentinel_cli(0, {"SENTINEL", "FAILOVER", "mymaster"}), "OK");
      },
      /*new_master_has_replica=*/true);
  // The old master came back as a replica of the new one.
  EXPECT_TRUE(
      eventually([&] { return topology.first_master().cli({"ROLE"}).rfind("slave", 0) == 0; }));
}

TEST_F(SentinelTest, FollowsPromotionWhenTheMasterIsKilled) {
  SentinelTopology topology;
  failover_under_load(
      topology, "redis.sentinel.master_killed", [&] { topology.first_master().kill9(); },
      /*new_master_has_replica=*/false);
}

TEST_F(SentinelTest, ReadsGoToTheReplica) {
  SentinelTopology topology;
  Loop loop;
  ClientConfig config = sentinel_client(topology);
  config.sentinel->use_replicas_for_reads = true;
  Client client(loop.executor(), config);

  loop.run(client.command("SET", "shared", "value"));
  EXPECT_EQ(topology.first_master().cli({"GET", "shared"}), "value");
  // Reads may lag behind writes: wait until the replica has it.
  ASSERT_TRUE(eventually([&] {
    return topology.first_replica().cli({"GET", "shared"}) == "value";
  }));
  const auto gets_on = [](test::RedisServer& node) {
    const std::string stats = node.cli({"INFO", "commandstats"});
    const std::size_t at = stats.find("cmdstat_get:calls=");
    if (at == std::string::npos) return 0;
    return std::stoi(stats.substr(at + std::string_view("cmdstat_get:calls=").size()));
  };
  const int master_before = gets_on(topology.first_master());
  const int replica_before = gets_on(topology.first_replica());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(loop.run(client.get("shared")), "value");
  }
  EXPECT_EQ(gets_on(topology.first_replica()) - replica_before, 20);
  EXPECT_EQ(gets_on(topology.first_master()) - master_before, 0);
  // Writes still go to the master.
  loop.run(client.command("SET", "shared", "again"));
  EXPECT_EQ(topology.first_master().cli({"GET", "shared"}), "again");

  // Without a replica, reads go to the master.
  topology.first_replica().kill9();
  ASSERT_TRUE(eventually([&] {
    try {
      return loop.run(client.get("shared")) == std::optional<std::string>("again");
    } catch (const Error&) {
      return false;
    }
  }));
  client.close();
}

TEST_F(SentinelTest, ANodeInTheWrongRoleIsNotUsed) {
  SentinelTopology topology;
  Loop loop;
  // The replica turns master behind the sentinels' back: they go on listing it as a replica
  // until their next look at it (up to ten seconds).
  ASSERT_EQ(topology.first_replica().cli({"REPLICAOF", "NO", "ONE"}), "OK");
  ClientConfig config = sentinel_client(topology);
  config.sentinel->use_replicas_for_reads = true;
  Client client(loop.executor(), config);
  loop.run(client.command("SET", "k", "from-master"));
  // The ROLE check refuses the "replica", so the read is served by the master.
  EXPECT_EQ(loop.run(client.get("k")), std::optional<std::string>("from-master"));
  EXPECT_EQ(topology.first_replica().cli({"GET", "k"}), "");
  const ClientStats stats = client.stats();
  ASSERT_TRUE(stats.sentinel);
  EXPECT_GE(stats.sentinel->role_mismatches, 1u);
  client.close();
}

TEST_F(SentinelTest, AManagerBuildsFollowingClientsFromYaml) {
  SentinelTopologyOptions options;
  options.sentinel_password = "sentinel-secret";
  options.data_password = "data-secret";
  SentinelTopology topology(options);
  const std::string yaml =
      fmt::format(R"(
redis:
  password: "${{DATA_PASSWORD}}"
  sentinel:
    master: mymaster
    nodes: ["127.0.0.1:{}", "127.0.0.1:{}", "127.0.0.1:{}"]
    password: "${{SENTINEL_PASSWORD}}"
  databases:
    cache: 2
)",
                  topology.sentinel_port(0), topology.sentinel_port(1), topology.sentinel_port(2));
  const std::map<std::string, std::string, std::less<>> variables = {
      {"DATA_PASSWORD", "data-secret"}, {"SENTINEL_PASSWORD", "sentinel-secret"}};
  const Environment environment = [&](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
  ClientManager manager(parse_config(yaml, environment, "sentinel.yaml"));
  auto cache = manager.redis_sync("cache");
  cache->set("from-yaml", "yes");
  EXPECT_EQ(topology.first_master().cli({"-n", "2", "GET", "from-yaml"}), "yes");
  EXPECT_EQ(manager.check_now_blocking().find("cache")->state, HealthState::healthy);
  manager.stop();
}

TEST_F(SentinelTest, BadConfigurationIsRefusedUpFront) {
  Loop loop;
  ClientConfig config;
  config.sentinel = SentinelConfig{};
  config.sentinel->nodes.push_back({"127.0.0.1", 0});
  config.sentinel->timeout = Duration::zero();
  try {
    Client client(loop.executor(), config);
    FAIL() << "accepted a sentinel configuration without master name";
  } catch (const ConfigError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("redis.sentinel.master_name"), std::string::npos) << what;
    EXPECT_NE(what.find("redis.sentinel.nodes[0]"), std::string::npos) << what;
    EXPECT_NE(what.find("redis.sentinel.timeout"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace bulwark::redis
