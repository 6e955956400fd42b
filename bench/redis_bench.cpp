// Throughput and latency of the Redis client beside the classic clients, against one redis-server
// (started here, on a free loopback port, persistence off) in the same run:
//
//   bulwark_async        one Client, pool.max_connections = 1, default resilience (retry, breaker,
//                        5 s command timeout); 100 coroutines on one io_context and one thread
//   bulwark_async_bare   the same with the resilience pipeline off (no retry, no breaker, no
//                        timeout), so that the pipeline's share is visible
//   bulwark_sync_1t/4t   Runtime + runtime.block_on(client.command(...)) from 1 and 4 threads
//   hiredis              a blocking redisCommand loop on one connection
//   redis-benchmark      -c 100 -P 1 and -P 16, GET and SET, run as child processes
//
// Every client runs the same mix: 80% GET / 20% SET of 16-byte values over a fixed set of 10,000
// keys (preloaded), drawn from one seeded generator. Every loop stops after --requests commands
// or --seconds, whichever comes first.
//
// Pipelining is reported twice: commands per write system call on the client's connection
// (Connection::stats(), bulwark only), and commands the server processed per read it did
// (INFO stats: total_commands_processed / total_reads_processed), which holds for every client.
//
// Ends with:
//   ratio_vs_hiredis: X              bulwark_async ops/s / hiredis ops/s
//   ratio_vs_redis_benchmark_p1: X   bulwark_async ops/s / redis-benchmark -P 1 (GET/SET mean)

#include "latency_histogram.hpp"

#include "bulwark/core/runtime.hpp"
#include "bulwark/redis/client.hpp"
#include "support/redis_server.hpp"

#include <hiredis/hiredis.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace redis = bulwark::redis;
using Clock = std::chrono::steady_clock;
using bulwark::bench::elapsed_ns;
using bulwark::bench::Histogram;
using namespace std::chrono_literals;

// ---- options ----------------------------------------------------------------------------------

struct Options {
  std::uint64_t requests = 200'000;  // per bulwark/hiredis variant, and -n of redis-benchmark
  double seconds = 20;               // time cap of each variant
  std::size_t coroutines = 100;      // concurrent callers of the async variants
  std::string only{};                // run just this variant (for profiling); empty = all
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) throw std::invalid_argument("missing value after " + std::string(arg));
    if (arg == "--requests") {
      options.requests = std::strtoull(value, nullptr, 10);
    } else if (arg == "--seconds") {
      options.seconds = std::strtod(value, nullptr);
    } else if (arg == "--coroutines") {
      options.coroutines = std::strtoull(value, nullptr, 10);
    } else if (arg == "--only") {
      options.only = value;
    } else {
      throw std::invalid_argument("unknown option " + std::string(arg) +
                                  " (--requests N, --seconds S, --coroutines C, --only VARIANT)");
    }
    ++i;
  }
  if (options.requests == 0 || options.seconds <= 0 || options.coroutines == 0) {
    throw std::invalid_argument("--requests, --seconds and --coroutines must be positive");
  }
  return options;
}

// ---- workload ---------------------------------------------------------------------------------

constexpr std::size_t key_count = 10'000;
constexpr unsigned get_percent = 80;
const std::string value16 = "0123456789abcdef";

const std::vector<std::string>& keys() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> out;
    out.reserve(key_count);
    char buffer[32];
    for (std::size_t i = 0; i < key_count; ++i) {
      std::snprintf(buffer, sizeof buffer, "bench:key:%05zu", i);
      out.emplace_back(buffer);
    }
    return out;
  }();
  return all;
}

// The next operation of the mix: which key, and GET or SET. xorshift64*, seeded per worker.
struct Mix {
  std::uint64_t state;
  explicit Mix(std::uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  struct Op {
    const std::string* key;
    bool get;
  };
  Op next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    const std::uint64_t r = state * 0x2545F4914F6CDD1DULL;
    return {&keys()[(r >> 32) % key_count], (r & 0xffff) % 100 < get_percent};
  }
};

// ---- hiredis helpers (also used for setup and the server's counters) ---------------------------

