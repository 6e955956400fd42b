#pragma once
// The samples behind the /status page's rates and sparklines: every few seconds the server
// records each client's call counters and the latency of its last health check; rates are the
// differences between consecutive samples divided by the time between them.
//
// Not thread-safe: the server guards it with a mutex.

#include "bulwark/core/duration.hpp"
#include "bulwark/manager/client_manager.hpp"
#include "bulwark/manager/health.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::detail {

struct ClientSample {
  std::string name;
  std::uint64_t calls = 0;   ///< Since the manager was built (only grows).
  std::uint64_t errors = 0;  ///< Of those, failed.
  Duration latency{};        ///< Of the last health check (0 before the first).
};

struct Sample {
  std::chrono::steady_clock::time_point at{};
  std::vector<ClientSample> clients;
};

/// Per second, between two samples.
struct ClientRates {
  double calls = 0;
  double errors = 0;
};

/// A sample of every client in `report`, with the counts of `calls` (matched by name; clients
/// missing from it count zero calls).
[[nodiscard]] Sample make_sample(std::chrono::steady_clock::time_point at,
                                 const HealthReport& report,
                                 const std::vector<ClientCallStats>& calls);

class History {
 public:
  /// Keeps the last `capacity` samples (at least 2).
  explicit History(std::size_t capacity);

  /// Appends `sample`, dropping the oldest when full. A sample not later than the last one is
  /// ignored (rates need time to pass).
  void add(Sample sample);

  [[nodiscard]] std::size_t size() const noexcept { return samples_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  /// Rates over the last sampling interval; empty before two samples of `client` exist.
  [[nodiscard]] std::optional<ClientRates> last_rates(std::string_view client) const;
  /// Health-check latency of `client` in each sample, in milliseconds, oldest first.
  [[nodiscard]] std::vector<double> latency_ms(std::string_view client) const;
  /// Errors per second of `client` in each interval between samples, oldest first.
  [[nodiscard]] std::vector<double> errors_per_second(std::string_view client) const;

 private:
  std::size_t capacity_;
  std::deque<Sample> samples_;
};

}  // namespace bulwark::detail
