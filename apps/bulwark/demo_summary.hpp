#pragma once
// The demo's closing report: what the resilience layer did for each client (retries that
// rescued calls, calls the open breaker kept off the network, how fast each client recovered),
// and an excerpt of the metrics the manager exports.

#include "bulwark/core/duration.hpp"
#include "demo_view.hpp"
#include "demo_workload.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::cli {

/// How one client recovered from the outage the demo caused.
struct Recovery {
  std::optional<Duration> first_success;  ///< From the service's return to the first good call.
  std::optional<Duration> healthy_again;  ///< From the service's return to health HEALTHY.
};

struct SummaryInput {
  Duration elapsed{};
  bool interrupted = false;
  std::vector<ClientFigures> figures;  ///< The demo's two clients, HTTP first.
  RetryTotals http_retries;
  RetryTotals redis_retries;
  std::uint64_t service_requests = 0;  ///< Requests the HTTP service received.
  Recovery http_recovery;
  Recovery redis_recovery;
};

[[nodiscard]] std::string render_summary(const SummaryInput& input);

/// The lines of a Prometheus exposition that belong to `clients` (label `client`), without
/// histogram buckets, indented; with a last line counting what was left out.
[[nodiscard]] std::string metrics_excerpt(std::string_view exposition,
                                          const std::vector<std::string>& clients);

}  // namespace bulwark::cli
