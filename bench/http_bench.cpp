// Throughput and latency of the HTTP client beside libcurl and wrk, against one nginx (started
// here on a free loopback port through the test fixture) and the same location, `/hello` (a
// 6-byte static file), with the same number of requests in flight (--concurrency, 64) for the
// same time (--seconds, 5) each:
//
//   bulwark_async     one http::Client, pool max_connections = max_keepalive_connections =
//                     concurrency, default resilience (retry + circuit breaker); `concurrency`
//                     coroutines each looping `co_await client.send(Request::get("/hello"))` on one
//                     io_context run by one thread (what Runtime{.threads = 1} does, without a
//                     hand-off to another thread)
//   bulwark_sync      http::SyncClient on a Runtime with one thread, called from `concurrency`
//                     threads (--sync-threads) each looping get("/hello")
//   libcurl           with connection reuse; see http_bench_curl.cpp (--curl multi|threads)
//   bulwark_unpooled  bulwark_async with pool.keepalive_expiry = 0: a new connection per request
//   wrk               -t2 -c<concurrency> --latency, the ceiling (http_bench_wrk.cpp)
//
// Each prints requests/s, p50 and p99 latency of one request as its caller sees it (measured
// here with steady_clock into a log-linear histogram, about 6% resolution; wrk's own figures for
// wrk), the client's CPU time (user + system, all its threads; wrk's own for wrk) per request,
// and the errors. The bulwark contenders also print their pool's counters (connections
// created, requests on a reused connection). With --rounds R every contender runs R times,
// interleaved with the others, and its median round is what counts. Ends with:
//
//   ratio_vs_libcurl: X    bulwark_async req/s / libcurl req/s
//   ratio_vs_unpooled: X   bulwark_async req/s / bulwark_unpooled req/s
//   fraction_of_wrk: X     bulwark_async req/s / wrk req/s

#include "http_bench.hpp"

#include "bulwark/core/runtime.hpp"
#include "bulwark/http/client.hpp"
#include "bulwark/http/sync_client.hpp"
#include "support/nginx_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <sys/resource.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bulwark::bench {
namespace {

namespace asio = boost::asio;
namespace http = bulwark::http;
using namespace std::chrono_literals;

// ---- options ----------------------------------------------------------------------------------

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) throw std::invalid_argument("missing value after " + std::string(arg));
    if (arg == "--concurrency") {
      options.concurrency = std::strtoull(value, nullptr, 10);
    } else if (arg == "--seconds") {
      options.seconds = std::strtod(value, nullptr);
    } else if (arg == "--nginx-workers") {
      options.nginx_workers = std::atoi(value);
    } else if (arg == "--sync-threads") {
      options.sync_threads = std::strtoull(value, nullptr, 10);
    } else if (arg == "--curl") {
      options.curl = value;
    } else if (arg == "--rounds") {
      options.rounds = std::strtoull(value, nullptr, 10);
    } else if (arg == "--only") {
      options.only = value;
    } else {
      throw std::invalid_argument(
          "unknown option " + std::string(arg) +
          " (--concurrency N, --seconds S, --nginx-workers W, --sync-threads T, "
          "--curl multi|threads, --rounds R, --only CONTENDER)");
    }
    ++i;
  }
  if (options.concurrency == 0 || options.seconds <= 0 || options.nginx_workers <= 0 ||
      options.rounds == 0) {
    throw std::invalid_argument(
        "--concurrency, --seconds, --nginx-workers and --rounds must be positive");
  }
  if (options.sync_threads == 0) options.sync_threads = options.concurrency;
  return options;
}

// ---- bulwark ----------------------------------------------------------------------------------

enum class KeepAlive : std::uint8_t { on, off };

http::ClientConfig client_config(const Options& options, const Target& target, KeepAlive keep) {
  http::ClientConfig config;
  config.name = "bench";
  config.base_url = target.base_url;
  config.pool.max_connections = options.concurrency;
  config.pool.max_keepalive_connections = options.concurrency;
  if (keep == KeepAlive::off) config.pool.keepalive_expiry = bulwark::Duration::zero();
  // retry and circuit_breaker keep their defaults (on).
  return config;
}

