// http::SyncClient against the test server: blocking calls on a Runtime, the same errors as the
// async client, many threads sharing one client, and a call from the runtime's own thread that
// fails instead of deadlocking.
#include "bulwark/http/sync_client.hpp"
#include "support/http_server.hpp"
#include "support/redis_server.hpp"  // free_port()

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

namespace bulwark::http {
namespace {

using namespace std::chrono_literals;
using test::HttpServer;

struct HttpSyncClientTest : ::testing::Test {
  HttpServer server;
  // Two threads: the client's handlers must be safe on a multi-threaded executor.
  Runtime runtime{{.threads = 2}};

  ClientConfig config() {
    ClientConfig config;
    config.name = "sync";
    config.base_url = server.base_url();
    config.timeouts.connect = 2s;
    config.retry.reset();
    return config;
  }
};

TEST_F(HttpSyncClientTest, BlockingCallsReturnResponses) {
  SyncClient client(runtime, config());
  const Response reply = client.get(server.url("/status/201"));
  EXPECT_EQ(reply.status, 201u);
  EXPECT_EQ(reply.body, "status 201");

  const Response posted = client.post_json(server.url("/echo"), {{"n", 1}});
  EXPECT_EQ(posted.json().at("method").as_string(), "POST");
  const boost::json::value echoed = client.json(Request::get(server.url("/echo")));
  EXPECT_EQ(echoed.at("path").as_string(), "/echo");
  EXPECT_EQ(client.del(server.url("/echo")).json().at("method").as_string(), "DELETE");

  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.pool.created, 1u);
  EXPECT_EQ(stats.pool.active, 0u);
  client.close();
  EXPECT_EQ(client.stats().pool.idle, 0u);
  EXPECT_TRUE(HttpServer::wait_for([&] { return server.connections_open() == 0; }));
}

TEST_F(HttpSyncClientTest, ErrorsAreThrownOrReturned) {
  SyncClient client(runtime, config());
  const std::string nobody = "http://127.0.0.1:" + std::to_string(test::free_port());
  const Result<Response> refused = client.execute(Request::get(nobody + "/x"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::connect_failed);
  try {
    (void)client.send(Request::get(server.url("/garbage")));
    ADD_FAILURE() << "no error for garbage";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), errc::protocol_error);
  }
  EXPECT_EQ(client.get(server.url("/status/200")).status, 200u);
  EXPECT_EQ(client.stats().pool.active, 0u);
  client.close();
}

TEST_F(HttpSyncClientTest, AReadTimeoutIsATimeoutOnAMultiThreadedRuntime) {
  // The timer that ends a read and the read's completion may run on different threads here.
  ClientConfig settings = config();
  settings.timeouts.read = 50ms;
  SyncClient client(runtime, settings);
  for (int i = 0; i < 5; ++i) {
    const Result<Response> timed_out =
        client.execute(Request::get(server.url("/status/200?delay_ms=200")));
    ASSERT_FALSE(timed_out);
    EXPECT_EQ(timed_out.error(), errc::timeout)
        << "attempt " << i << ": " << error_name(timed_out.error());
  }
  EXPECT_EQ(client.stats().pool.active, 0u);
  client.close();
}

TEST_F(HttpSyncClientTest, ThreadsShareOneClient) {
  ClientConfig settings = config();
  settings.pool.max_connections = 4;
  settings.pool.max_keepalive_connections = 4;
  SyncClient client(runtime, settings);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (client.get(server.url("/status/200")).status == 200) ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
  const ClientStats stats = client.stats();
  EXPECT_EQ(stats.requests, 40u);
  EXPECT_LE(stats.pool.created, 4u);
  EXPECT_EQ(stats.pool.active, 0u);
  client.close();
  EXPECT_TRUE(HttpServer::wait_for([&] { return server.connections_open() == 0; }));
}

TEST_F(HttpSyncClientTest, ACallFromTheRuntimeThreadFailsInsteadOfDeadlocking) {
  SyncClient client(runtime, config());
  std::promise<std::string> outcome;
  boost::asio::post(runtime.executor(), [&] {
    try {
      (void)client.get(server.url("/status/200"));
      outcome.set_value("returned");
    } catch (const Error& error) {
      outcome.set_value(error_name(error.code()));
    }
  });
  EXPECT_EQ(outcome.get_future().get(), "invalid_argument");
  EXPECT_EQ(server.request_count(), 0u);
  client.close();
}

}  // namespace
}  // namespace bulwark::http