struct RedisContextDeleter {
  void operator()(redisContext* context) const noexcept { redisFree(context); }
};
using HiredisConnection = std::unique_ptr<redisContext, RedisContextDeleter>;

HiredisConnection hiredis_connect(std::uint16_t port) {
  HiredisConnection connection(redisConnect("127.0.0.1", port));
  if (!connection || connection->err) {
    throw std::runtime_error(std::string("hiredis: cannot connect: ") +
                             (connection ? connection->errstr : "out of memory"));
  }
  return connection;
}

// Runs one command; throws on a transport failure or an error reply.
std::string hiredis_call(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) throw std::runtime_error(std::string("hiredis: ") + context->errstr);
  std::string text = reply->str != nullptr ? std::string(reply->str, reply->len) : std::string();
  const bool error = reply->type == REDIS_REPLY_ERROR;
  freeReplyObject(reply);
  if (error) throw std::runtime_error("redis: " + text);
  return text;
}

// The server's own view: commands processed and reads done, from INFO stats.
struct ServerCounters {
  std::uint64_t commands = 0;
  std::uint64_t reads = 0;
};

std::uint64_t info_field(std::string_view info, std::string_view name) {
  const std::string needle = std::string(name) + ":";
  const std::size_t at = info.find(needle);
  if (at == std::string_view::npos) throw std::runtime_error("INFO stats lacks " + needle);
  std::uint64_t value = 0;
  const char* begin = info.data() + at + needle.size();
  std::from_chars(begin, info.data() + info.size(), value);
  return value;
}

ServerCounters server_counters(redisContext* context) {
  const std::string info = hiredis_call(context, {"INFO", "stats"});
  return {info_field(info, "total_commands_processed"), info_field(info, "total_reads_processed")};
}

void prepare_server(redisContext* context) {
  hiredis_call(context, {"FLUSHALL"});
  // Pipelined preload, bounded by the key count.
  for (const std::string& key : keys()) {
    redisAppendCommand(context, "SET %b %b", key.data(), key.size(), value16.data(),
                       value16.size());
  }
  for (std::size_t i = 0; i < key_count; ++i) {
    void* reply = nullptr;
    if (redisGetReply(context, &reply) != REDIS_OK) {
      throw std::runtime_error(std::string("hiredis: preload: ") + context->errstr);
    }
    freeReplyObject(reply);
  }
  auto* size = static_cast<redisReply*>(redisCommand(context, "DBSIZE"));
  const bool loaded = size != nullptr && size->type == REDIS_REPLY_INTEGER &&
                      static_cast<std::size_t>(size->integer) == key_count;
  if (size != nullptr) freeReplyObject(size);
  if (!loaded) throw std::runtime_error("preload failed: DBSIZE is not the key count");
}

std::string server_version(redisContext* context) {
  const std::string info = hiredis_call(context, {"INFO", "server"});
  const std::size_t at = info.find("redis_version:");
  if (at == std::string::npos) return "?";
  const std::size_t begin = at + std::string_view("redis_version:").size();
  return info.substr(begin, info.find_first_of("\r\n", begin) - begin);
}

// ---- results ----------------------------------------------------------------------------------

struct Measurement {
  std::string name;
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  double seconds = 0;
  Histogram latency{};
  std::optional<double> commands_per_write{};  // the client connection's, when known
  double server_commands_per_read = 0;
  [[nodiscard]] double ops_per_second() const {
    return seconds > 0 ? static_cast<double>(ops) / seconds : 0;
  }
};

void print_header() {
  std::printf("%-22s %10s %9s %9s %9s %11s %13s %7s\n", "variant", "ops", "ops/s", "p50_us",
              "p99_us", "cmds/write", "srv_cmds/read", "errors");
}

void print(const Measurement& m) {
  char per_write[32] = "-";
  if (m.commands_per_write)
    std::snprintf(per_write, sizeof per_write, "%.1f", *m.commands_per_write);
  std::printf("%-22s %10llu %9.0f %9.1f %9.1f %11s %13.1f %7llu\n", m.name.c_str(),
              static_cast<unsigned long long>(m.ops), m.ops_per_second(),
              m.latency.quantile_us(0.50), m.latency.quantile_us(0.99), per_write,
              m.server_commands_per_read, static_cast<unsigned long long>(m.errors));
  std::fflush(stdout);
}

