#pragma once
// What the demo shows while it runs: per client, read from the ClientManager (health report,
// call counts, metrics registry) and from the workload (live breaker state), and drawn either as
// a table redrawn in place (a terminal) or as plain lines (a pipe or a file).
//
// Not thread-safe: the demo's main thread owns it.

#include "bulwark/manager/client_manager.hpp"
#include "bulwark/observe/metric.hpp"
#include "demo_workload.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::cli {

/// One client's figures at one moment. Counts are since the demo started.
struct ClientFigures {
  std::string name;
  ClientKind kind = ClientKind::http;
  std::string health;   ///< "healthy", "degraded", "failed".
  std::string breaker;  ///< "closed", "open", "half_open", ...
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;  ///< Rejections included.
  std::uint64_t retries = 0;
  std::uint64_t rejected = 0;        ///< Refused locally (breaker open, bulkhead, rate limit).
  std::uint64_t breaker_opened = 0;  ///< Transitions to open.
  std::uint32_t rebuilt = 0;         ///< Times the manager rebuilt the client.
  /// Call latency percentiles over the last few seconds, in milliseconds, estimated from the
  /// `bulwark_client_call_duration_seconds` histogram as Prometheus' histogram_quantile does;
  /// empty when no call ended in that time.
  std::optional<double> p50_ms;
  std::optional<double> p99_ms;
};

/// Reads the figures of the demo's two clients.
class FigureReader {
 public:
  FigureReader(ClientManager& manager, const Workload& workload);

  /// Figures now; percentiles over the calls since the read closest to `window` ago.
  [[nodiscard]] std::vector<ClientFigures> read(Duration window = std::chrono::seconds(3));

 private:
  struct Snapshot {
    std::chrono::steady_clock::time_point at;
    observe::HistogramSnapshot histogram;
  };

  ClientManager& manager_;
  const Workload& workload_;
  std::map<std::string, std::deque<Snapshot>, std::less<>> history_;
};

/// The estimate of quantile `q` of the observations between two snapshots of one histogram
/// (linear within the bucket that holds it), in the histogram's unit.
[[nodiscard]] std::optional<double> quantile_between(const observe::HistogramSnapshot& before,
                                                     const observe::HistogramSnapshot& after,
                                                     double q);

/// The table of figures, one row per client, with a header; `colour` paints the health column.
[[nodiscard]] std::vector<std::string> figures_table(const std::vector<ClientFigures>& figures,
                                                     bool colour);
/// One client on one line, for output that is not a terminal.
[[nodiscard]] std::string figures_line(const ClientFigures& figures);

/// "0.8ms", "120ms", "1.25s", or "-".
[[nodiscard]] std::string format_ms(std::optional<double> ms);

}  // namespace bulwark::cli
