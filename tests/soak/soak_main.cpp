// `make soak`: mixed HTTP and Redis traffic through a ClientManager for a while (--duration, 5
// minutes by default) while faults switch on and off at random between the clients and their
// servers; then a report of what happened and whether anything was lost or leaked. Exits 1 when
// a bound it prints is broken, 2 on a bad option.
//
// Everything runs on loopback: a redis-server (append-only file, fsync on every write, so that a
// restart keeps every acknowledged write), an HTTP server in this process, and a fault proxy in
// front of each.

#include "bulwark/core/runtime.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/manager/config.hpp"
#include "bulwark/observe/registry.hpp"
#include "bulwark/redis/sync_client.hpp"
#include "soak_faults.hpp"
#include "soak_metrics.hpp"
#include "soak_options.hpp"
#include "soak_report.hpp"
#include "soak_traffic.hpp"
#include "support/fault_proxy.hpp"
#include "support/http_server.hpp"
#include "support/process_stats.hpp"
#include "support/redis_server.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>

namespace bulwark::soak {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr seconds warm_up{2};
constexpr seconds settle{3};
// After settling, every call of this last stretch must succeed.
constexpr seconds final_stretch{2};

// Timeouts of 250 ms, which the proxies' latency faults straddle; breakers that open after a
// burst of failures and probe again after a second; health checks twice a second, so failed
// clients get rebuilt during the run.
std::string soak_config_yaml(std::uint16_t http_port, std::uint16_t redis_port) {
  return fmt::format(R"(defaults:
  retry:
    max_attempts: 3
    backoff: {{type: exponential, initial: 20ms, multiplier: 2, max: 100ms, jitter: full}}
  circuit_breaker:
    window_size: 50
    minimum_calls: 20
    failure_rate_threshold: 50%
    consecutive_failures: 10
    recovery_timeout: 1s
    half_open_permitted_calls: 2
    half_open_success_threshold: 2

health: {{interval: 500ms, timeout: 250ms, max_consecutive_failures: 2}}

http_pool:
  max_connections: 16
  connect_timeout: 250ms
  read_timeout: 250ms
  write_timeout: 250ms
  pool_timeout: 500ms

services:
  {0}:
    url: http://127.0.0.1:{1}
    health: {{path: /healthz}}
    timeout: 1s

redis:
  url: redis://127.0.0.1:{2}
  client_name: bulwark-soak
  connect_timeout: 250ms
  command_timeout: 250ms
  wait_for_loading: 2s
  pool: {{acquire_timeout: 500ms}}
  databases: {{{3}: 0}}
)",
                     http_client_name, http_port, redis_port, redis_client_name);
}

// Marks the writes the HTTP server received (POST /write?id=N) and forgets every request, so
// that the server's memory stays flat however long the run.
void harvest(test::HttpServer& server, IdSet& received) {
  for (const test::RecordedRequest& request : server.take_requests()) {
    if (request.method != "POST" || request.path() != "/write") continue;
    const std::string_view target = request.target;
    const std::size_t at = target.find("id=");
    if (at == std::string_view::npos) continue;
    std::uint64_t id = 0;
    const char* first = target.data() + at + 3;
    if (std::from_chars(first, target.data() + target.size(), id).ec == std::errc()) {
      received.insert(id);
    }
  }
}

// What the main thread does while the traffic runs: harvests the HTTP server's requests every
// second and prints progress every ten.
struct Watch {
  test::HttpServer& server;
  IdSet& received;
  const Traffic& traffic;
  Clock::time_point began = Clock::now();
  Clock::time_point next_progress = began + seconds(10);
};

void run_for(Clock::duration length, Watch& watch) {
  const Clock::time_point until = Clock::now() + length;
  while (Clock::now() < until) {
    std::this_thread::sleep_for(std::min<Clock::duration>(seconds(1), until - Clock::now()));
    harvest(watch.server, watch.received);
    if (Clock::now() >= watch.next_progress) {
      watch.next_progress += seconds(10);
      const Traffic& traffic = watch.traffic;
      const Clock::time_point began = watch.began;
      const ClientTally http = traffic.http();
      const ClientTally redis = traffic.redis();
      std::printf(
          "progress: %.0f s, http %llu calls (%llu succeeded), redis %llu calls (%llu "
          "succeeded)\n",
          std::chrono::duration<double>(Clock::now() - began).count(),
          static_cast<unsigned long long>(http.all.total()),
          static_cast<unsigned long long>(http.succeeded.total()),
          static_cast<unsigned long long>(redis.all.total()),
          static_cast<unsigned long long>(redis.succeeded.total()));
      std::fflush(stdout);
    }
  }
}

// Acknowledged SETs missing from redis-server, read straight from it (no proxy).
std::uint64_t missing_redis_writes(redis::SyncClient& direct, const IdSet& acknowledged) {
  std::uint64_t missing = 0;
  const std::vector<std::uint64_t> ids = acknowledged.ids();
  constexpr std::size_t batch = 1000;
  for (std::size_t from = 0; from < ids.size(); from += batch) {
    std::vector<std::string> keys;
    for (std::size_t i = from; i < std::min(ids.size(), from + batch); ++i) {
      keys.push_back(fmt::format("soak:w:{}", ids[i]));
    }
    for (const std::optional<std::string>& value : direct.mget(keys)) {
      if (!value) ++missing;
    }
  }
  return missing;
}

