#pragma once
// The /status page: one self-contained HTML document (inline CSS and SVG, no scripts, nothing
// fetched) that a person reads at a glance, and that reloads itself.
//
// Rows carry `id="client-<name>"`, `data-client="<name>"` and `data-state` ("healthy",
// "degraded", "failed", or "unavailable" for an optional service without its secret), so
// that scripts and tests can find them; the overall state is on `#overall[data-state]`.

#include "admin/detail/history.hpp"
#include "bulwark/core/duration.hpp"
#include "bulwark/manager/health.hpp"

#include <cstdint>
#include <string>

namespace bulwark::detail {

struct StatusPageInput {
  const HealthReport& report;
  const History& history;
  Duration refresh;          ///< Reload period of the page.
  Duration sample_interval;  ///< Time between samples (for the captions).
  std::int64_t now_unix;     ///< Now, in unix seconds ("checked 3 s ago").
};

[[nodiscard]] std::string render_status_page(const StatusPageInput& input);

}  // namespace bulwark::detail
