#pragma once
// The pieces of bench_http (see http_bench.cpp): options, one contender's result, and the
// contenders that live in files of their own (libcurl, wrk).

#include "latency_histogram.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace bulwark::bench {

using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t concurrency = 64;  // requests in flight, for every contender
  double seconds = 5;            // duration of each contender
  int nginx_workers = 1;         // worker_processes of the one nginx
  std::size_t sync_threads = 0;  // callers of the SyncClient; 0 = concurrency
  std::string curl = "multi";    // libcurl driver: "multi" (one thread) or "threads"
  std::size_t rounds = 1;        // every contender this many times, interleaved; medians reported
  std::string only{};            // run just this contender (for profiling); empty = all
};

// The server side every contender talks to.
struct Target {
  std::string base_url;  // "http://127.0.0.1:<port>"
  std::string path;      // "/hello"
  std::string body;      // what a correct response carries
  [[nodiscard]] std::string url() const { return base_url + path; }
};

struct Measurement {
  std::string name;
  std::uint64_t requests = 0;  // correct responses
  std::uint64_t errors = 0;    // failures and wrong responses
  std::string first_error{};   // the first failure's text, to show what went wrong
  double seconds = 0;
  double rps = 0;  // correct responses per second
  double p50_us = 0;
  double p99_us = 0;
  double cpu_us = 0;   // CPU time of the client (or wrk) per request
  std::string note{};  // contender-specific detail printed after the figures

  // Fills rps and the percentiles from what the contender counted itself.
  void finish(const Histogram& latency) {
    rps = seconds > 0 ? static_cast<double>(requests) / seconds : 0;
    p50_us = latency.quantile_us(0.50);
    p99_us = latency.quantile_us(0.99);
  }
};

inline Clock::time_point deadline_after(Clock::time_point start, double seconds) {
  return start +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// libcurl (http_bench_curl.cpp): `options.curl` picks the driver.
Measurement libcurl(const Options& options, const Target& target);
// wrk -t2 -c<concurrency> -d<seconds>s --latency, as a child process (http_bench_wrk.cpp).
Measurement wrk(const Options& options, const Target& target);

}  // namespace bulwark::bench