// Wraps a measurement with the server's counters, so every variant reports the same ratio.
template <class F>
Measurement measured_by_server(redisContext* monitor, F run) {
  const ServerCounters before = server_counters(monitor);
  Measurement m = run();
  const ServerCounters after = server_counters(monitor);
  const std::uint64_t reads = after.reads - before.reads;
  m.server_commands_per_read = reads == 0 ? 0
                                          : static_cast<double>(after.commands - before.commands) /
                                                static_cast<double>(reads);
  return m;
}

// ---- bulwark ----------------------------------------------------------------------------------

enum class Resilience : std::uint8_t { defaults, off };

redis::ClientConfig client_config(std::uint16_t port, Resilience resilience) {
  redis::ClientConfig config;
  config.name = "bench";
  config.connection.port = port;
  config.pool.max_connections = 1;
  if (resilience == Resilience::off) {
    config.retry = std::nullopt;
    config.circuit_breaker = std::nullopt;
    config.command_timeout = bulwark::Duration::zero();
  }
  return config;
}

asio::awaitable<void> issue(redis::Client& client, const Mix::Op& op) {
  if (op.get) {
    (void)co_await client.command("GET", *op.key);
  } else {
    (void)co_await client.command("SET", *op.key, value16);
  }
}

redis::ConnectionStats connection_stats(asio::io_context& io, redis::Client& client) {
  std::optional<redis::ConnectionStats> stats;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto connection = co_await client.pool().shared();
        if (connection) stats = (*connection)->stats();
      },
      asio::detached);
  io.restart();
  while (!stats && io.run_one_for(5s) > 0) {
  }
  if (!stats) throw std::runtime_error("no connection to read statistics from");
  return *stats;
}

Measurement bulwark_async(const Options& options, std::uint16_t port, Resilience resilience) {
  asio::io_context io(1);
  auto client = std::make_unique<redis::Client>(io.get_executor(), client_config(port, resilience));
  Measurement m;
  m.name = resilience == Resilience::defaults ? "bulwark_async" : "bulwark_async_bare";

  const redis::ConnectionStats before = connection_stats(io, *client);  // also opens the connection
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.seconds));
  std::uint64_t issued = 0;
  std::size_t running = options.coroutines;
  Clock::time_point finish{};
  for (std::size_t w = 0; w < options.coroutines; ++w) {
    asio::co_spawn(
        io,
        [&, w]() -> asio::awaitable<void> {
          Mix mix(w + 1);
          // One thread runs every coroutine: the counters need no synchronisation.
          while (issued < options.requests) {
            const Clock::time_point t0 = Clock::now();
            if (t0 >= deadline) break;
            ++issued;
            try {
              co_await issue(*client, mix.next());
              ++m.ops;
            } catch (const std::exception&) {
              ++m.errors;
            }
            m.latency.record(elapsed_ns(t0, Clock::now()));
          }
          if (--running == 0) finish = Clock::now();
        },
        asio::detached);
  }
  io.restart();
  // Bounded: every coroutine ends at the count or the deadline (commands time out after 5 s at
  // most); the extra allowance only guards against a hang.
  while (running > 0 && Clock::now() < deadline + 30s && io.run_one_for(1s) > 0) {
  }
  if (running > 0) throw std::runtime_error(m.name + ": workers did not finish");
  m.seconds = std::chrono::duration<double>(finish - start).count();

  const redis::ConnectionStats after = connection_stats(io, *client);
  const std::uint64_t writes = after.writes - before.writes;
  if (writes > 0)
    m.commands_per_write = static_cast<double>(after.commands - before.commands) / writes;
  client->close();
  io.restart();
  io.poll();
  client.reset();
  io.stop();
  return m;
}