// The pool's counters, and how they compare with what the contender should have needed.
std::string pool_note(const http::PoolStats& pool, std::uint64_t expected_created) {
  std::string note = "pool created " + std::to_string(pool.created) + " (expected ~" +
                     std::to_string(expected_created) + "), reused " + std::to_string(pool.reused) +
                     ", requests " + std::to_string(pool.requests);
  if (pool.stale_retries > 0) note += ", stale_retries " + std::to_string(pool.stale_retries);
  if (pool.connect_errors > 0) note += ", connect_errors " + std::to_string(pool.connect_errors);
  if (pool.pool_wait_timeouts > 0) {
    note += ", pool_wait_timeouts " + std::to_string(pool.pool_wait_timeouts);
  }
  return note;
}

Measurement bulwark_async(const Options& options, const Target& target, KeepAlive keep) {
  asio::io_context io(1);
  auto client =
      std::make_unique<http::Client>(io.get_executor(), client_config(options, target, keep));
  Measurement m;
  m.name = keep == KeepAlive::on ? "bulwark_async" : "bulwark_unpooled";
  Histogram latency;

  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = deadline_after(start, options.seconds);
  std::size_t running = options.concurrency;
  Clock::time_point finish{};
  for (std::size_t w = 0; w < options.concurrency; ++w) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          // One thread runs every coroutine: the counters need no synchronisation.
          for (;;) {
            const Clock::time_point t0 = Clock::now();
            if (t0 >= deadline) break;
            try {
              const http::Response response =
                  co_await client->send(http::Request::get(target.path));
              if (response.status == 200 && response.body == target.body) {
                ++m.requests;
              } else {
                ++m.errors;
                if (m.first_error.empty()) {
                  m.first_error = "status " + std::to_string(response.status) + ", body \"" +
                                  response.body.substr(0, 64) + "\"";
                }
              }
            } catch (const std::exception& error) {
              ++m.errors;
              if (m.first_error.empty()) m.first_error = error.what();
            }
            latency.record(elapsed_ns(t0, Clock::now()));
          }
          if (--running == 0) finish = Clock::now();
        },
        asio::detached);
  }
  // Bounded: every coroutine stops at the deadline; the allowance only guards against a hang.
  while (running > 0 && Clock::now() < deadline + 30s && io.run_one_for(1s) > 0) {
  }
  if (running > 0) throw std::runtime_error(m.name + ": workers did not finish");
  m.seconds = std::chrono::duration<double>(finish - start).count();
  m.finish(latency);

  const http::ClientStats stats = client->stats();
  m.note =
      pool_note(stats.pool, keep == KeepAlive::on ? options.concurrency : m.requests + m.errors);
  client->close();
  io.restart();
  io.poll();
  client.reset();
  io.stop();
  return m;
}