int run(const Options& options) {
  test::RedisServerOptions redis_options;
  redis_options.persistence = true;
  redis_options.unix_socket = false;
  test::RedisServer redis_server(redis_options);
  test::HttpServer http_server;
  test::FaultProxy http_proxy("127.0.0.1", http_server.port(),
                              static_cast<std::uint32_t>(options.seed));
  test::FaultProxy redis_proxy("127.0.0.1", redis_server.port(),
                               static_cast<std::uint32_t>(options.seed + 1));

  Runtime runtime;
  redis::ClientConfig direct_config;
  direct_config.name = "soak-verifier";
  direct_config.connection.port = redis_server.port();
  redis::SyncClient direct(runtime, direct_config);
  direct.command("FLUSHALL");
  for (std::size_t key = 0; key < redis_read_keys; ++key) {
    direct.command("SET", fmt::format("soak:r:{}", key), fmt::format("value-{}", key));
  }

  Report report;
  report.http.name = http_client_name;
  report.redis.name = redis_client_name;
  IdSet http_received;
  report.fds_before = test::open_fd_count();
  const Environment no_environment = [](std::string_view) { return std::optional<std::string>(); };
  {
    ClientManager manager(parse_config(soak_config_yaml(http_proxy.port(), redis_proxy.port()),
                                       no_environment, "soak config"));
    manager.start();
    Traffic traffic(manager, options);
    Watch watch{http_server, http_received, traffic};
    traffic.start();
    std::printf("soak: warming up for %lld s\n", static_cast<long long>(warm_up.count()));
    run_for(warm_up, watch);
    report.rss_start_kib = test::resident_kib();
    report.fds_start = test::open_fd_count();

    std::printf("soak: faults on for %s (seed %llu)\n", format_duration(options.duration).c_str(),
                static_cast<unsigned long long>(options.seed));
    std::fflush(stdout);
    FaultSchedule http_faults("http", http_proxy, options.seed);
    FaultSchedule redis_faults(
        "redis", redis_proxy, options.seed + 7,
        {{"restart_server", [&](test::FaultProxy&) { redis_server.restart(); }}});
    http_faults.start();
    redis_faults.start();
    run_for(options.duration, watch);
    http_faults.stop();
    redis_faults.stop();

    std::printf("soak: faults off, settling for %lld s\n",
                static_cast<long long>((settle + final_stretch).count()));
    std::fflush(stdout);
    run_for(settle, watch);
    traffic.reset_window();
    run_for(final_stretch, watch);
    report.final_calls = traffic.window_calls();
    report.final_failures = traffic.window_failures();
    report.rss_end_kib = test::resident_kib();
    report.fds_end = test::open_fd_count();
    traffic.stop();
    report.elapsed = Clock::now() - watch.began;
    harvest(http_server, http_received);

    const std::string exposition = manager.metrics().expose();
    for (ClientReport* client : {&report.http, &report.redis}) {
      client->transitions = breaker_transitions(exposition, client->name);
      client->retries = retries(exposition, client->name);
    }
    report.http.tally = traffic.http();
    report.redis.tally = traffic.redis();
    report.http.faults = http_faults.counts();
    report.http.faulty_time = http_faults.faulty_time();
    report.redis.faults = redis_faults.counts();
    report.redis.faulty_time = redis_faults.faulty_time();
    report.misdelivered = traffic.misdelivered();
    for (const std::uint64_t id : traffic.http_writes_acknowledged().ids()) {
      if (!http_received.contains(id)) ++report.http_writes_lost;
    }
    report.http_writes_acknowledged = traffic.http_writes_acknowledged().size();
    report.redis_writes_acknowledged = traffic.redis_writes_acknowledged().size();
    report.redis_writes_lost = missing_redis_writes(direct, traffic.redis_writes_acknowledged());
    report.redis_increments_acknowledged = traffic.redis_increments_acknowledged();
    const std::optional<std::string> counter = direct.get("soak:counter");
    if (counter)
      std::from_chars(counter->data(), counter->data() + counter->size(), report.redis_counter);
    manager.stop();
  }
  // The manager's sockets close on its threads; the servers' and proxies' ends follow.
  test::FaultProxy::wait_for([&] {
    return http_server.connections_open() == 0 && http_proxy.stats().open == 0 &&
           redis_proxy.stats().open == 0;
  });
  test::FaultProxy::wait_for([&] { return test::open_fd_count() <= report.fds_before; },
                             milliseconds(2000));
  report.fds_after = test::open_fd_count();

  const std::vector<std::string> broken = print_report(report, options);
  for (const std::string& sentence : broken)
    std::fprintf(stderr, "soak: bound broken: %s\n", sentence.c_str());
  return broken.empty() ? 0 : 1;
}

}  // namespace
}  // namespace bulwark::soak

int main(int argc, char** argv) {
  const bulwark::soak::Options options = bulwark::soak::parse_options(argc, argv);
  try {
    return bulwark::soak::run(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "soak: %s\n", error.what());
    return 1;
  }
}
