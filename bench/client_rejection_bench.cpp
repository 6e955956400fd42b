// What a call costs a caller when the client's breaker is open: the whole `execute()` of the HTTP
// and Redis clients, request building included, measured in the same run as the bare breaker
// (resilience_bench.cpp prints them together).

#include "client_rejection_bench.hpp"

#include "bulwark/http/client.hpp"
#include "bulwark/redis/client.hpp"

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>

namespace bulwark::bench {

namespace asio = boost::asio;

namespace {

// Runs `loop` as a coroutine on a fresh io_context until it returns. A rejected call never
// suspends, so the whole benchmark runs inline on this thread.
template <class Loop>
void run_coroutine(Loop loop) {
  asio::io_context io;
  asio::co_spawn(io, loop(io.get_executor()), [&](std::exception_ptr error) {
    io.stop();
    if (error) std::abort();
  });
  io.run();
}

void BM_http_client_open_reject(benchmark::State& state) {
  run_coroutine([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    http::ClientConfig config;
    config.name = "bench";
    config.base_url = "http://127.0.0.1:9";
    http::Client client(executor, config);
    client.resilience().circuit_breaker()->force_open();
    for (auto _ : state) {
      http::Request request = http::Request::get("/items/1");
      Result<http::Response> result = co_await client.execute(std::move(request));
      if (result || result.error() != errc::circuit_open) std::abort();
      benchmark::DoNotOptimize(result);
    }
    client.close();
  });
}

void BM_redis_client_open_reject(benchmark::State& state) {
  run_coroutine([&](asio::any_io_executor executor) -> asio::awaitable<void> {
    redis::ClientConfig config;
    config.name = "bench";
    config.connection.port = 9;
    redis::Client client(executor, config);
    client.resilience().circuit_breaker()->force_open();
    for (auto _ : state) {
      redis::Command command = redis::make_command("GET", "key:1");
      Result<redis::Value> result = co_await client.execute(std::move(command));
      if (result || result.error() != errc::circuit_open) std::abort();
      benchmark::DoNotOptimize(result);
    }
    client.close();
  });
}

}  // namespace

void register_client_rejection_benchmarks() {
  benchmark::RegisterBenchmark("BM_http_client_open_reject", BM_http_client_open_reject);
  benchmark::RegisterBenchmark("BM_redis_client_open_reject", BM_redis_client_open_reject);
}

}  // namespace bulwark::bench
