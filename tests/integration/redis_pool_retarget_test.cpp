// redis::Pool moving to another server (what a Sentinel failover does to it): connections to
// the old address are dropped — idle ones at once, leased ones when they come back — and new
// ones go to the new address; a custom connector opens them.
#include "bulwark/redis/pool.hpp"
#include "support/redis_server.hpp"
#include "support/run.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace bulwark::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::RedisServer;
using test::RedisServerOptions;
using test::run;

asio::awaitable<void> set_through(Pool& pool, std::string value) {
  Result<std::shared_ptr<Connection>> connection = co_await pool.shared();
  if (!connection) throw Error(connection.error());
  const Command command = make_command("SET", "where", value);
  Result<Value> reply = co_await (*connection)->execute(command);
  if (!reply || reply->is_error()) throw Error(make_error_code(errc::redis_error));
}

TEST(PoolRetarget, DropsConnectionsToTheOldAddress) {
  RedisServerOptions options;
  options.unix_socket = false;
  RedisServer first(options);
  RedisServer second(options);
  asio::io_context io;
  ConnectionConfig config;
  config.port = first.port();
  Pool pool(io.get_executor(), config, {});

  Result<std::shared_ptr<Connection>> shared = run(io, pool.shared());
  ASSERT_TRUE(shared);
  const std::shared_ptr<Connection> old_shared = *shared;
  Result<Lease> lease = run(io, pool.exclusive());
  ASSERT_TRUE(lease);
  run(io, set_through(pool, "first"));
  EXPECT_EQ(pool.stats().open, 2u);

  EXPECT_TRUE(pool.retarget("127.0.0.1", second.port()));
  EXPECT_FALSE(pool.retarget("127.0.0.1", second.port()));  // already there
  EXPECT_EQ(pool.connection_config().port, second.port());
  EXPECT_FALSE(old_shared->is_open());         // idle: closed at once
  EXPECT_TRUE(lease->connection().is_open());  // leased: still its holder's
  EXPECT_EQ(pool.stats().open, 1u);
  lease->release();  // comes back: closed, not reused
  EXPECT_EQ(pool.stats().open, 0u);

  run(io, set_through(pool, "second"));
  EXPECT_EQ(first.cli({"GET", "where"}), "first");
  EXPECT_EQ(second.cli({"GET", "where"}), "second");

  // refresh() drops everything but keeps the address.
  Result<std::shared_ptr<Connection>> again = run(io, pool.shared());
  ASSERT_TRUE(again);
  pool.refresh();
  EXPECT_FALSE((*again)->is_open());
  run(io, set_through(pool, "second again"));
  EXPECT_EQ(second.cli({"GET", "where"}), "second again");
  pool.close();
}

TEST(PoolRetarget, AConnectorDecidesWhereConnectionsGo) {
  RedisServerOptions options;
  options.unix_socket = false;
  RedisServer server(options);
  asio::io_context io;
  ConnectionConfig config;
  config.port = 1;  // nothing listens there: only the connector knows the way
  Pool pool(io.get_executor(), config, {});
  std::atomic<int> opened{0};
  const std::uint16_t port = server.port();
  pool.set_connector([&opened, port](asio::any_io_executor executor, ConnectionConfig settings) {
    ++opened;
    settings.port = port;
    return Connection::connect(std::move(executor), std::move(settings));
  });
  run(io, set_through(pool, "via connector"));
  EXPECT_EQ(server.cli({"GET", "where"}), "via connector");
  EXPECT_EQ(opened.load(), 1);
  pool.close();
}

}  // namespace
}  // namespace bulwark::redis