Measurement bulwark_sync(const Options& options, std::uint16_t port, std::size_t threads) {
  bulwark::Runtime runtime;
  redis::Client client(runtime.executor(), client_config(port, Resilience::defaults));
  Measurement m;
  m.name = "bulwark_sync_" + std::to_string(threads) + "t";
  auto stats = [&] {
    auto connection = runtime.block_on(client.pool().shared());
    if (!connection) throw std::runtime_error("no connection to read statistics from");
    return (*connection)->stats();
  };
  const redis::ConnectionStats before = stats();

  struct Share {
    Histogram latency{};
    std::uint64_t ops = 0;
    std::uint64_t errors = 0;
  };
  std::vector<Share> shares(threads);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.seconds));
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Share& share = shares[t];
        Mix mix(t + 1);
        const std::uint64_t quota =
            options.requests / threads + (t < options.requests % threads ? 1 : 0);
        for (std::uint64_t i = 0; i < quota; ++i) {
          const Clock::time_point t0 = Clock::now();
          if (t0 >= deadline) break;
          try {
            runtime.block_on(issue(client, mix.next()));
            ++share.ops;
          } catch (const std::exception&) {
            ++share.errors;
          }
          share.latency.record(elapsed_ns(t0, Clock::now()));
        }
      });
    }
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const Share& share : shares) {
    m.ops += share.ops;
    m.errors += share.errors;
    m.latency.merge(share.latency);
  }
  const redis::ConnectionStats after = stats();
  const std::uint64_t writes = after.writes - before.writes;
  if (writes > 0)
    m.commands_per_write = static_cast<double>(after.commands - before.commands) / writes;
  client.close();
  return m;
}

// ---- hiredis ----------------------------------------------------------------------------------

Measurement hiredis_blocking(const Options& options, std::uint16_t port) {
  HiredisConnection connection = hiredis_connect(port);
  redisContext* context = connection.get();
  Measurement m;
  m.name = "hiredis";
  m.commands_per_write = 1.0;  // redisCommand writes one command and waits for its reply
  Mix mix(1);
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(options.seconds));
  for (std::uint64_t i = 0; i < options.requests; ++i) {
    const Clock::time_point t0 = Clock::now();
    if (t0 >= deadline) break;
    const Mix::Op op = mix.next();
    void* reply = op.get ? redisCommand(context, "GET %b", op.key->data(), op.key->size())
                         : redisCommand(context, "SET %b %b", op.key->data(), op.key->size(),
                                        value16.data(), value16.size());
    if (reply == nullptr) throw std::runtime_error(std::string("hiredis: ") + context->errstr);
    if (static_cast<redisReply*>(reply)->type == REDIS_REPLY_ERROR) {
      ++m.errors;
    } else {
      ++m.ops;
    }
    freeReplyObject(reply);
    m.latency.record(elapsed_ns(t0, Clock::now()));
  }
  m.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return m;
}

// ---- redis-benchmark --------------------------------------------------------------------------

struct BenchmarkLine {
  std::string test;
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Runs redis-benchmark with --csv and reads its lines:
//   "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",...
std::vector<BenchmarkLine> redis_benchmark(const Options& options, std::uint16_t port,
                                           int pipeline) {
  // `timeout` bounds the child by time as -n bounds it by count.
  const int limit_s = static_cast<int>(options.seconds * 2) + 10;
  const std::string command =
      "timeout " + std::to_string(limit_s) + " redis-benchmark -h 127.0.0.1 -p " +
      std::to_string(port) + " -c 100 -n " + std::to_string(options.requests) + " -P " +
      std::to_string(pipeline) + " -t get,set -r 10000 -d 16 --csv 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run redis-benchmark");
  std::vector<BenchmarkLine> lines;
  std::array<char, 1024> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (const char* c = buffer.data(); *c != '\0' && *c != '\n' && *c != '\r'; ++c) {
      if (*c == '"') {
        quoted = !quoted;
      } else if (*c == ',' && !quoted) {
        fields.push_back(std::move(field));
        field.clear();
      } else {
        field += *c;
      }
    }
    fields.push_back(std::move(field));
    if (fields.size() < 7 || fields[0] == "test") continue;
    lines.push_back({fields[0], std::strtod(fields[1].c_str(), nullptr),
                     std::strtod(fields[4].c_str(), nullptr),
                     std::strtod(fields[6].c_str(), nullptr)});
  }
  const int status = ::pclose(pipe);
  if (status != 0 || lines.size() != 2) {
    throw std::runtime_error("redis-benchmark -P " + std::to_string(pipeline) + " failed (status " +
                             std::to_string(status) + ", " + std::to_string(lines.size()) +
                             " results)");
  }
  return lines;
}

