// wrk, the ceiling of bench_http: `wrk -t2 -c<concurrency> -d<seconds>s --latency <url>` as a
// child process, its report parsed for Requests/sec, the 50% and 99% latencies, the request count
// and the errors (socket errors and non-2xx/3xx responses).

#include "http_bench.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bulwark::bench {
namespace {

constexpr const char* wrk_path = "/usr/bin/wrk";

std::string_view trim(std::string_view text) {
  const std::size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const std::size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// "812.00us", "2.31ms", "1.02s", "1.50m" → microseconds.
double duration_us(std::string_view text) {
  const std::string value(trim(text));
  char* end = nullptr;
  const double number = std::strtod(value.c_str(), &end);
  const std::string_view unit(end);
  if (unit == "us") return number;
  if (unit == "ms") return number * 1e3;
  if (unit == "s") return number * 1e6;
  if (unit == "m") return number * 60e6;
  if (unit == "h") return number * 3600e6;
  throw std::runtime_error("wrk: unknown latency unit in \"" + value + "\"");
}

// Sum of the numbers in "connect 0, read 1, write 0, timeout 0".
std::uint64_t sum_of_numbers(std::string_view text) {
  std::uint64_t sum = 0;
  const std::string copy(text);
  const char* p = copy.c_str();
  while (*p != '\0') {
    if (*p >= '0' && *p <= '9') {
      char* end = nullptr;
      sum += std::strtoull(p, &end, 10);
      p = end;
    } else {
      ++p;
    }
  }
  return sum;
}

}  // namespace

Measurement wrk(const Options& options, const Target& target) {
  Measurement m;
  m.name = "wrk";
  const std::size_t threads = options.concurrency >= 2 ? 2 : 1;
  const long seconds = std::max(1L, std::lround(options.seconds));
  const std::string command = std::string(wrk_path) + " -t" + std::to_string(threads) + " -c" +
                              std::to_string(options.concurrency) + " -d" +
                              std::to_string(seconds) + "s --latency " + target.url() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + std::string(wrk_path));
  std::string report;
  bool have_rps = false;
  bool have_p50 = false;
  bool have_p99 = false;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) {
    report += buffer.data();
    const std::string_view line = trim(buffer.data());
    if (line.starts_with("Requests/sec:")) {
      m.rps = std::strtod(std::string(line.substr(13)).c_str(), nullptr);
      have_rps = true;
    } else if (line.starts_with("50%")) {
      m.p50_us = duration_us(line.substr(3));
      have_p50 = true;
    } else if (line.starts_with("99%")) {
      m.p99_us = duration_us(line.substr(3));
      have_p99 = true;
    } else if (const std::size_t at = line.find(" requests in "); at != std::string_view::npos) {
      // "123456 requests in 5.00s, 12.34MB read"
      const std::string text(line);
      m.requests = std::strtoull(text.c_str(), nullptr, 10);
      m.seconds = duration_us(line.substr(at + 13, line.find(',', at) - (at + 13))) / 1e6;
    } else if (line.starts_with("Socket errors:")) {
      m.errors += sum_of_numbers(line.substr(14));
      if (m.first_error.empty()) m.first_error = std::string(line);
    } else if (line.starts_with("Non-2xx or 3xx responses:")) {
      m.errors += sum_of_numbers(line.substr(25));
      if (m.first_error.empty()) m.first_error = std::string(line);
    }
  }
  const int status = ::pclose(pipe);
  if (status != 0 || !have_rps || !have_p50 || !have_p99) {
    throw std::runtime_error("wrk failed (status " + std::to_string(status) + "):\n" + report);
  }
  m.note = "-t" + std::to_string(threads) + " -c" + std::to_string(options.concurrency) + " -d" +
           std::to_string(seconds) + "s; figures as wrk reports them";
  return m;
}

}  // namespace bulwark::bench
