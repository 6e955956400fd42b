#pragma once
// The health report as a table for terminals: client, kind, state, latency, breaker, error.

#include "bulwark/manager/health.hpp"

#include <string>

namespace bulwark::cli {

/// `colour` adds ANSI colours to the state column (for terminals).
[[nodiscard]] std::string health_table(const HealthReport& report, bool colour);

}  // namespace bulwark::cli