double mean_rps(const std::vector<BenchmarkLine>& lines) {
  double sum = 0;
  for (const BenchmarkLine& line : lines) sum += line.rps;
  return lines.empty() ? 0 : sum / static_cast<double>(lines.size());
}

void print(const std::vector<BenchmarkLine>& lines, int pipeline) {
  for (const BenchmarkLine& line : lines) {
    std::printf("redis-benchmark -P %-2d %-4s %9.0f req/s  p50_us %8.1f  p99_us %8.1f\n", pipeline,
                line.test.c_str(), line.rps, line.p50_ms * 1000, line.p99_ms * 1000);
  }
  std::fflush(stdout);
}

int run(const Options& options) {
  bulwark::test::RedisServer server(
      bulwark::test::RedisServerOptions{.unix_socket = false, .persistence = false});
  const std::uint16_t port = server.port();
  HiredisConnection monitor = hiredis_connect(port);
  prepare_server(monitor.get());

  std::printf("redis-server %s on 127.0.0.1:%u; %zu keys, %u%% GET / %u%% SET, %zu-byte values\n",
              server_version(monitor.get()).c_str(), static_cast<unsigned>(port), key_count,
              get_percent, 100 - get_percent, value16.size());
  std::printf(
      "each variant: %llu requests or %.0f s; async: %zu coroutines, 1 thread, 1 connection\n\n",
      static_cast<unsigned long long>(options.requests), options.seconds, options.coroutines);
  print_header();

  if (!options.only.empty()) {
    // One variant alone, for profiling: no redis-benchmark, no ratios.
    const std::string& only = options.only;
    std::function<Measurement()> variant;
    if (only == "bulwark_async")
      variant = [&] { return bulwark_async(options, port, Resilience::defaults); };
    if (only == "bulwark_async_bare")
      variant = [&] { return bulwark_async(options, port, Resilience::off); };
    if (only == "bulwark_sync_1t") variant = [&] { return bulwark_sync(options, port, 1); };
    if (only == "bulwark_sync_4t") variant = [&] { return bulwark_sync(options, port, 4); };
    if (only == "hiredis") variant = [&] { return hiredis_blocking(options, port); };
    if (!variant) throw std::invalid_argument("unknown variant " + only);
    print(measured_by_server(monitor.get(), variant));
    return 0;
  }

  const Measurement async = measured_by_server(
      monitor.get(), [&] { return bulwark_async(options, port, Resilience::defaults); });
  print(async);
  print(measured_by_server(monitor.get(),
                           [&] { return bulwark_async(options, port, Resilience::off); }));
  print(measured_by_server(monitor.get(), [&] { return bulwark_sync(options, port, 1); }));
  print(measured_by_server(monitor.get(), [&] { return bulwark_sync(options, port, 4); }));
  const Measurement hiredis =
      measured_by_server(monitor.get(), [&] { return hiredis_blocking(options, port); });
  print(hiredis);
  std::printf("\n");

  const std::vector<BenchmarkLine> p1 = redis_benchmark(options, port, 1);
  print(p1, 1);
  const std::vector<BenchmarkLine> p16 = redis_benchmark(options, port, 16);
  print(p16, 16);
  std::printf("\n");

  const double hiredis_rps = hiredis.ops_per_second();
  const double p1_rps = mean_rps(p1);
  std::printf("ratio_vs_hiredis: %.2f\n",
              hiredis_rps > 0 ? async.ops_per_second() / hiredis_rps : 0);
  std::printf("ratio_vs_redis_benchmark_p1: %.2f\n",
              p1_rps > 0 ? async.ops_per_second() / p1_rps : 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_redis: %s\n", error.what());
    return 1;
  }
}