Measurement bulwark_sync(const Options& options, const Target& target) {
  bulwark::Runtime runtime({.threads = 1});
  http::SyncClient client(runtime, client_config(options, target, KeepAlive::on));
  Measurement m;
  m.name = "bulwark_sync";
  struct Share {
    Histogram latency{};
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    std::string first_error{};
  };
  std::vector<Share> shares(options.sync_threads);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = deadline_after(start, options.seconds);
  {
    std::vector<std::jthread> workers;
    for (Share& share : shares) {
      workers.emplace_back([&] {
        for (;;) {
          const Clock::time_point t0 = Clock::now();
          if (t0 >= deadline) break;
          try {
            const http::Response response = client.get(target.path);
            if (response.status == 200 && response.body == target.body) {
              ++share.ok;
            } else {
              ++share.errors;
              if (share.first_error.empty()) {
                share.first_error = "status " + std::to_string(response.status);
              }
            }
          } catch (const std::exception& error) {
            ++share.errors;
            if (share.first_error.empty()) share.first_error = error.what();
          }
          share.latency.record(elapsed_ns(t0, Clock::now()));
        }
      });
    }
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Histogram latency;
  for (const Share& share : shares) {
    latency.merge(share.latency);
    m.requests += share.ok;
    m.errors += share.errors;
    if (m.first_error.empty()) m.first_error = share.first_error;
  }
  m.finish(latency);
  m.note = std::to_string(options.sync_threads) + " caller threads, runtime 1 thread; " +
           pool_note(client.stats().pool, std::min(options.concurrency, options.sync_threads));
  client.close();
  return m;
}

// ---- output -----------------------------------------------------------------------------------

// The 1-minute load average: other processes on the machine skew every figure.
std::string load_average() {
  FILE* file = std::fopen("/proc/loadavg", "r");
  if (file == nullptr) return "?";
  std::array<char, 64> buffer{};
  std::string text = std::fgets(buffer.data(), static_cast<int>(buffer.size()), file) != nullptr
                         ? std::string(buffer.data())
                         : std::string("?");
  std::fclose(file);
  return text.substr(0, text.find(' '));
}

std::string nginx_version() {
  FILE* pipe = ::popen("nginx -v 2>&1", "r");
  if (pipe == nullptr) return "nginx";
  std::array<char, 256> buffer{};
  std::string text;
  if (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    text = buffer.data();
  }
  ::pclose(pipe);
  const std::size_t at = text.find("nginx/");
  if (at == std::string::npos) return "nginx";
  return text.substr(at, text.find_first_of(" \r\n", at) - at);
}

// CPU time (user + system) used so far by this process and by its children that ended (wrk), in
// seconds. The machine is shared: CPU per request is steadier than requests per second.
double cpu_seconds() {
  double total = 0;
  for (const int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage usage{};
    ::getrusage(who, &usage);
    for (const timeval& t : {usage.ru_utime, usage.ru_stime}) {
      total += static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    }
  }
  return total;
}

void print_header() {
  std::printf("%-17s %9s %9s %9s %9s %10s %7s  %s\n", "contender", "requests", "req/s", "p50_us",
              "p99_us", "cpu_us/req", "errors", "notes");
}

void print(const Measurement& m) {
  std::printf("%-17s %9llu %9.0f %9.1f %9.1f %10.1f %7llu  %s\n", m.name.c_str(),
              static_cast<unsigned long long>(m.requests), m.rps, m.p50_us, m.p99_us, m.cpu_us,
              static_cast<unsigned long long>(m.errors), m.note.c_str());
  if (m.errors > 0) {
    std::printf("!!! %s: %llu ERRORS; first: %s\n", m.name.c_str(),
                static_cast<unsigned long long>(m.errors), m.first_error.c_str());
    std::fprintf(stderr, "bench_http: %s had %llu errors; first: %s\n", m.name.c_str(),
                 static_cast<unsigned long long>(m.errors), m.first_error.c_str());
  }
  std::fflush(stdout);
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

int run(const Options& options) {
  bulwark::test::NginxServer nginx(bulwark::test::NginxOptions{
      .keepalive_requests = 100'000'000, .worker_processes = options.nginx_workers});
  const Target target{nginx.base_url(), "/hello", "hello\n"};

  std::printf(
      "%s at %s, worker_processes %d (%s), keepalive_requests 100000000; GET %s (%zu-byte "
      "static file)\n",
      nginx_version().c_str(), target.base_url.c_str(), options.nginx_workers,
      options.nginx_workers == 1 ? "leaves one of the 2 cores to the client"
                                 : "competes with the client for the cores",
      target.path.c_str(), target.body.size());
  std::printf(
      "every contender: %zu requests in flight for %.0f s, %zu round(s); the machine's %u cores "
      "are shared by nginx, the client and wrk; load average before the run %s\n",
      options.concurrency, options.seconds, options.rounds, std::thread::hardware_concurrency(),
      load_average().c_str());
  std::printf(
      "bulwark_async: %zu coroutines, 1 io_context, 1 thread; pool max_connections = "
      "max_keepalive = %zu; retry + breaker on\n",
      options.concurrency, options.concurrency);
  std::printf("bulwark_sync: %zu threads calling a SyncClient on a 1-thread Runtime\n",
              options.sync_threads);
  std::printf("libcurl: %s\n",
              options.curl == "multi"
                  ? "multi interface (socket_action + epoll) in 1 thread, easy handles re-added "
                    "after each transfer, connections reused through the multi's cache"
                  : "one thread per request in flight, each reusing its own easy handle");
  std::printf(
      "bulwark_unpooled: bulwark_async with pool.keepalive_expiry = 0 (a new connection "
      "per request)\n\n");

  struct Contender {
    const char* name;
    std::function<Measurement()> run;
  };
  std::vector<Contender> contenders{
      {"bulwark_async", [&] { return bulwark_async(options, target, KeepAlive::on); }},
      {"bulwark_sync", [&] { return bulwark_sync(options, target); }},
      {"libcurl", [&] { return libcurl(options, target); }},
      {"bulwark_unpooled", [&] { return bulwark_async(options, target, KeepAlive::off); }},
      {"wrk", [&] { return wrk(options, target); }},
  };
  if (!options.only.empty()) {
    // One contender alone, for profiling: no ratios.
    std::erase_if(contenders, [&](const Contender& c) { return c.name != options.only; });
    if (contenders.empty()) throw std::invalid_argument("unknown contender " + options.only);
  }

  // Every round runs every contender in turn, so that a change in the machine's load during the
  // run touches all of them; with several rounds each contender's median round is reported.
  // A pause between contenders lets nginx close the previous one's connections.
  std::vector<std::vector<Measurement>> rounds(contenders.size());
  std::uint64_t errors = 0;
  for (std::size_t round = 1; round <= options.rounds; ++round) {
    if (options.rounds > 1) std::printf("round %zu of %zu\n", round, options.rounds);
    print_header();
    for (std::size_t i = 0; i < contenders.size(); ++i) {
      if (round > 1 || i > 0) std::this_thread::sleep_for(500ms);
      const double cpu_before = cpu_seconds();
      Measurement m = contenders[i].run();
      const std::uint64_t done = m.requests + m.errors;
      m.cpu_us = done > 0 ? (cpu_seconds() - cpu_before) * 1e6 / static_cast<double>(done) : 0;
      rounds[i].push_back(std::move(m));
      print(rounds[i].back());
      errors += rounds[i].back().errors;
    }
    std::printf("\n");
  }
  std::vector<Measurement> results;
  for (std::vector<Measurement>& runs : rounds) {
    std::sort(runs.begin(), runs.end(),
              [](const Measurement& a, const Measurement& b) { return a.rps < b.rps; });
    Measurement median = runs[runs.size() / 2];
    if (runs.size() > 1) {
      char range[96];
      std::snprintf(range, sizeof range, "median of %zu rounds (req/s %.0f-%.0f); ", runs.size(),
                    runs.front().rps, runs.back().rps);
      median.note = range + median.note;
    }
    results.push_back(std::move(median));
  }
  if (options.rounds > 1) {
    std::printf("median round of each contender\n");
    print_header();
    for (const Measurement& m : results) print(m);
    std::printf("\n");
  }
  if (!options.only.empty()) return errors == 0 ? 0 : 1;

  const Measurement& async = results[0];
  const Measurement& curl = results[2];
  const Measurement& unpooled = results[3];
  const Measurement& ceiling = results[4];
  struct Figure {
    const char* name;
    double value;
    double target;
  };
  const std::array<Figure, 3> figures{{
      {"ratio_vs_libcurl", ratio(async.rps, curl.rps), 1.0},
      {"ratio_vs_unpooled", ratio(async.rps, unpooled.rps), 3.0},
      {"fraction_of_wrk", ratio(async.rps, ceiling.rps), 0.5},
  }};
  for (const Figure& figure : figures) {
    std::printf("%-18s %6.2f   target >= %.1f   %s\n", figure.name, figure.value, figure.target,
                figure.value >= figure.target ? "met" : "MISSED");
  }
  std::printf(
      "(client CPU per request: bulwark_async %.1f us, libcurl %.1f us, ratio %.2f; "
      "lower is cheaper)\n",
      async.cpu_us, curl.cpu_us, ratio(async.cpu_us, curl.cpu_us));
  std::printf("\n");
  for (const Figure& figure : figures) std::printf("%s: %.2f\n", figure.name, figure.value);
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace bulwark::bench

int main(int argc, char** argv) {
  try {
    return bulwark::bench::run(bulwark::bench::parse_options(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_http: %s\n", error.what());
    return 1;
  }
}
